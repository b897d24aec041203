"""An install that works, checked on the built distribution rather than the editable checkout.

The sdist and the wheel are built once, as a release would build them (``python -m build``: the sdist first, the
wheel from the unpacked sdist). Then:

- the wheel holds every file under ``pipeline/`` and ``portal/`` that the code reads, and nothing else of the
  repository; its dependencies are exactly ``requirements/runtime.txt`` + ``requirements/portal.txt``;
- a fresh venv with a plain ``pip install <wheel>`` (no extras) validates a project, builds its catalogue with
  ``mkdocs build --strict`` through the plugin, creates keys and seals the contract's samples;
- a fresh venv with only ``requirements/runtime.txt`` (what a Lambda bundle installs) and the wheel without its
  dependencies cannot import MkDocs, Jinja or nh3, yet loads a contract artefact and runs the producer and the
  consumer.

Pip resolves from the configured package index; the official AsyncAPI schemas come from the developer's cache
(filled by ``scripts/bootstrap``), so nothing here needs other network access.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

pytestmark = pytest.mark.slow

NEEDED_SUFFIXES = frozenset({".py", ".json", ".j2", ".css"})
"""What the code under pipeline/ and portal/ reads at run time: modules, extension schemas, templates, styles."""
SHIPPED = ("pipeline/", "portal/")
REQUIREMENTS = ROOT / "requirements"
# The catalogue's import names (mkdocs-material is `material`, pymdown-extensions `pymdownx`, Python-Markdown
# comes with MkDocs): none of them may reach the Lambda bundle.
CATALOGUE_MODULES = ("mkdocs", "material", "pymdownx", "markdown", "jinja2", "nh3")
PIP = (sys.executable, "-m", "pip", "--disable-pip-version-check")


def ok(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
       timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``command`` and require exit 0, showing its output otherwise."""
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, (
        f"{' '.join(map(str, command))} exited {done.returncode}\n--- stdout\n{done.stdout[-4000:]}"
        f"\n--- stderr\n{done.stderr[-4000:]}")
    return done


def source_files() -> list[str]:
    """The repository's files as git sees them (tracked, plus new ones not ignored) that exist on disk."""
    listed = ok(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT).stdout
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sdist and the wheel built from it, from a copy of the checkout (no build/ or egg-info left behind),
    and the list of the files copied."""
    work = tmp_path_factory.mktemp("dist")
    source = work / "source"
    files = source_files()
    for name in files:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    ok([sys.executable, "-m", "build", "--outdir", work / "out", source], work)
    (sdist,) = (work / "out").glob("eventdeck-*.tar.gz")
    (wheel,) = (work / "out").glob("eventdeck-*.whl")
    return {"sdist": sdist, "wheel": wheel, "files": files}


def environment(**extra: str) -> dict[str, str]:
    """The subprocesses' environment: nothing that could make them import the checkout instead of the venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["NO_MKDOCS_2_WARNING"] = "true"  # mkdocs-material's banner about MkDocs 2.0
    env.update(extra)
    return env


def new_venv(folder: Path) -> Path:
    """A fresh venv without pip of its own (faster); the test's pip installs into it with ``--python``."""
    ok([sys.executable, "-m", "venv", "--without-pip", folder], folder.parent)
    return folder / "bin" / "python"


def pip_install(python: Path, *arguments: str | Path) -> None:
    # --no-compile: the venvs are used once; bytecode is written on import instead of for all of botocore.
    ok([*PIP, "--python", python, "install", "--quiet", "--no-compile", *arguments], python.parent, environment())


@pytest.fixture(scope="module")
def full(dist: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with ``pip install eventdeck`` (the wheel, no extras): its bin/ folder."""
    python = new_venv(tmp_path_factory.mktemp("full") / "venv")
    pip_install(python, dist["wheel"])
    return python.parent


@pytest.fixture(scope="module")
def runtime(dist: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with only the runtime's requirements and the wheel without its dependencies: its python."""
    python = new_venv(tmp_path_factory.mktemp("runtime") / "venv")
    pip_install(python, "-r", REQUIREMENTS / "runtime.txt")
    pip_install(python, "--no-deps", dist["wheel"])
    return python


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A producer's repository: the example documents, a minimal mkdocs.yml naming the plugin, one page."""
    folder = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "asyncapi", folder / "asyncapi")
    (folder / "mkdocs.yml").write_text(textwrap.dedent("""\
        site_name: Checkout events
        theme: material
        plugins:
          - search
          - eventdeck
        """), encoding="utf-8")
    (folder / "docs").mkdir()
    (folder / "docs" / "index.md").write_text("# Checkout events\n", encoding="utf-8")
    return folder


def specs_cache() -> str:
    """The folder where this checkout's venv keeps the official AsyncAPI schemas (``scripts/bootstrap`` fills it)."""
    from pipeline.contract import specs

    return str(specs.settings_from_environment().cache_dir)


def tool_env() -> dict[str, str]:
    return environment(EVENTDECK_CACHE_DIR=specs_cache())


@pytest.fixture(scope="module")
def sealed_by_cli(full: Path, project: Path) -> list[dict[str, Any]]:
    """``eventdeck keys new`` then ``eventdeck seal --samples`` in the plain install: the parsed output lines."""
    ok([full / "eventdeck", "keys", "new"], project, tool_env())
    assert (project / "keys" / "private.jwks.json").is_file()
    done = ok([full / "eventdeck", "seal", "--samples"], project, tool_env())
    return [json.loads(line) for line in done.stdout.splitlines()]


def requirement_lines(path: Path) -> list[Requirement]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("#")]


def normalised(requirements: list[Requirement]) -> set[tuple[str, str, str]]:
    return {(canonicalize_name(r.name), str(r.specifier), str(r.marker or "")) for r in requirements}


def test_the_wheel_holds_every_file_the_code_needs_and_nothing_else(dist: dict[str, Any]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
    needed = {name for name in dist["files"]
              if name.startswith(SHIPPED) and Path(name).suffix in NEEDED_SUFFIXES}
    assert {n for n in needed if n.startswith("pipeline/")} and {n for n in needed if n.startswith("portal/")}
    assert sorted(needed - names) == [], "left out of the wheel (see [tool.setuptools] in pyproject.toml)"
    packaged = {name for name in names if ".dist-info/" not in name}
    assert sorted(packaged - needed) == [], "in the wheel but not a file of pipeline/ or portal/"


def test_the_dependencies_are_the_requirement_files_read_from_the_sdist(dist: dict[str, Any]) -> None:
    with tarfile.open(dist["sdist"]) as sdist:
        members = {name.partition("/")[2] for name in sdist.getnames()}
    assert {"requirements/runtime.txt", "requirements/portal.txt", "pyproject.toml"} <= members
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        (metadata,) = (n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        headers = HeaderParser().parsestr(wheel.read(metadata).decode("utf-8"))
    declared = [Requirement(text) for text in headers.get_all("Requires-Dist") or []]
    unconditional = [r for r in declared if r.marker is None]
    runtime = requirement_lines(REQUIREMENTS / "runtime.txt")
    portal = requirement_lines(REQUIREMENTS / "portal.txt")
    assert runtime and portal
    assert normalised(unconditional) == normalised(runtime + portal)
    # The catalogue's requirements are the package's own, not an extra to remember.
    assert "portal" not in (headers.get_all("Provides-Extra") or [])


def test_a_plain_install_validates_and_builds_the_catalogue_with_the_plugin(full: Path, project: Path) -> None:
    done = ok([full / "eventdeck", "validate", "--format", "json", "asyncapi"], project, tool_env())
    report = json.loads(done.stdout)
    assert report["valid"] is True
    names = [event["name"] for event in report["events"]]
    assert "Payment.AuthorisedV2.Ecom" in names

    ok([full / "mkdocs", "build", "--strict"], project, tool_env())
    site = project / "site"
    assert (site / "index.html").is_file()
    missing = [name for name in names if not (site / "events" / name / "index.html").is_file()]
    assert missing == [], f"no catalogue page for {missing}"
    page = (site / "events" / "Payment.AuthorisedV2.Ecom" / "index.html").read_text(encoding="utf-8")
    assert "Payment.AuthorisedV2.Ecom" in page


def test_a_plain_install_seals_the_contract_samples(sealed_by_cli: list[dict[str, Any]]) -> None:
    assert sealed_by_cli, "eventdeck seal --samples printed nothing"
    assert {line["outcome"] for line in sealed_by_cli} == {"published"}
    for line in sealed_by_cli:
        cloud_event = json.loads(line["entry"]["Detail"])
        assert line["entry"]["DetailType"] == cloud_event["type"] == line["event"]
        assert cloud_event["specversion"] == "1.0" and cloud_event["idempotencykey"]


def test_the_runtime_requirements_leave_the_catalogue_out(runtime: Path, tmp_path: Path) -> None:
    probe = textwrap.dedent(f"""\
        import importlib.util, json, sys
        import pipeline, pipeline.consumer, pipeline.produce
        print(json.dumps({{
            "installed": [m for m in {CATALOGUE_MODULES!r} if importlib.util.find_spec(m) is not None],
            "pipeline": pipeline.__file__,
            "prefix": sys.prefix,
        }}))
        """)
    done = ok([runtime, "-c", probe], tmp_path, environment())
    result = json.loads(done.stdout)
    assert result["installed"] == []
    assert Path(result["pipeline"]).is_relative_to(result["prefix"]), "pipeline was not imported from the venv"


RUN_FROM_ARTEFACT = """\
import json, sys

from pipeline.consumer import open_event
from pipeline.contract.artefact import load_artefact
from pipeline.enrichment.samples import sample_inputs
from pipeline.produce import Producer, Published
from pipeline.sealing.keys import JwksFile, load_keyset

artefact, keys_path = sys.argv[1:3]
catalogue = load_artefact(artefact)
keys = load_keyset(JwksFile(keys_path))
samples = sample_inputs(catalogue)  # the contract's own sample internal events, as `eventdeck seal --samples`

producer = Producer(catalogue, keys)
published, opened, problems = [], [], []
for label, internal in samples.events:
    for outcome in producer.process_one(internal, lookup_results=samples.lookup_results):
        if not isinstance(outcome, Published):
            problems.append(f"{label}: {outcome!r}")
            continue
        published.append(outcome.event)
        cloud_event = json.loads(outcome.entry["Detail"])
        event = open_event(cloud_event, keys, contract=catalogue)  # keeps the type's contract, validates the data
        opened.append({"type": event.type, "id": event.id, "sent_id": cloud_event["id"], "sealed": event.sealed,
                       "data": event.data})
print(json.dumps({
    "published": published,
    "opened": opened,
    "problems": problems,
    "imported": sorted({name.partition(".")[0] for name in sys.modules}),
}))
"""


def test_the_runtime_alone_produces_and_consumes_from_a_contract_artefact(
        runtime: Path, full: Path, project: Path, sealed_by_cli: list[dict[str, Any]], tmp_path: Path) -> None:
    # The tooling (the plain install) writes the artefact; the runtime reads no YAML document.
    artefact = tmp_path / "contract.json"
    ok([full / "eventdeck", "bundle", "--contract", "asyncapi", "-o", artefact], project, tool_env())
    script = tmp_path / "run_from_artefact.py"
    script.write_text(RUN_FROM_ARTEFACT, encoding="utf-8")

    # Neither a home nor a cache folder: a Lambda has no writable home and no npm; the runtime needs neither.
    home, cache = tmp_path / "no-home", tmp_path / "no-cache"
    env = environment(HOME=str(home), EVENTDECK_CACHE_DIR=str(cache))
    done = ok([runtime, script, artefact, project / "keys" / "private.jwks.json"], tmp_path, env)
    result = json.loads(done.stdout)
    assert not home.exists() and not cache.exists(), "the runtime wrote to its home or cache folder"

    assert result["problems"] == []
    # The same events as `eventdeck seal --samples` made from the YAML documents, now from the artefact alone.
    assert sorted(result["published"]) == sorted(line["event"] for line in sealed_by_cli)
    assert [o["type"] for o in result["opened"]] == result["published"]
    assert all(o["id"] == o["sent_id"] and o["data"] for o in result["opened"])
    assert any(o["sealed"] for o in result["opened"])
    leaked = sorted(set(result["imported"]) & {"portal", *CATALOGUE_MODULES})
    assert leaked == [], f"the runtime imported {leaked}"
