"""The ``eventdeck`` command: one entry point, one module per subcommand under ``portal.cli``.

This is an edge: exceptions with context (file, line, pointer, event id) are turned into friendly lines and exit
codes here, and nowhere deeper.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pipeline.contract import ContractError
from pipeline.errors import EventdeckError
from portal.cli.terminal import safe_streams

#: Each subcommand and the module under ``portal.cli`` that registers it (a module may register several). A run
#: imports only its own command's module: the catalogue renderer, MkDocs and the codegen toolchain cost a second of
#: start-up that ``eventdeck run`` or ``open`` never need. ``--help`` and a mistyped command import them all.
COMMANDS: dict[str, str] = {
    "validate": "validate",
    "lint": "lint",
    "diff": "diff",
    "keys": "keys",
    "seal": "seal",
    "open": "seal",
    "bundle": "bundle",
    "run": "run",
    "replay": "localbus",
    "dlq": "localbus",
    "docs": "docs",
    "backstage": "backstage",
    "codegen": "codegen",
    "kit": "kit",
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: with only the named command's module when ``argv`` names one, else with all."""
    parser = argparse.ArgumentParser(
        prog="eventdeck",
        description="Publish cross-domain events as a product, from AsyncAPI documents.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = next((arg for arg in argv or () if not arg.startswith("-")), None)
    modules = [COMMANDS[named]] if named in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"portal.cli.{module}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with safe_streams():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ContractError as exc:
        for diagnostic in exc.diagnostics or ():
            print(diagnostic, file=sys.stderr)
        if not exc.diagnostics:
            print(f"eventdeck: {exc}", file=sys.stderr)
        return 1
    except EventdeckError as exc:  # every other failure eventdeck raises on purpose: one line, no traceback
        print(f"eventdeck: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the file system refused something a command did not expect to fail: name the file
        where = f"{exc.filename}: " if exc.filename is not None else ""
        print(f"eventdeck: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
