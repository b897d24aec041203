"""``eventdeck docs``: pre-render the catalogue into the docs folder, for builds without the eventdeck plugin.

TechDocs (Backstage's builder and ``techdocs-cli``) removes MkDocs plugins it does not know unless the operator
allows them. This command writes exactly the pages the plugin would generate — the same renderer, the same options
(read from the ``eventdeck`` plugin entry of ``mkdocs.yml`` when there is one) — as Markdown files in ``docs/``,
and the schema registry beside them, so a stock ``techdocs-core`` build renders the same catalogue. Commit the
result; ``eventdeck docs --check`` fails CI when the committed pages no longer match the documents.

Every file it writes is listed in ``<section>/.eventdeck-files`` (MkDocs ignores dotfiles), so a later run removes
the pages of events that no longer exist and never touches a hand-written file.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.forking import workers_from_environment

MANIFEST = ".eventdeck-files"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "docs", help="pre-render the catalogue into the docs folder (for TechDocs without the plugin)",
        description="Write the catalogue's pages and schema registry into the docs folder, exactly as the MkDocs "
                    "plugin generates them. With --check, write nothing and exit 1 if the files are stale.")
    parser.add_argument("paths", nargs="*", help="AsyncAPI documents or folders (default: the plugin's `asyncapi` "
                                                 "option in mkdocs.yml, else asyncapi/)")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="mkdocs.yml to take options from")
    parser.add_argument("--docs-dir", help="where to write (default: docs_dir of mkdocs.yml, else docs/)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the files on disk differ; write nothing")
    parser.add_argument("--strict", action="store_true", help="fail on any error in the documents")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class Plan:
    """What the docs folder must contain: path (relative to it) → bytes; and what a previous run wrote."""

    docs_dir: Path
    wanted: dict[str, bytes]
    previous: frozenset[str]
    manifest: str

    def differences(self) -> tuple[list[str], list[str], list[str]]:
        """(missing, stale, obsolete) paths."""
        missing, stale = [], []
        for path, content in self.wanted.items():
            target = self.docs_dir / path
            if not target.is_file():
                missing.append(path)
            elif target.read_bytes() != content:
                stale.append(path)
        obsolete = sorted(p for p in self.previous - set(self.wanted) if (self.docs_dir / p).exists())
        manifest = self.docs_dir / self.manifest
        if not manifest.is_file() or manifest.read_text(encoding="utf-8") != self.manifest_text:
            stale.append(self.manifest)
        return missing, stale, obsolete

    @property
    def manifest_text(self) -> str:
        return "".join(f"{path}\n" for path in sorted(self.wanted))

    def write(self) -> int:
        """Write what changed, remove what a previous run wrote and is gone; the number of files touched."""
        missing, stale, obsolete = self.differences()
        for path in [*missing, *stale]:
            if path == self.manifest:
                continue
            target = self.docs_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.wanted[path])
        for path in obsolete:
            (self.docs_dir / path).unlink()
        manifest = self.docs_dir / self.manifest
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(self.manifest_text, encoding="utf-8")
        return len(missing) + len(stale) + len(obsolete)


def plan(args: argparse.Namespace) -> Plan:
    """Load the documents and render them with the options the plugin would use."""
    from portal.cli.site_config import contract_loader, site_config
    from portal.render import SiteRenderer

    config = site_config(args.config_file, strict=args.strict)
    paths = [Path(p).resolve() for p in args.paths] if args.paths else config.document_paths()
    loader = contract_loader(allow_http=config.plugin.allow_http)
    catalogue = loader.load(paths, strict=config.plugin.strict)
    renderer = SiteRenderer(config.options, workers=workers_from_environment())
    site = renderer.render(catalogue, roots=[str(p) for p in paths])
    wanted = {path: text.encode("utf-8") for path, text in site.pages.items()}
    wanted.update(site.files)
    docs_dir = Path(args.docs_dir) if args.docs_dir else config.docs_dir
    manifest = f"{site.paths.section}/{MANIFEST}" if site.paths.section else MANIFEST
    previous_file = docs_dir / manifest
    previous = frozenset(previous_file.read_text(encoding="utf-8").split()) if previous_file.is_file() else frozenset()
    return Plan(docs_dir, wanted, previous, manifest)


def run(args: argparse.Namespace) -> int:
    result = plan(args)
    if args.check:
        missing, stale, obsolete = result.differences()
        problems = [*(f"missing   {p}" for p in missing), *(f"stale     {p}" for p in stale),
                    *(f"obsolete  {p}" for p in obsolete)]
        if problems:
            for line in problems[:50]:
                print(f"{result.docs_dir}/{line.split()[-1]}: {line.split()[0]}", file=sys.stderr)
            if len(problems) > 50:
                print(f"... and {len(problems) - 50} more", file=sys.stderr)
            print(f"✗ the pre-rendered catalogue in {result.docs_dir}/ is out of date: run `eventdeck docs`",
                  file=sys.stderr)
            return 1
        print(f"✓ the pre-rendered catalogue in {result.docs_dir}/ is up to date ({len(result.wanted)} files)")
        return 0
    changed = result.write()
    print(f"✓ wrote the catalogue into {result.docs_dir}/: {len(result.wanted)} files, {changed} changed")
    return 0
