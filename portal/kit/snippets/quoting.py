"""Quoting for each language a snippet is written in. Values come from hostile documents: nothing is pasted
into generated text without going through one of these."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["hcl", "hcl_str", "py", "yaml_document"]


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe YAML with block style; strings that need it are quoted by the emitter, never by hand. libyaml's
    emitter when PyYAML has it (the same text, a tenth of the time: every event page carries several templates)."""


def _no_aliases(self: Any, data: Any) -> bool:
    return True  # a template repeats small values; anchors and aliases only make it harder to read


_Dumper.ignore_aliases = _no_aliases  # type: ignore[method-assign]


def yaml_document(document: Mapping[str, Any], *, header: str = "") -> str:
    """``document`` as YAML (ASCII only: other characters are escaped, so no reader mis-decodes them)."""
    body = yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=False, width=100)
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + body


def hcl_str(value: str) -> str:
    """An HCL quoted string: JSON escapes, plus HCL's own template sequences ``${`` and ``%{`` doubled so a name
    can never interpolate."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def hcl(value: Any, indent: int = 0) -> str:
    """An HCL expression for a JSON value (objects with quoted keys, so any key is safe)."""
    pad = "  " * indent
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = "".join(f"{pad}  {hcl_str(str(k))} = {hcl(v, indent + 1)}\n" for k, v in value.items())
        return "{\n" + items + pad + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = "".join(f"{pad}  {hcl(v, indent + 1)},\n" for v in value)
        return "[\n" + items + pad + "]"
    if isinstance(value, str):
        return hcl_str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def py(value: Any) -> str:
    """A Python literal for a JSON value (``repr`` of str/int/float/bool/None, dicts and lists of them)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{py(str(k))}: {py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(py(v) for v in value) + "]"
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "None"
    raise TypeError(f"not a JSON value: {type(value).__name__}")
