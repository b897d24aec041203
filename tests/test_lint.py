"""``eventdeck lint``: every rule fires on its failing fixture and stays silent on its passing one; the examples lint
clean; rulesets pick severities; every output format is well formed; bad input is exit 2 with a clear message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from cli_runner import run

from conftest import EXAMPLES, ROOT, write
from pipeline.contract.lint import RULES, LintSeverity, Ruleset, RulesetError, lint, load_ruleset

FIXTURES = ROOT / "tests" / "fixtures" / "lint"
DOCS = ROOT / "docs" / "reference" / "lint"
SPECTRAL_RULESET = ROOT / ".spectral.yaml"


def _fixtures(kind: str) -> list[Path]:
    return sorted(FIXTURES.glob(f"*/{kind}*.yaml"))


def _fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_each_rule_has_a_failing_and_a_passing_fixture(rule_id: str) -> None:
    assert (FIXTURES / rule_id / "fail.yaml").is_file() and (FIXTURES / rule_id / "pass.yaml").is_file()


def test_every_fixture_folder_is_a_rule() -> None:
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(RULES)


@pytest.mark.parametrize("path", _fixtures("fail"), ids=_fixture_id)
def test_each_rule_fires_on_its_failing_fixtures(path: Path) -> None:
    rule_id = path.parent.name
    fired = [f for f in lint([path]).findings if f.rule == rule_id]
    assert fired, f"{rule_id} did not fire on {path.name}"
    for finding in fired:
        assert finding.location.file.endswith(path.name)
        assert finding.location.line and finding.location.line > 0
        assert finding.severity is RULES[rule_id].severity


@pytest.mark.parametrize("path", _fixtures("pass"), ids=_fixture_id)
def test_each_rule_is_silent_on_its_passing_fixtures(path: Path) -> None:
    assert [str(f) for f in lint([path]).findings if f.rule == path.parent.name] == []


def test_fixtures_cover_both_asyncapi_majors() -> None:
    versions = {path.read_text(encoding="utf-8").split("asyncapi: ", 1)[1][:1] for path in _fixtures("fail")}
    assert versions == {"2", "3"}


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_each_rule_has_a_documentation_page(rule_id: str) -> None:
    page = DOCS / f"{rule_id}.md"
    assert page.is_file(), f"missing {page.relative_to(ROOT)}"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {rule_id}")
    assert RULES[rule_id].severity.value in text
    assert f"({rule_id}.md)" in (DOCS / "index.md").read_text(encoding="utf-8")


def test_the_example_documents_lint_clean() -> None:
    result = run("lint", EXAMPLES, "--fail-on", "hint")
    assert result.code == 0, result.output
    assert "0 finding(s)" in result.out


def test_findings_carry_the_file_line_and_pointer_of_the_offending_member() -> None:
    path = FIXTURES / "eventdeck-property-description" / "fail.yaml"
    [finding] = [f for f in lint([path]).findings if f.rule == "eventdeck-property-description"]
    assert finding.location.pointer == "/components/schemas/Thing/properties/size"
    line = path.read_text(encoding="utf-8").splitlines()[finding.location.line - 1]
    assert line.strip().startswith("size:")
    assert str(finding).startswith(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}:"
                                   f"{finding.location.line}:")


def test_a_property_refined_in_an_allof_part_is_described_where_it_is_declared(tmp_path: Path) -> None:
    text = (FIXTURES / "eventdeck-property-description" / "pass.yaml").read_text(encoding="utf-8")
    text = text.replace("      payload:\n        $ref: '#/components/schemas/Thing'\n",
                        "      payload:\n        allOf:\n        - $ref: '#/components/schemas/Thing'\n"
                        "        - properties:\n            thingId:\n              pattern: ^T\n")
    assert "allOf" in text
    report = lint([write(tmp_path, "doc.yaml", text)])
    assert [f for f in report.findings if f.rule == "eventdeck-property-description"] == []


# -- exit codes ---------------------------------------------------------------------------------------------------
def test_exit_code_follows_the_severity_threshold() -> None:
    warn_only = FIXTURES / "eventdeck-property-description" / "fail.yaml"
    assert run("lint", warn_only).code == 0  # a warning does not fail at the default threshold (error)
    assert run("lint", warn_only, "--fail-on", "warn").code == 1
    assert run("lint", warn_only, "--fail-on", "info").code == 1
    assert run("lint", FIXTURES / "eventdeck-message-title" / "fail.yaml").code == 1
    assert run("lint", FIXTURES / "asyncapi-payload-unsupported-schemaFormat" / "fail.yaml",
               "--fail-on", "warn").code == 1  # its unused component is a warning


def test_info_findings_fail_only_from_the_info_threshold(tmp_path: Path) -> None:
    ruleset = write(tmp_path, "r.yaml", "extends: off\nrules:\n  asyncapi-payload-unsupported-schemaFormat: info\n")
    fixture = FIXTURES / "asyncapi-payload-unsupported-schemaFormat" / "fail.yaml"
    assert run("lint", fixture, "-r", ruleset, "--fail-on", "warn").code == 0
    assert run("lint", fixture, "-r", ruleset, "--fail-on", "info").code == 1


def test_a_missing_path_is_bad_input_not_findings(tmp_path: Path) -> None:
    result = run("lint", tmp_path / "nope.yaml")
    assert result.code == 2
    assert "nope.yaml: no such file or folder" in result.err
    assert "Traceback" not in result.output


def test_an_unparsable_document_is_bad_input_naming_file_and_line(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.yaml", "asyncapi: 3.0.0\ninfo: [\n  title: x\n")
    result = run("lint", broken)
    assert result.code == 2
    assert "broken.yaml:" in result.err and "nothing was linted" in result.err
    assert result.out == ""


def test_a_document_of_an_unsupported_version_is_bad_input(tmp_path: Path) -> None:
    result = run("lint", write(tmp_path, "old.yaml", "asyncapi: 1.2.0\ninfo: {title: x, version: '1'}\n"))
    assert result.code == 2
    assert "1.2.0" in result.err


@pytest.mark.parametrize(("text", "expected"), [
    ("rules:\n  asyncapi-info-licence: off\n",
     "unknown rule 'asyncapi-info-licence'; did you mean 'asyncapi-info-license'"),
    ("rules:\n  asyncapi-info-license: loud\n", "severity 'loud' is not one of"),
    ("rules: [a, b]\n", "'rules' maps rule ids"),
    ("rulez: {}\n", "unknown key 'rulez'"),
    ("extends: spectral:asyncapi\n", "cannot extend 'spectral:asyncapi'"),
    ("extends: ./missing.yaml\n", "extends './missing.yaml', but that ruleset file does not exist"),
    ("rules: {a: [\n", "not valid YAML"),
    ("rules:\n  asyncapi-tags: off\n  asyncapi-tags: warn\n", "duplicate"),
    ("- just a list\n", "a ruleset is a mapping"),
])
def test_a_bad_ruleset_is_bad_input_naming_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    ruleset = write(tmp_path, "eventdeck-lint.yaml", text)
    result = run("lint", EXAMPLES, "--ruleset", ruleset)
    assert result.code == 2, result.output
    assert expected in result.err
    assert "eventdeck-lint.yaml" in result.err
    assert "Traceback" not in result.output and result.out == ""


def test_a_ruleset_that_extends_itself_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(RulesetError, match="extends itself"):
        load_ruleset(tmp_path / "a.yaml")


# -- rulesets -----------------------------------------------------------------------------------------------------
def test_a_ruleset_overrides_severities_and_turns_rules_off(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "rules:\n  eventdeck-property-description: error\n")
    child = write(tmp_path, "team.yaml", "extends: base.yaml\nrules:\n  asyncapi-info-license: off\n")
    ruleset = load_ruleset(child)
    assert ruleset.severity("eventdeck-property-description") is LintSeverity.ERROR
    assert ruleset.severity("asyncapi-info-license") is LintSeverity.OFF
    assert ruleset.severity("asyncapi-info-contact") is RULES["asyncapi-info-contact"].severity
    fixture = FIXTURES / "eventdeck-property-description" / "fail.yaml"
    assert run("lint", fixture, "-r", child).code == 1  # promoted to error
    off = write(tmp_path, "off.yaml", "rules:\n  eventdeck-property-description: off\n")
    result = run("lint", fixture, "-r", off, "--fail-on", "hint")
    assert result.code == 0 and "eventdeck-property-description" not in result.out


def test_the_ruleset_file_in_the_working_directory_is_used_by_default(tmp_path: Path) -> None:
    write(tmp_path, "eventdeck-lint.yaml", "extends: off\nrules:\n  eventdeck-message-title: warn\n")
    fixture = FIXTURES / "eventdeck-message-title" / "fail.yaml"
    result = run("lint", fixture, "--format", "json", cwd=tmp_path)
    assert result.code == 0
    assert {f["rule"] for f in json.loads(result.out)["findings"]} == {"eventdeck-message-title"}


def test_extends_off_runs_only_the_rules_named() -> None:
    ruleset = Ruleset({rule_id: LintSeverity.OFF for rule_id in RULES} | {"asyncapi-info-contact": LintSeverity.HINT})
    report = lint([FIXTURES / "asyncapi-info-contact" / "fail.yaml"], ruleset=ruleset)
    assert {(f.rule, f.severity) for f in report.findings} == {("asyncapi-info-contact", LintSeverity.HINT)}


# -- output formats -----------------------------------------------------------------------------------------------
def test_json_output_lists_every_finding_with_its_place() -> None:
    result = run("lint", FIXTURES / "eventdeck-message-summary" / "fail.yaml", "--format", "json")
    data = json.loads(result.out)
    [finding] = [f for f in data["findings"] if f["rule"] == "eventdeck-message-summary"]
    assert finding["severity"] == "error" and finding["line"] > 0
    assert finding["pointer"] == "/components/messages/ThingCreatedUk"
    assert data["counts"]["error"] >= 1


_GITHUB = re.compile(r"^::(error|warning|notice) file=[^,]+,line=\d+(,col=\d+)?,title=[a-z0-9-]+::.+$")


def test_github_output_is_one_workflow_command_per_finding() -> None:
    fixture = FIXTURES / "eventdeck-property-description" / "fail.yaml"
    result = run("lint", fixture, "--format", "github")
    lines = result.out.splitlines()
    assert lines and all(_GITHUB.match(line) for line in lines), lines
    assert lines[0].startswith("::warning file=tests/fixtures/lint/eventdeck-property-description/fail.yaml,line=")


def test_github_output_escapes_what_would_end_the_command(tmp_path: Path) -> None:
    text = (FIXTURES / "eventdeck-event-name" / "fail.yaml").read_text(encoding="utf-8")
    hostile = write(tmp_path, "a,b:c.yaml", text.replace("name: thing_created", "name: \"bad::name\\n%0A\""))
    result = run("lint", hostile, "--format", "github")
    for line in result.out.splitlines():
        assert _GITHUB.match(line), line
        assert "file=" + str(hostile).replace(",", "%2C").replace(":", "%3A") in line or "a%2Cb%3Ac.yaml" in line


# The required structure of SARIF 2.1.0 for what eventdeck writes, from the OASIS schema (sarif-schema-2.1.0.json:
# sarifLog, run, tool, toolComponent, reportingDescriptor, result, message, location, physicalLocation,
# artifactLocation, region, logicalLocation): required members, enumerations, bounds and closed objects.
_MESSAGE = {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
            "properties": {"text": {"type": "string"}}}
SARIF_2_1_0 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object", "required": ["version", "runs"], "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"]},
        "runs": {"type": "array", "items": {"$ref": "#/definitions/run"}},
    },
    "definitions": {
        "run": {"type": "object", "required": ["tool"], "properties": {
            "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                "type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"}, "version": {"type": "string"},
                    "informationUri": {"type": "string", "format": "uri"},
                    "rules": {"type": "array", "uniqueItems": True, "items": {"$ref": "#/definitions/rule"}}}}}},
            "results": {"type": "array", "items": {"$ref": "#/definitions/result"}}}},
        "rule": {"type": "object", "required": ["id"], "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "shortDescription": _MESSAGE,
            "helpUri": {"type": "string", "format": "uri"},
            "defaultConfiguration": {"type": "object", "properties": {
                "level": {"enum": ["none", "note", "warning", "error"]}}},
            "properties": {"type": "object"}}, "additionalProperties": False},
        "result": {"type": "object", "required": ["message"], "additionalProperties": False, "properties": {
            "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
            "level": {"enum": ["none", "note", "warning", "error"]}, "message": _MESSAGE,
            "locations": {"type": "array", "items": {"$ref": "#/definitions/location"}}}},
        "location": {"type": "object", "additionalProperties": False, "properties": {
            "physicalLocation": {"type": "object", "additionalProperties": False,
                                 "anyOf": [{"required": ["artifactLocation"]}, {"required": ["address"]}],
                                 "properties": {
                "artifactLocation": {"type": "object", "additionalProperties": False, "properties": {
                    "uri": {"type": "string", "format": "uri-reference"}, "uriBaseId": {"type": "string"}}},
                "region": {"type": "object", "additionalProperties": False, "properties": {
                    "startLine": {"type": "integer", "minimum": 1},
                    "startColumn": {"type": "integer", "minimum": 1}}}}},
            "logicalLocations": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                            "properties": {"fullyQualifiedName": {"type": "string"},
                                                                           "kind": {"type": "string"}}}}}},
    },
}


def test_sarif_output_has_the_structure_sarif_2_1_0_requires() -> None:
    folder = FIXTURES / "eventdeck-payload-required"
    result = run("lint", folder / "fail.yaml", FIXTURES / "asyncapi-channel-parameters" / "fail.yaml",
                 "--format", "sarif")
    log = json.loads(result.out)
    validator = jsonschema.Draft7Validator(SARIF_2_1_0, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(log)] == []
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for res in run_["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]  # SARIF: ruleIndex points at the rule of ruleId
    levels = {res["ruleId"]: res["level"] for res in run_["results"]}
    assert levels["eventdeck-payload-required"] == "error"


def test_sarif_structure_check_can_fail() -> None:
    validator = jsonschema.Draft7Validator(SARIF_2_1_0)
    assert list(validator.iter_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}))
    assert list(validator.iter_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                                                                     "results": [{"level": "warn",
                                                                                  "message": {"text": "m"}}]}]}))


def test_output_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "lint.sarif"
    result = run("lint", FIXTURES / "eventdeck-message-title" / "fail.yaml", "--format", "sarif", "-o", target)
    assert result.code == 1 and result.out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert not list(tmp_path.glob("*.partial"))
    unwritable = run("lint", EXAMPLES, "-o", tmp_path / "no-such-folder" / "x.txt")
    assert unwritable.code == 2 and "cannot write the report" in unwritable.err


def test_list_rules_names_every_rule_with_its_severity() -> None:
    result = run("lint", "--list-rules")
    assert result.code == 0
    for rule_id, rule in RULES.items():
        assert re.search(rf"^{re.escape(rule_id)}\s+{rule.severity.value}\s", result.out, re.M)


# -- the Spectral ruleset (.spectral.yaml) stays in step with eventdeck's rules --------------------------------
def test_the_spectral_rules_embed_the_extension_schemas_eventdeck_ships() -> None:
    text = (ROOT / "spectral" / "functions" / "extensionSchemas.js").read_text(encoding="utf-8")
    body = re.sub(r"^(//.*\n)*export default ", "", text).rstrip().rstrip(";")
    embedded = json.loads(body)
    shipped = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in sorted((ROOT / "pipeline" / "contract" / "extensions").glob("x-*.json"))}
    assert embedded == shipped


def test_the_spectral_ruleset_defines_every_house_rule_at_eventdeck_s_severity() -> None:
    from pipeline.contract.source import parse_text

    ruleset = parse_text(SPECTRAL_RULESET.read_text(encoding="utf-8"), str(SPECTRAL_RULESET)).data
    for rule in RULES.values():
        if rule.house:
            assert ruleset["rules"][rule.id]["severity"] == rule.severity.value, rule.id


def test_a_rule_that_fails_is_reported_with_its_id_and_document_not_as_a_traceback() -> None:
    from pipeline.contract.lint.registry import rule

    @rule("eventdeck-test-broken", LintSeverity.ERROR, "house", "A rule with a defect, for this test only.")
    def broken(target):  # type: ignore[no-untyped-def]
        yield from ()
        raise KeyError("boom")

    try:
        result = run("lint", FIXTURES / "asyncapi-info-contact" / "pass.yaml")
    finally:
        del RULES["eventdeck-test-broken"]
    assert result.code == 2
    assert "lint rule eventdeck-test-broken failed (KeyError" in result.err and "pass.yaml" in result.err
    assert "Traceback" not in result.output
