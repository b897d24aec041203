"""The two sides of a diff: a file or folder on disk, or ``git:REF:PATH`` — a file or folder as it was at a commit.

``PATH`` of ``git:REF:PATH`` is relative to the current folder (as a path on disk would be), and may name a file
or folder that no longer exists in the working tree. A bare ``git:REF`` means the current folder at ``REF``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import EventdeckError

from .. import gitsource
from ..errors import ContractError
from ..loader import ContractLoader
from ..model import Catalogue

GIT_PREFIX = "git:"


class DiffInputError(EventdeckError):
    """A side of a diff cannot be read: no such file, no such revision, not a git checkout, or documents that do
    not load. The message names the side as the user wrote it, and the file, line and pointer when known."""


@dataclass(frozen=True, slots=True)
class Side:
    """One loaded version: how the user named it, its catalogue, and its commit when it came from git."""

    label: str
    catalogue: Catalogue
    commit: gitsource.Commit | None = None


def load_side(spec: str, loader: ContractLoader, root: str | os.PathLike[str] | None = None) -> Side:
    """Load the documents ``spec`` names (see the module docstring).

    :raises DiffInputError: the side cannot be read or modelled (message ready for a user)."""
    if spec.startswith(GIT_PREFIX):
        return _load_git(spec, loader)
    path = Path(spec)
    if not path.exists():
        raise DiffInputError(f"{spec}: no such file or folder")
    try:
        return Side(spec, loader.load([path], root=root))
    except ContractError as exc:
        raise DiffInputError(_contract_message(spec, exc)) from None


def _load_git(spec: str, loader: ContractLoader) -> Side:
    ref, _, path = spec[len(GIT_PREFIX):].partition(":")
    if not ref:
        raise DiffInputError(f"{spec}: expected git:REF:PATH (for example git:main:asyncapi)")
    local = Path(path or ".")
    repo = gitsource.toplevel(local if local.exists() else _existing_parent(local))
    if repo is None:
        raise DiffInputError(f"{spec}: {path or Path.cwd()} is not inside a git checkout (or git is "
                             "not installed)")
    try:
        sha = gitsource.resolve_commit(repo, ref)
        relative = gitsource.relative_to_repo(repo, local)
        commit = gitsource.commit_info(repo, sha)
        with gitsource.exported(repo, sha, relative) as copy:
            top = Path(str(copy)[: len(str(copy)) - len(relative)].rstrip("/")) if relative else copy
            try:
                catalogue = loader.load([copy])
            except ContractError as exc:
                message = _contract_message(spec, exc).replace(str(top) + os.sep, f"{GIT_PREFIX}{ref}:")
                raise DiffInputError(message) from None
    except gitsource.GitError as exc:
        raise DiffInputError(f"{spec}: {exc}") from None
    return Side(spec, catalogue, commit)


def _existing_parent(path: Path) -> Path:
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists():
            return parent
    return Path(".")


def _contract_message(spec: str, exc: ContractError) -> str:
    lines = [str(d) for d in exc.diagnostics] or [str(exc)]
    return f"{spec}: the documents cannot be read:\n  " + "\n  ".join(lines)
