"""`eventdeck docs`: the pre-rendered catalogue for plugin-less TechDocs builds, and its staleness check."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from cli_runner import run as cli
from test_portal_build import SMALL, project

from conftest import ROOT, write
from pipeline.contract import ContractLoader
from portal.cli.main import main
from portal.mkdocs_plugin.plugin import EventdeckConfig, options_from
from portal.render import SiteRenderer


def docs(config: Path, *extra: str) -> int:
    return main(["docs", "-f", str(config), "--docs-dir", str(config.parent / "docs"), *extra])


def test_the_committed_pages_are_up_to_date() -> None:
    # If this fails after changing asyncapi/ or the renderer: run `eventdeck docs` and commit docs/.
    assert docs(ROOT / "mkdocs.yml", "--check") == 0


def test_the_pages_are_exactly_what_the_plugin_generates(tmp_path: Path) -> None:
    config = project(tmp_path, {"small.yaml": SMALL}, plugin={"schema_base_url": "https://example.test/s/"})
    assert docs(config) == 0
    from mkdocs.config import load_config
    mkdocs_config = load_config(str(config))
    plugin_config: EventdeckConfig = mkdocs_config.plugins["eventdeck"].config
    catalogue = ContractLoader().load([tmp_path / "asyncapi"])
    options = options_from(plugin_config, site_url=mkdocs_config.site_url,
                           directory_urls=mkdocs_config.use_directory_urls)
    site = SiteRenderer(options).render(
        catalogue, roots=[str((tmp_path / "asyncapi").resolve())])
    for src_uri, text in site.pages.items():
        assert (tmp_path / "docs" / src_uri).read_text(encoding="utf-8") == text, src_uri
    for src_uri, content in site.files.items():
        assert (tmp_path / "docs" / src_uri).read_bytes() == content, src_uri
    assert "https://example.test/s/Small.Thing.Happened/1.0.0.json" in (
        tmp_path / "docs" / "events" / "Small.Thing.Happened.md").read_text(encoding="utf-8")


def test_check_fails_when_a_document_changed_and_a_rerun_fixes_it(tmp_path: Path) -> None:
    config = project(tmp_path, {"small.yaml": SMALL})
    assert docs(config, "--check") == 1  # nothing written yet
    assert docs(config) == 0
    assert docs(config, "--check") == 0
    write(tmp_path / "asyncapi", "small.yaml", SMALL.replace("name: Small.Thing.Happened",
                                                             "name: Small.Thing.Happened\n      summary: Changed."))
    assert docs(config, "--check") == 1
    assert docs(config) == 0
    assert docs(config, "--check") == 0


def test_pages_of_removed_events_are_deleted_and_hand_written_pages_kept(tmp_path: Path) -> None:
    config = project(tmp_path, {"small.yaml": SMALL})
    write(tmp_path / "docs" / "events", "notes.md", "# Hand-written notes\n")
    assert docs(config) == 0
    page = tmp_path / "docs" / "events" / "Small.Thing.Happened.md"
    assert page.is_file()
    renamed = SMALL.replace("Small.Thing.Happened", "Small.Thing.Renamed")
    write(tmp_path / "asyncapi", "small.yaml", renamed)
    assert docs(config) == 0
    assert not page.exists()
    assert not (tmp_path / "docs" / "schemas" / "Small.Thing.Happened").exists() or not any(
        (tmp_path / "docs" / "schemas" / "Small.Thing.Happened").iterdir())
    assert (tmp_path / "docs" / "events" / "Small.Thing.Renamed.md").is_file()
    assert (tmp_path / "docs" / "events" / "notes.md").read_text(encoding="utf-8") == "# Hand-written notes\n"


def test_without_mkdocs_yml_the_defaults_are_used(tmp_path: Path) -> None:
    write(tmp_path / "asyncapi", "small.yaml", SMALL)
    assert main(["docs", str(tmp_path / "asyncapi"), "-f", str(tmp_path / "absent.yml"),
                 "--docs-dir", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "events" / "index.md").is_file()
    assert (tmp_path / "out" / "schemas" / "Small.Thing.Happened" / "latest.json").is_file()


def test_the_repository_nav_lists_the_catalogue_index_pages() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = str(config["nav"])
    for page in ("events/index.md", "events/domains/index.md", "events/tags.md", "events/schemas.md",
                 "events/field-mapping.md", "events/subscribe.md"):
        assert page in listed
        assert (ROOT / "docs" / page).is_file()


def test_subscription_requests_are_checked_and_shown_and_a_changed_one_makes_the_pages_stale(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "asyncapi", tmp_path / "asyncapi")
    config = project(tmp_path, {}, plugin={"subscriptions": "requests"})
    request = write(tmp_path / "requests", "audit-captures.yaml", "team: audit\nconsumer:\n  account: 210987654321\n"
                    "  bus: audit-inbound\nsubscribe:\n  event: Payment.Captured.Ecom\n")
    failed = cli("docs", "-f", config, "--docs-dir", tmp_path / "docs")
    assert failed.code == 1 and "Traceback" not in failed.output
    assert f"{request}:3:3 (#/consumer/account)" in failed.err and "account id in quotes" in failed.err
    assert not (tmp_path / "docs" / "events").exists()  # nothing written

    request.write_text(request.read_text(encoding="utf-8").replace("210987654321", '"210987654321"'),
                       encoding="utf-8")
    assert docs(config) == 0
    page = (tmp_path / "docs" / "events" / "Payment.Captured.Ecom.md").read_text(encoding="utf-8")
    assert "audit (audit-captures.yaml)" in page and str(tmp_path) not in page
    assert "audit" not in (tmp_path / "docs" / "events" / "Payment.Refunded.Ecom.md").read_text(encoding="utf-8")
    assert (tmp_path / "docs" / "events" / "levels" / "Payment.Authorised.md").is_file()
    assert not (tmp_path / "docs" / "events" / "levels" / "Payment.Captured.md").exists()  # one event: no page
    request.write_text(request.read_text(encoding="utf-8").replace("team: audit", "team: audit-2"), encoding="utf-8")
    assert docs(config, "--check") == 1
    assert docs(config) == 0 and docs(config, "--check") == 0


def test_a_missing_subscriptions_folder_is_named(tmp_path: Path) -> None:
    write(tmp_path / "asyncapi", "small.yaml", SMALL)
    config = project(tmp_path, {}, plugin={"subscriptions": "nowhere"})
    failed = cli("docs", "-f", config, "--docs-dir", tmp_path / "docs")
    assert failed.code == 1 and f"{tmp_path / 'nowhere'}: no such folder of subscription requests" in failed.err
    assert "Traceback" not in failed.output
