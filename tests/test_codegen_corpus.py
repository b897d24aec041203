"""``eventdeck codegen python`` on real-world documents: a sample of the shared corpus generates, imports,
type-checks with mypy and round-trips every example its own schema accepts.

Round trip here is semantic: the dumped payload is valid under the published schema and reads back into an equal
model (pydantic writes ``.749Z`` as ``.749000Z``: the same instant, another text). The example domains' own test
(tests/test_codegen.py) holds the dump byte-for-byte equal to each example.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import require_corpus
from pipeline.contract import Catalogue, ContractLoader
from pipeline.contract.registry import RegistryLayout
from pipeline.contract.schemas import data_problems, validator_for
from portal.codegen import python_package

MYPY = Path(sys.executable).with_name("mypy")

# A sample across versions and constructs: oneOf/anyOf, allOf inheritance, enums, arrays, many events, 2.x and 3.0.
SAMPLE = {
    "valid/spec300-oneof-asyncapi.yml": "oneOf payloads",
    "valid/spec300-anyof-asyncapi.yml": "anyOf payloads",
    "valid/spec300-slack-rtm-asyncapi.yml": "48 events, enums, nested objects",
    "valid/spec260-streetlights-kafka.yml": "AsyncAPI 2.6, dates and bounds",
    "valid/spec300-kraken-websocket-request-reply-multiple-channels-asyncapi.yml": "oneOf of arrays and enums",
    "valid/ruter-adt/asyncapi.yml": "external JSON Schema files, allOf, date-times, a title 'Payload'",
    "valid/spec300-social-media/backend/asyncapi.yaml": "a document split over several files",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, tuple[Catalogue, Any]]]]:
    corpus = require_corpus()
    folder = tmp_path_factory.mktemp("codegen-corpus")
    packages: dict[str, tuple[Catalogue, Any]] = {}
    sys.path.insert(0, str(folder))
    try:
        for n, relative in enumerate(SAMPLE):
            catalogue = ContractLoader(root=corpus).load([corpus / relative])
            package = python_package(catalogue, RegistryLayout.for_catalogue(catalogue), skip_unsupported=True)
            assert len(package.modules) + len(package.skipped) == len(catalogue.events)
            name = f"corpus_models_{n}"
            for path, content in package.files.items():
                (folder / name).mkdir(exist_ok=True)
                (folder / name / path).write_bytes(content)
            packages[relative] = (catalogue, importlib.import_module(name))
        yield folder, packages
    finally:
        sys.path.remove(str(folder))
        for module in [m for m in sys.modules if m.startswith("corpus_models_")]:
            del sys.modules[module]


@pytest.mark.corpus
@pytest.mark.slow
def test_every_sampled_event_with_a_json_schema_payload_gets_models(
        generated: tuple[Path, dict[str, tuple[Catalogue, Any]]]) -> None:
    _, packages = generated
    for relative, (catalogue, package) in packages.items():
        with_payload = {e.name for e in catalogue.events if e.payload is not None and e.payload.is_json_schema}
        assert set(package.MODELS) == with_payload, relative


@pytest.mark.corpus
@pytest.mark.slow
def test_sampled_examples_round_trip(generated: tuple[Path, dict[str, tuple[Catalogue, Any]]]) -> None:
    _, packages = generated
    checked = 0
    for relative, (catalogue, package) in packages.items():
        for event in catalogue.events:
            if event.name not in package.MODELS or event.payload is None:
                continue
            validator = validator_for(event.payload.document, event.payload.dialect)
            model = package.model_for(event.name)
            for example in event.examples:
                if not example.has_payload or data_problems(validator, example.payload):
                    continue  # an example its own schema refuses (the loader reported it) proves nothing here
                value = model.model_validate(example.payload)
                dumped = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
                assert data_problems(validator, dumped) == [], (relative, event.name)
                assert model.model_validate(dumped) == value, (relative, event.name)
                checked += 1
    assert checked >= 50  # the sample holds 54 examples that their schemas accept


@pytest.mark.corpus
@pytest.mark.slow
def test_sampled_models_type_check_with_mypy_strict(generated: tuple[Path, dict[str, tuple[Catalogue, Any]]]) -> None:
    folder, packages = generated
    names = [arg for n in range(len(packages)) for arg in ("-p", f"corpus_models_{n}")]
    done = subprocess.run([str(MYPY), "--strict", "--no-incremental", "--cache-dir=/dev/null", *names], cwd=folder,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
