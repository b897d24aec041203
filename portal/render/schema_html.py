"""The payload tree's HTML, written in Python instead of recursive template macros.

A realistic event has about 80 fields; as Jinja macros (one call per field, several per fact) the tree cost about
half of an event page's rendering. This writes exactly the markup those macros wrote (the pre-rendered pages in
``docs/events`` and the identical-output tests pin it), through the same escaping: every value goes through the
templates' ``finalize`` (:func:`.markup.inert`) and autoescape, so a document's text stays inert here too.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from portal.render.markup import inert
from portal.render.styles import badge_style, style


def _text(value: Any) -> str:
    """What ``{{ value }}`` writes in a template (finalize, then autoescape)."""
    return str(escape(inert(value)))


def _codes(values: Any) -> str:
    return ", ".join(f"<code>{_text(value)}</code>" for value in values)


def _head(node: Any) -> str:
    parts = [f'<code class="ed-field__name">{_text(node.name)}</code> <span class="ed-field__type" '
             f'style="{style("type")}">{_text(node.type)}</span>']
    if node.format:
        parts.append(f' <span class="ed-field__format" style="{style("format")}">{_text(node.format)}</span>')
    if node.required:
        parts.append(f' <span class="ed-badge ed-badge--required" style="{badge_style("required")}">required</span>')
    for flag in node.flags:
        parts.append(f' <span class="ed-badge ed-badge--flag" style="{badge_style("flag")}">{_text(flag)}</span>')
    if node.ref:
        parts.append(f' <span class="ed-field__ref" title="schema" style="{style("ref")}">↪ {_text(node.ref)}</span>')
    return "".join(parts)


def _body(node: Any) -> str:
    parts = []
    if node.title:
        parts.append(f'<p class="ed-field__title">{_text(node.title)}</p>')
    parts.append(_text(node.description))
    if node.facts or node.enum or node.examples:
        fact_style = style("fact")
        parts.append(f'<ul class="ed-facts" style="{style("facts")}">')
        for fact in node.facts:
            value = ""
            if fact.value:
                value = f" <code>{_text(fact.value)}</code>" if fact.code else f" {_text(fact.value)}"
            parts.append(f'<li style="{fact_style}">{_text(fact.label)}{value}</li>')
        if node.enum:
            parts.append(f'<li style="{fact_style}">one of {_codes(node.enum)}</li>')
        if node.examples:
            parts.append(f'<li style="{fact_style}">e.g. {_codes(node.examples)}</li>')
        parts.append("</ul>")
    link = node.link
    if link:
        anchor, label = _text(link.anchor), _text(link.label)
        if link.reason == "recursive":
            text = (f'↻ Recursive: a <a href="#{anchor}">{label}</a> again, as at <a href="#{anchor}"><code>{anchor}'
                    f'</code></a> (not expanded again).')
        elif link.reason == "repeated":
            text = f'Same schema as <a href="#{anchor}"><code>{anchor}</code></a> ({label}).'
        else:
            text = f"Not expanded: {label}; see the JSON Schema file."
        parts.append(f'<p class="ed-field__link">{text}</p>')
    return "".join(parts)


def _field(node: Any, out: list[str], *, open: bool = False) -> None:
    if not node.is_container:
        out.append(f'<div class="ed-field ed-field--leaf" id="{_text(node.anchor)}" style="{style("leaf")}"><p '
                   f'class="ed-field__head" style="{style("leaf-head")}">{_head(node)}</p><div class="ed-field__body" '
                   f'style="{style("leaf-body")}">{_body(node)}</div></div>')
        return
    out.append(f'<details class="ed-field" id="{_text(node.anchor)}" style="{style("details")}"'
               f'{" open" if open else ""}><summary style="{style("summary")}">{_head(node)}</summary><div '
               f'class="ed-field__body" style="{style("body")}">{_body(node)}\n')
    for child in node.children:
        _field(child, out)
        out.append("\n")
    for alternative in node.alternatives:
        out.append(f'<div class="ed-alternatives" style="{style("alternatives")}"><p class="ed-alternatives__label" '
                   f'style="{style("alternatives-label")}">{_text(alternative.label)}:</p>\n')
        for option in alternative.options:
            _field(option, out)
            out.append("\n")
        out.append("</div>\n")
    out.append("</div></details>")


def tree_html(schema_tree: Any) -> Markup:
    """The whole tree (``schema_tree.root`` open) as one raw HTML block."""
    out = [f'<div class="ed-schema" data-fields="{_text(schema_tree.field_count)}" style="{style("schema")}">\n']
    _field(schema_tree.root, out, open=True)
    out.append("\n</div>")
    return Markup("".join(out))
