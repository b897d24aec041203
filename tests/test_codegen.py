"""``eventdeck codegen python``: pydantic models of every event, generated from the published schemas.

The generated package imports, type-checks with mypy (strict), round-trips every example of every event of the
example domains, and rejects an invalid payload (a missing required field, a wrong enum value). The output is
deterministic, ``--check`` tells when it is stale, and bad input is a message with the file and pointer.
"""

from __future__ import annotations

import copy
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pydantic
import pytest
from cli_runner import run

from conftest import ROOT, write
from pipeline.contract import Catalogue, ContractLoader
from pipeline.contract.registry import RegistryLayout
from portal.codegen import python_package
from portal.codegen.names import module_name, module_names
from portal.render.site import registry_document

MYPY = Path(sys.executable).with_name("mypy")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return ContractLoader().load([ROOT / "asyncapi"], strict=True)


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples' models, written by the command as a user runs it, into ``<tmp>/models``."""
    folder = tmp_path_factory.mktemp("codegen")
    result = run("codegen", "python", "-o", folder / "models", cwd=ROOT)
    assert result.code == 0, result.output
    assert "15 event(s)" in result.out
    return folder


@pytest.fixture(scope="module")
def models(package_dir: Path) -> Iterator[ModuleType]:
    sys.path.insert(0, str(package_dir))
    try:
        yield importlib.import_module("models")
    finally:
        sys.path.remove(str(package_dir))
        for name in [n for n in sys.modules if n == "models" or n.startswith("models.")]:
            del sys.modules[name]


def _examples(catalogue: Catalogue) -> list[tuple[str, int]]:
    return [(event.name, i) for event in catalogue.events for i in range(len(event.examples))]


EXAMPLE_IDS = [f"{name}#{i}" for name, i in _examples(ContractLoader().load([ROOT / "asyncapi"], strict=True))]


# -- the generated package -------------------------------------------------------------------------------------------

def test_one_module_per_event_and_an_index(package_dir: Path, catalogue: Catalogue, models: ModuleType) -> None:
    files = sorted(p.name for p in (package_dir / "models").iterdir())
    expected = sorted([f"{module_name(e.name)}.py" for e in catalogue.events] + ["__init__.py", "py.typed",
                                                                                   ".eventdeck-files"])
    assert files == expected
    assert set(models.MODELS) == {e.name for e in catalogue.events}


def test_each_module_names_its_event_version_and_dataschema(models: ModuleType, catalogue: Catalogue) -> None:
    layout = RegistryLayout.for_catalogue(catalogue)
    for event in catalogue.events:
        module = importlib.import_module(f"models.{models.MODELS[event.name][0]}")
        assert event.name == module.EVENT_TYPE
        assert event.version == module.SCHEMA_VERSION
        assert layout.url(event) == module.DATASCHEMA
        assert issubclass(module.Payload, pydantic.BaseModel)
        assert models.model_for(event.name) is module.Payload


@pytest.mark.parametrize(("name", "index"), _examples(ContractLoader().load([ROOT / "asyncapi"], strict=True)),
                         ids=EXAMPLE_IDS)
def test_every_example_round_trips(models: ModuleType, catalogue: Catalogue, name: str, index: int) -> None:
    example = next(e for e in catalogue.events if e.name == name).examples[index].payload
    payload = models.model_for(name).model_validate(example)
    assert payload.model_dump(mode="json", by_alias=True, exclude_unset=True) == example
    assert payload.model_dump(mode="json", by_alias=True, exclude_unset=True, round_trip=True) == example
    assert json.loads(payload.model_dump_json(by_alias=True, exclude_unset=True)) == example


def _required_paths(schema: Any, example: Any) -> Iterator[list[str]]:
    """Paths (below the payload) of the example's required properties, found through the published schema."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
            node = defs[node["$ref"].split("/")[-1]]
        return node

    def required(node: Any) -> set[str]:
        node = resolve(node)
        found = set(node.get("required", ())) if isinstance(node, dict) else set()
        for part in node.get("allOf", ()) if isinstance(node, dict) else ():
            found |= required(part)
        return found

    for key in sorted(required(schema)):
        if key in example:
            yield [key]


@pytest.mark.parametrize("name", sorted({n for n, _ in _examples(ContractLoader().load([ROOT / "asyncapi"],
                                                                                         strict=True))}))
def test_a_payload_missing_a_required_field_is_rejected(models: ModuleType, catalogue: Catalogue,
                                                         name: str) -> None:
    event = next(e for e in catalogue.events if e.name == name)
    schema = registry_document(event, "https://example.test/s.json")
    example = event.examples[0].payload
    paths = list(_required_paths(schema, example))
    assert paths, f"{name}: no required field found in its schema"
    for path in paths:
        broken = copy.deepcopy(example)
        del broken[path[0]]
        with pytest.raises(pydantic.ValidationError) as caught:
            models.model_for(name).model_validate(broken)
        assert any(error["type"] == "missing" and error["loc"][:1] == tuple(path) for error in caught.value.errors())


@pytest.mark.parametrize(("name", "path"), [
    ("Order.Created.Uk", ["deliveryOption"]),               # a StrEnum
    ("Payment.AuthorisedV2.Ecom", ["paymentMethod", "scheme"]),   # an enum inside a oneOf branch
    ("Payment.AuthorisedV2.Ecom", ["paymentMethod", "type"]),     # the const discriminating the oneOf
    ("Order.Created.Uk", ["total", "currency"]),             # a const an allOf adds to an inherited property
])
def test_a_wrong_enum_value_is_rejected(models: ModuleType, catalogue: Catalogue, name: str,
                                        path: list[str]) -> None:
    event = next(e for e in catalogue.events if e.name == name)
    example = next(x.payload for x in event.examples if _get(x.payload, path[:-1]).get(path[-1]) is not None)
    model = models.model_for(name)
    model.model_validate(example)  # the example itself is valid
    broken = copy.deepcopy(example)
    _get(broken, path[:-1])[path[-1]] = "not-a-member"
    with pytest.raises(pydantic.ValidationError):
        model.model_validate(broken)


def _get(value: Any, path: list[str]) -> Any:
    for key in path:
        value = value[key]
    return value


def test_recursion_oneof_and_allof_refinements_are_modelled(models: ModuleType) -> None:
    order = importlib.import_module(f"models.{models.MODELS['Order.Created.Uk'][0]}")
    lines = order.Payload.model_fields["lines"]
    assert "LineItem" in repr(lines.annotation)
    line_item = order.LineItem.model_fields["components"]
    assert "LineItem" in repr(line_item.annotation)  # recursive: components are line items again
    payment = importlib.import_module(f"models.{models.MODELS['Payment.AuthorisedV2.Ecom'][0]}")
    method = repr(payment.Payload.model_fields["paymentMethod"].annotation)
    assert all(name in method for name in ("CardPaymentMethod", "WalletPaymentMethod", "GiftCardPaymentMethod"))
    gbp = order.Payload.model_validate  # Order.Created.Uk narrows total.currency to GBP through allOf
    example = {"amountMinor": 1, "currency": "EUR"}
    with pytest.raises(pydantic.ValidationError):
        order.Payload.model_fields["total"].annotation.model_validate(example)
    assert gbp is not None


def test_the_package_type_checks_with_mypy_strict(package_dir: Path) -> None:
    done = subprocess.run([str(MYPY), "--strict", "--no-incremental", "--cache-dir=/dev/null", "-p", "models"],
                          cwd=package_dir, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


CONSUMER = """\
from models.order_created_uk import Payload, DeliveryOption

def handle(data: object) -> int:
    order = Payload.model_validate(data)
    option: DeliveryOption | None = order.deliveryOption
    first = order.lines[0]
    total: int = order.total.amountMinor + first.unitPrice.amountMinor
    return total
"""


def test_consumer_code_type_checks_against_the_models_and_mypy_sees_a_misuse(package_dir: Path) -> None:
    good = write(package_dir, "consumer_ok.py", CONSUMER)
    bad = write(package_dir, "consumer_bad.py", CONSUMER.replace("total: int =", "total: str ="))
    done = subprocess.run([str(MYPY), "--strict", "--no-incremental", "--cache-dir=/dev/null", good.name],
                          cwd=package_dir, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([str(MYPY), "--strict", "--no-incremental", "--cache-dir=/dev/null", bad.name],
                          cwd=package_dir, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert 'Incompatible types in assignment (expression has type "int", variable has type "str")' in done.stdout


# -- deterministic output, --check, the owned folder ----------------------------------------------------------------

def test_output_is_deterministic_and_has_no_timestamp(package_dir: Path, tmp_path: Path) -> None:
    assert run("codegen", "python", "-o", tmp_path / "again", cwd=ROOT).code == 0
    first = {p.name: p.read_bytes() for p in (package_dir / "models").iterdir() if p.suffix == ".py"}
    second = {p.name: p.read_bytes() for p in (tmp_path / "again").iterdir() if p.suffix == ".py"}
    assert first == second
    text = (package_dir / "models" / "order_created_uk.py").read_text(encoding="utf-8")
    header = [line for line in text.splitlines()[:12] if line.startswith("#")]
    assert header and not any("timestamp" in line.lower() for line in header)
    assert text.startswith("# Generated by `eventdeck codegen python`")
    assert "https://eventdeck.dev/schemas/Order.Created.Uk/1.2.0.json" in text


def test_check_passes_when_current_and_names_each_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "models"
    assert run("codegen", "python", "-o", out, cwd=ROOT).code == 0
    result = run("codegen", "python", "-o", out, "--check", cwd=ROOT)
    assert result.code == 0, result.output
    assert "up to date" in result.out
    target = out / "order_created_uk.py"
    target.write_text(target.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    (out / "basket_paid_eu.py").unlink()
    result = run("codegen", "python", "-o", out, "--check", cwd=ROOT)
    assert result.code == 1
    assert f"{out}/order_created_uk.py: stale" in result.err
    assert f"{out}/basket_paid_eu.py: missing" in result.err
    assert "out of date" in result.err
    assert "# edited" in target.read_text(encoding="utf-8")  # --check writes nothing


def test_check_on_a_folder_never_written_fails(tmp_path: Path) -> None:
    result = run("codegen", "python", "-o", tmp_path / "nothing", "--check", cwd=ROOT)
    assert result.code == 1
    assert not (tmp_path / "nothing").exists()


def test_a_later_run_removes_modules_of_events_that_are_gone_and_nothing_else(tmp_path: Path) -> None:
    out = tmp_path / "models"
    assert run("codegen", "python", "-o", out, cwd=ROOT).code == 0
    mine = write(out, "consumer_notes.py", "# hand-written\n")
    result = run("codegen", "python", "-o", out, "--event", "Order.Created.Uk", cwd=ROOT)
    assert result.code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [".eventdeck-files", "__init__.py", "consumer_notes.py",
                                                      "order_created_uk.py", "py.typed"]
    assert mine.read_text(encoding="utf-8") == "# hand-written\n"


def test_a_manifest_line_leaving_the_folder_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "models"
    assert run("codegen", "python", "-o", out, "--event", "Order.Created.Uk", cwd=ROOT).code == 0
    victim = write(tmp_path, "victim.py", "precious\n")
    manifest = out / ".eventdeck-files"
    manifest.write_text(manifest.read_text(encoding="utf-8") + f"{'0' * 64}  ../victim.py\n", encoding="utf-8")
    result = run("codegen", "python", "-o", out, "--event", "Basket.Paid.Eu", cwd=ROOT)
    assert result.code == 1
    assert ".eventdeck-files:" in result.err and "'../victim.py'" in result.err
    assert "Traceback" not in result.output
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not (out / "basket_paid_eu.py").exists()


def test_an_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = write(tmp_path, "models", "not a folder\n")
    result = run("codegen", "python", "-o", target, cwd=ROOT)
    assert result.code == 1
    assert str(target) in result.err and "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "not a folder\n"


def test_an_unknown_event_is_named(tmp_path: Path) -> None:
    result = run("codegen", "python", "-o", tmp_path / "m", "--event", "No.Such.Event", cwd=ROOT)
    assert result.code == 2
    assert "'No.Such.Event'" in result.err
    assert not (tmp_path / "m").exists()


# -- bad input --------------------------------------------------------------------------------------------------------

DOC = """\
asyncapi: 3.0.0
info:
  title: Codegen
  version: 1.0.0
channels:
  things:
    address: things
    messages:
      Thing:
        $ref: '#/components/messages/Thing'
operations:
  sendThing:
    action: send
    channel:
      $ref: '#/channels/things'
components:
  messages:
    Thing:
      name: Thing.Created.Uk
      payload: {payload}
"""


def test_invalid_yaml_is_a_message_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "asyncapi: 3.0.0\ninfo: [unclosed\n")
    result = run("codegen", "python", str(path), "-o", tmp_path / "out", cwd=tmp_path)
    assert result.code == 1
    assert "bad.yaml:" in result.err and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_payload_in_another_schema_format_is_a_named_error_unless_skipped(tmp_path: Path) -> None:
    avro = json.dumps({"schemaFormat": "application/vnd.apache.avro;version=1.9.0",
                       "schema": {"type": "record", "name": "Thing", "fields": [{"name": "id", "type": "string"}]}})
    path = write(tmp_path, "avro.yaml", DOC.format(payload=avro))
    result = run("codegen", "python", str(path), "-o", tmp_path / "out", cwd=tmp_path)
    assert result.code == 1
    assert "avro.yaml" in result.err and "Thing.Created.Uk" in result.err and "not JSON Schema" in result.err
    assert "nothing was written" in result.err
    assert not (tmp_path / "out").exists()
    result = run("codegen", "python", str(path), "-o", tmp_path / "out", "--skip-unsupported", cwd=tmp_path)
    assert result.code == 0, result.output
    assert "skipped:" in result.err and "Thing.Created.Uk" in result.err
    assert "0 event(s)" in result.out


def test_a_schema_the_generator_cannot_model_is_a_named_error_never_an_empty_module(tmp_path: Path) -> None:
    # An allOf of a string and an integer: no value is valid, and the generator says so.
    payload = json.dumps({"allOf": [{"type": "string"}, {"type": "integer"}]})
    path = write(tmp_path, "impossible.yaml", DOC.format(payload=payload))
    result = run("codegen", "python", str(path), "-o", tmp_path / "out", cwd=tmp_path)
    assert result.code == 1, result.output
    assert "impossible.yaml" in result.err and "Thing.Created.Uk" in result.err
    assert "datamodel-code-generator" in result.err and "no value satisfies" in result.err
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_false_property_schema_is_a_named_error_with_its_pointer(tmp_path: Path) -> None:
    payload = json.dumps({"type": "object", "properties": {"gone": False, "kept": {"type": "string"}}})
    path = write(tmp_path, "false.yaml", DOC.format(payload=payload))
    result = run("codegen", "python", str(path), "-o", tmp_path / "out", cwd=tmp_path)
    assert result.code == 1, result.output
    assert "false.yaml" in result.err and "/properties/gone" in result.err and "`false` schema" in result.err
    assert not (tmp_path / "out").exists()


def test_keywords_the_models_cannot_express_are_listed_in_the_header(tmp_path: Path) -> None:
    payload = json.dumps({"type": "object", "properties": {"a": {"type": "string", "not": {"const": "x"}}},
                          "if": {"required": ["a"]}, "then": {"required": ["b"]}})
    path = write(tmp_path, "lax.yaml", DOC.format(payload=payload))
    result = run("codegen", "python", str(path), "-o", tmp_path / "out", cwd=tmp_path)
    assert result.code == 0, result.output
    text = (tmp_path / "out" / "thing_created_uk.py").read_text(encoding="utf-8")
    assert "#   #: `if` is not modelled" in text
    assert "#   #/properties/a: `not` is not modelled" in text


HOSTILE = ["\"\"\"\nimport os\nos.system('touch PWNED')\n\"\"\"", "'); __import__('os').system('touch PWNED'); ('",
           "\u2028import os\r\nos.system('touch PWNED')", "x\\", "{__import__('os')}"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_stay_data_in_the_generated_module(tmp_path: Path, text: str) -> None:
    payload = json.dumps({
        "title": text, "description": text, "type": "object", "required": ["kind"],
        "properties": {"kind": {"type": "string", "enum": [text, "plain"], "description": text, "title": text,
                                "default": text},
                       text: {"type": "string", "pattern": "^[\\s\\S]*$", "examples": [text]}}})
    path = write(tmp_path, "hostile.yaml", DOC.format(payload=payload))
    out = tmp_path / "out"
    result = run("codegen", "python", str(path), "-o", out, cwd=tmp_path)
    assert result.code == 0, result.output
    module_file = next(p for p in out.iterdir() if p.name not in ("__init__.py", "py.typed", ".eventdeck-files"))
    code = module_file.read_text(encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", "import runpy, sys; m = runpy.run_path(sys.argv[1]); "
                           "print(m['Payload'].model_validate({'kind': sys.argv[2]}).kind.value == sys.argv[2])",
                           str(module_file), text], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr + code
    assert done.stdout.strip() == "True"
    assert not (tmp_path / "PWNED").exists()


def test_the_audit_refuses_code_beyond_model_declarations() -> None:
    from portal.codegen.audit import problems

    assert problems("from pydantic import BaseModel\n\nclass A(BaseModel):\n    x: int = 1\n") == []
    assert problems("import os\n")
    assert problems("from os import system\n")
    assert problems("from pydantic import BaseModel\nclass A(BaseModel):\n    x: 'os.system(1)'\n")
    assert problems("from pydantic import BaseModel\nclass A(BaseModel):\n    def f(self): pass\n")
    assert problems("from pydantic import BaseModel\nclass A(BaseModel, metaclass=type): pass\n")
    assert problems("from pydantic import Field\nx = Field(default=(lambda: 1)())\n")
    assert problems("from pydantic import BaseModel\nclass A(BaseModel): pass\nA.__class__.__init__()\n")


def test_module_names_are_unique_identifiers() -> None:
    names = module_names([("a", "Payment.AuthorisedV2.Ecom"), ("b", "payment.authorisedV2.ecom"),
                          ("c", "class"), ("d", "9.Lives"), ("e", "日本"), ("f", "Ünïcode.Ev")])
    assert names == {"a": "payment_authorised_v2_ecom", "b": "payment_authorised_v2_ecom_2", "c": "event_class",
                     "d": "event_9_lives", "e": "event", "f": "unicode_ev"}
    assert all(n.isidentifier() for n in names.values())


def test_generated_from_the_published_schema(catalogue: Catalogue) -> None:
    """The models describe exactly what the registry publishes: the package is built from registry_document."""
    layout = RegistryLayout.for_catalogue(catalogue, base_url="https://models.example/registry/")
    package = python_package(catalogue, layout, events=["Basket.Paid.Eu"])
    text = package.files["basket_paid_eu.py"].decode("utf-8")
    assert "DATASCHEMA = 'https://models.example/registry/Basket.Paid.Eu/1.0.0.json'" in text


def test_a_schema_titled_payload_keeps_its_name_and_the_index_names_the_root(tmp_path: Path) -> None:
    payload = json.dumps({"title": "Envelope", "type": "object", "required": ["payload"],
                          "properties": {"payload": {"title": "Payload", "type": "object",
                                                     "properties": {"n": {"type": "integer"}}}}})
    path = write(tmp_path, "titled.yaml", DOC.format(payload=payload))
    out = tmp_path / "titled_models"
    assert run("codegen", "python", str(path), "-o", out, cwd=tmp_path).code == 0
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("titled_models")
        root = package.model_for("Thing.Created.Uk")
        assert root.__name__ == "Envelope"
        assert root.model_validate({"payload": {"n": 1}}).payload.n == 1
        module = importlib.import_module("titled_models.thing_created_uk")
        assert module.Payload is not root and module.Payload.__name__ == "Payload"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("titled_models")]:
            del sys.modules[name]
