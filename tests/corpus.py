"""The shared corpus of real AsyncAPI documents: which files are root documents (per its SOURCES.md)."""

from __future__ import annotations

from pathlib import Path


def root_documents(corpus: Path) -> list[Path]:
    """Every file SOURCES.md lists with an AsyncAPI version (supporting files have '-')."""
    roots = []
    for line in (corpus / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 7 and cells[1].startswith(("valid/", "invalid/")) and cells[6] != "-":
            roots.append(corpus / cells[1])
    return roots
