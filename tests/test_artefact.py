"""The runtime contract artefact: written by ``eventdeck bundle``, loaded by the deployed pipeline with no YAML,
no ``$ref`` resolution, no npm, no network and nothing written; a stale or tampered file is refused by name."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT
from pipeline.consumer import ContractOpener
from pipeline.contract import Catalogue
from pipeline.contract.artefact import FORMAT_VERSION, ArtefactError, read_artefact
from pipeline.enrichment.samples import sample_inputs
from pipeline.produce import Producer, Published, required_keys
from pipeline.sealing.keys import keyset_for
from portal.cli.main import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example project (documents, mkdocs.yml, docs folder), as the working directory."""
    shutil.copytree(ROOT / "asyncapi", tmp_path / "asyncapi")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def bundled(project: Path) -> Path:
    code, out, err = run_cli("bundle", "-o", "build/contract.json")
    assert code == 0, err
    assert "15 events" in out
    return project / "build" / "contract.json"


def test_the_artefact_holds_what_the_runtime_needs_and_no_absolute_paths(bundled: Path,
                                                                         examples_catalogue: Catalogue) -> None:
    artefact = read_artefact(bundled)
    catalogue = artefact.catalogue
    assert [e.name for e in catalogue.events] == [e.name for e in examples_catalogue.events]
    for event in catalogue.events:
        original = examples_catalogue.event(event.key)
        assert event.version == original.version
        assert (event.sealing is None) == (original.sealing is None)
        if event.sealing is not None:  # locations are relative to the project in the artefact
            assert (event.sealing.policy, event.sealing.declared_on) == \
                (original.sealing.policy, original.sealing.declared_on)
        assert (event.enrichment is None) == (original.enrichment is None)
        if event.enrichment is not None:
            assert replace(event.enrichment, location=None) == replace(original.enrichment, location=None)
        assert event.payload.document == original.payload.document
    assert catalogue.registry is not None
    assert catalogue.registry.url(catalogue.event("Order.Created.Uk")) == \
        "https://eventdeck.dev/schemas/Order.Created.Uk/1.2.0.json"  # mkdocs.yml: site_url + schemas/
    assert str(bundled.parent.parent) not in bundled.read_text()
    assert set(artefact.sources) >= {"asyncapi/payments.yaml", "asyncapi/schemas/money.yaml"}


def test_a_producer_and_a_consumer_built_from_the_artefact_round_trip_every_sample(bundled: Path) -> None:
    catalogue = read_artefact(bundled).catalogue
    keys = keyset_for(required_keys(catalogue))
    producer, opener = Producer(catalogue, keys), ContractOpener(catalogue, keys)
    inputs = sample_inputs(catalogue)
    published = [o for _, event in inputs.events
                 for o in producer.process_one(event, lookup_results=inputs.lookup_results)]
    assert published and all(isinstance(o, Published) for o in published)
    for outcome in published:
        assert isinstance(outcome, Published)
        assert outcome.cloud_event["dataschema"] == catalogue.registry.url(catalogue.event(outcome.event))
        assert opener.open(outcome.cloud_event).type == outcome.event


def test_a_changed_byte_is_refused_as_tampered(bundled: Path) -> None:
    text = bundled.read_text()
    assert '"kid":"payments-sign-2026-01"' in text
    bundled.write_text(text.replace('"kid":"payments-sign-2026-01"', '"kid":"payments-sign-2099-01"', 1))
    with pytest.raises(ArtefactError, match="content_hash") as caught:
        read_artefact(bundled)
    assert "build/contract.json" in str(caught.value)
    code, _, err = run_cli("seal", "--samples", "--contract", str(bundled))
    assert code == 1 and "content_hash" in err and "Traceback" not in err


def test_another_format_version_is_refused_with_what_to_do(bundled: Path) -> None:
    text = bundled.read_text()
    assert f'"format_version": {FORMAT_VERSION},' in text
    bundled.write_text(text.replace(f'"format_version": {FORMAT_VERSION},', f'"format_version": {FORMAT_VERSION + 1},'))
    with pytest.raises(ArtefactError, match=r"format version .*rebuild"):
        read_artefact(bundled)


def test_the_artefact_is_one_json_document(bundled: Path) -> None:
    document = json.loads(bundled.read_text())
    assert document["format"] == "eventdeck-contract" and len(document["body"]["events"]) == 15


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"format": "something-else"}', b"\xff\xfe", b"null"])
def test_what_is_not_an_artefact_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "contract.json"
    path.write_bytes(content)
    with pytest.raises(ArtefactError) as caught:
        read_artefact(path)
    assert "contract.json" in str(caught.value)


def test_a_missing_artefact_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ArtefactError, match="cannot read"):
        read_artefact(tmp_path / "nope.json")


def test_check_says_when_the_documents_changed_and_a_rerun_fixes_it(bundled: Path, project: Path) -> None:
    assert run_cli("bundle", "-o", str(bundled), "--check")[0] == 0
    payments = project / "asyncapi" / "payments.yaml"
    payments.write_text(payments.read_text().replace("version: '2.0.0'", "version: '2.0.1'", 1))
    code, _, err = run_cli("bundle", "-o", str(bundled), "--check")
    assert code == 1 and "stale" in err
    assert run_cli("bundle", "-o", str(bundled))[0] == 0
    assert run_cli("bundle", "-o", str(bundled), "--check")[0] == 0


def test_a_contract_with_errors_is_not_bundled_and_the_previous_artefact_is_kept(bundled: Path,
                                                                                 project: Path) -> None:
    before = bundled.read_bytes()
    orders = project / "asyncapi" / "orders.yaml"
    orders.write_text(orders.read_text().replace("asyncapi: 2.6.0", "asyncapi: 2.6.0\nbogus-top-level: 1", 1))
    code, _, err = run_cli("bundle", "-o", str(bundled))
    assert code == 1 and "orders.yaml" in err and "Traceback" not in err
    assert bundled.read_bytes() == before
    assert [p.name for p in bundled.parent.iterdir()] == ["contract.json"]  # no temporary file left


def test_an_unwritable_output_is_one_line_and_no_change(project: Path) -> None:
    (project / "taken").mkdir()
    code, _, err = run_cli("bundle", "-o", "taken")
    assert code == 1 and "cannot write taken" in err


RUNTIME = textwrap.dedent("""
    import builtins, socket, sys
    writes = []

    def audit(event, args):
        if event == "open" and len(args) > 1 and isinstance(args[1], str) and set(args[1]) & set("wax+"):
            writes.append(args[0])
        if event in ("socket.connect", "subprocess.Popen", "os.exec", "os.posix_spawn"):
            raise RuntimeError(f"the runtime must not {event}: {args!r}")

    sys.addaudithook(audit)
    import yaml
    def no_yaml(*args, **kwargs):
        raise RuntimeError("the runtime must not parse YAML")
    yaml.load = yaml.safe_load = yaml.compose = yaml.parse = no_yaml

    from pipeline.consumer import ContractOpener
    from pipeline.contract.artefact import load_artefact
    from pipeline.enrichment.samples import sample_inputs
    from pipeline.produce import Producer, Published, required_keys
    from pipeline.sealing.keys import keyset_for

    catalogue = load_artefact(sys.argv[1])
    keys = keyset_for(required_keys(catalogue))
    producer, opener = Producer(catalogue, keys), ContractOpener(catalogue, keys)
    inputs = sample_inputs(catalogue)
    opened = 0
    for _, event in inputs.events:
        for outcome in producer.process_one(event, lookup_results=inputs.lookup_results):
            assert isinstance(outcome, Published), outcome
            opener.open(outcome.cloud_event)
            opened += 1
    assert not writes, writes
    print(opened)
""")


def test_the_runtime_needs_no_yaml_npm_network_home_or_writable_disk(bundled: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o500)
    env = {"PATH": os.path.dirname(sys.executable), "HOME": str(home), "PYTHONPATH": str(ROOT),
           "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", RUNTIME, str(bundled)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 24
    assert list(home.iterdir()) == []


def test_bundling_an_artefact_is_a_usage_error(bundled: Path) -> None:
    code, _, err = run_cli("bundle", "--contract", str(bundled), "-o", "again.json")
    assert code == 2 and "already an artefact" in err
    assert not Path("again.json").exists()
