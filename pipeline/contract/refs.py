"""Find files and follow ``$ref``s: relative to the referring document, never to the working directory.

``Sources`` reads and caches files (keyed by modification time and size, so a warm reload re-reads only what
changed) and fetches ``http(s)`` references only when allowed, with a timeout and a cache. ``Dereferencer`` builds
the dereferenced view of a document that the official JSON Schema checks and the normaliser read: every ``$ref``
replaced by its target, shared targets shared, cycles kept as ``$ref`` (recursive schemas are legal, expanding them
is not), and every container remembering where it came from.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from .errors import ContractError, DiagnosticSink, Location, RefError, SourceError
from .source import MAX_DOCUMENT_BYTES, SourceDocument, parse_text

HTTP_TIMEOUT_SECONDS = 10.0


def split_ref(ref: str, base_uri: str) -> tuple[str, str]:
    """``(absolute uri, pointer)`` of ``ref`` as written in a document at ``base_uri``."""
    target, _, fragment = ref.partition("#")
    pointer = unquote(fragment)
    if pointer and not pointer.startswith("/"):
        raise RefError(f"'{ref}': only JSON-pointer fragments ('#/...') are supported", Location(base_uri))
    if not target:
        return base_uri, pointer
    if "://" in target or "://" in base_uri:
        joined = urljoin(base_uri if "://" in base_uri else Path(base_uri).as_uri(), target)
        if joined.startswith("file://"):
            return str(Path(unquote(urlsplit(joined).path))), pointer
        return joined, pointer
    return os.path.normpath(os.path.join(os.path.dirname(base_uri), unquote(target))), pointer


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
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
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
                 on_file: Callable[[str], None] | None = None) -> None:
        self.sources = sources
        self.sink = sink
        self.origins: dict[int, Origin] = {}
        self._alive: list[Any] = []  # objects whose id() is a key of `origins` but that nothing else holds
        self._done: dict[Origin, Any] = {}
        self._active: set[Origin] = set()
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
        return self.sources.get(uri, referrer)

    def locate(self, uri: str, pointer: str) -> Location:
        try:
            return self.sources.get(uri).locate(pointer)
        except ContractError:
            return Location(uri, pointer)

    def deref_root(self, uri: str) -> Any:
        return self._deref_at(uri, "", self.document(uri).data)

    def target(self, ref: str, at: Location) -> tuple[str, str, Any]:
        """Resolve one ``$ref`` written at ``at``: ``(uri, pointer, raw value)``. Raises :class:`RefError`."""
        uri, pointer = split_ref(ref, at.file)
        document = self.document(uri, at)
        try:
            return uri, pointer, resolve_pointer(document.data, pointer)
        except KeyError as exc:
            raise RefError(f"'{ref}' does not resolve: '{exc.args[0]}' not found in {Path(uri).name}"
                           + (f" at #{pointer}" if pointer else ""), at) from None

    def _deref_at(self, uri: str, pointer: str, value: Any) -> Any:
        origin = (uri, pointer)
        if origin in self._done:
            return self._done[origin]
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                return self._follow(ref, uri, pointer, value)
            out: dict[str, Any] = {}
            self._done[origin] = out
            self.origins[id(out)] = origin
            self._active.add(origin)
            for key, child in value.items():
                out[key] = self._deref_at(uri, f"{pointer}/{_escape(key)}", child) \
                    if isinstance(child, dict | list) else child
            self._active.discard(origin)
            return out
        if isinstance(value, list):
            items: list[Any] = []
            self._done[origin] = items
            self.origins[id(items)] = origin
            self._active.add(origin)
            for index, child in enumerate(value):
                items.append(self._deref_at(uri, f"{pointer}/{index}", child)
                             if isinstance(child, dict | list) else child)
            self._active.discard(origin)
            return items
        return value

    def _follow(self, ref: str, uri: str, pointer: str, raw: dict[str, Any]) -> Any:
        at = self.locate(uri, pointer + "/$ref")
        seen = [(uri, pointer)]
        current_ref, current_at = ref, at
        while True:
            try:
                target_uri, target_pointer, value = self.target(current_ref, current_at)
            except ContractError as exc:
                for diagnostic in exc.diagnostics:
                    self.sink.items.append(diagnostic)
                return raw
            target = (target_uri, target_pointer)
            if target in seen:
                chain = " -> ".join(f"{Path(u).name}#{p}" for u, p in [*seen, target])
                self.sink.error("ref-cycle", f"circular $ref made only of references: {chain}", at)
                return raw
            if target in self._active:
                # A recursive structure (e.g. a schema that contains itself): keep the reference.
                return raw
            if isinstance(value, dict) and isinstance(value.get("$ref"), str):
                seen.append(target)
                current_ref, current_at = value["$ref"], self.locate(target_uri, target_pointer + "/$ref")
                continue
            return self._deref_at(target_uri, target_pointer, value)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
