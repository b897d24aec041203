"""``eventdeck backstage``: write ``catalog-info.yaml`` (Backstage catalog entities) from the AsyncAPI documents, and
the self-contained AsyncAPI definitions its API entities point at.

Backstage renders an API's definition in the browser, where nothing can follow a ``$ref`` into another file, so
each entity points at a bundled copy (:mod:`portal.backstage.definitions`) in a generated folder next to the pages
``eventdeck docs`` writes (``<docs_dir>/asyncapi/`` by default). The folder is managed like ``eventdeck docs``
manages its pages: a manifest lists what was written, files of events that are gone are removed only while
unchanged, and ``--check`` fails when the folder or ``catalog-info.yaml`` is stale. The definitions are written
before ``catalog-info.yaml``, so the catalogue never points at a file that is not there yet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.contract import Catalogue, ContractLoader
from pipeline.contract.specs import official_validator
from portal.backstage.definitions import Definition, document_definition, event_definition
from portal.backstage.entities import ComponentSpec, DefinitionFiles, catalog_info_yaml, entities
from portal.cli.docs import MANIFEST, Plan
from portal.cli.owned_files import write_file
from portal.cli.site_config import contract_loader, site_config

DEFINITIONS_FOLDER = "asyncapi"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "backstage", help="write catalog-info.yaml (Backstage entities) and self-contained API definitions",
        description="Write a Backstage catalog-info.yaml: a Component for the pipeline (with the TechDocs "
                    "annotation) and an API entity (spec.type asyncapi) per AsyncAPI document, each pointing at "
                    "a self-contained copy of its document (every $ref into another file bundled in) that "
                    "Backstage's API docs can render in the browser.")
    parser.add_argument("paths", nargs="*", default=["asyncapi"], help="documents or folders (default: asyncapi/)")
    parser.add_argument("-o", "--output", default="catalog-info.yaml", help="file to write (default: %(default)s)")
    parser.add_argument("--definitions", metavar="FOLDER",
                        help="where to write the self-contained definitions (default: the docs_dir of the "
                             f"mkdocs.yml next to the output, else docs/, then {DEFINITIONS_FOLDER}/)")
    parser.add_argument("--per-event", action="store_true",
                        help="also one API entity per event (with a minimal definition of its own), for "
                             "consumers' `consumesApis`")
    parser.add_argument("--component", default="eventdeck-pipeline", help="name of the pipeline Component")
    parser.add_argument("--owner", help="owner of the Component (default: the first document's x-backstage owner)")
    parser.add_argument("--system", help="system of the Component (default: the first document's)")
    parser.add_argument("--site-url", help="public URL of the catalogue, for links from per-event APIs")
    parser.add_argument("--check", action="store_true", help="exit 1 if a file differs; write nothing")
    parser.set_defaults(run=run)


def definitions_folder(args: argparse.Namespace, output: Path) -> Path:
    """``--definitions``, else ``<docs_dir>/asyncapi`` of the ``mkdocs.yml`` beside ``output`` (``docs/``)."""
    if args.definitions:
        return Path(args.definitions)
    docs_dir = site_config(output.parent / "mkdocs.yml").docs_dir
    folder = (docs_dir if docs_dir.is_absolute() else output.parent / docs_dir) / DEFINITIONS_FOLDER
    try:  # shown as the user would type it
        return folder.relative_to(Path.cwd())
    except ValueError:
        return folder


def definitions(catalogue: Catalogue, loader: ContractLoader, *, per_event: bool) -> list[Definition]:
    """The self-contained definition of every document and, with ``per_event``, of every event."""
    def validator(version: str) -> Any:
        return official_validator(version, loader.specs_settings)

    found: list[Definition] = []
    by_id = {}
    for document in sorted(catalogue.documents, key=lambda d: d.id):
        definition = document_definition(document, loader.sources, validator)
        by_id[document.id] = (document, definition)
        found.append(definition)
    if per_event:
        for event in sorted(catalogue.events, key=lambda e: e.name):
            if event.document_id in by_id:
                document, whole = by_id[event.document_id]
                found.append(event_definition(event, document, whole.content, validator))
    return found


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.is_dir():
        print(f"eventdeck: {output} is a folder; name the file to write with -o (e.g. {output / 'catalog-info.yaml'})",
              file=sys.stderr)
        return 1
    folder = definitions_folder(args, output)
    loader = contract_loader()
    catalogue = loader.load(args.paths)
    written = definitions(catalogue, loader, per_event=args.per_event)
    plan = Plan.checked(folder, {d.path: d.text.encode("utf-8") for d in written}, MANIFEST, ("",))
    files = DefinitionFiles(folder, {d.path: d.note for d in written if d.note})
    spec = ComponentSpec(name=args.component, owner=args.owner, system=args.system, site_url=args.site_url)
    text = catalog_info_yaml(entities(catalogue, output.resolve().parent, spec, per_event=args.per_event,
                                      files=files))
    data = text.encode("utf-8")
    try:
        current = output.read_bytes() if output.is_file() else None
    except OSError as exc:
        print(f"eventdeck: cannot read {output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for definition in written:
        if definition.note:
            print(f"eventdeck: {folder / definition.path}: {definition.note}", file=sys.stderr)
    again = f"eventdeck backstage{' --per-event' if args.per_event else ''}"
    if args.check:
        missing, stale, obsolete = plan.differences()
        problems = [*(f"{folder / p}: missing" for p in missing), *(f"{folder / p}: stale" for p in stale),
                    *(f"{folder / p}: obsolete" for p in obsolete)]
        if current != data:
            problems.append(f"{output}: stale")
        if problems:
            for line in problems[:50]:
                print(line, file=sys.stderr)
            if len(problems) > 50:
                print(f"... and {len(problems) - 50} more", file=sys.stderr)
            print(f"✗ {output} or the definitions in {folder}/ are out of date: run `{again}`", file=sys.stderr)
            return 1
        print(f"✓ {output} and the {len(written)} definitions in {folder}/ are up to date")
        return 0
    changed = plan.write()  # first: catalog-info.yaml never points at a definition that is not there yet
    if current != data:
        write_file(output, data)  # atomic; refuses a symbolic link rather than writing where it points
    print(f"✓ wrote {output} ({text.count('kind: ')} entities) and {len(written)} self-contained definitions in "
          f"{folder}/ ({changed} changed)")
    return 0
