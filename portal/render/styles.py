"""The look of the generated pages, carried by ``style`` attributes so that it survives Backstage TechDocs.

The TechDocs reader sanitises every page with DOMPurify before showing it (plugins/techdocs, reader transformers):
``<style>`` is forbidden, every ``<link>`` is removed except mkdocs-material's own ``main.<hash>.min.css`` (and
Google Fonts), and scripts never run. The catalogue's ``extra_css`` therefore never reaches a TechDocs page. What
the sanitiser keeps is the markup, its ``class`` and ``style`` attributes and inline SVG, and mkdocs-material's
stylesheet — so badges, the schema tree, the graph and the small print are styled here, inline, and the tables are
plain class-less tables that mkdocs-material (and Backstage's TechDocs theme) style like every other table.

Sizes are in ``em`` of the surrounding text, so the pieces keep their proportions in mkdocs-material (20px root)
and in Backstage (16px root) alike. Inline declarations beat any stylesheet rule that is not ``!important`` (and an
inline ``!important`` beats Backstage's few ``!important`` rules on ``details``). The pseudo-elements mkdocs-material
draws on every ``<summary>`` (the admonition icon, the chevron) are turned off through the custom properties they
read, and the disclosure marker is the browser's own (``display: list-item``), which opens and closes with no CSS
or script. ``eventdeck.css`` only adds what needs a selector (hover, ``:target``), so a page looks the same with or
without it.
"""

from __future__ import annotations

from markupsafe import Markup

#: A mask that shows nothing: mkdocs-material draws its admonition icon and details chevron through masks it reads
#: from custom properties, so setting them to this hides both on the tree's ``<summary>`` elements.
_NO_MASK = "linear-gradient(transparent,transparent)"

_BADGE = ("display:inline-block;padding:0 .5em;border-radius:.7em;font-size:.875em;line-height:1.6;"
          "font-weight:700;white-space:nowrap;vertical-align:middle;")
#: Filled badges (white on a saturated colour) read the same on a light and a dark page.
_FILLED = {
    "version": "background-color:var(--md-primary-fg-color,#3f51b5);color:var(--md-primary-bg-color,#fff);",
    "active": "background-color:#2e7d32;color:#fff;",
    "production": "background-color:#2e7d32;color:#fff;",
    "experimental": "background-color:#e65100;color:#fff;",
    "deprecated": "background-color:#c62828;color:#fff;",
    "retired": "background-color:#616161;color:#fff;",
    "sealed": "background-color:#6a1b9a;color:#fff;",
    "generated": "background-color:#00695c;color:#fff;",
    "unpublished": "background-color:#00695c;color:#fff;",
    "subscription": "background-color:#1565c0;color:#fff;",
}
_NEUTRAL = "background-color:#546e7a;color:#fff;"
#: Small outlined badges inside the schema tree (many per page: filled ones would shout).
_OUTLINED = {
    "required": "color:#b35c00;",
    "flag": "color:#00796b;",
}
_OUTLINE = ("display:inline-block;padding:0 .4em;border-radius:.6em;font-size:.85em;line-height:1.5;"
            "border:1px solid currentColor;white-space:nowrap;vertical-align:middle;")

STYLES: dict[str, str] = {
    "badges": "margin-top:-.6em;",
    "breadcrumb": "font-size:.9em;margin-bottom:0;color:var(--md-default-fg-color--light,#666);",
    # The tree's text size is set once, here: every node inherits it (sizes in em would compound when nested).
    "schema": "margin:1em 0;font-size:.875em;",
    "details": ("display:block;border:none;border-left:2px solid var(--md-default-fg-color--lightest,#ddd);"
                "border-radius:0;box-shadow:none;background:none;margin:.15em 0;padding:0 0 0 .4em;"
                "font-size:inherit !important;overflow:visible;"),
    "summary": ("display:list-item;list-style-position:inside;background:none;border:none;margin:0;"
                "padding:.1em 0 !important;font-weight:400;min-height:0;font-size:inherit !important;"
                f"cursor:pointer;--md-admonition-icon--note:{_NO_MASK};--md-details-icon:{_NO_MASK};"),
    "body": "margin:0 !important;padding-left:1em;",
    "leaf": "margin:.15em 0;padding-left:.4em;border-left:2px solid var(--md-default-fg-color--lightest,#ddd);",
    "leaf-head": "margin:0;padding:.1em 0;",
    "leaf-body": "margin:0 0 0 1em;",
    "type": "color:var(--md-default-fg-color--light,#555);",
    "format": "font-size:.93em;font-style:italic;",
    "ref": "font-size:.93em;color:var(--md-default-fg-color--lighter,#888);",
    "facts": "list-style:none;padding:0;margin:.1em 0;",
    "fact": "display:inline;margin:0 .8em 0 0;",
    "alternatives": "border-left:2px dashed var(--md-default-fg-color--lighter,#bbb);padding-left:.5em;margin:.3em 0;",
    "alternatives-label": "font-style:italic;margin:.1em 0;",
    "graph": "margin:1em 0;",
    "graph-canvas": "overflow-x:auto;max-width:100%;",
    # Drawn at its natural size (readable labels); a wide graph scrolls sideways rather than shrinking.
    "graph-svg": "max-width:none;height:auto;color:var(--md-default-fg-color,#222);",
    "graph-caption": "font-size:.875em;font-style:italic;",
}


def style(name: str) -> Markup:
    """The declarations of a named piece (``STYLES``), for a ``style`` attribute."""
    return Markup(STYLES[name])


def badge_style(kind: str | None) -> Markup:
    """The declarations of a badge of ``kind`` (a status, ``version``, ``sealed``, ``required``...)."""
    if kind in _OUTLINED:
        return Markup(_OUTLINE + _OUTLINED[kind])
    return Markup(_BADGE + _FILLED.get(kind or "", _NEUTRAL))


def every_style() -> frozenset[str]:
    """Every ``style`` value this module can write: a page's ``style`` attributes are exactly these, never text
    from a document (the tests' executable-HTML scan holds every page to it)."""
    return frozenset({*STYLES.values(), *(_OUTLINE + s for s in _OUTLINED.values()),
                      *(_BADGE + s for s in _FILLED.values()), _BADGE + _NEUTRAL})
