"""What the CLI commands take from ``mkdocs.yml``: the eventdeck plugin's options, so ``eventdeck docs``, ``seal``,
``open`` and ``bundle`` publish and stamp exactly what ``mkdocs build`` does (same documents, same registry)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.contract import Catalogue, ContractLoader
from pipeline.contract.specs import settings_from_environment
from pipeline.errors import EventdeckError
from pipeline.forking import workers_from_environment
from pipeline.schemas.registry import RegistryLayout

if TYPE_CHECKING:  # MkDocs and the renderer cost half a second to import: only commands that read mkdocs.yml pay
    from portal.mkdocs_plugin.plugin import EventdeckConfig
    from portal.render import Options


class SiteConfigError(EventdeckError):
    """``mkdocs.yml`` cannot be read or is invalid (the message names the file and MkDocs' reason)."""


#: Overrides the registry's public URL (the folder the schemas are served from) for seal/open/bundle.
SCHEMA_BASE_URL_ENV = "EVENTDECK_SCHEMA_BASE_URL"


@dataclass(frozen=True)
class SiteConfig:
    """The plugin configuration (``mkdocs.yml``'s, else the defaults) and the site settings it depends on."""

    plugin: EventdeckConfig
    config_dir: Path
    docs_dir: Path
    options: Options

    def document_paths(self) -> list[Path]:
        from portal.mkdocs_plugin.plugin import document_paths

        return document_paths(self.plugin, self.config_dir)

    def registry(self, catalogue: Catalogue, base_url: str | None = None) -> RegistryLayout:
        """The registry layout ``mkdocs build`` publishes ``catalogue``'s schemas with; ``base_url`` overrides
        the public URL (e.g. the catalogue is served elsewhere than ``site_url``)."""
        return RegistryLayout.for_catalogue(catalogue, folder=self.options.schemas,
                                            base_url=base_url or self.options.schema_base_url)


def contract_loader(*, allow_http: bool = False) -> ContractLoader:
    """The loader every command uses: the environment (specs cache, worker count) is read here, at the edge."""
    return ContractLoader(allow_http=allow_http, specs_settings=settings_from_environment(),
                          workers=workers_from_environment())


def site_config(config_file: str | Path = "mkdocs.yml", *, strict: bool = False) -> SiteConfig:
    """Read ``config_file`` when it exists and has the eventdeck plugin; otherwise the plugin's defaults.

    :raises SiteConfigError: ``config_file`` exists but is not a file, or MkDocs refuses it."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    from portal.mkdocs_plugin.plugin import EventdeckConfig, options_from

    path = Path(config_file)
    plugin_config = None
    site_url, directory_urls, docs_dir = None, True, Path("docs")
    if path.exists() and not path.is_file():
        raise SiteConfigError(f"{path}: not a file; -f names the mkdocs.yml to read")
    if path.is_file():
        try:
            mkdocs_config = load_config(str(path))
        except (ConfigurationError, Abort, OSError) as exc:
            raise SiteConfigError(f"{path}: {exc}") from None
        except RecursionError:  # MkDocs' YAML loader recurses once per nesting level
            raise SiteConfigError(f"{path}: nested too deeply to be a MkDocs configuration") from None
        site_url, directory_urls = mkdocs_config.site_url, mkdocs_config.use_directory_urls
        docs_dir = Path(mkdocs_config.docs_dir)
        plugin = mkdocs_config.plugins.get("eventdeck")
        plugin_config = plugin.config if plugin is not None else None
    if plugin_config is None:  # no mkdocs.yml, or one without the plugin: the plugin's defaults
        plugin_config = EventdeckConfig()
        plugin_config.load_dict({})
        plugin_config.validate()
    if strict:
        plugin_config["strict"] = True
    options = options_from(plugin_config, site_url=site_url, directory_urls=directory_urls)
    return SiteConfig(plugin_config, path.resolve().parent, docs_dir, options)
