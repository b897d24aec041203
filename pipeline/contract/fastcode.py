"""Generate fastjsonschema validator code once, with the one rewrite that makes it fast on nested data.

fastjsonschema names the path of every array item it descends into with ``"...{var}".format(**locals())``:
building a dict of every local variable per item. An f-string means the same and costs a fraction (a third of
the validation time on large AsyncAPI documents, a fifth on a nested event payload). Both the official AsyncAPI
validators (:mod:`.specs`) and the pipeline's payload validators go through here.
"""

from __future__ import annotations

import re
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
