"""The ``eventdeck`` command: one entry point, one module per subcommand under ``portal.cli``.

This is an edge: exceptions with context (file, line, pointer, event id) are turned into friendly lines and exit
codes here, and nowhere deeper.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pipeline.contract import ContractError
from pipeline.errors import EventdeckError
from portal.cli import backstage, bundle, docs, keys, seal, validate
from portal.cli import codegen as codegen_command
from portal.cli import diff as diff_command
from portal.cli import lint as lint_command
from portal.cli import localbus as localbus_commands
from portal.cli import run as run_command
from portal.cli.terminal import safe_streams

COMMANDS = (validate, keys, seal, bundle, docs, backstage, diff_command, lint_command, run_command,
            localbus_commands, codegen_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventdeck",
        description="Publish cross-domain events as a product, from AsyncAPI documents.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with safe_streams():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
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
