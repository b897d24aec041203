"""The benchmarks' synthetic catalogue: realistic in size and shape, deterministic, and valid to eventdeck."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from cli_runner import run

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from synthetic_catalogue import EVENTS_PER_DOCUMENT, documents_for, write_catalogue

sys.path.remove(str(ROOT / "scripts"))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _walk(value: Any) -> list[Any]:
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        out.append(item)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    write_catalogue(tmp_path / "a", 2, 3, realistic=True)
    write_catalogue(tmp_path / "b", 2, 3, realistic=True)
    write_catalogue(tmp_path / "c", 2, 3, realistic=True, seed=14)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")


def test_realistic_events_are_sized_and_shaped_like_real_ones(tmp_path: Path) -> None:
    paths = write_catalogue(tmp_path, 4, EVENTS_PER_DOCUMENT, realistic=True)
    size = sum(p.stat().st_size for p in tmp_path.rglob("*.yaml"))
    assert 8 * 1024 <= size / (4 * EVENTS_PER_DOCUMENT) <= 12 * 1024
    documents = [yaml.safe_load(p.read_text()) for p in paths]
    assert {d["asyncapi"] for d in documents} == {"2.6.0", "3.0.0"}
    refs = {v["$ref"].split("#")[0] for d in documents for v in _walk(d) if isinstance(v, dict) and "$ref" in v}
    assert {"../shared/money.yaml", "../shared/party.yaml", "../shared/headers.yaml"} <= refs
    for document in documents:
        for message in document["components"]["messages"].values():
            assert len(message["examples"]) == 2
            schemas = [v for v in _walk(message["payload"]) if isinstance(v, dict)]
            assert any(s.get("type") == "array" and s.get("items", {}).get("type") == "object" for s in schemas)
            assert any("enum" in s for s in schemas) and any("format" in s for s in schemas)
            nested = [s for s in schemas if s.get("type") == "object" and any(
                isinstance(p, dict) and p.get("type") == "object" for p in s.get("properties", {}).values())]
            assert nested


def test_realistic_catalogue_validates_clean(tmp_path: Path) -> None:
    write_catalogue(tmp_path, 2, 4, realistic=True)
    result = run("validate", tmp_path, "--format", "json")
    assert result.code == 0, result.output
    report = json.loads(result.out)
    assert report["valid"] is True
    assert [d for d in report["diagnostics"] if d["severity"] != "info"] == []
    assert len(report["events"]) == 8


def test_small_shape_stays_as_before(tmp_path: Path) -> None:
    paths = write_catalogue(tmp_path, 2, 3)
    assert [p.name for p in paths] == ["domain-00.yaml", "domain-01.yaml"]
    assert (tmp_path / "shared.yaml").is_file()
    assert run("validate", tmp_path, "-q").code == 0


def test_command_line_counts_events_in_all(tmp_path: Path) -> None:
    assert documents_for(1000) == 50 and documents_for(5000) == 250 and documents_for(10_000) == 500
    subprocess.run([sys.executable, str(ROOT / "scripts" / "synthetic_catalogue.py"), str(tmp_path / "r"),
                    "--events", "40"], check=True)
    assert len(list((tmp_path / "r" / "domains").glob("*.yaml"))) == 2
    subprocess.run([sys.executable, str(ROOT / "scripts" / "synthetic_catalogue.py"), str(tmp_path / "s"),
                    "--events", "40", "--small"], check=True)
    assert len(list((tmp_path / "s").glob("domain-*.yaml"))) == 2
