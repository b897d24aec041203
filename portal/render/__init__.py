"""The catalogue renderer: the contract model in, Markdown pages and static files out.

Python decides what each page shows (:mod:`.views`, :mod:`.schema_tree`, :mod:`.envelopes`, ...); Jinja templates
with autoescape on (``templates/``) write the Markdown. The MkDocs plugin and ``eventdeck docs`` both call
:func:`render_site` / :class:`SiteRenderer`, so a plugin build and a plain techdocs-core build of the pre-rendered
pages show the same pages.
"""

from .paths import SitePaths
from .site import PageFolder, RenderedSite, SiteRenderer, render_site
from .views import Options

__all__ = ["Options", "PageFolder", "RenderedSite", "SitePaths", "SiteRenderer", "render_site"]
