"""``eventdeck lint`` against Spectral (``@stoplight/spectral-cli`` in tests/js), run for real.

One Spectral invocation lints, with the shipped ``.spectral.yaml`` (``spectral:asyncapi`` plus the house rules as
custom functions): every root document of the shared corpus, every lint fixture and the example documents. Then,
document by document and rule by rule — every ``spectral:asyncapi`` rule eventdeck implements and every house rule —
the verdicts (does the rule fire on this document?) must agree, except where listed below with the reason.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from conftest import CORPUS, EXAMPLES, ROOT, require_corpus
from corpus import root_documents
from pipeline.contract import ContractError, ContractLoader
from pipeline.contract.lint import RULES, lint

pytestmark = pytest.mark.slow

JS = ROOT / "tests" / "js"
SPECTRAL = JS / "node_modules" / ".bin" / "spectral"
RESOLVER = JS / "spectral-offline-resolver.cjs"
RULESET = ROOT / ".spectral.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "lint"

#: Spectral rule id -> eventdeck rule id. ``invalid-ref`` is Spectral's own report of a $ref it cannot follow,
#: which eventdeck reports under ``asyncapi-schema``.
TO_EVENTDECK = {code: rule.id for rule in RULES.values() for code in rule.spectral} | \
    {rule.id: rule.id for rule in RULES.values() if rule.house} | {"invalid-ref": "asyncapi-schema"}

_ONLY_2X = "Spectral runs {rule} on AsyncAPI 2.x documents only; eventdeck checks 3.x documents as well"
_EVERY_DEPTH = ("eventdeck checks defaults and examples at every depth of a payload schema; Spectral only on the "
                "payload itself, and skips string values")
_SCHEMA_FORMAT = ("Spectral's asyncapi-payload-unsupported-schemaFormat fires on any explicit schemaFormat; eventdeck "
                  "validates JSON Schema formats (application/schema+json;version=draft-07 here), so only formats it "
                  "cannot validate (Avro, RAML...) are unsupported")

# (document below the corpus, eventdeck rule id) -> why the two tools disagree there.
KNOWN_DISAGREEMENTS = {
    ("valid/gen-apiwithref/apiwithref.json", "asyncapi-payload-unsupported-schemaFormat"): _SCHEMA_FORMAT,
    ("valid/spec260-gitter-streaming.yml", "asyncapi-payload-unsupported-schemaFormat"): _SCHEMA_FORMAT,
    ("valid/spec300-gitter-streaming-asyncapi.yml", "asyncapi-payload-unsupported-schemaFormat"): _SCHEMA_FORMAT,
    ("valid/ruter-adt/asyncapi.yml", "asyncapi-payload-unsupported-schemaFormat"): _SCHEMA_FORMAT,
    ("valid/ruter-adt/asyncapi.yml", "asyncapi-payload-default"): _EVERY_DEPTH + " (#/properties/nextStop/default)",
    ("valid/ruter-adt/asyncapi.yml", "asyncapi-payload-examples"): _EVERY_DEPTH + " (e.g. inService: 'true')",
    ("valid/ruter-adt/asyncapi.yml", "asyncapi-schema"):
        "info.description and others are $refs to Markdown files; eventdeck follows $refs only to YAML or JSON files "
        "(a $ref must not pull arbitrary files into a published contract), so they stay unresolved and are not "
        "strings; Spectral reads the Markdown as a YAML string",
    ("valid/spec300-kraken-websocket-request-reply-multiple-channels-asyncapi.yml", "asyncapi-message-examples"):
        _ONLY_2X.format(rule="asyncapi-message-examples")
        + ": both examples of 'subscriptionStatus' violate its payload schema",
    ("valid/spec310-adeo-kafka-request-reply-asyncapi.yml", "asyncapi-schema-examples"):
        _ONLY_2X.format(rule="asyncapi-schema-examples") + ": RequesterCode's example 1 is not a string",
}


@cache
def spectral_run() -> tuple[tuple[Path, ...], tuple[dict[str, object], ...]]:
    """Lint the corpus (when present), the fixtures and the examples with Spectral, once: (files, findings)."""
    files = [p for p in sorted(FIXTURES.glob("*/*.yaml"))] + sorted(EXAMPLES.glob("*.yaml"))
    if CORPUS.is_dir():
        files = root_documents(CORPUS) + files
    if not SPECTRAL.exists():
        pytest.fail(f"{SPECTRAL} is missing: run `npm ci` in tests/js (scripts/bootstrap does)")
    done = subprocess.run([str(SPECTRAL), "lint", "--resolver", str(RESOLVER), "--ruleset", str(RULESET),
                           "--format", "json", "--quiet", *map(str, files)],
                          cwd=JS, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode not in (0, 1):
        pytest.fail(f"spectral failed ({done.returncode}): {done.stderr[-2000:]}")
    return tuple(files), tuple(json.loads(done.stdout))


def _verdicts(findings: tuple[dict[str, object], ...], roots: dict[str, set[str]]) -> dict[str, set[str]]:
    """Document -> the eventdeck rule ids Spectral's findings fire. A finding in a file that is not itself a root
    document counts for every document that refers to that file."""
    fired: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        rule = TO_EVENTDECK.get(str(finding["code"]))
        if rule is None:
            continue
        source = str(finding.get("source", ""))  # Spectral omits it when it cannot tell the file: then unmatched
        for document in ([source] if source in roots else [d for d, files in roots.items() if source in files]):
            fired[document].add(rule)
    return fired


def _ours(path: Path, root: Path) -> tuple[set[str], set[str]] | None:
    """(rules eventdeck fires on the document, the document's files), or None when it cannot be read at all."""
    try:
        report = lint([path], loader=ContractLoader(root=root), root=root)
        document = ContractLoader(root=root).load([path], root=root).documents[0]
    except ContractError:
        return None
    return {f.rule for f in report.findings}, set(document.files) | {document.path}


@pytest.mark.corpus
def test_lint_agrees_with_spectral_on_the_corpus_document_by_document() -> None:
    corpus = require_corpus()
    _, findings = spectral_run()
    ours: dict[str, set[str]] = {}
    files: dict[str, set[str]] = {}
    unreadable = []
    for path in root_documents(corpus):
        outcome = _ours(path, corpus)
        if outcome is None:
            unreadable.append(str(path))
            continue
        ours[str(path)], files[str(path)] = outcome
    theirs = _verdicts(findings, files)
    compared = set(TO_EVENTDECK.values())
    disagreements = {}
    for document, fired in ours.items():
        for rule in compared & (fired ^ theirs.get(document, set())):
            who = "eventdeck" if rule in fired else "Spectral"
            disagreements[(str(Path(document).relative_to(corpus)), rule)] = who
    new = {k: v for k, v in disagreements.items() if k not in KNOWN_DISAGREEMENTS}
    gone = sorted(k for k in KNOWN_DISAGREEMENTS if k not in disagreements)
    assert not new, "unexplained disagreements with Spectral (document, rule: who fires):\n" + \
        "\n".join(f"{d}  {r}: only {who}" for (d, r), who in sorted(new.items()))
    assert not gone, f"listed disagreements that no longer occur (remove them): {gone}"
    # A document eventdeck cannot read at all (exit 2) is one Spectral cannot parse either.
    parse_failures = {str(f["source"]) for f in findings if f["code"] == "parser"}
    assert unreadable and set(unreadable) <= parse_failures


def test_spectral_yaml_gives_eventdeck_s_verdicts_on_every_fixture_and_example() -> None:
    files, findings = spectral_run()
    local = [p for p in files if FIXTURES in p.parents or EXAMPLES in p.parents]
    theirs = _verdicts(findings, {str(p): {str(p)} for p in local})
    mismatches = []
    for path in local:
        fired = {f.rule for f in lint([path]).findings}
        # The examples share a $ref root folder; a fixture is its own document.
        for rule in set(TO_EVENTDECK.values()):
            if (rule in fired) != (rule in theirs.get(str(path), set())):
                verdict = "fires" if rule in fired else "is silent"
                mismatches.append(f"{path.relative_to(ROOT)} {rule}: eventdeck {verdict}")
    house = [m for m in mismatches if " eventdeck-" in m]
    assert house == [], "\n".join(house)
    assert [m for m in mismatches if m.startswith("asyncapi/")] == []
