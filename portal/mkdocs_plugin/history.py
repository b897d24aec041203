"""The catalogue's version history as the plugin's options ask for it (shared with ``eventdeck docs``).

``history: git`` reads every earlier version from the commits that changed the documents; ``history_versions``
lists earlier versions instead (files or folders relative to ``mkdocs.yml``, or ``git:REF:PATH``, oldest first).
Neither set (the default): no history, and the pages are exactly what they were without it. What limited the
history (not a git checkout, a shallow clone, a commit whose documents do not load) is in ``History.notes``: the
edges log it, and the pages say it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.contract import Catalogue, ContractLoader
from pipeline.contract.diff.inputs import GIT_PREFIX
from pipeline.contract.history import GitHistory, History, listed_history

if TYPE_CHECKING:  # the plugin module imports this one
    from portal.mkdocs_plugin.plugin import EventdeckConfig


class SiteHistory:
    """Reads the history a plugin configuration asks for; keeps what git gave while ``HEAD`` does not move.

    ``loader`` should be a loader of its own: loading earlier versions through the site's loader would make it
    forget the current documents, which ``mkdocs serve`` rebuilds rely on."""

    def __init__(self, config: EventdeckConfig, config_dir: Path, loader: ContractLoader,
                 root: Path | None = None) -> None:
        self.mode: str = config.history
        self.versions: list[str] = [v if v.startswith(GIT_PREFIX) else str(config_dir / v)
                                    for v in config.history_versions]
        self.loader = loader
        self.git = GitHistory(loader, limit=config.history_limit, root=root)

    @property
    def enabled(self) -> bool:
        return bool(self.versions) or self.mode == "git"

    def read(self, paths: Sequence[Path], catalogue: Catalogue) -> History | None:
        """The history of ``catalogue`` (loaded from ``paths``), or ``None`` when none is asked for."""
        if self.versions:
            return listed_history(self.versions, catalogue, self.loader)
        if self.mode == "git":
            return self.git.history(paths, catalogue)
        return None
