"""`eventdeck backstage` writes self-contained AsyncAPI definitions (Backstage renders them in the browser, where no
`$ref` into another file can be followed): external references bundled, internal ones kept, recursive schemas
finite, one minimal document per event, AsyncAPI 3.1 relabelled 3.0 when it can be, kept in step by `--check`.

The official parser (`@asyncapi/parser`, tests/js) judges every definition; tests/test_backstage_browser.py renders
them with the official React component.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_runner import run

from conftest import EXAMPLES, IN_CI, ROOT

VERDICT = ROOT / "tests" / "js" / "asyncapi_verdict.mjs"


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def resolves(document: Any, ref: str) -> bool:
    node = document
    for token in ref.removeprefix("#/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return False
        node = node[token]
    return True


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples' catalog-info.yaml and definitions, written by the command as a user runs it."""
    folder = tmp_path_factory.mktemp("generated")
    result = run("backstage", EXAMPLES, "-o", folder / "catalog-info.yaml", "--per-event")
    assert result.code == 0, result.output
    return folder


def definitions(folder: Path) -> list[Path]:
    return sorted((folder / "docs" / "asyncapi").rglob("*.yaml"))


def test_every_entity_points_at_a_generated_definition(generated: Path) -> None:
    entities = list(yaml.safe_load_all((generated / "catalog-info.yaml").read_text(encoding="utf-8")))
    texts = [e["spec"]["definition"]["$text"] for e in entities if e["kind"] == "API"]
    assert len(texts) == 18
    assert all(t.startswith("./docs/asyncapi/") and (generated / t).is_file() for t in texts)
    assert sorted(generated / t for t in texts) == definitions(generated)


def test_no_definition_refers_outside_itself_and_every_reference_resolves(generated: Path) -> None:
    for path in definitions(generated):
        document = load(path)
        found = list(refs(document))
        assert found, path
        outside = [r for r in found if not r.startswith("#/")]
        broken = [r for r in found if r.startswith("#/") and not resolves(document, r)]
        assert not outside and not broken, (path, outside, broken)


def test_shared_schema_files_are_bundled_once_as_components_and_internal_refs_are_kept(generated: Path) -> None:
    baskets = load(generated / "docs" / "asyncapi" / "baskets.yaml")
    schemas = baskets["components"]["schemas"]
    assert {"money", "line-item", "base-event", "headers", "Uuid", "Timestamp", "Currency"} <= set(schemas)
    assert schemas["money"]["type"] == "object"
    text = (generated / "docs" / "asyncapi" / "baskets.yaml").read_text(encoding="utf-8")
    assert "./schemas/" not in text and ".yaml#" not in text
    # As written in the document: the message's payload still points at its component.
    message = baskets["components"]["messages"]["BasketCreatedEu"]
    assert message["payload"] == {"$ref": "#/components/schemas/BasketCreatedEuPayload"}
    # A message taken from another document (orders.yaml) is copied in, with its schemas as components.
    received = baskets["channels"]["orderCreatedIe"]["messages"]["OrderCreatedIe"]
    assert received["name"] == "Order.Created.Ie" and received["payload"]["$ref"].startswith("#/components/schemas/")


def test_an_event_definition_is_a_minimal_document_of_its_own(generated: Path) -> None:
    event = load(generated / "docs" / "asyncapi" / "events" / "Payment.AuthorisedV2.Ecom.yaml")
    assert event["asyncapi"] == "3.0.0"
    assert event["info"]["title"].startswith("Payment.AuthorisedV2.Ecom")
    assert event["info"]["x-backstage"]["owner"] == "group:default/payments-team"
    assert set(event["channels"]) == {"paymentAuthorisedV2Ecom"}
    assert set(event["operations"]) == {"sendPaymentAuthorisedV2Ecom"}
    assert set(event["components"]["messages"]) == {"PaymentAuthorisedV2Ecom"}
    assert "PaymentAuthorisedEcomPayload" not in event["components"]["schemas"]  # another event's: pruned
    assert event["servers"]
    # An AsyncAPI 2.6 event: its channel and its one operation.
    order = load(generated / "docs" / "asyncapi" / "events" / "Order.Created.Uk.yaml")
    assert order["asyncapi"] == "2.6.0" and set(order["channels"]) == {"Order.Created.Uk"}
    assert set(order["components"]["messages"]) == {"OrderCreatedUk"}
    # A message no operation sends is still in its definition.
    abandoned = load(generated / "docs" / "asyncapi" / "events" / "Basket.Abandoned.Eu.yaml")
    assert set(abandoned["components"]["messages"]) == {"BasketAbandonedEu"}


RECURSIVE = """\
asyncapi: 3.0.0
info: {title: Trees, version: 1.0.0, x-backstage: {owner: group:default/trees}}
channels:
  grown: {address: Tree.Grown.Eu, messages: {TreeGrown: {$ref: '#/components/messages/TreeGrown'}}}
operations:
  sendTreeGrown: {action: send, channel: {$ref: '#/channels/grown'},
                  messages: [{$ref: '#/channels/grown/messages/TreeGrown'}]}
components:
  messages:
    TreeGrown:
      name: Tree.Grown.Eu
      payload: {$ref: './schemas/node.yaml'}
"""
NODE = """\
type: object
properties:
  label: {type: string}
  children: {type: array, items: {$ref: './node.yaml'}}
  parent: {$ref: '#/properties/children/items'}
"""


@pytest.fixture
def trees(tmp_path: Path) -> Path:
    (tmp_path / "asyncapi" / "schemas").mkdir(parents=True)
    (tmp_path / "asyncapi" / "trees.yaml").write_text(RECURSIVE, encoding="utf-8")
    (tmp_path / "asyncapi" / "schemas" / "node.yaml").write_text(NODE, encoding="utf-8")
    return tmp_path


def test_a_recursive_schema_in_another_file_stays_a_finite_reference(trees: Path) -> None:
    result = run("backstage", trees / "asyncapi", "-o", trees / "catalog-info.yaml")
    assert result.code == 0, result.output
    document = load(trees / "docs" / "asyncapi" / "trees.yaml")
    node = document["components"]["schemas"]["node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/components/schemas/node"}
    assert document["components"]["messages"]["TreeGrown"]["payload"] == {"$ref": "#/components/schemas/node"}
    assert all(resolves(document, r) for r in refs(document))


def test_an_asyncapi_31_document_is_published_as_30_which_backstage_renders(trees: Path) -> None:
    source = trees / "asyncapi" / "trees.yaml"
    source.write_text(RECURSIVE.replace("asyncapi: 3.0.0", "asyncapi: 3.1.0"), encoding="utf-8")
    result = run("backstage", trees / "asyncapi", "-o", trees / "catalog-info.yaml", "--per-event")
    assert result.code == 0, result.output
    assert load(trees / "docs" / "asyncapi" / "trees.yaml")["asyncapi"] == "3.0.0"
    assert load(trees / "docs" / "asyncapi" / "events" / "Tree.Grown.Eu.yaml")["asyncapi"] == "3.0.0"
    assert "definition-note" not in (trees / "catalog-info.yaml").read_text(encoding="utf-8")


def test_a_31_document_that_30_cannot_express_keeps_its_version_and_the_entity_says_why(trees: Path) -> None:
    source = trees / "asyncapi" / "trees.yaml"
    source.write_text(RECURSIVE.replace("asyncapi: 3.0.0", "asyncapi: 3.1.0") +
                      "servers:\n  robots: {host: 'ros.example', protocol: ros2, "
                      "bindings: {ros2: {domainId: 0, rmwImplementation: rmw_fastrtps_cpp}}}\n", encoding="utf-8")
    result = run("backstage", trees / "asyncapi", "-o", trees / "catalog-info.yaml")
    assert result.code == 0, result.output
    assert load(trees / "docs" / "asyncapi" / "trees.yaml")["asyncapi"] == "3.1.0"
    api = list(yaml.safe_load_all((trees / "catalog-info.yaml").read_text(encoding="utf-8")))[1]
    note = api["metadata"]["annotations"]["eventdeck.dev/definition-note"]
    assert "not valid AsyncAPI 3.0.0" in note and "/servers/robots" in note
    assert note in api["metadata"]["description"]
    assert "trees.yaml" in result.err and "3.1.0" in result.err


def test_check_fails_on_a_stale_or_missing_definition_and_a_run_repairs_it(generated: Path, tmp_path: Path) -> None:
    folder = tmp_path / "project"
    shutil.copytree(generated, folder)
    args = ("backstage", EXAMPLES, "-o", folder / "catalog-info.yaml", "--per-event")
    assert run(*args, "--check").code == 0
    edited = folder / "docs" / "asyncapi" / "events" / "Basket.Paid.Eu.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    (folder / "docs" / "asyncapi" / "orders.yaml").unlink()
    result = run(*args, "--check")
    assert result.code == 1
    assert "Basket.Paid.Eu.yaml: stale" in result.err and "orders.yaml: missing" in result.err
    assert "# mine" in edited.read_text(encoding="utf-8")  # --check writes nothing
    assert run(*args).code == 0
    assert run(*args, "--check").code == 0


def test_definitions_of_events_no_longer_published_are_removed_but_never_a_hand_edited_file(
        generated: Path, tmp_path: Path) -> None:
    folder = tmp_path / "project"
    shutil.copytree(generated, folder)
    events = folder / "docs" / "asyncapi" / "events"
    edited = events / "Basket.Paid.Eu.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    refused = run("backstage", EXAMPLES, "-o", folder / "catalog-info.yaml")  # no --per-event: events are obsolete
    assert refused.code == 1
    assert "Basket.Paid.Eu.yaml" in refused.err and "refusing to delete it" in refused.err
    assert len(list(events.glob("*.yaml"))) == 15  # nothing deleted
    assert "Traceback" not in refused.output
    edited.unlink()
    assert run("backstage", EXAMPLES, "-o", folder / "catalog-info.yaml").code == 0
    assert not events.exists()
    assert sorted(p.name for p in (folder / "docs" / "asyncapi").glob("*.yaml")) == \
        ["baskets.yaml", "orders.yaml", "payments.yaml"]


def test_a_reference_that_cannot_be_bundled_is_named_and_nothing_is_written(trees: Path) -> None:
    (trees / "asyncapi" / "schemas" / "node.yaml").unlink()
    result = run("backstage", trees / "asyncapi", "-o", trees / "catalog-info.yaml")
    assert result.code == 1
    assert "trees.yaml:12" in result.err and "schemas/node.yaml" in result.err and "Traceback" not in result.output
    assert not (trees / "catalog-info.yaml").exists() and not (trees / "docs").exists()


def test_a_definitions_folder_that_is_a_file_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    blocker = tmp_path / "definitions"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run("backstage", EXAMPLES, "-o", tmp_path / "catalog-info.yaml", "--definitions", blocker)
    assert result.code == 1
    assert str(blocker) in result.err and "Traceback" not in result.output
    assert not (tmp_path / "catalog-info.yaml").exists()


def test_a_manifest_line_leading_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "docs" / "asyncapi"
    folder.mkdir(parents=True)
    (tmp_path / "precious.yaml").write_text("keep: me\n", encoding="utf-8")
    (folder / ".eventdeck-files").write_text("0" * 64 + "  ../../precious.yaml\n", encoding="utf-8")
    result = run("backstage", EXAMPLES, "-o", tmp_path / "catalog-info.yaml")
    assert result.code == 1 and ".eventdeck-files:1" in result.err
    assert (tmp_path / "precious.yaml").read_text(encoding="utf-8") == "keep: me\n"
    assert not (tmp_path / "catalog-info.yaml").exists()


@pytest.mark.slow
def test_the_official_parser_accepts_every_generated_definition(generated: Path, trees: Path) -> None:
    if shutil.which("node") is None or not (ROOT / "tests" / "js" / "node_modules" / "@asyncapi").is_dir():
        if IN_CI:
            pytest.fail("the official parser is not installed: run scripts/bootstrap (npm ci in tests/js)")
        pytest.skip("tests/js/node_modules is not installed (run scripts/bootstrap)")
    assert run("backstage", trees / "asyncapi", "-o", trees / "catalog-info.yaml").code == 0
    paths = [str(p) for p in [*definitions(generated), *definitions(trees)]]
    out = subprocess.run(["node", str(VERDICT), *paths], capture_output=True, text=True, timeout=1800, check=True)
    verdicts = json.loads(out.stdout)
    invalid = {path: v["errors"] for path, v in verdicts.items() if not v["valid"]}
    assert len(verdicts) == 19 and not invalid, invalid
