"""How ``eventdeck lint`` prints its report: text for people, JSON for scripts, SARIF 2.1.0 for code-scanning
tools and GitHub workflow commands for pull-request annotations."""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.contract.lint import RULES, Finding, LintReport, LintSeverity

FORMATS = ("text", "json", "sarif", "github")
DOCS_URL = "https://eventdeck.dev/reference/lint/"
_SARIF_LEVEL = {LintSeverity.ERROR: "error", LintSeverity.WARN: "warning", LintSeverity.INFO: "note",
                LintSeverity.HINT: "note"}
_GITHUB_COMMAND = {LintSeverity.ERROR: "error", LintSeverity.WARN: "warning", LintSeverity.INFO: "notice",
                   LintSeverity.HINT: "notice"}


def render(report: LintReport, output: str) -> str:
    return {"text": text, "json": as_json, "sarif": sarif, "github": github}[output](report)


def _shown(file: str) -> str:
    """Paths relative to the working directory (as CI annotations and SARIF viewers expect); URLs unchanged."""
    if "://" in file:
        return file
    try:
        return Path(os.path.relpath(file)).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(file).as_posix()


def text(report: LintReport) -> str:
    lines = [str(f) for f in report.findings]
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in (LintSeverity.ERROR, LintSeverity.WARN,
                                                                  LintSeverity.INFO, LintSeverity.HINT))
    mark = "✗" if report.findings else "✓"
    lines.append(f"{mark} {len(report.documents)} document(s), {len(report.findings)} finding(s): {counts}")
    return "\n".join(lines) + "\n"


def as_json(report: LintReport) -> str:
    return json.dumps({
        "documents": list(report.documents),
        "findings": [{**f.to_dict(), "file": _shown(f.location.file)} for f in report.findings],
        "counts": {s.value: report.count(s) for s in LintSeverity if s is not LintSeverity.OFF},
    }, indent=2, ensure_ascii=False) + "\n"


def _version() -> str:
    try:
        return metadata.version("eventdeck")
    except metadata.PackageNotFoundError:
        return "0"


def sarif(report: LintReport) -> str:
    rule_ids = list(report.ruleset.enabled)
    index = {rule_id: n for n, rule_id in enumerate(rule_ids)}
    rules = [{
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": RULES[rule_id].description},
        "helpUri": f"{DOCS_URL}{rule_id}/",
        "defaultConfiguration": {"level": _SARIF_LEVEL[report.ruleset.severity(rule_id)]},
        "properties": {"family": RULES[rule_id].family},
    } for rule_id in rule_ids]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "eventdeck lint", "version": _version(),
                                "informationUri": DOCS_URL, "rules": rules}},
            "results": [_result(f, index) for f in report.findings],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    location = finding.location
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(_shown(location.file), safe="/:._-~")}}
    if location.line is not None:
        region: dict[str, int] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    place: dict[str, Any] = {"physicalLocation": physical}
    if location.pointer:
        place["logicalLocations"] = [{"fullyQualifiedName": "#" + location.pointer, "kind": "object"}]
    return {"ruleId": finding.rule, "ruleIndex": index[finding.rule], "level": _SARIF_LEVEL[finding.severity],
            "message": {"text": finding.message}, "locations": [place]}


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(report: LintReport) -> str:
    """GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""
    lines = []
    for finding in report.findings:
        location = finding.location
        props = [f"file={_escape_property(_shown(location.file))}"]
        if location.line is not None:
            props.append(f"line={location.line}")
            if location.column is not None:
                props.append(f"col={location.column}")
        props.append(f"title={_escape_property(finding.rule)}")
        where = f" (#{location.pointer})" if location.pointer else ""
        lines.append(f"::{_GITHUB_COMMAND[finding.severity]} {','.join(props)}::"
                     f"{_escape_data(finding.message + where)}")
    return "\n".join(lines) + ("\n" if lines else "")
