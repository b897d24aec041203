"""The shared corpus of real-world AsyncAPI documents, and the official JavaScript parser's verdict on each.

Every document under valid/ must load into a model (its imperfections as diagnostics); every document under
invalid/ must be refused in strict mode with a message that names the problem. Our strict verdict is compared with
the official parser's, document by document; a disagreement fails unless it is listed below with its reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, require_corpus
from corpus import root_documents
from pipeline.contract import ContractError, ContractLoader

# Where eventdeck's strict verdict knowingly differs from @asyncapi/parser's (path below the corpus: reason).
KNOWN_DISAGREEMENTS = {
    "valid/spec300-kraken-websocket-request-reply-multiple-channels-asyncapi.yml":
        "eventdeck checks AsyncAPI 3 message examples against their payload schema; the official parser only "
        "does so for 2.x. Both examples of 'subscriptionStatus' violate it ('pair' must be an array, "
        "'unsubscribed'/'error' are not in the status enum).",
}


def _relative(path: Path, corpus: Path) -> str:
    return str(path.relative_to(corpus))


def _roots(folder: str) -> list[Path]:
    corpus = require_corpus()
    return [p for p in root_documents(corpus) if _relative(p, corpus).startswith(folder)]


def _ids(path: Path) -> str:
    return "/".join(path.parts[-2:]) if path.parent.name not in ("valid", "invalid") else path.name


def strict_verdict(path: Path) -> tuple[bool, str]:
    """(valid?, first problem) by eventdeck's strict validation. The corpus keeps upstream's layout, where documents
    refer to files in sibling folders (``../common/``), so the corpus is the root their ``$ref``s may not leave."""
    try:
        catalogue = ContractLoader(root=require_corpus()).load([path])
    except ContractError as exc:
        return False, str(exc.diagnostics[0] if exc.diagnostics else exc)
    errors = catalogue.errors
    return not errors, str(errors[0]) if errors else ""


@pytest.mark.corpus
def test_corpus_lists_52_valid_and_7_invalid_roots() -> None:
    assert (len(_roots("valid/")), len(_roots("invalid/"))) == (52, 7)


@pytest.mark.corpus
@pytest.mark.parametrize("path", _roots("valid/") if (ROOT.parent / "shared").is_dir() else [], ids=_ids)
def test_every_valid_corpus_document_loads_into_a_model(path: Path) -> None:
    catalogue = ContractLoader(root=require_corpus()).load([path])
    document = catalogue.documents[0]
    assert document.info.title
    # Every message reaches the model: each component message and each message an operation names.
    for event in document.events:
        assert event.location.file and event.location.line, event.key


@pytest.mark.corpus
@pytest.mark.parametrize("path", _roots("invalid/") if (ROOT.parent / "shared").is_dir() else [], ids=_ids)
def test_every_invalid_corpus_document_is_refused_in_strict_mode(path: Path) -> None:
    with pytest.raises(ContractError) as caught:
        ContractLoader(root=require_corpus()).load([path], strict=True)
    first = caught.value.diagnostics[0]
    assert first.location.file.endswith(path.name) or path.parent.name in first.location.file
    assert first.message


@pytest.fixture(scope="module")
def official_verdicts() -> dict[str, dict[str, object]]:
    script = ROOT / "tests" / "js" / "asyncapi_verdict.mjs"
    if shutil.which("node") is None or not (ROOT / "tests" / "js" / "node_modules" / "@asyncapi").is_dir():
        pytest.fail("the official parser is not installed: run scripts/bootstrap (npm ci in tests/js)")
    paths = [str(p) for p in root_documents(require_corpus())]
    out = subprocess.run(["node", str(script), *paths], capture_output=True, text=True, timeout=900, check=True)
    return json.loads(out.stdout)


@pytest.mark.slow
@pytest.mark.corpus
def test_strict_verdicts_agree_with_the_official_parser(official_verdicts: dict[str, dict[str, object]]) -> None:
    corpus = require_corpus()
    unexplained, stale = [], []
    for path in root_documents(corpus):
        name = _relative(path, corpus)
        official = bool(official_verdicts[str(path)]["valid"])
        ours, why = strict_verdict(path)
        if ours != official and name not in KNOWN_DISAGREEMENTS:
            theirs = official_verdicts[str(path)]["errors"][:1]  # type: ignore[index]
            unexplained.append(f"{name}: eventdeck={'valid' if ours else 'invalid'} ({why}); official="
                               f"{'valid' if official else 'invalid'} {theirs}")
        if ours == official and name in KNOWN_DISAGREEMENTS:
            stale.append(name)
    assert not unexplained, "\n".join(unexplained)
    assert not stale, f"listed as disagreements but now agree (remove them): {stale}"
