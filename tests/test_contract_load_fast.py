"""Loading fast changes nothing a reader can see: the realistic synthetic catalogue and every root document of the
shared corpus load into the same model with the fast YAML reader on (``source.FAST_PATH``, the default) as with
every file read by the checking reader, down to each value's type, each location's line and column and each
diagnostic's message and line; and the fast reader is really what read them, so the comparison can fail."""

from __future__ import annotations

import dataclasses
import enum
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, require_corpus
from corpus import root_documents
from pipeline.contract import ContractError, ContractLoader, Diagnostic
from pipeline.contract import source as source_module

sys.path.insert(0, str(ROOT / "scripts"))
from synthetic_catalogue import write_catalogue


def _canonical(value: Any) -> Any:
    """``value`` (a model object) as nested plain data with every type made visible: ``True``, ``1`` and ``1.0``
    stay apart, a dataclass shows every field (those left out of its ``==`` too), a tuple stays a tuple."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, _canonical(getattr(value, f.name)))
                                            for f in dataclasses.fields(value)))
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.value)
    if isinstance(value, dict):
        return ("dict", tuple((_canonical(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_canonical(item) for item in value))
    if value is None or isinstance(value, str | int | float | bool):
        return (type(value).__name__, value)
    raise AssertionError(f"the model holds a {type(value).__name__} this comparison does not know: {value!r}")


class _Readers:
    """Counts the files each reader read, so a test knows the path it meant to take was taken."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fast = self.checking = 0
        fast, checking = source_module._construct_fast, source_module._construct

        def counted_fast(text: str) -> Any:
            built = fast(text)
            self.fast += built is not None
            return built

        def counted_checking(*args: Any, **kwargs: Any) -> Any:
            self.checking += 1
            return checking(*args, **kwargs)

        monkeypatch.setattr(source_module, "_construct_fast", counted_fast)
        monkeypatch.setattr(source_module, "_construct", counted_checking)


@dataclasses.dataclass
class _Loaded:
    canonical: Any  # the model, or the refusal (its message and every diagnostic with its place)
    events: int
    diagnostics: tuple[Diagnostic, ...]


def _load(paths: list[Path], root: Path) -> _Loaded:
    try:
        catalogue = ContractLoader(workers=1, root=root).load(paths)
    except ContractError as exc:
        return _Loaded(("refused", str(exc), _canonical(exc.location), _canonical(tuple(exc.diagnostics))), 0,
                       tuple(exc.diagnostics))
    return _Loaded(("loaded", _canonical(catalogue), _canonical(catalogue.events),
                    _canonical(catalogue.all_diagnostics)), len(catalogue.events), catalogue.all_diagnostics)


def _both_ways(paths: list[Path], root: Path, monkeypatch: pytest.MonkeyPatch
               ) -> tuple[_Loaded, _Loaded, _Readers]:
    readers = _Readers(monkeypatch)
    assert source_module.FAST_PATH
    fast = _load(paths, root)
    monkeypatch.setattr(source_module, "FAST_PATH", False)
    checked = _load(paths, root)
    return fast, checked, readers


def test_the_realistic_catalogue_loads_the_same_with_the_fast_reader_and_without(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "asyncapi"
    files = write_catalogue(folder, 3, 10, realistic=True)
    fast, checked, readers = _both_ways([folder], folder, monkeypatch)
    assert fast.canonical[0] == "loaded"
    assert fast.events == 30
    assert fast.canonical == checked.canonical
    # The fast reader read every file the first time (none fell back), the checking reader the second time.
    yaml_files = [p for p in folder.rglob("*.yaml")]
    assert len(yaml_files) >= len(files)
    assert readers.fast == len(yaml_files)
    assert readers.checking == len(yaml_files)


def test_diagnostics_keep_their_lines_when_the_fast_reader_reads_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One document with an invalid example and a schema example (found in files the fast reader read), one with a
    duplicate key (which sends that file to the checking reader): the same diagnostics, at the same lines."""
    folder = tmp_path / "asyncapi"
    write_catalogue(folder, 2, 3, realistic=True)
    first, second = sorted((folder / "domains").glob("*.yaml"))
    text = first.read_text("utf-8")
    assert "        amount:\n" in text or "amount:" in text
    broken = text.replace("amount: ", "amount: not-a-number-", 1)  # an example (or schema value) turned to text
    assert broken != text
    first.write_text(broken, "utf-8")
    lines = second.read_text("utf-8").splitlines(keepends=True)
    title = next(i for i, line in enumerate(lines) if line.startswith("  title:"))
    lines.insert(title + 1, "  title: Twice\n")
    second.write_text("".join(lines), "utf-8")
    fast, checked, readers = _both_ways([folder], folder, monkeypatch)
    assert fast.canonical == checked.canonical
    assert readers.fast >= 1  # the first document and the shared files were read fast
    (duplicate,) = [d for d in fast.diagnostics if d.code == "duplicate-key"]
    assert (duplicate.location.file, duplicate.location.line) == (str(second), title + 2)
    invalid = [d for d in fast.diagnostics if d.location.file == str(first) and d.severity.value == "error"]
    assert invalid and all(d.location.line for d in invalid)


def _corpus_roots() -> list[Path]:
    corpus = ROOT.parent / "shared" / "corpus" / "asyncapi"
    return root_documents(corpus) if corpus.is_dir() else []


@pytest.mark.corpus
@pytest.mark.parametrize("path", _corpus_roots(), ids=lambda p: "/".join(p.parts[-2:]))
def test_each_corpus_document_loads_the_same_with_the_fast_reader_and_without(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = require_corpus()
    fast, checked, _ = _both_ways([path], corpus, monkeypatch)
    assert fast.canonical == checked.canonical


@pytest.mark.corpus
def test_the_fast_reader_reads_most_of_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """Otherwise the comparison above would compare the checking reader with itself."""
    corpus = require_corpus()
    readers = _Readers(monkeypatch)
    roots = [p for p in root_documents(corpus) if p.suffix in (".yaml", ".yml")]
    for path in roots:
        _load([path], corpus)
    assert readers.fast >= len(roots) * 3 // 4, (readers.fast, readers.checking, len(roots))


# Plain scalars whose YAML 1.2 core-schema value differs from YAML 1.1's or from their quoted form, and those the
# fast reader must hand to the checking reader (non-finite numbers, the merge key as a value).
SCALARS = ["yes", "no", "on", "off", "y", "true", "True", "FALSE", "null", "Null", "~", "", "0o17", "0x1F", "017",
           "+12", "-0", "1_000", "1e3", "1.5e-3", ".5", "-.5", "1.", "0b101", ".inf", "-.Inf", ".nan", "1e400",
           "2026-01-01", "12:30", "<<", "=", "GBP", "0.0", "-0.0", "1:2"]


@pytest.mark.parametrize("text", SCALARS)
def test_a_plain_scalar_read_again_from_the_cache_has_the_checking_readers_value(text: str) -> None:
    """The fast reader remembers the value of each plain word it has resolved: the second reading (from that
    memory), as a mapping value and as a sequence item, gives what the checking reader gives, or falls back."""
    document = f"a: {text}\nb: [{text}]\nc: '{text}'\nd:\n  - {text}\n" if text else "a:\nb: []\nc: ''\nd:\n  -\n"
    expected, _, diagnostics = source_module._construct(document, "scalar.yaml") if not _refused(document) \
        else (None, None, None)
    for _ in range(2):
        fast = source_module._construct_fast(document)
        if fast is None:
            continue  # handed to the checking reader, which decides
        assert not diagnostics
        assert _canonical(fast[0]) == _canonical(expected)


def _refused(document: str) -> bool:
    try:
        source_module._construct(document, "scalar.yaml")
    except ContractError:
        return True
    return False


def test_non_finite_numbers_are_never_remembered_as_values() -> None:
    for text in (".inf", "-.inf", ".nan", "1e400"):
        assert source_module._construct_fast(f"a: {text}\n") is None
        assert source_module._construct_fast(f"a: {text}\n") is None
        assert text not in source_module._PLAIN_VALUES


def test_a_schema_example_that_breaks_its_own_schema_is_named_by_its_pointer(tmp_path: Path) -> None:
    """The check of examples written inside a schema writes a node's pointer only when the node has examples;
    the pointer is still the full path, through objects and arrays, and only invalid examples are reported."""
    folder = tmp_path / "asyncapi"
    folder.mkdir()
    (folder / "orders.yaml").write_text(
        "asyncapi: 3.0.0\n"
        "info: {title: Orders, version: '1'}\n"
        "channels:\n"
        "  orders:\n"
        "    address: orders\n"
        "    messages:\n"
        "      placed:\n"
        "        name: Order.Placed.V1\n"
        "        payload:\n"
        "          type: object\n"
        "          properties:\n"
        "            lines:\n"
        "              type: array\n"
        "              items:\n"
        "                type: object\n"
        "                properties:\n"
        "                  sku: {type: string, examples: ['A-1', 7]}\n"
        "              examples: [[]]\n"
        "            total:\n"
        "              allOf:\n"
        "                - {type: integer, examples: [3, 'three']}\n"
        "operations:\n"
        "  place:\n"
        "    action: send\n"
        "    channel: {$ref: '#/channels/orders'}\n", "utf-8")
    catalogue = ContractLoader(workers=1).load([folder])
    messages = sorted(d.message for d in catalogue.all_diagnostics if d.code == "schema-example-invalid")
    assert messages == [
        "schema example #1 of Order.Placed.V1 at '/properties/lines/items/properties/sku' is not valid against its "
        "own schema: 7 is not of type 'string'",
        "schema example #1 of Order.Placed.V1 at '/properties/total/allOf/0' is not valid against its own schema: "
        "'three' is not of type 'integer'",
    ]
