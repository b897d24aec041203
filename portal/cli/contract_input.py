"""How ``seal``, ``open`` and ``bundle`` get their contract: a runtime artefact, or the AsyncAPI documents with the
registry of the site ``mkdocs.yml`` describes — so the URLs they stamp and accept are the ones the catalogue
publishes."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from pipeline.contract import Catalogue
from pipeline.contract.artefact import FORMAT, load_artefact
from portal.cli.site_config import SCHEMA_BASE_URL_ENV, contract_loader, site_config


def add_contract_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contract", action="append", metavar="PATH",
                        help="an AsyncAPI document or folder (repeatable), or one contract artefact written by "
                             "`eventdeck bundle` (default: the eventdeck plugin's `asyncapi` option in mkdocs.yml, "
                             "else asyncapi/)")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml",
                        help="mkdocs.yml whose eventdeck plugin options say where the schemas are published")
    parser.add_argument("--schema-base-url", default=os.environ.get(SCHEMA_BASE_URL_ENV) or None,
                        help="public URL of the schema registry folder (the dataschema base); default: the plugin's "
                             f"schema_base_url, else site_url + schemas/ (env {SCHEMA_BASE_URL_ENV})")


def is_artefact(path: Path) -> bool:
    """A file that starts like a contract artefact (``eventdeck bundle`` writes the format marker first)."""
    if not path.is_file() or path.suffix != ".json":
        return False
    try:
        with path.open("rb") as handle:
            return f'"format": "{FORMAT}"'.encode() in handle.read(256)
    except OSError:
        return False


def load_contract(args: argparse.Namespace) -> Catalogue:
    """The contract the command works with, its registry set. Raises :class:`ContractError` (the CLI reports it)."""
    given = [Path(p) for p in args.contract] if args.contract else None
    if given is not None and len(given) == 1 and is_artefact(given[0]):
        catalogue = load_artefact(given[0])
        if args.schema_base_url and catalogue.registry is not None:
            registry = dataclasses.replace(catalogue.registry, base_url=args.schema_base_url.rstrip("/") + "/")
            catalogue = dataclasses.replace(catalogue, registry=registry)
        return catalogue
    config = site_config(args.config_file)
    paths = given if given is not None else config.document_paths()
    catalogue = contract_loader(allow_http=config.plugin.allow_http).load(paths, strict=True)
    return dataclasses.replace(catalogue, registry=config.registry(catalogue, args.schema_base_url))
