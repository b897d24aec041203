"""The version history of a catalogue's documents: every earlier ``info.version``, when it appeared, what changed.

Read from git (the commits that changed the documents' folder, newest ``limit`` of them) or from an explicit list
of earlier versions (files, folders or ``git:REF:PATH``, oldest first). Each document's history is the sequence of
its distinct ``info.version`` values: a version's date is the author date of the first commit that carried it, its
content the last commit that still did (later fixes to the same version included), and the documents as they are
now (the working tree) are the newest version. Consecutive versions are compared with :mod:`.diff`.

History is optional and never fatal: outside a git checkout, without git, in a shallow clone, or at a commit
whose documents do not load, it says so in :attr:`History.notes` and carries on with what it has.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import gitsource
from .diff import EventDiff, Placed, diff_events, placed
from .diff.inputs import DiffInputError, load_side
from .errors import ContractError
from .loader import ContractLoader
from .model import Catalogue, Event

#: Commits read by default: each one is a full load of the documents (about a second for the examples).
DEFAULT_LIMIT = 30


@dataclass(frozen=True, slots=True)
class Release:
    """One version of one document: its events as they were, and how each differs from the previous release."""

    document: str
    version: str
    date: str | None
    """Author date (ISO 8601) of the first commit with this version; ``None``: not committed, or not from git."""
    commit: str | None
    events: Mapping[str, Placed]
    changes: tuple[EventDiff, ...] = ()
    """Against the previous release of the document (empty for the first one known)."""
    current: bool = False
    """The documents as they are now (what the rest of the catalogue shows)."""

    @property
    def day(self) -> str | None:
        return self.date[:10] if self.date else None


@dataclass(frozen=True, slots=True)
class History:
    """Every document's releases, oldest first (the last one is the current version), and what limited them."""

    releases: Mapping[str, tuple[Release, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def of_document(self, document_id: str) -> tuple[Release, ...]:
        return self.releases.get(document_id, ())

    def of_event(self, event: Event) -> tuple[tuple[Release, Placed | None, EventDiff | None], ...]:
        """The releases of ``event``'s document in which it existed or was changed (newest first): the release,
        the event as it was then, and its changes in that release."""
        rows = []
        for release in reversed(self.of_document(event.document_id)):
            found = release.events.get(event.key)
            change = next((c for c in release.changes if c.event == event.name), None)
            if found is not None or change is not None:
                rows.append((release, found, change))
        return tuple(rows)

    def older_schemas(self, event: Event) -> tuple[tuple[str, Event], ...]:
        """``(version, the event as it was)`` for every earlier version of ``event`` with a payload, newest first;
        the current version is not included."""
        seen = {event.version}
        found = []
        for release, then, _ in self.of_event(event):
            if then is not None and release.version not in seen and then.event.payload is not None:
                seen.add(release.version)
                found.append((release.version, then.event))
        return tuple(found)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    date: str | None
    commit: str | None
    catalogue: Catalogue


class GitHistory:
    """Reads the history of documents from git. The committed versions are remembered while ``HEAD`` and the
    paths stay the same, so a ``mkdocs serve`` rebuild only compares the working tree with them again."""

    def __init__(self, loader: ContractLoader, *, limit: int = DEFAULT_LIMIT,
                 root: str | os.PathLike[str] | None = None) -> None:
        self.loader, self.limit, self.root = loader, limit, root
        self._key: tuple[object, ...] | None = None
        self._snapshots: list[_Snapshot] = []
        self._notes: list[str] = []

    def history(self, paths: Sequence[str | os.PathLike[str]], current: Catalogue) -> History:
        """The history of ``current`` (loaded from ``paths``) from the commits that changed ``paths``."""
        given = [Path(p).resolve() for p in paths]
        if not given:
            return _only(current, "no documents given; no version history")
        repo = gitsource.toplevel(given[0])
        if repo is None:
            return _only(current, f"{given[0]} is not in a git checkout (or git is not installed): no version "
                                  "history before the current version")
        try:
            relatives = [gitsource.relative_to_repo(repo, p) for p in given]
            head = gitsource.resolve_commit(repo, "HEAD")
        except gitsource.GitError as exc:
            return _only(current, f"cannot read the git history: {exc}")
        key = (str(repo), tuple(relatives), head, self.limit, str(self.root))
        if key != self._key:
            self._snapshots, self._notes = self._read(repo, relatives)
            self._key = key
        return _assemble(self._snapshots, current, list(self._notes))

    def _read(self, repo: Path, relatives: list[str]) -> tuple[list[_Snapshot], list[str]]:
        notes: list[str] = []
        try:
            # With a $ref root wider than the documents' folders, files there change versions too: read it whole.
            root = gitsource.relative_to_repo(repo, Path(self.root).resolve()) if self.root is not None else None
            scope = [root] if root is not None else relatives
            if gitsource.is_shallow(repo):
                notes.append("the git checkout is a shallow clone: versions older than its first commit are "
                             "missing (fetch the full history, e.g. actions/checkout with fetch-depth: 0)")
            commits = list(reversed(gitsource.log(repo, scope, self.limit + 1)))
        except gitsource.GitError as exc:
            return [], [f"cannot read the git history: {exc}"]
        if len(commits) > self.limit:
            commits = commits[1:]
            notes.append(f"only the last {self.limit} commits of the documents are read")
        snapshots: list[_Snapshot] = []
        for commit in commits:
            try:
                with _exported(repo, commit.sha, scope) as top:
                    try:
                        catalogue = self.loader.load(
                            [top.joinpath(*Path(r).parts) for r in relatives],
                            root=top.joinpath(*Path(root).parts) if root is not None else None)
                    except ContractError as exc:
                        # Name the files as git does (the temporary copy's path would change every build).
                        why = _first_line(exc).replace(str(top) + os.sep, f"git:{commit.sha[:12]}:")
                        raise gitsource.GitError(why.replace(str(top), f"git:{commit.sha[:12]}:.")) from None
            except gitsource.GitError as exc:
                notes.append(f"commit {commit.sha[:12]} ({commit.day}) skipped: its documents do not load: {exc}")
                continue
            snapshots.append(_Snapshot(commit.date, commit.sha, catalogue))
        return snapshots, notes


def git_history(paths: Sequence[str | os.PathLike[str]], current: Catalogue, loader: ContractLoader, *,
                limit: int = DEFAULT_LIMIT, root: str | os.PathLike[str] | None = None) -> History:
    """The history of ``current`` (loaded from ``paths``) from the git commits that changed ``paths``."""
    return GitHistory(loader, limit=limit, root=root).history(paths, current)


def listed_history(sources: Iterable[str], current: Catalogue, loader: ContractLoader) -> History:
    """The history of ``current`` from an explicit list of earlier versions (oldest first): files, folders or
    ``git:REF:PATH``. A source that cannot be read is a note, not a failure."""
    notes: list[str] = []
    snapshots = []
    for source in sources:
        try:
            side = load_side(source, loader)
        except DiffInputError as exc:
            notes.append(f"earlier version {source} skipped: {_first_line(exc)}")
            continue
        snapshots.append(_Snapshot(side.commit.date if side.commit else None,
                                   side.commit.sha if side.commit else None, side.catalogue))
    return _assemble(snapshots, current, notes)


def _only(current: Catalogue, note: str) -> History:
    return _assemble([], current, [note])


def _assemble(snapshots: list[_Snapshot], current: Catalogue, notes: list[str]) -> History:
    """Group the snapshots (oldest first) into each current document's releases and compare consecutive ones."""
    releases: dict[str, tuple[Release, ...]] = {}
    for document in current.documents:
        versions: dict[str, dict[str, object]] = {}
        for snapshot in snapshots:
            then = next((d for d in snapshot.catalogue.documents if d.id == document.id), None)
            if then is None:
                continue
            entry = versions.setdefault(then.info.version, {"date": snapshot.date, "commit": snapshot.commit})
            entry["catalogue"] = snapshot.catalogue  # the last commit of a version is what it ended as
            entry["last_commit"] = snapshot.commit
            versions.pop(then.info.version)
            versions[then.info.version] = entry  # ordered by the last appearance
        now = versions.pop(document.info.version, {"date": None, "commit": None})
        now["catalogue"] = current
        versions[document.info.version] = now
        ordered: list[Release] = []
        previous: Mapping[str, Placed] | None = None
        for version, entry in versions.items():
            catalogue = entry["catalogue"]
            assert isinstance(catalogue, Catalogue)
            events = placed(catalogue, [document.id])
            changes = diff_events(previous, events) if previous is not None else ()
            ordered.append(Release(document.id, version, entry["date"] if isinstance(entry["date"], str) else None,
                                   entry["commit"] if isinstance(entry["commit"], str) else None, events,
                                   tuple(c for c in changes if c.changes), catalogue is current))
            previous = events
        releases[document.id] = tuple(ordered)
    return History(releases, tuple(notes))


@contextmanager
def _exported(repo: Path, sha: str, paths: list[str]) -> Iterator[Path]:
    """A temporary copy of the checkout at ``sha`` holding ``paths`` (removed afterwards)."""
    folder = Path(tempfile.mkdtemp(prefix="eventdeck-history-"))
    try:
        for path in paths:
            gitsource.export(repo, sha, path, folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _first_line(exc: Exception) -> str:
    diagnostics = getattr(exc, "diagnostics", None)
    text = str(diagnostics[0]) if diagnostics else str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
