"""``eventdeck lint``: the house style guide and the ground of Spectral's AsyncAPI rules, for people and CI.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings at or above it; 2 the input could not be linted (a
missing path, a document that cannot be read, a bad ruleset file), so "no findings" is never confused with "not
linted".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.contract import ContractError
from pipeline.contract.lint import (
    DEFAULT_RULESET_FILE,
    RULES,
    LintSeverity,
    Ruleset,
    RulesetError,
    lint,
    load_ruleset,
)
from pipeline.errors import EventdeckError
from portal.cli.site_config import contract_loader
from portal.lint_output import FORMATS, render

EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
_THRESHOLDS = ("error", "warn", "info", "hint")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "lint", help="lint AsyncAPI documents against the house style guide",
        description="Lint AsyncAPI 2.6/3.0 documents: Spectral's spectral:asyncapi rules plus the eventdeck house "
                    "style guide. Exit 0: clean; 1: findings at or above --fail-on; 2: bad input.")
    parser.add_argument("paths", nargs="*", default=["asyncapi"], help="documents or folders (default: asyncapi/)")
    parser.add_argument("--ruleset", "-r", metavar="FILE",
                        help=f"ruleset file (default: ./{DEFAULT_RULESET_FILE} if present, else the recommended "
                             "rules)")
    parser.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("--fail-on", choices=_THRESHOLDS, default="error",
                        help="lowest severity that fails the run (default: error)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--list-rules", action="store_true", help="list the rules and their severities, then exit")
    parser.add_argument("--allow-http", action="store_true", help="fetch http(s) $refs (off by default)")
    parser.add_argument("--root", metavar="FOLDER", help="the folder local $refs may not leave")
    parser.set_defaults(run=run)


def _ruleset(args: argparse.Namespace) -> Ruleset:
    if args.ruleset:
        return load_ruleset(args.ruleset)
    default = Path(DEFAULT_RULESET_FILE)
    return load_ruleset(default) if default.is_file() else Ruleset.recommended()


def run(args: argparse.Namespace) -> int:
    try:
        ruleset = _ruleset(args)
    except RulesetError as exc:
        print(f"eventdeck lint: bad ruleset: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.list_rules:
        for rule_id, rule in RULES.items():
            print(f"{rule_id:48} {ruleset.severity(rule_id).value:6} {rule.description}")
        return 0
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        for path in missing:
            print(f"eventdeck lint: {path}: no such file or folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        report = lint(args.paths, ruleset=ruleset, loader=contract_loader(allow_http=args.allow_http),
                      root=args.root)
    except ContractError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        if not exc.diagnostics:
            print(f"eventdeck lint: {exc}", file=sys.stderr)
        print("eventdeck lint: the documents could not be read; nothing was linted", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EventdeckError as exc:
        print(f"eventdeck lint: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    text = render(report, args.format)
    if args.output:
        target = Path(args.output)
        partial = target.with_name(target.name + ".partial")
        try:
            partial.write_text(text, encoding="utf-8")
            partial.replace(target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            print(f"eventdeck lint: {args.output}: cannot write the report: {exc.strerror}", file=sys.stderr)
            return EXIT_BAD_INPUT
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if report.at_least(LintSeverity(args.fail_on)) else 0
