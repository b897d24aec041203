"""``eventdeck diff OLD NEW``: classify every change between two versions of the contract and check the version
bump against the version policy, for people (text), machines (json) and pull-request comments (markdown).

Exit codes (also in docs/reference/diff.md): 0 nothing the policy refuses; 1 a breaking change the policy refuses
(by default: any breaking change to an existing event type, which belongs in a new ``…V2`` type); 3 the version
bump is wrong (and no breaking change was refused); 4 a side cannot be read (missing file, bad git revision,
unparsable document, bad policy file); 2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipeline.contract import ContractError
from pipeline.contract.diff import (
    CatalogueDiff,
    DiffInputError,
    EventDiff,
    Impact,
    PolicyError,
    Verdict,
    VersionPolicy,
    check,
    diff_catalogues,
    load_side,
)
from pipeline.contract.source import parse_text
from portal.cli.site_config import contract_loader

EXIT_OK = 0
EXIT_BREAKING = 1
EXIT_VERSION = 3
EXIT_BAD_INPUT = 4
MAX_POLICY_BYTES = 64 * 1024
_MARK = {Impact.BREAKING: "✗", Impact.NON_BREAKING: "+", Impact.ANNOTATION: "·"}


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "diff", help="classify the changes between two contract versions and check the version bump",
        description="Compare two versions of AsyncAPI documents (files, folders, or git:REF:PATH) event by event: "
                    "every change is breaking, non-breaking or annotation-only. Then check each document's "
                    "info.version bump against the version policy. Exit 0 ok, 1 breaking change refused, 3 wrong "
                    "version bump, 4 unreadable input.")
    parser.add_argument("old", help="the earlier version: a file, a folder, or git:REF:PATH (e.g. git:main:asyncapi)")
    parser.add_argument("new", nargs="?", default="asyncapi",
                        help="the later version, same forms (default: asyncapi, the working tree)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="output format")
    parser.add_argument("--policy", metavar="FILE",
                        help="a version policy file (YAML/JSON: breaking, new-event, changed-event, fix, "
                             "removed-event); default: DESIGN.md's policy")
    parser.add_argument("--allow-http", action="store_true", help="fetch http(s) $refs (off by default)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        policy = read_policy(args.policy) if args.policy else VersionPolicy()
        loader = contract_loader(allow_http=args.allow_http)
        old = load_side(args.old, loader)
        new = load_side(args.new, loader)
    except (DiffInputError, PolicyError) as exc:
        print(f"eventdeck diff: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    diff = diff_catalogues(old.catalogue, new.catalogue)
    verdict = check(diff, policy)
    code = EXIT_BREAKING if verdict.breaking else EXIT_VERSION if verdict.version else EXIT_OK
    for side in (old, new):
        if side.catalogue.errors:
            print(f"eventdeck diff: warning: {side.label} has {len(side.catalogue.errors)} contract error(s); "
                  f"`eventdeck validate` lists them", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(as_json(old.label, new.label, diff, verdict, code), indent=2, ensure_ascii=False))
    elif args.format == "markdown":
        print(as_markdown(old.label, new.label, diff, verdict), end="")
    else:
        print(as_text(old.label, new.label, diff, verdict), end="")
    return code


def read_policy(path: str) -> VersionPolicy:
    """The policy in ``path``. :raises PolicyError: naming the file."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_POLICY_BYTES:
            raise PolicyError(f"{path}: larger than {MAX_POLICY_BYTES // 1024} KB; not a version policy")
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise PolicyError(f"{path}: {exc.strerror or exc}") from None
    try:
        data = parse_text(text, str(file)).data
    except ContractError as exc:
        raise PolicyError(str(exc.diagnostics[0]) if exc.diagnostics else f"{path}: {exc}") from None
    return VersionPolicy.from_mapping(data, path)


def _summary(diff: CatalogueDiff) -> dict[str, int]:
    return {impact.value: len(diff.of_impact(impact)) for impact in Impact}


def as_json(old: str, new: str, diff: CatalogueDiff, verdict: Verdict, code: int) -> dict[str, Any]:
    return {
        "old": old, "new": new, "exit": code, "summary": _summary(diff),
        "events": [{"event": e.event, "document": e.document, "impact": e.impact.value if e.impact else None,
                    "old_version": e.old_version, "new_version": e.new_version,
                    "changes": [c.to_dict() for c in e.changes]} for e in diff.changed],
        "documents": [d.to_dict() for d in verdict.documents],
        "violations": [v.to_dict() for v in verdict.violations],
    }


def _versions(verdict: Verdict) -> list[str]:
    lines = []
    for d in verdict.documents:
        if d.old_version is None:
            lines.append(f"{d.document}: new document, version {d.new_version}")
        elif d.new_version is None:
            lines.append(f"{d.document}: document removed (was {d.old_version})")
        else:
            bump = "not semver/backwards" if d.actual is None else d.actual
            lines.append(f"{d.document}: {d.old_version} → {d.new_version} ({bump} bump; the changes need "
                         f"{d.required})")
    return lines


def as_text(old: str, new: str, diff: CatalogueDiff, verdict: Verdict) -> str:
    out = [f"{old} → {new}", ""]
    for line in _versions(verdict):
        out.append(line)
    out.append("")
    for event in diff.changed:
        out.append(f"{event.event} ({event.document}): {event.impact}")
        for change in event.changes:
            out.append(f"  {_MARK[change.impact]} {change.impact.value:<12} {change.where or '/':<40} "
                       f"{change.message}")
    if not diff.changed:
        out.append("no changes to any event")
    out.append("")
    summary = _summary(diff)
    out.append(f"{summary['breaking']} breaking, {summary['non-breaking']} non-breaking, {summary['annotation']} "
               "annotation-only change(s)")
    for violation in verdict.violations:
        out.append(f"✗ {violation.rule}: {violation.message}")
    if not verdict.violations:
        out.append("✓ the version policy is satisfied")
    return "\n".join(out) + "\n"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def as_markdown(old: str, new: str, diff: CatalogueDiff, verdict: Verdict) -> str:
    summary = _summary(diff)
    status = "❌ refused by the version policy" if verdict.violations else "✅ the version policy is satisfied"
    out = [f"### eventdeck diff: `{_cell(old)}` → `{_cell(new)}`", "",
           f"{status}: {summary['breaking']} breaking, {summary['non-breaking']} non-breaking, "
           f"{summary['annotation']} annotation-only change(s).", ""]
    for violation in verdict.violations:
        out.append(f"- **{violation.rule}**: {_cell(violation.message)}")
    if verdict.violations:
        out.append("")
    out += ["| Document | Old | New | Bump | Needed |", "|---|---|---|---|---|"]
    for d in verdict.documents:
        out.append(f"| {_cell(d.document)} | {_cell(d.old_version or '-')} | {_cell(d.new_version or '-')} | "
                   f"{'-' if d.actual is None else d.actual} | {d.required} |")
    out.append("")
    if diff.changed:
        out += ["| Event | Impact | Where | Change |", "|---|---|---|---|"]
        for event in diff.changed:
            out += [_markdown_row(event, change) for change in event.changes]
    else:
        out.append("No changes to any event.")
    return "\n".join(out) + "\n"


def _markdown_row(event: EventDiff, change: Any) -> str:
    return (f"| `{_cell(event.event)}` | {change.impact.value} | `{_cell(change.where or '/')}` | "
            f"{_cell(change.message)} |")
