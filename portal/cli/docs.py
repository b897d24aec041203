"""``eventdeck docs``: pre-render the catalogue into the docs folder, for builds without the eventdeck plugin.

TechDocs (Backstage's builder and ``techdocs-cli``) removes MkDocs plugins it does not know unless the operator
allows them. This command writes exactly the pages the plugin would generate — the same renderer, the same options
(read from the ``eventdeck`` plugin entry of ``mkdocs.yml`` when there is one) — as Markdown files in ``docs/``,
and the schema registry beside them, so a stock ``techdocs-core`` build renders the same catalogue. Commit the
result; ``eventdeck docs --check`` fails CI when the committed pages no longer match the documents.

Every file it writes is listed, with the SHA-256 of what it wrote, in ``<section>/.eventdeck-files`` (MkDocs
ignores dotfiles), so a later run removes the pages of events that no longer exist and never touches anything
else. The manifest is data, not an order: before writing or deleting anything, every line is checked to name a
plain relative path inside the folders eventdeck generates (the section and the schema registry), reached without
a symbolic link, and a file to delete must still be exactly what eventdeck wrote. A line that fails (``..``, an
absolute path, a link leading out, a hand-written or hand-edited file) stops the run with the manifest's file and
line, and nothing is written or deleted. Generated paths are checked the same way before anything is written.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import EventdeckError
from pipeline.forking import workers_from_environment
from portal.cli.owned_files import CannotWrite, UnsafePath, confined, relative_path_problem, write_file

MANIFEST = ".eventdeck-files"
MANIFEST_HEADER = ("# Written by `eventdeck docs`: the files it generated (SHA-256, then the path in the docs "
                   "folder). It deletes only these, and only while unchanged. Do not edit.\n")
_ENTRY = re.compile(r"([0-9a-f]{64})  (.+)")


class ManifestRefused(EventdeckError):
    """The manifest of a previous run names something eventdeck must not delete or write; ``problems`` are the
    offending lines (``file:line: path: reason``). Nothing was written or deleted."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join([*problems, "nothing was written or deleted: remove those lines (or the "
                                                 "manifest) after checking the files, and run again"]))


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One line of the manifest: its number, the path (relative to the docs folder) and the SHA-256 recorded
    (``None`` for a line of an older eventdeck, which recorded paths only)."""

    line: int
    path: str
    digest: str | None


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
    """What the docs folder must contain: path (relative to it) → bytes; and what a previous run wrote.

    ``folders`` are the folders (relative to ``docs_dir``) the generated files live in: only there may a previous
    run's file be deleted. Build it with :meth:`checked`, which refuses unsafe paths before anything is touched.
    """

    docs_dir: Path
    wanted: dict[str, bytes]
    previous: tuple[ManifestEntry, ...]
    manifest: str
    folders: tuple[str, ...]

    @classmethod
    def checked(cls, docs_dir: Path, wanted: dict[str, bytes], manifest: str, folders: tuple[str, ...]) -> Plan:
        """The plan, once every generated path and every manifest line has been checked (module docstring).

        :raises UnsafePath: the docs folder is not a folder, or a generated path would leave it.
        :raises ManifestRefused: a manifest line names something eventdeck must not delete.
        """
        if docs_dir.exists() and not docs_dir.is_dir():
            raise UnsafePath(f"{docs_dir}: the docs folder is not a folder")
        for path in (*wanted, manifest):
            try:
                target = confined(docs_dir, path)
            except UnsafePath as exc:
                raise UnsafePath(f"{docs_dir}/{path}: refusing to write a generated file that {exc}; nothing was "
                                 "written") from None
            if target.exists() and not target.is_file():
                raise UnsafePath(f"{target}: exists and is not a regular file; nothing was written")
        plan = cls(docs_dir, wanted, _read_manifest(docs_dir, manifest), manifest, folders)
        problems = [f"{docs_dir}/{manifest}:{entry.line}: {entry.path!r}: {problem}"
                    for entry in plan.previous if (problem := plan._refusal(entry))]
        if problems:
            raise ManifestRefused(problems)
        return plan

    def _refusal(self, entry: ManifestEntry) -> str | None:
        """Why the previous run's ``entry`` must not be trusted (``None``: it may be deleted when obsolete)."""
        problem = relative_path_problem(entry.path)
        if problem:
            return f"{problem}: refusing it (eventdeck deletes only inside {self.docs_dir}/)"
        if entry.path == self.manifest:
            return "is the manifest itself"
        if not any(folder == "" or entry.path.startswith(folder + "/") for folder in self.folders):
            return (f"is outside the folders eventdeck generates ({', '.join(f + '/' for f in self.folders)}); "
                    "refusing to delete it")
        try:
            target = confined(self.docs_dir, entry.path)
        except UnsafePath as exc:
            return f"{exc}; refusing to delete it"
        if entry.path in self.wanted or not target.exists():
            return None  # rewritten, or already gone: nothing will be deleted
        if not target.is_file():
            return "is not a regular file; refusing to delete it"
        if entry.digest is None:
            return ("listed without a digest (an older eventdeck): eventdeck cannot tell that it wrote this file; "
                    "delete it yourself if it is obsolete")
        if hashlib.sha256(target.read_bytes()).hexdigest() != entry.digest:
            return "is not what eventdeck wrote (hand-written, or edited since); refusing to delete it"
        return None

    def differences(self) -> tuple[list[str], list[str], list[str]]:
        """(missing, stale, obsolete) paths."""
        missing, stale = [], []
        for path, content in self.wanted.items():
            target = self.docs_dir / path
            if not target.is_file():
                missing.append(path)
            elif target.read_bytes() != content:
                stale.append(path)
        listed = {entry.path for entry in self.previous}
        obsolete = sorted(p for p in listed - set(self.wanted) if (self.docs_dir / p).exists())
        manifest = self.docs_dir / self.manifest
        if not manifest.is_file() or manifest.read_bytes() != self.manifest_text.encode("utf-8"):
            stale.append(self.manifest)
        return missing, stale, obsolete

    @property
    def manifest_text(self) -> str:
        return MANIFEST_HEADER + "".join(f"{hashlib.sha256(self.wanted[path]).hexdigest()}  {path}\n"
                                         for path in sorted(self.wanted))

    def write(self) -> int:
        """Write what changed, remove what a previous run wrote and is gone; the number of files touched.

        :raises CannotWrite: naming the file the system refused to write or delete.
        """
        missing, stale, obsolete = self.differences()
        for path in [*missing, *stale]:
            if path != self.manifest:
                write_file(self.docs_dir / path, self.wanted[path])
        for path in obsolete:
            target = self.docs_dir / path
            try:
                target.unlink()
            except OSError as exc:
                raise CannotWrite(f"cannot delete {target}: {exc.strerror or exc}") from None
            self._remove_empty_folders(path)
        write_file(self.docs_dir / self.manifest, self.manifest_text.encode("utf-8"))
        return len(missing) + len(stale) + len(obsolete)

    def _remove_empty_folders(self, path: str) -> None:
        """Remove the folders ``path`` leaves empty, up to (not including) the generated folder it is in."""
        root = next((f for f in self.folders if f and path.startswith(f + "/")), "")
        parts = path.split("/")[:-1]
        while parts and "/".join(parts) != root:
            try:
                (self.docs_dir / "/".join(parts)).rmdir()
            except OSError:  # not empty (or not ours to remove): stop there
                return
            parts.pop()


def _read_manifest(docs_dir: Path, manifest: str) -> tuple[ManifestEntry, ...]:
    """The entries of the previous run's manifest (none when there is no manifest).

    :raises ManifestRefused: the manifest is a symbolic link, not a regular file, or not UTF-8.
    """
    path = docs_dir / manifest
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ManifestRefused([f"{path}: the manifest is not a regular file"])
    if not path.exists():
        return ()
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestRefused([f"{path}: the manifest is not UTF-8 text (byte {exc.start})"]) from None
    except OSError as exc:
        raise ManifestRefused([f"{path}: cannot read the manifest: {exc.strerror or exc}"]) from None
    entries = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        match = _ENTRY.fullmatch(line)
        entries.append(ManifestEntry(number, match[2], match[1]) if match else ManifestEntry(number, line, None))
    return tuple(entries)


def plan(args: argparse.Namespace) -> Plan:
    """Load the documents and render them with the options the plugin would use."""
    from portal.cli.site_config import contract_loader, site_config
    from portal.mkdocs_plugin.history import SiteHistory
    from portal.mkdocs_plugin.plugin import load_site_subscriptions, ref_root
    from portal.render import SiteRenderer

    config = site_config(args.config_file, strict=args.strict)
    paths = [Path(p).resolve() for p in args.paths] if args.paths else config.document_paths()
    loader = contract_loader(allow_http=config.plugin.allow_http)
    catalogue = loader.load(paths, strict=config.plugin.strict, root=ref_root(config.plugin, config.config_dir))
    history = SiteHistory(config.plugin, config.config_dir, contract_loader(allow_http=config.plugin.allow_http),
                          ref_root(config.plugin, config.config_dir)).read(paths, catalogue)
    for note in history.notes if history is not None else ():
        print(f"eventdeck docs: version history: {note}", file=sys.stderr)
    subscriptions = load_site_subscriptions(config.plugin, config.config_dir, catalogue)
    renderer = SiteRenderer(config.options, workers=workers_from_environment())
    site = renderer.render(catalogue, roots=[str(p) for p in paths], history=history, subscriptions=subscriptions)
    wanted = {path: text.encode("utf-8") for path, text in site.pages.items()}
    wanted.update(site.files)
    docs_dir = Path(args.docs_dir) if args.docs_dir else config.docs_dir
    section, schemas = site.paths.section, site.paths.schemas
    manifest = f"{section}/{MANIFEST}" if section else MANIFEST
    return Plan.checked(docs_dir, wanted, manifest, (section, schemas))


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
