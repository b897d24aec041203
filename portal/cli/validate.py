"""``eventdeck validate``: strict validation of AsyncAPI documents, every problem listed, for people and CI."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.contract import Catalogue, ContractError, Diagnostic, Severity
from portal.cli.site_config import contract_loader


def register(sub: Any) -> None:
    parser = sub.add_parser("validate", help="validate AsyncAPI documents (strict)",
                            description="Load, resolve and validate AsyncAPI documents. Exit 1 on any error.")
    parser.add_argument("paths", nargs="*", default=["asyncapi"],
                        help="documents or folders (default: asyncapi/)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--allow-http", action="store_true", help="fetch http(s) $refs (off by default)")
    parser.add_argument("--root", metavar="FOLDER",
                        help="the folder local $refs may not leave (default: the folder given, else the common "
                             "folder of the documents)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print problems only, no tables")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    loader = contract_loader(allow_http=args.allow_http)
    try:
        catalogue = loader.load(args.paths, root=args.root)
    except ContractError as exc:
        return _report_fatal(exc, args.format)
    errors = catalogue.errors
    if args.format == "json":
        print(json.dumps(_as_json(catalogue), indent=2))
    else:
        _print_text(catalogue, quiet=args.quiet)
    return 1 if errors else 0


def _report_fatal(exc: ContractError, output: str) -> int:
    if output == "json":
        print(json.dumps({"valid": False, "documents": [], "events": [],
                          "diagnostics": [d.to_dict() for d in exc.diagnostics]}, indent=2))
    else:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        print(f"\n✗ {len(exc.diagnostics)} problem(s) stopped loading; nothing was validated further.",
              file=sys.stderr)
    return 1


def _print_text(catalogue: Catalogue, *, quiet: bool) -> None:
    diagnostics = [d for d in catalogue.all_diagnostics if d.severity is not Severity.INFO]
    if not quiet:
        document_rows = [("document", "asyncapi", "version", "events", "errors", "warnings")]
        for doc in catalogue.documents:
            document_rows.append((doc.id, doc.asyncapi, doc.info.version, str(len(doc.events)),
                                  str(_count(doc.diagnostics, Severity.ERROR)),
                                  str(_count(doc.diagnostics, Severity.WARNING))))
        _table(document_rows)
        print()
        event_rows = [("event", "document", "version", "produced by", "consumed by")]
        for event in catalogue.events:
            event_rows.append((event.key, event.document_id, event.version, ", ".join(event.producers) or "-",
                               ", ".join(event.consumers) or "-"))
        _table(event_rows)
        print()
    for diagnostic in sorted(diagnostics, key=_order):
        print(diagnostic, file=sys.stderr if diagnostic.severity is Severity.ERROR else sys.stdout)
    errors = _count(diagnostics, Severity.ERROR)
    warnings = _count(diagnostics, Severity.WARNING)
    events = len(catalogue.events)
    if errors:
        print(f"\n✗ {errors} error(s), {warnings} warning(s) in {len(catalogue.documents)} document(s)",
              file=sys.stderr)
    else:
        print(f"✓ {len(catalogue.documents)} document(s), {events} event(s) valid ({warnings} warning(s))")


def _order(d: Diagnostic) -> tuple[str, int, int]:
    return (d.location.file, d.location.line or 0, d.location.column or 0)


def _count(diagnostics: Iterable[Diagnostic], severity: Severity) -> int:
    return sum(1 for d in diagnostics if d.severity is severity)


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))


def _as_json(catalogue: Catalogue) -> dict[str, Any]:
    return {
        "valid": not catalogue.errors,
        "documents": [{"id": d.id, "path": d.path, "asyncapi": d.asyncapi, "version": d.info.version,
                       "title": d.info.title, "events": [e.key for e in d.events]} for d in catalogue.documents],
        "events": [{"key": e.key, "name": e.name, "document": e.document_id, "version": e.version,
                    "producers": list(e.producers), "consumers": list(e.consumers),
                    "location": str(e.location)} for e in catalogue.events],
        "diagnostics": [d.to_dict() for d in catalogue.all_diagnostics],
    }
