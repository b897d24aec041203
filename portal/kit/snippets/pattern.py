"""The rule's event pattern, as the JSON a console, CLI or template takes."""

from __future__ import annotations

import json

from portal.kit.snippets.snippet import Snippet
from portal.kit.snippets.spec import SnippetSpec

__all__ = ["pattern_json"]


def pattern_json(spec: SnippetSpec) -> Snippet:
    """The pattern, indented, ASCII-only (every other character escaped) so it pastes anywhere unchanged."""
    text = json.dumps(spec.event_pattern, indent=2, ensure_ascii=True) + "\n"
    return Snippet("Event pattern", "json", f"{spec.rule_name}.pattern.json", text)
