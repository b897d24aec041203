"""eventdeck's diff beside the official one: `asyncapi diff`'s engine (@asyncapi/diff 0.5.0, on documents parsed by
@asyncapi/parser, as its README requires) runs on every fixture pair of tests/test_diff.py and on the examples'
own evolution. Where it classifies a pair, the verdicts must agree; where it does not, the test lists why.

Verdicts are compared per pair as "breaking", "not breaking" or "no change": @asyncapi/diff has no
annotation-only class (it calls a changed description non-breaking), so eventdeck's non-breaking and
annotation-only both count as "not breaking".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_diff import CASES, payments_v1, write_pair

from conftest import EXAMPLES, ROOT
from pipeline.contract import ContractLoader
from pipeline.contract.diff import Impact, diff_catalogues

RUNNER = ROOT / "tests" / "js" / "asyncapi_diff.mjs"
pytestmark = pytest.mark.slow  # node parses some eighty documents

#: The pairs @asyncapi/diff 0.5.0 classifies: the whole message or channel added or removed, and the message
#: fields its standard lists (contentType, description...). Everything else it reports as "unclassified".
CLASSIFIED = {"event-removed", "event-added", "payload-removed", "content-type-changed",
              "message-description-changed", "unchanged", "examples-evolution"}
#: Why @asyncapi/diff leaves each other pair unclassified while eventdeck classifies it.
UNCLASSIFIED_BECAUSE = {
    "payload": "its standard classifies a message's `payload` only as a whole (add/remove/edit of the key); every "
               "change *inside* a schema — properties, required, type, enum, bounds, pattern, format, "
               "additionalProperties, allOf/oneOf members, recursive definitions, descriptions, examples — is at a "
               "deeper JSON pointer it has no rule for, so it is unclassified",
    "extension": "x-sealing, x-eventbridge and x-lifecycle are eventdeck's extensions: the standard has no rule for "
                 "x- keys",
    "message-examples": "the standard has no rule for a message's `examples`",
}
UNCLASSIFIED = {
    **{case: "payload" for case, *_ in CASES if case not in CLASSIFIED and case not in {
        "sealing-changed", "sealing-key-rotated", "bus-changed", "deprecated", "examples-changed"}},
    "sealing-changed": "extension", "sealing-key-rotated": "extension", "bus-changed": "extension",
    "deprecated": "extension", "examples-changed": "message-examples", "in-place-breaking": "payload",
}


#: Pairs both classify, differently, and why.
DISAGREEMENTS = {
    "examples-evolution": ("not breaking", "breaking",
                           "@asyncapi/diff's standard classifies any edit of /info/version as breaking (1.3.0 → "
                           "2.0.0 is its only breaking change here); for eventdeck the version is what the policy "
                           "checks, not a change to an event: the new V2 events are non-breaking, the deprecation "
                           "of Payment.Authorised.* annotation-only, and 1.3.0 → 2.0.0 the major bump they need"),
}


def verdict_of_theirs(result: dict[str, list[object]]) -> str:
    if result["breaking"]:
        return "breaking"
    if result["non-breaking"]:
        return "not breaking"
    return "unclassified" if result["unclassified"] else "no change"


def verdict_of_ours(impacts: set[Impact | None]) -> str:
    if Impact.BREAKING in impacts:
        return "breaking"
    return "not breaking" if impacts - {None} else "no change"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("asyncapi-diff")
    found = {case: write_pair(folder, case, old, new) for case, old, new, _, _ in CASES}
    v1 = payments_v1(folder / "v1")
    found["examples-evolution"] = (v1 / "payments.yaml", EXAMPLES / "payments.yaml")
    in_place = payments_v1(folder / "in-place")
    text = (in_place / "payments.yaml").read_text(encoding="utf-8")
    (in_place / "payments.yaml").write_text(text.replace('"cardType"', '"scheme"'), encoding="utf-8")
    found["in-place-breaking"] = (v1 / "payments.yaml", in_place / "payments.yaml")
    return found


@pytest.fixture(scope="module")
def theirs(pairs: dict[str, tuple[Path, Path]]) -> dict[str, dict[str, list[object]]]:
    if shutil.which("node") is None or not (ROOT / "tests" / "js" / "node_modules" / "@asyncapi" / "diff").is_dir():
        pytest.fail("@asyncapi/diff is not installed: run scripts/bootstrap (npm ci in tests/js)")
    files = [str(p) for pair in pairs.values() for p in pair]
    done = subprocess.run(["node", str(RUNNER), *files], capture_output=True, text=True, timeout=900, check=True)
    output = json.loads(done.stdout)
    results = {case: output[f"{old} {new}"] for case, (old, new) in pairs.items()}
    failed = {case: r["error"] for case, r in results.items() if "error" in r}
    assert not failed, failed
    return results


@pytest.fixture(scope="module")
def ours(pairs: dict[str, tuple[Path, Path]]) -> dict[str, str]:
    loader = ContractLoader()
    verdicts = {}
    for case, (old, new) in pairs.items():
        diff = diff_catalogues(loader.load([old]), loader.load([new]))
        verdicts[case] = verdict_of_ours({event.impact for event in diff.changed})
    return verdicts


def test_asyncapi_diff_classifies_exactly_the_pairs_listed(theirs: dict[str, dict[str, list[object]]]) -> None:
    classified = {case for case, result in theirs.items() if verdict_of_theirs(result) != "unclassified"}
    assert classified == CLASSIFIED
    assert set(theirs) - classified == set(UNCLASSIFIED)
    assert set(UNCLASSIFIED.values()) <= set(UNCLASSIFIED_BECAUSE)


def test_verdicts_agree_on_every_pair_asyncapi_diff_classifies(theirs: dict[str, dict[str, list[object]]],
                                                               ours: dict[str, str]) -> None:
    disagreements = {case: (ours[case], verdict_of_theirs(theirs[case])) for case in CLASSIFIED
                     if ours[case] != verdict_of_theirs(theirs[case])}
    assert disagreements == {case: (mine, official) for case, (mine, official, _) in DISAGREEMENTS.items()}
    assert [c["path"] for c in theirs["examples-evolution"]["breaking"]] == ["/info/version"]  # type: ignore[index]


def test_eventdeck_classifies_every_pair_asyncapi_diff_leaves_unclassified(ours: dict[str, str]) -> None:
    assert all(ours[case] in ("breaking", "not breaking") for case in UNCLASSIFIED)
    assert ours["in-place-breaking"] == "breaking"
