"""`eventdeck backstage`: catalog-info.yaml entities, valid for the Backstage catalog model and kept up to date.

The entities are validated with the JSON Schemas that Backstage itself ships in `@backstage/catalog-model`
(installed in tests/js by scripts/bootstrap); the package ships them as JavaScript modules, so Node prints them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from conftest import EXAMPLES, IN_CI, ROOT
from pipeline.contract import Catalogue
from portal.backstage.entities import ComponentSpec, entities, entity_name
from portal.cli.main import main

MODEL = ROOT / "tests" / "js" / "node_modules" / "@backstage" / "catalog-model" / "dist" / "schema"
COMMITTED_ARGS = ["--per-event", "--site-url", "https://eventdeck.dev/"]

_DUMP = """
const fs = require('fs'), path = require('path');
const out = {};
function walk(dir) {
  for (const name of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    if (fs.statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.schema.json.cjs.js')) out[path.relative(process.argv[1], full)] = require(full).default;
  }
}
walk(process.argv[1]);
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def catalog_model() -> dict[str, Any]:
    """The catalog model's schemas by file name (e.g. ``kinds/API.v1alpha1.schema.json.cjs.js``)."""
    node = shutil.which("node")
    if node is None or not MODEL.is_dir():
        if IN_CI:
            pytest.fail("@backstage/catalog-model is missing from tests/js: run scripts/bootstrap")
        pytest.skip("node or tests/js/node_modules/@backstage/catalog-model missing (run scripts/bootstrap)")
    out = subprocess.run([node, "-e", _DUMP, str(MODEL)], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def validator(model: dict[str, Any], kind: str) -> jsonschema.Draft7Validator:
    registry: Registry = Registry()
    for schema in model.values():
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7))
    schema = model[f"kinds/{kind}.v1alpha1.schema.json.cjs.js"]
    return jsonschema.Draft7Validator(schema, registry=registry)


def substituted(value: Any, base: Path) -> Any:
    """The entity as Backstage validates it: its PlaceholderProcessor first replaces ``{$text: path}`` with the
    text of the file (relative to catalog-info.yaml); a missing file is an error there too."""
    if isinstance(value, dict):
        if set(value) == {"$text"}:
            return (base / value["$text"]).read_text(encoding="utf-8")
        return {k: substituted(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [substituted(v, base) for v in value]
    return value


def problems(model: dict[str, Any], entity: dict[str, Any]) -> list[str]:
    found = validator(model, entity["kind"]).iter_errors(substituted(entity, ROOT))
    return [f"{entity['metadata']['name']}: {e.json_path}: {e.message}" for e in found]


def test_the_generated_entities_are_valid_backstage_entities(catalog_model: dict[str, Any],
                                                             examples_catalogue: Catalogue) -> None:
    generated = entities(examples_catalogue, ROOT, ComponentSpec(site_url="https://eventdeck.dev/"), per_event=True)
    assert [e["kind"] for e in generated].count("API") == 3 + 15
    found = [p for entity in generated for p in problems(catalog_model, entity)]
    assert not found, "\n".join(found)


def test_an_invalid_entity_is_caught_by_the_schemas(catalog_model: dict[str, Any],
                                                    examples_catalogue: Catalogue) -> None:
    api = entities(examples_catalogue, ROOT)[1]
    del api["spec"]["definition"]
    assert problems(catalog_model, api)


def test_one_api_per_document_with_its_definition_owner_and_system(examples_catalogue: Catalogue) -> None:
    component, *apis = entities(examples_catalogue, ROOT)
    by_name = {api["metadata"]["name"]: api for api in apis}
    payments = by_name["payments"]
    assert payments["spec"] == {"type": "asyncapi", "lifecycle": "production", "owner": "group:default/payments-team",
                                "system": "checkout", "definition": {"$text": "./docs/asyncapi/payments.yaml"}}
    assert payments["metadata"]["labels"] == {"eventdeck.dev/domain": "payments"}
    assert (ROOT / payments["spec"]["definition"]["$text"]).is_file()
    assert component["kind"] == "Component"
    assert component["metadata"]["annotations"] == {"backstage.io/techdocs-ref": "dir:."}
    assert component["spec"]["providesApis"] == ["baskets", "orders", "payments"]
    assert component["spec"]["owner"] == "group:default/payments-team"


def test_per_event_apis_let_consumers_name_the_exact_event(examples_catalogue: Catalogue) -> None:
    generated = entities(examples_catalogue, ROOT, ComponentSpec(site_url="https://eventdeck.dev/"), per_event=True)
    event = next(e for e in generated if e["metadata"]["name"] == "Payment.Authorised.Ecom")
    assert event["spec"]["lifecycle"] == "deprecated"
    assert event["metadata"]["links"] == [{"url": "https://eventdeck.dev/events/Payment.Authorised.Ecom/",
                                           "title": "Event catalogue page"}]
    assert "Payment.Authorised.Ecom" in generated[0]["spec"]["providesApis"]


def test_names_and_tags_are_made_valid() -> None:
    assert entity_name("Array<Person>~pjs zbos") == "Array-Person-pjs-zbos"
    assert len(entity_name("x" * 100)) == 63


def test_the_committed_catalog_info_is_up_to_date() -> None:
    assert main(["backstage", str(EXAMPLES), "-o", str(ROOT / "catalog-info.yaml"), *COMMITTED_ARGS, "--check"]) == 0


def test_check_fails_when_the_file_is_stale(tmp_path: Path) -> None:
    output = tmp_path / "catalog-info.yaml"
    assert main(["backstage", str(EXAMPLES), "-o", str(output)]) == 0
    documents = list(yaml.safe_load_all(output.read_text(encoding="utf-8")))
    assert documents[1]["spec"]["definition"]["$text"] == "./docs/asyncapi/baskets.yaml"
    assert (tmp_path / "docs" / "asyncapi" / "baskets.yaml").is_file()
    assert main(["backstage", str(EXAMPLES), "-o", str(output), "--check"]) == 0
    output.write_text(output.read_text(encoding="utf-8").replace("checkout", "elsewhere"), encoding="utf-8")
    assert main(["backstage", str(EXAMPLES), "-o", str(output), "--check"]) == 1
