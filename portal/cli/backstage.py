"""``eventdeck backstage``: write ``catalog-info.yaml`` (Backstage catalog entities) from the AsyncAPI documents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from portal.backstage.entities import ComponentSpec, catalog_info_yaml, entities
from portal.cli.owned_files import write_file
from portal.cli.site_config import contract_loader


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "backstage", help="write catalog-info.yaml (Backstage entities) from the AsyncAPI documents",
        description="Write a Backstage catalog-info.yaml: a Component for the pipeline (with the TechDocs "
                    "annotation) and an API entity (spec.type asyncapi) per AsyncAPI document.")
    parser.add_argument("paths", nargs="*", default=["asyncapi"], help="documents or folders (default: asyncapi/)")
    parser.add_argument("-o", "--output", default="catalog-info.yaml", help="file to write (default: %(default)s)")
    parser.add_argument("--per-event", action="store_true",
                        help="also one API entity per event, for consumers' `consumesApis`")
    parser.add_argument("--component", default="eventdeck-pipeline", help="name of the pipeline Component")
    parser.add_argument("--owner", help="owner of the Component (default: the first document's x-backstage owner)")
    parser.add_argument("--system", help="system of the Component (default: the first document's)")
    parser.add_argument("--site-url", help="public URL of the catalogue, for links from per-event APIs")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs; write nothing")
    parser.set_defaults(run=run)


def render(args: argparse.Namespace) -> str:
    catalogue = contract_loader().load(args.paths)
    output = Path(args.output)
    spec = ComponentSpec(name=args.component, owner=args.owner, system=args.system, site_url=args.site_url)
    return catalog_info_yaml(entities(catalogue, output.resolve().parent, spec, per_event=args.per_event))


def run(args: argparse.Namespace) -> int:
    text = render(args)
    data = text.encode("utf-8")
    output = Path(args.output)
    if output.is_dir():
        print(f"eventdeck: {output} is a folder; name the file to write with -o (e.g. {output / 'catalog-info.yaml'})",
              file=sys.stderr)
        return 1
    try:
        current = output.read_bytes() if output.is_file() else None
    except OSError as exc:
        print(f"eventdeck: cannot read {output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.check:
        if current != data:
            print(f"✗ {output} is out of date: run `eventdeck backstage{' --per-event' if args.per_event else ''}`",
                  file=sys.stderr)
            return 1
        print(f"✓ {output} is up to date")
        return 0
    if current != data:
        write_file(output, data)  # atomic; refuses a symbolic link rather than writing where it points
    print(f"✓ wrote {output} ({text.count('kind: ')} entities)")
    return 0
