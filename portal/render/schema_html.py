"""The payload tree's HTML, written in Python instead of recursive template macros.

A realistic event has about 80 fields; as Jinja macros (one call per field, several per fact) the tree cost about
half of an event page's rendering. This writes exactly the markup those macros wrote (the pre-rendered pages in
``docs/events`` and the identical-output tests pin it), through the same escaping: every value is written as the
templates' ``finalize`` (:func:`.markup.inert`) and autoescape write it, so a document's text stays inert here too.
The fixed markup (tags, inline styles) is joined once, at import.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from portal.render.markup import written as _text  # what {{ value }} writes: finalize, then autoescape
from portal.render.styles import badge_style, style


def _codes(values: Any) -> str:
    return ", ".join([f"<code>{_text(value)}</code>" for value in values])


_NAME = '<code class="ed-field__name">'
_TYPE = f'</code> <span class="ed-field__type" style="{style("type")}">'
_FORMAT = f'</span> <span class="ed-field__format" style="{style("format")}">'
_REQUIRED = f'</span> <span class="ed-badge ed-badge--required" style="{badge_style("required")}">required'
_FLAG = f'</span> <span class="ed-badge ed-badge--flag" style="{badge_style("flag")}">'
_REF = f'</span> <span class="ed-field__ref" title="schema" style="{style("ref")}">↪ '
_FACTS = f'<ul class="ed-facts" style="{style("facts")}">'
_FACT = f'<li style="{style("fact")}">'
_LEAF = '<div class="ed-field ed-field--leaf" id="'
_LEAF_HEAD = f'" style="{style("leaf")}"><p class="ed-field__head" style="{style("leaf-head")}">'
_LEAF_BODY = f'</p><div class="ed-field__body" style="{style("leaf-body")}">'
_DETAILS = '<details class="ed-field" id="'
_DETAILS_STYLE = f'" style="{style("details")}"'
_SUMMARY = f'><summary style="{style("summary")}">'
_SUMMARY_END = f'</summary><div class="ed-field__body" style="{style("body")}">'
_ALTERNATIVES = (f'<div class="ed-alternatives" style="{style("alternatives")}"><p class="ed-alternatives__label" '
                 f'style="{style("alternatives-label")}">')
_SCHEMA = '<div class="ed-schema" data-fields="'
_SCHEMA_STYLE = f'" style="{style("schema")}">\n'


def _head(node: Any, out: list[str]) -> None:
    out += (_NAME, _text(node.name), _TYPE, _text(node.type))
    if node.format:
        out += (_FORMAT, _text(node.format))
    if node.required:
        out.append(_REQUIRED)
    for flag in node.flags:
        out += (_FLAG, _text(flag))
    if node.ref:
        out += (_REF, _text(node.ref))
    out.append("</span>")


def _body(node: Any, out: list[str]) -> None:
    if node.title:
        out += ('<p class="ed-field__title">', _text(node.title), "</p>")
    out.append(_text(node.description))
    facts, enum, examples = node.facts, node.enum, node.examples
    if facts or enum or examples:
        key = (id(facts), id(enum), id(examples))
        known = _FACT_LISTS.get(key)
        if known is not None and known[0] is facts and known[1] is enum and known[2] is examples:
            out.append(known[3])
        else:
            out.append(_fact_list(facts, enum, examples))
            if _FACT_LISTS_SIZE:
                if len(_FACT_LISTS) >= _FACT_LISTS_SIZE:
                    _FACT_LISTS.clear()
                _FACT_LISTS[key] = (facts, enum, examples, out[-1])
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
        out += ('<p class="ed-field__link">', text, "</p>")


#: The facts lists written, by the identity of a field's facts, enum and examples (kept with them, so no identity
#: is reused while remembered): the fields of a catalogue's shared leaf schemas share those tuples
#: (:data:`.schema_tree.LeafMemo`), so each such list is written once per process. Bounded (a few megabytes):
#: emptied when full; 0 turns it off.
_FACT_LISTS: dict[tuple[int, int, int], tuple[Any, Any, Any, str]] = {}
_FACT_LISTS_SIZE = 8192


def _fact_list(facts: Any, enum: Any, examples: Any) -> str:
    out = [_FACTS]
    for fact in facts:
        out += (_FACT, _text(fact.label))
        if fact.value:
            out += (" <code>", _text(fact.value), "</code></li>") if fact.code else (" ", _text(fact.value), "</li>")
        else:
            out.append("</li>")
    if enum:
        out += (_FACT, "one of ", _codes(enum), "</li>")
    if examples:
        out += (_FACT, "e.g. ", _codes(examples), "</li>")
    out.append("</ul>")
    return "".join(out)


def _field(node: Any, out: list[str], *, open: bool = False) -> None:
    if not (node.children or node.alternatives):  # node.is_container, without a property call per field
        out += (_LEAF, _text(node.anchor), _LEAF_HEAD)
        _head(node, out)
        out.append(_LEAF_BODY)
        _body(node, out)
        out.append("</div></div>")
        return
    out += (_DETAILS, _text(node.anchor), _DETAILS_STYLE, " open" if open else "", _SUMMARY)
    _head(node, out)
    out.append(_SUMMARY_END)
    _body(node, out)
    out.append("\n")
    for child in node.children:
        _field(child, out)
        out.append("\n")
    for alternative in node.alternatives:
        out += (_ALTERNATIVES, _text(alternative.label), ":</p>\n")
        for option in alternative.options:
            _field(option, out)
            out.append("\n")
        out.append("</div>\n")
    out.append("</div></details>")


def tree_html(schema_tree: Any) -> Markup:
    """The whole tree (``schema_tree.root`` open) as one raw HTML block."""
    out = [_SCHEMA, _text(schema_tree.field_count), _SCHEMA_STYLE]
    _field(schema_tree.root, out, open=True)
    out.append("\n</div>")
    return Markup("".join(out))
