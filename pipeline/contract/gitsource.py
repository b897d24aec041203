"""Read AsyncAPI documents as they were at a git commit, without touching the working tree.

Every git command is an argument list run with :mod:`subprocess` (never a shell), with ``--`` before paths and a
check that a revision given by a user names a commit before it is used, so a hostile ``REF`` (``--output=…``,
``$(…)``) is only ever a revision name git refuses. A tree is copied out with ``git ls-tree`` and ``git cat-file
--batch`` into a temporary folder: regular files only (symbolic links and submodules are left out, so nothing
read can point outside the copy), bounded in size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import EventdeckError

#: What one export may copy out of git: a document set larger than this is not a contract.
MAX_EXPORT_BYTES = 256 * 1024 * 1024
GIT_TIMEOUT = 120


class GitError(EventdeckError):
    """git is missing, the folder is no checkout, a revision or path does not exist (the message says which)."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    date: str
    """Author date, strict ISO 8601 (``2026-03-01T12:00:00+00:00``)."""
    subject: str

    @property
    def day(self) -> str:
        return self.date[:10]


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), "--no-pager", *args], input=stdin, capture_output=True,
                              check=False, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish within {GIT_TIMEOUT} s in {repo}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed in {repo}")
    return done.stdout


def toplevel(folder: Path) -> Path | None:
    """The root of the git checkout ``folder`` is in (``None``: not a checkout, or git is missing)."""
    start = folder if folder.is_dir() else folder.parent
    try:
        return Path(_git(start, "rev-parse", "--show-toplevel").decode("utf-8", "replace").strip())
    except GitError:
        return None


def is_shallow(repo: Path) -> bool:
    return _git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"


def resolve_commit(repo: Path, ref: str) -> str:
    """The commit ``ref`` names. :raises GitError: naming ``ref`` when it names none."""
    if not ref or ref.startswith("-") or "\x00" in ref:
        raise GitError(f"{ref!r} is not a git revision")
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
    except GitError:
        raise GitError(f"git revision {ref!r} does not exist in {repo}") from None


def commit_info(repo: Path, sha: str) -> Commit:
    line = _git(repo, "show", "-s", "--format=%H%x1f%aI%x1f%s", sha, "--").decode("utf-8", "replace").strip()
    full, date, subject = [*line.split("\x1f"), "", ""][:3]
    return Commit(full, date, subject)


def log(repo: Path, paths: list[str], limit: int) -> list[Commit]:
    """The commits (newest first, at most ``limit``) that changed any of ``paths`` (relative to ``repo``)."""
    out = _git(repo, "log", f"--max-count={limit}", "--format=%H%x1f%aI%x1f%s%x1e", "HEAD", "--", *paths)
    commits = []
    for record in out.decode("utf-8", "replace").split("\x1e"):
        record = record.strip()
        if record:
            sha, date, subject = [*record.split("\x1f"), "", ""][:3]
            commits.append(Commit(sha, date, subject))
    return commits


def relative_to_repo(repo: Path, path: Path) -> str:
    """``path`` (absolute, or relative to the current folder) as a path inside ``repo``, POSIX style."""
    absolute = Path(os.path.realpath(path))
    try:
        relative = absolute.relative_to(Path(os.path.realpath(repo)))
    except ValueError:
        raise GitError(f"{path} is not inside the git checkout {repo}") from None
    return relative.as_posix() if str(relative) != "." else ""


def export(repo: Path, sha: str, path: str, into: Path) -> Path:
    """Copy ``path`` (a file or folder inside ``repo``) as it is at commit ``sha`` below ``into``; the copy of
    ``path``. A file's whole folder is copied, so its relative ``$ref``s resolve.

    :raises GitError: when ``path`` does not exist at that commit, or the copy would be too large."""
    kind = _object_type(repo, sha, path)
    if kind is None:
        raise GitError(f"{path or '.'} does not exist at {sha[:12]}")
    folder = path if kind == "tree" else str(PurePosixPath(path).parent) if "/" in path else ""
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", sha, "--", *([folder] if folder else []))
    blobs: list[tuple[str, str]] = []
    for entry in listing.split(b"\x00"):
        if not entry:
            continue
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind_, object_id = meta.decode().split()
        if kind_ == "blob" and mode in ("100644", "100755"):
            blobs.append((object_id, raw_name.decode("utf-8", "surrogateescape")))
    total = 0
    if blobs:
        out = _git(repo, "cat-file", "--batch", stdin="".join(f"{o}\n" for o, _ in blobs).encode())
        offset = 0
        for _, name in blobs:
            header_end = out.index(b"\n", offset)
            size = int(out[offset:header_end].split()[2])
            data = out[header_end + 1: header_end + 1 + size]
            offset = header_end + 1 + size + 1
            total += size
            if total > MAX_EXPORT_BYTES:
                raise GitError(f"{folder or '.'} at {sha[:12]} holds more than {MAX_EXPORT_BYTES // 2**20} MB; "
                               "not a contract folder")
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                continue
            target = into.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    result = into.joinpath(*PurePosixPath(path).parts) if path else into
    if kind == "tree":
        result.mkdir(parents=True, exist_ok=True)
    return result


def _object_type(repo: Path, sha: str, path: str) -> str | None:
    try:
        return _git(repo, "cat-file", "-t", f"{sha}:{path}").decode().strip()
    except GitError:
        return None


@contextmanager
def exported(repo: Path, sha: str, path: str) -> Iterator[Path]:
    """:func:`export` into a temporary folder that is removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="eventdeck-git-"))
    try:
        yield export(repo, sha, path, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
