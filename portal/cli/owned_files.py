"""Where the CLI writes and deletes: only inside the folder a command owns, only regular files, atomically.

Every file a command writes goes through :func:`write_file` (a temporary file in the target's folder, renamed over
it: a reader sees the whole old file or the whole new one, and a symbolic link at the target is refused, never
followed). A path that comes from data rather than from the user's command line — a line of the ``eventdeck
docs`` manifest, a generated page's path — goes through :func:`confined` first, which refuses anything that could
leave the folder: an absolute path, a ``..`` segment, a symbolic link leading out.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pipeline.errors import EventdeckError


class UnsafePath(EventdeckError):
    """A path eventdeck was asked to write or delete would leave its folder, or is not a regular file there."""


class CannotWrite(EventdeckError):
    """The file system refused a write (the message names the file and the system's reason)."""


def relative_path_problem(text: str) -> str | None:
    """Why ``text`` is not a plain relative path inside a folder (``None`` when it is one): it must be relative,
    use ``/`` only, and have no empty, ``.`` or ``..`` segment and no control character."""
    if not text:
        return "is empty"
    if any(ord(c) < 0x20 or c == "\x7f" for c in text):
        return "contains a control character"
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return "is an absolute path"
    if "\\" in text:
        return "contains a backslash"
    segments = text.split("/")
    if ".." in segments:
        return "leaves its folder (a '..' segment)"
    if any(segment in ("", ".") for segment in segments):
        return "has an empty or '.' segment"
    return None


def confined(folder: Path, relative: str) -> Path:
    """``folder / relative``, checked to stay inside ``folder`` with every symbolic link resolved, and not to be a
    symbolic link itself.

    :raises UnsafePath: saying why (the caller adds where the path came from).
    """
    problem = relative_path_problem(relative)
    if problem:
        raise UnsafePath(problem)
    target = folder / relative
    try:
        base = folder.resolve()
        real = target.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (Python 3.11)
        raise UnsafePath(f"cannot be resolved ({exc})") from None
    if not real.is_relative_to(base):
        raise UnsafePath(f"leads out of {folder} through a symbolic link (to {real})")
    if target.is_symlink():
        raise UnsafePath("is a symbolic link (eventdeck writes and deletes only regular files)")
    return target


def write_file(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically, creating its folder. A new file gets the usual mode (``0666``
    less the umask), an existing one keeps its mode.

    :raises UnsafePath: ``target`` is a symbolic link or exists and is not a regular file.
    :raises CannotWrite: the file system refused (naming ``target`` and the reason).
    """
    if target.is_symlink():
        raise UnsafePath(f"{target} is a symbolic link: eventdeck replaces only regular files, never what a link "
                         "points to (remove the link, or write elsewhere)")
    if target.exists() and not target.is_file():
        raise UnsafePath(f"cannot write {target}: it is {'a folder' if target.is_dir() else 'not a regular file'}")
    try:
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        target.parent.mkdir(parents=True, exist_ok=True)
        # A short name of its own, in the target's folder: the rename is atomic, and a target name close to the
        # file system's limit still leaves room for the temporary one.
        descriptor, staging = tempfile.mkstemp(prefix=".eventdeck-", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise CannotWrite(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            stream.write(data)
        os.replace(staging, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise CannotWrite(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise


def _umask() -> int:
    current = os.umask(0o022)  # the only way to read it is to set it; put it back at once
    os.umask(current)
    return current
