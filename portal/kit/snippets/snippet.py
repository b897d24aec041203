"""The unit every generator returns: one file's text, what it is and what to call it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Snippet"]


@dataclass(frozen=True, slots=True)
class Snippet:
    """One generated file. ``language`` is the fence language (json, yaml, hcl, python); ``filename`` is a
    suggested file name, so a page or ``eventdeck kit`` can show where the text goes."""

    title: str
    language: str
    filename: str
    text: str
