"""Generate fastjsonschema validator code once, with the one rewrite that makes it fast on nested data.

fastjsonschema names the path of every array item it descends into with ``"...{var}".format(**locals())``:
building a dict of every local variable per item. An f-string means the same and costs a fraction (a third of
the validation time on large AsyncAPI documents, a fifth on a nested event payload). Both the official AsyncAPI
validators (:mod:`.specs`) and the pipeline's payload validators go through here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from types import CodeType
from typing import Any

import fastjsonschema

_FORMAT_LOCALS = re.compile(r'"([^"\n]*)"\.format\(\*\*locals\(\)\)')
_ENTRY = re.compile(r"^def (validate\w*)\(", re.MULTILINE)


def generate(schema: Any, *, filename: str, **options: Any) -> tuple[str, CodeType]:
    """``(entry function name, compiled module code)`` for ``schema``; ``options`` go to
    ``fastjsonschema.compile_to_code``. Raises ``fastjsonschema.JsonSchemaDefinitionException`` for a schema
    it cannot compile and ``ValueError`` if it generated no function, or code Python cannot compile."""
    source = _FORMAT_LOCALS.sub(r'f"\1"', fastjsonschema.compile_to_code(schema, **options))
    entry = _ENTRY.search(source)
    if entry is None:
        raise ValueError(f"fastjsonschema generated no validator for {filename}")
    try:
        return entry.group(1), compile(source, filename, "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        # An array of arrays nested past ~20 levels becomes more nested loops than Python compiles ("too many
        # statically nested blocks"); the callers fall back to jsonschema, which validates any depth the loader
        # lets through (``source.MAX_NESTING_DEPTH``).
        raise ValueError(f"the validator fastjsonschema generated for {filename} cannot be compiled: "
                         f"{getattr(exc, 'msg', None) or type(exc).__name__}") from None


def load(name: str, code: CodeType) -> Any:
    """The entry function of generated ``code``."""
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace[name]


def load_once_per_object(name: str, code: CodeType) -> Callable[[Any], Any]:
    """The entry function of generated ``code``, checking each object or array once per definition per call.

    A dereferenced document shares objects: a schema every message refers to, a message both a channel and the
    components hold. The generated code calls one function per definition of the schema (``validate_..._json``)
    and, unaided, would check a shared object again each time it is met. Each such function is wrapped: the first
    call for a given container (by identity) runs it, later calls for the same container return at once. That is
    exact, not an approximation: a definition's verdict depends only on the value (the other arguments name the
    path for the message), a container that failed raised and ended the call, and the memo holds every container
    it names, so no identity is reused while it lives; it is emptied after each call, so an edited document is
    checked afresh. A container met under two definitions is checked under both.
    """
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    checked: dict[tuple[str, int], Any] = {}

    def once(definition: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(data: Any, custom_formats: Any = None, name_prefix: Any = None) -> Any:
            kind = data.__class__
            if kind is dict or kind is list:
                key = (definition, id(data))
                if key in checked:
                    return data
                function(data, {} if custom_formats is None else custom_formats, name_prefix)
                checked[key] = data
                return data
            return function(data, {} if custom_formats is None else custom_formats, name_prefix)

        return wrapper

    for key, value in list(namespace.items()):
        if key.startswith("validate") and callable(value):
            namespace[key] = once(key, value)  # the generated code calls its functions by their global names
    entry = namespace[name]
    lock = threading.Lock()  # one memo per namespace: one call at a time

    def validate(data: Any) -> Any:
        with lock:
            try:
                return entry(data)
            finally:
                checked.clear()

    return validate
