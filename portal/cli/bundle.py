"""``eventdeck bundle``: write the runtime contract artefact the deployed pipeline loads.

The documents are loaded strictly (the tooling path: YAML, ``$ref``, the official AsyncAPI schemas), then the
normalised contract — events, versions, bundled schemas, typed extensions, registry URLs — is written to one JSON
file with a format version and a content hash (:mod:`pipeline.contract.artefact`). The file is replaced atomically:
a failed run leaves the previous artefact as it was. ``--check`` writes nothing and exits 1 when the file is
missing, unreadable or no longer what the documents say.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.contract import ContractError
from pipeline.contract.artefact import artefact_bytes, read_artefact
from portal.cli.contract_input import add_contract_arguments, is_artefact, load_contract
from portal.cli.owned_files import CannotWrite, UnsafePath, write_file

DEFAULT_OUTPUT = "eventdeck-contract.json"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "bundle", help="write the contract artefact the deployed pipeline loads (no YAML, no npm at run time)",
        description="Load the AsyncAPI documents strictly and write the normalised contract (events, schemas, "
                    "sealing, enrichment, registry URLs) into one JSON file with a format version and a content "
                    "hash. With --check, write nothing and exit 1 if the file is stale.")
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT, help=f"the artefact (default: {DEFAULT_OUTPUT})")
    parser.add_argument("--check", action="store_true", help="exit 1 if the artefact differs; write nothing")
    add_contract_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.contract and any(is_artefact(Path(p)) for p in args.contract):
        print("eventdeck: bundle reads AsyncAPI documents; the --contract given is already an artefact",
              file=sys.stderr)
        return 2
    catalogue = load_contract(args)
    assert catalogue.registry is not None  # load_contract always sets it
    data = artefact_bytes(catalogue, catalogue.registry, root=Path.cwd())
    output = Path(args.output)
    if args.check:
        try:
            current = read_artefact(output)
        except ContractError as exc:
            print(f"✗ {exc}: run `eventdeck bundle -o {output}`", file=sys.stderr)
            return 1
        if output.read_bytes() != data:
            print(f"✗ {output}: stale: the AsyncAPI documents (or the registry settings) changed since it was "
                  f"written (content {current.content_hash}); run `eventdeck bundle -o {output}`", file=sys.stderr)
            return 1
        print(f"✓ {output} is up to date ({len(catalogue.events)} events)")
        return 0
    try:
        write_file(output, data)  # atomic: a failed run leaves the previous artefact as it was
    except (CannotWrite, UnsafePath) as exc:
        print(f"eventdeck: {exc}; nothing was changed", file=sys.stderr)
        return 1
    print(f"✓ wrote {output}: {len(catalogue.events)} events from {len(catalogue.documents)} document(s), "
          f"{len(data):,} bytes")
    return 0
