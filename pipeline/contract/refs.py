"""Find files and follow ``$ref``s: relative to the referring document, never to the working directory, and never
out of the *root* folder.

Every local reference must stay inside a root folder (:class:`RefRoot`; by default the folder the documents were
loaded from): an absolute path, a ``..`` that climbs out of it, a symbolic link that leads out of it and a
``file:`` URI are refused before anything is read, with the file, line and pointer of the ``$ref``. A remote
document (fetched with ``allow_http``) may refer only to other ``http(s)`` URLs, never to a local file. A local
``$ref`` may name only a YAML or JSON file (:data:`REFERENCE_SUFFIXES`), so a reference to a key, a password file
or a Markdown page is refused by its name and no message ever quotes its content.

``Sources`` reads and caches files (keyed by modification time and size, so a warm reload re-reads only what
changed) and fetches ``http(s)`` references only when allowed, with a timeout and a cache. ``Dereferencer`` builds
the dereferenced view of a document that the official JSON Schema checks and the normaliser read: every ``$ref``
replaced by its target, shared targets shared, cycles kept as ``$ref`` (recursive schemas are legal, expanding them
is not), and every container remembering where it came from.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import yaml

from .errors import ContractError, Diagnostic, DiagnosticSink, Location, RefError, SourceError
from .source import MAX_DOCUMENT_BYTES, MAX_NESTING_DEPTH, TOO_DEEP, SourceDocument, parse_text, top_level_has_key

HTTP_TIMEOUT_SECONDS = 10.0
#: The files a local ``$ref`` may name, whatever the case of the suffix: YAML and JSON documents (an Avro schema,
#: ``.avsc``, is JSON).
REFERENCE_SUFFIXES = (".yaml", ".yml", ".json", ".avsc")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _has_asyncapi_key(data: Any) -> bool:
    return isinstance(data, dict) and "asyncapi" in data


def _is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


@dataclass(frozen=True)
class RefRoot:
    """The folder local ``$ref``s may not leave (an absolute path, symbolic links resolved)."""

    folder: str

    @classmethod
    def of(cls, folder: str | os.PathLike[str]) -> RefRoot:
        return cls(os.path.realpath(folder))

    def contains(self, path: str) -> bool:
        return path == self.folder or path.startswith(self.folder.rstrip(os.sep) + os.sep)

    def check(self, ref: str, uri: str, at: Location | None) -> None:
        """Raise :class:`RefError` unless the local file ``uri`` (``ref`` as written, resolved) may be read."""
        if not self.contains(os.path.normpath(uri)):
            raise RefError(f"$ref '{ref}' leads outside the root folder {_shown(self.folder)}; references must stay "
                           "inside it (set another root with --root or the plugin's root option)", at)
        if not self.contains(os.path.realpath(uri)):
            raise RefError(f"$ref '{ref}' goes through a symbolic link that leads outside the root folder "
                           f"{_shown(self.folder)}; refused", at)


def _shown(folder: str) -> str:
    try:
        return os.path.relpath(folder) if not os.path.relpath(folder).startswith("..") else folder
    except ValueError:
        return folder


def _check_document_name(ref: str, uri: str, at: Location | None) -> None:
    """A local ``$ref`` names a YAML or JSON file, by its name and by the name a symbolic link leads to."""
    if os.path.isdir(uri):
        raise RefError(f"'{uri}' is a folder, not a file", at)
    for name in (uri, os.path.realpath(uri)):
        if not name.lower().endswith(REFERENCE_SUFFIXES):
            suffix = os.path.splitext(name)[1] or "no suffix"
            raise RefError(f"$ref '{ref}' names a file that is not a YAML or JSON document ({suffix}); a $ref may "
                           f"name only {', '.join(REFERENCE_SUFFIXES)} files (its content is not read)", at)


def _check_url(ref: str, url: str, where: Location) -> None:
    try:
        urlsplit(url)
    except ValueError as exc:
        raise RefError(f"$ref '{ref}' is not a valid URL: {exc}", where) from None


def split_ref(ref: str, base_uri: str, at: Location | None = None) -> tuple[str, str]:
    """``(absolute uri, pointer)`` of ``ref`` as written in a document at ``base_uri`` (``at``: where, for errors).

    Raises :class:`RefError` for what no document may refer to, whatever the root: an absolute file path, a
    ``file:`` or other non-http(s) URI, and — from a remote document — anything but another http(s) URL."""
    where = at or Location(base_uri)
    target, _, fragment = ref.partition("#")
    pointer = unquote(fragment)
    if pointer and not pointer.startswith("/"):
        raise RefError(f"'{ref}': only JSON-pointer fragments ('#/...') are supported", where)
    if not target:
        return base_uri, pointer
    if "\x00" in target or "\x00" in unquote(target):
        raise RefError(f"$ref {ref!r} contains a NUL character; refused", where)
    scheme = _SCHEME.match(target)
    if scheme and len(scheme.group(1)) > 1:  # one letter: a Windows drive, an absolute path (below)
        name = scheme.group(1).lower()
        if name in ("http", "https"):
            _check_url(ref, target, where)
            return target, pointer
        if name == "file":
            raise RefError(f"$ref '{ref}': file: URIs are not allowed; refer to a file by a path relative to the "
                           "document", where)
        raise RefError(f"$ref '{ref}': unsupported reference scheme '{name}:' (use a relative file path, or "
                       "http(s) with --allow-http)", where)
    if _is_remote(base_uri):
        _check_url(ref, target, where)
        joined = urljoin(base_uri, target)
        if not _is_remote(joined):
            raise RefError(f"$ref '{ref}' in a remote document does not lead to an http(s) URL; a remote document "
                           "may never refer to a local file", where)
        return joined, pointer
    path = unquote(target)
    if os.path.isabs(path) or path.startswith(("/", "\\")) or scheme:
        raise RefError(f"$ref '{ref}' is an absolute path; refer to files by a path relative to the document", where)
    return os.path.normpath(os.path.join(os.path.dirname(base_uri), path)), pointer


def resolve_pointer(data: Any, pointer: str) -> Any:
    """The value at ``pointer``; raises ``KeyError`` naming the first token that is missing."""
    node = data
    if not pointer:
        return node
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(token)
    return node


@dataclass
class _Stamp:
    mtime_ns: int
    size: int


@dataclass
class Sources:
    """Reads contract files once per change. ``allow_http`` opts in to fetching remote references."""

    allow_http: bool = False
    http_timeout: float = HTTP_TIMEOUT_SECONDS
    http_cache_dir: Path | None = None
    _files: dict[str, tuple[_Stamp, SourceDocument]] = field(default_factory=dict)
    _remote: dict[str, SourceDocument] = field(default_factory=dict)
    _roots: dict[str, tuple[_Stamp, bool]] = field(default_factory=dict)

    def is_root(self, uri: str) -> bool:
        """Whether the local file ``uri`` parses to a mapping with an ``asyncapi`` key (an AsyncAPI document, not a
        file it refers to); remembered until the file changes. Raises :class:`ContractError` when it cannot be
        read or parsed.

        A JSON file is parsed (the C parser is fast) and kept for :meth:`get`; YAML is read with libyaml's event
        parser only as far as its top-level keys, so a document is recognised at its ``asyncapi`` key without
        being built twice, and only files that are not documents are read to their end."""
        try:
            st = os.stat(uri)
        except OSError:
            return _has_asyncapi_key(self.get(uri).data)  # raises the error that names the problem
        stamp = _Stamp(st.st_mtime_ns, st.st_size)
        known = self._roots.get(uri)
        if known is not None and known[0] == stamp:
            return known[1]
        answer: bool | None = None
        if st.st_size <= MAX_DOCUMENT_BYTES and not uri.lower().endswith(".json"):
            try:
                with open(uri, "rb") as handle:
                    head = handle.read(1024).decode("utf-8-sig", errors="replace").lstrip()
                    if head and not head.startswith(("{", "[")):
                        handle.seek(0)
                        answer = top_level_has_key(handle, "asyncapi")
            except (OSError, yaml.YAMLError):
                answer = None
        if answer is None:  # JSON, or only the built value can tell (a merge key, or a problem, then reported)
            answer = _has_asyncapi_key(self.get(uri).data)
        self._roots[uri] = (stamp, answer)
        return answer

    def get(self, uri: str, referrer: Location | None = None) -> SourceDocument:
        """The parsed document at ``uri``. Raises :class:`RefError` (missing, forbidden) or :class:`SourceError`."""
        if uri.startswith(("http://", "https://")):
            return self._get_remote(uri, referrer)
        if "://" in uri:
            raise RefError(f"'{uri}': unsupported reference scheme (use a relative file path, or http(s) with "
                           "--allow-http)", referrer)
        try:
            st = os.stat(uri)
        except FileNotFoundError:
            raise RefError(f"file '{uri}' does not exist", referrer) from None
        except OSError as exc:
            raise RefError(f"file '{uri}' cannot be read: {exc.strerror}", referrer) from None
        stamp = _Stamp(st.st_mtime_ns, st.st_size)
        cached = self._files.get(uri)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if st.st_size > MAX_DOCUMENT_BYTES:
            raise SourceError(f"file is {st.st_size:,} bytes; eventdeck refuses documents over "
                              f"{MAX_DOCUMENT_BYTES:,} bytes (split it into files joined by $ref)", Location(uri))
        try:
            text = Path(uri).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError(f"file is not UTF-8 text (byte {exc.start})", Location(uri)) from None
        except IsADirectoryError:
            raise RefError(f"'{uri}' is a folder, not a file", referrer) from None
        document = parse_text(text, uri)
        self._files[uri] = (stamp, document)
        return document

    def forget(self, uri: str) -> None:
        """Drop the parsed form of the local file ``uri`` (the next :meth:`get` reads it again): a loader keeps
        what it built from a document, so the document's own parse is dead weight once it is built."""
        self._files.pop(uri, None)

    def stamp(self, uri: str) -> tuple[int, int] | None:
        """What a cache of derived results keys on: (mtime_ns, size), or None for remote/missing files."""
        if "://" in uri:
            return (0, 0) if uri in self._remote else None
        try:
            st = os.stat(uri)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _get_remote(self, uri: str, referrer: Location | None) -> SourceDocument:
        if uri in self._remote:
            return self._remote[uri]
        if not self.allow_http:
            raise RefError(f"remote reference '{uri}' was not fetched: remote references are off "
                           "(allow them with --allow-http, or vendor the file and refer to it by a relative path)",
                           referrer)
        cache_file = None
        if self.http_cache_dir is not None:
            cache_file = self.http_cache_dir / hashlib.sha256(uri.encode()).hexdigest()
            if cache_file.is_file():
                document = parse_text(cache_file.read_text("utf-8"), uri)
                self._remote[uri] = document
                return document
        try:
            request = urllib.request.Request(uri, headers={"Accept": "application/json, application/yaml, */*"})
            with urllib.request.urlopen(request, timeout=self.http_timeout) as response:
                body = response.read(MAX_DOCUMENT_BYTES + 1)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RefError(f"remote reference '{uri}' could not be fetched: {reason}", referrer) from None
        if len(body) > MAX_DOCUMENT_BYTES:
            raise SourceError(f"remote document is over {MAX_DOCUMENT_BYTES:,} bytes; refused", Location(uri))
        text = body.decode("utf-8-sig", errors="replace")
        document = parse_text(text, uri)
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(text, "utf-8")
            tmp.replace(cache_file)
        self._remote[uri] = document
        return document


Origin = tuple[str, str]  # (uri, pointer) a dereferenced container was built from


class Dereferencer:
    """Builds the dereferenced view of one root document and remembers the origin of each container.

    Problems (unresolved references, cycles made only of references) become diagnostics on ``sink``; the
    reference is then kept as written so the rest of the document can still be modelled.
    """

    def __init__(self, sources: Sources, sink: DiagnosticSink,
                 on_file: Callable[[str], None] | None = None, root: RefRoot | None = None) -> None:
        """``root``: the folder local references may not leave (``None``: no such limit, for tests and tools
        that read one trusted file)."""
        self.sources = sources
        self.sink = sink
        self.root = root
        self.origins: dict[int, Origin] = {}
        self._alive: list[Any] = []  # objects whose id() is a key of `origins` but that nothing else holds
        self._done: dict[Origin, Any] = {}
        self._heights: dict[int, int] = {}  # id(dereferenced container) -> levels of containers in it, itself too
        self._reach = 0  # the deepest level reached below the container being built
        self._escaped: dict[str, str] = {}  # key -> "/" + its escaped JSON-pointer token
        self._reported: set[str] = set()
        self._admitted: set[str] = set()  # local files a $ref may name (inside the root, a YAML or JSON document)
        self._read: dict[str, SourceDocument] = {}  # what each file was when this document first read it
        self._split: dict[tuple[str, str], tuple[str, str]] = {}  # (ref, file it is in) -> (uri, pointer)
        self._on_file = on_file

    def remember(self, value: Any, origin: Origin) -> None:
        """Record that ``value`` (a copy made after dereferencing) stands for the source at ``origin``."""
        self._alive.append(value)  # an id() is only unique while its object lives
        self.origins[id(value)] = origin

    def document(self, uri: str, referrer: Location | None = None) -> SourceDocument:
        # Reported before reading: a file that is missing or does not parse is a file the result depends on too,
        # so that creating or fixing it invalidates what was derived while it was broken.
        if self._on_file is not None:
            self._on_file(uri)
        # One view of each file for the whole document: asking Sources again would stat the file per $ref and per
        # location (thousands of system calls for one document) and could mix two versions of a file being saved.
        document = self._read.get(uri)
        if document is None:
            document = self._read[uri] = self.sources.get(uri, referrer)
        if document.diagnostics and uri not in self._reported:  # duplicate keys, in a shared file too
            self._reported.add(uri)
            self.sink.items.extend(document.diagnostics)
        return document

    def locate(self, uri: str, pointer: str) -> Location:
        try:
            document = self._read.get(uri) or self.sources.get(uri)
            return document.locate(pointer)
        except ContractError:
            return Location(uri, pointer)

    def deref_root(self, uri: str) -> Any:
        """The dereferenced view of the document at ``uri``. Raises :class:`SourceError` when, with its ``$ref``s
        followed, it nests more than :data:`MAX_NESTING_DEPTH` levels deep (nothing downstream could walk it)."""
        return self._deref_at(uri, "", self.document(uri).data, 1)

    def target(self, ref: str, at: Location) -> tuple[str, str, Any]:
        """Resolve one ``$ref`` written at ``at``: ``(uri, pointer, raw value)``. Raises :class:`RefError`, before
        reading anything, for a reference that leaves the root or names something that is not a document."""
        split = self._split.get((ref, at.file))
        if split is None:  # a document repeats the same references (the shared schemas) many times
            split = self._split[(ref, at.file)] = split_ref(ref, at.file, at)
        uri, pointer = split
        if uri != at.file and uri not in self._admitted and not _is_remote(uri):
            if self.root is not None:
                self.root.check(ref, uri, at)
            _check_document_name(ref, uri, at)
            self._admitted.add(uri)  # checked once per file: the checks resolve links, which costs system calls
        document = self.document(uri, at)
        try:
            return uri, pointer, resolve_pointer(document.data, pointer)
        except KeyError as exc:
            raise RefError(f"'{ref}' does not resolve: '{exc.args[0]}' not found in {Path(uri).name}"
                           + (f" at #{pointer}" if pointer else ""), at) from None

    def target_at(self, ref: str, uri: str, pointer: str) -> tuple[str, str, Any]:
        """:meth:`target` for the ``$ref`` at ``uri#pointer``, whose line and column are looked up only when it
        fails: finding them walks the file's positions, and almost every reference resolves."""
        at = Location(uri, pointer)
        try:
            return self.target(ref, at)
        except ContractError as exc:
            located = self.locate(uri, pointer)
            raise type(exc)(exc.message, located if exc.location is at else exc.location,
                            [Diagnostic(d.severity, d.code, d.message, located) if d.location is at else d
                             for d in exc.diagnostics]) from None

    def _deref_at(self, uri: str, pointer: str, value: Any, depth: int, via: Origin | None = None) -> Any:
        """The dereferenced copy of ``value`` (at ``uri#pointer``), placed ``depth`` levels deep in the document;
        ``via``: where the ``$ref`` that placed it there is, if one did.

        Depth is checked as the view is built: every new container against the limit, and a part placed again (a
        shared ``$ref`` target) by the height it was measured at. ``_reach`` is the deepest level reached below
        the container being built, so each container's height costs a few assignments, not another walk."""
        origin = (uri, pointer)
        done = self._done.get(origin)
        if done is not None:
            height = self._heights.get(id(done), 0)
            if depth + height - 1 > MAX_NESTING_DEPTH:
                self._too_deep_inside(done, depth, via)
            if depth + height - 1 > self._reach:
                self._reach = depth + height - 1
            return done
        kind = value.__class__
        if kind is dict:
            ref = value.get("$ref")
            if ref.__class__ is str:
                return self._follow(ref, uri, pointer, value, depth)
            if depth > MAX_NESTING_DEPTH:
                raise self._too_deep(origin, via)
            out: dict[str, Any] = {}
            self._done[origin] = out
            self.origins[id(out)] = origin
            outer, self._reach = self._reach, depth
            deref, escaped = self._deref_at, self._escaped
            for key, child in value.items():
                if child.__class__ is dict or child.__class__ is list:
                    token = escaped.get(key)
                    if token is None:
                        token = escaped[key] = "/" + _escape(key)
                    out[key] = deref(uri, pointer + token, child, depth + 1)
                else:
                    out[key] = child
            # Its height marks it as built (see _building).
            self._heights[id(out)] = self._reach - depth + 1
            if outer > self._reach:
                self._reach = outer
            return out
        if kind is list:
            if depth > MAX_NESTING_DEPTH:
                raise self._too_deep(origin, via)
            items: list[Any] = []
            self._done[origin] = items
            self.origins[id(items)] = origin
            outer, self._reach = self._reach, depth
            deref = self._deref_at
            for index, child in enumerate(value):
                items.append(deref(uri, f"{pointer}/{index}", child, depth + 1)
                             if child.__class__ is dict or child.__class__ is list else child)
            self._heights[id(items)] = self._reach - depth + 1
            if outer > self._reach:
                self._reach = outer
            return items
        return value

    def _building(self, origin: Origin) -> bool:
        """Whether the container at ``origin`` is being built (reached again from inside itself): it is in
        ``_done`` from its start, and has its height only once built."""
        done = self._done.get(origin)
        return done is not None and id(done) not in self._heights

    def _too_deep(self, origin: Origin, via: Origin | None) -> SourceError:
        return SourceError(TOO_DEEP + " with its $refs followed", self.locate(*(via or origin)))

    def _too_deep_inside(self, done: Any, depth: int, via: Origin | None) -> None:
        """Raise for a part placed again at ``depth`` that does not fit there: at the first level too many."""
        if depth > MAX_NESTING_DEPTH and via is not None:
            raise self._too_deep(("", ""), via)
        node = done
        for _ in range(MAX_NESTING_DEPTH - depth + 1):  # down its deepest branch
            children = [c for c in (node.values() if isinstance(node, dict) else node) if isinstance(c, dict | list)]
            node = max(children, key=lambda c: self._heights.get(id(c), 1))
        origin = self.origins.get(id(node))
        raise SourceError(TOO_DEEP + " with its $refs followed", self.locate(*origin) if origin else Location(""))

    def _follow(self, ref: str, uri: str, pointer: str, raw: dict[str, Any], depth: int) -> Any:
        if depth > MAX_NESTING_DEPTH:  # the reference itself is one level too deep, whatever it leads to
            raise self._too_deep((uri, pointer + "/$ref"), None)
        if depth > self._reach:
            self._reach = depth
        at = (uri, pointer + "/$ref")
        seen = [(uri, pointer)]
        current_ref, current_at = ref, at
        while True:
            try:
                target_uri, target_pointer, value = self.target_at(current_ref, *current_at)
            except ContractError as exc:
                for diagnostic in exc.diagnostics:
                    self.sink.items.append(diagnostic)
                return raw
            target = (target_uri, target_pointer)
            if target in seen:
                chain = " -> ".join(f"{Path(u).name}#{p}" for u, p in [*seen, target])
                self.sink.error("ref-cycle", f"circular $ref made only of references: {chain}", self.locate(*at))
                return raw
            if self._building(target):
                # A recursive structure (e.g. a schema that contains itself): keep the reference.
                return raw
            if isinstance(value, dict) and isinstance(value.get("$ref"), str):
                seen.append(target)
                current_ref, current_at = value["$ref"], (target_uri, target_pointer + "/$ref")
                continue
            return self._deref_at(target_uri, target_pointer, value, depth, current_at)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
