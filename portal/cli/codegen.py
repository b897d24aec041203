"""``eventdeck codegen python -o DIR``: typed payload models for consumers, one module per event.

The models are generated from exactly the schemas the registry publishes (``portal.codegen``). The documents are
loaded strictly — types are not generated from a contract with errors — and every event is generated in memory
before anything is written: an event the generator cannot model fails the run with its file and pointer, and the
folder is left as it was. ``-o DIR`` is the only folder written; its files are listed with a SHA-256 each in
``DIR/.eventdeck-files``, so a later run removes the modules of events that are gone and nothing else (the same
owned-files rules as ``eventdeck docs``). ``--check`` writes nothing and exits 1 when the folder is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from portal.cli.docs import MANIFEST, Plan
from portal.cli.site_config import contract_loader, site_config
from portal.codegen import CodegenFailed, python_package


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "codegen", help="generate typed payload models for consumers (Python: pydantic v2)",
        description="Generate payload models from the published JSON Schema of each event.")
    languages = parser.add_subparsers(dest="language", required=True, metavar="LANGUAGE")
    python = languages.add_parser(
        "python", help="pydantic v2 models, one module per event, written as a package into -o DIR",
        description="Write a Python package of pydantic v2 payload models (one module per event, `model_for(type)` "
                    "in its __init__) into DIR. With --check, write nothing and exit 1 if DIR is stale.")
    python.add_argument("paths", nargs="*", help="AsyncAPI documents or folders (default: the plugin's `asyncapi` "
                                                 "option in mkdocs.yml, else asyncapi/)")
    python.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="the package folder to write (created; only files eventdeck wrote are replaced or "
                             "removed)")
    python.add_argument("--event", action="append", metavar="NAME",
                        help="generate only this event (repeatable; default: every event)")
    python.add_argument("--skip-unsupported", action="store_true",
                        help="leave out events without a JSON Schema payload (listed) instead of failing")
    python.add_argument("--check", action="store_true", help="exit 1 if DIR differs from what would be written")
    python.add_argument("-f", "--config-file", default="mkdocs.yml",
                        help="mkdocs.yml whose eventdeck plugin options say where the schemas are published")
    python.add_argument("--schema-base-url",
                        help="public URL of the schema registry folder (default: the plugin's schema_base_url, "
                             "else site_url + schemas/)")
    python.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from portal.mkdocs_plugin.plugin import ref_root

    config = site_config(args.config_file)
    paths = [Path(p).resolve() for p in args.paths] if args.paths else config.document_paths()
    loader = contract_loader(allow_http=config.plugin.allow_http)
    catalogue = loader.load(paths, strict=True, root=ref_root(config.plugin, config.config_dir))
    layout = config.registry(catalogue, args.schema_base_url)
    try:
        package = python_package(catalogue, layout, events=args.event, skip_unsupported=args.skip_unsupported)
    except CodegenFailed as exc:
        for error in exc.errors:
            print(f"{error}", file=sys.stderr)
        print(f"✗ {len(exc.errors)} event(s) could not be generated; nothing was written", file=sys.stderr)
        return 1
    except KeyError as exc:
        print(f"eventdeck: {exc.args[0]}", file=sys.stderr)
        return 2
    for skipped in package.skipped:
        print(f"skipped: {skipped}", file=sys.stderr)
    out = Path(args.output)
    plan = Plan.checked(out, package.files, MANIFEST, ("",))
    if args.check:
        missing, stale, obsolete = plan.differences()
        problems = [*(("missing", p) for p in missing), *(("stale", p) for p in stale),
                    *(("obsolete", p) for p in obsolete)]
        for kind, path in problems:
            print(f"{out}/{path}: {kind}", file=sys.stderr)
        if problems:
            print(f"✗ the models in {out}/ are out of date: run `eventdeck codegen python -o {out}`", file=sys.stderr)
            return 1
        print(f"✓ the models in {out}/ are up to date ({len(package.modules)} event(s))")
        return 0
    changed = plan.write()
    print(f"✓ wrote pydantic models of {len(package.modules)} event(s) into {out}/: {changed} file(s) changed")
    return 0
