"""Version history in the catalogue: a git repository with three commits of a document (set author dates) gives
every event page a *Changes* section and the document page a changelog, and the registry publishes every earlier
version's schema with its own `$id` — in the pre-rendered pages (`eventdeck docs`) and in `mkdocs build`. Without
a git checkout, in a shallow clone, or past a commit that does not load, it says so and carries on."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml
from cli_runner import run

from pipeline.contract import ContractLoader
from pipeline.contract.history import git_history, listed_history

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
BASE = yaml.safe_load((FIXTURES / "base.yaml").read_text(encoding="utf-8"))
F = "/components/schemas/OrderPlacedPayload/allOf/1"
SHIPPED_GONE = [{"op": "remove", "path": "/channels/orderShipped"},
                {"op": "remove", "path": "/operations/sendOrderShipped"},
                {"op": "remove", "path": "/components/messages/OrderShipped"}]
COUPON = {"op": "add", "path": f"{F}/properties/coupon", "value": {"type": "string", "description": "Coupon."}}
BASE_URL = "https://shop.example/schemas/"
MKDOCS = f"""\
site_name: Shop events
site_url: https://shop.example/
docs_dir: docs
plugins:
  - eventdeck:
      asyncapi: [asyncapi]
      schema_base_url: {BASE_URL}
      history: git
markdown_extensions: [attr_list, md_in_html, tables, admonition, pymdownx.details, pymdownx.superfences]
"""
#: (author date, info.version, patch of the base fixture): 1.0.0 without Order.Shipped.Web, 1.1.0 adds an optional
#: field to Order.Placed.Web (non-breaking: minor), 2.0.0 adds Order.Shipped.Web (a new event: major).
VERSIONS = [
    ("2026-01-10T09:00:00+00:00", "1.0.0", SHIPPED_GONE),
    ("2026-02-14T09:00:00+00:00", "1.1.0", [*SHIPPED_GONE, COUPON]),
    ("2026-03-20T09:00:00+00:00", "2.0.0", [COUPON]),
]


def git(repo: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def document(version: str, patch: list[dict[str, Any]]) -> str:
    doc = jsonpatch.apply_patch(copy.deepcopy(BASE), patch)
    doc["info"]["version"] = version
    doc["info"]["title"] = "Shop"
    return yaml.safe_dump(doc, sort_keys=False)


def make_repo(folder: Path, versions: list[tuple[str, str, list[dict[str, Any]] | str]] = VERSIONS) -> Path:
    """A git repository with mkdocs.yml and asyncapi/shop.yaml committed once per version (text or patch)."""
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    (folder / "mkdocs.yml").write_text(MKDOCS, encoding="utf-8")
    (folder / "docs").mkdir()
    (folder / "docs" / "index.md").write_text("# Shop\n", encoding="utf-8")
    (folder / "asyncapi").mkdir()
    for date, version, change in versions:
        text = change if isinstance(change, str) else document(version, change)
        (folder / "asyncapi" / "shop.yaml").write_text(text, encoding="utf-8")
        git(folder, "add", "-A")
        git(folder, "commit", "-q", "-m", f"shop {version}", date=date)
    return folder


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("history") / "repo")
    result = run("docs", "-f", repo / "mkdocs.yml", "--docs-dir", repo / "docs", cwd=repo)
    assert result.code == 0, result.output
    return repo


def section(page: str, heading: str) -> str:
    start = page.index(heading)
    end = page.find("\n## ", start + 1)
    return page[start: end if end != -1 else None]


def rows(html: str) -> list[str]:
    return [row for row in html.split("<tr>")[2:]]


def test_an_event_page_lists_every_version_with_its_date_changes_and_schema(rendered: Path) -> None:
    page = (rendered / "docs" / "events" / "Order.Placed.Web.md").read_text(encoding="utf-8")
    changes = section(page, "## Changes { #changes }")
    newest, middle, oldest = rows(changes)
    assert "<code>2.0.0</code> (current)" in newest and "2026-03-20" in newest and "No change to this event" in newest
    assert "<code>1.1.0</code>" in middle and "2026-02-14" in middle
    assert "non-breaking</span> optional field &#39;coupon&#39; added <code>/payload/properties/coupon</code>" in middle
    assert "<code>1.0.0</code>" in oldest and "2026-01-10" in oldest and "Earliest version in the history" in oldest
    assert 'href="../../schemas/Order.Placed.Web/1.0.0.json"' in oldest
    assert 'href="../../schemas/Order.Placed.Web/1.1.0.json"' in middle
    assert 'href="../../schemas/Order.Placed.Web/2.0.0.json"' in newest


def test_a_new_event_has_one_version_first_published(rendered: Path) -> None:
    page = (rendered / "docs" / "events" / "Order.Shipped.Web.md").read_text(encoding="utf-8")
    only, = rows(section(page, "## Changes { #changes }"))
    assert "<code>2.0.0</code> (current)" in only and "First published (new event)." in only
    assert sorted(p.name for p in (rendered / "docs" / "schemas" / "Order.Shipped.Web").iterdir()) == \
        ["2.0.0.json", "latest.json"]


def test_every_earlier_schema_is_published_with_its_own_id(rendered: Path) -> None:
    folder = rendered / "docs" / "schemas" / "Order.Placed.Web"
    assert sorted(p.name for p in folder.iterdir()) == ["1.0.0.json", "1.1.0.json", "2.0.0.json", "latest.json"]
    for version, has_coupon in (("1.0.0", False), ("1.1.0", True), ("2.0.0", True)):
        schema = json.loads((folder / f"{version}.json").read_text(encoding="utf-8"))
        assert schema["$id"] == f"{BASE_URL}Order.Placed.Web/{version}.json"
        assert ("coupon" in json.dumps(schema)) is has_coupon
    registry = (rendered / "docs" / "events" / "schemas.md").read_text(encoding="utf-8")
    row, = rows(section(registry, "## Earlier versions { #earlier-versions }"))
    assert ">Order.Placed.Web</a>" in row
    assert '<a href="../../schemas/Order.Placed.Web/1.0.0.json" title="' + BASE_URL + 'Order.Placed.Web/1.0.0.json">' \
        in row and "Order.Placed.Web/1.1.0.json" in row


def test_the_document_page_shows_its_changelog(rendered: Path) -> None:
    page = (rendered / "docs" / "events" / "domains" / "shop.md").read_text(encoding="utf-8")
    newest, middle, oldest = rows(section(page, "## Changelog { #changelog }"))
    assert "<code>2.0.0</code> (current)" in newest and "2026-03-20" in newest
    assert 'Order.Shipped.Web</a>: <span' in newest and "new event" in newest
    assert "<code>1.1.0</code>" in middle and "optional field &#39;coupon&#39; added" in middle
    assert "<code>1.0.0</code>" in oldest and "Earliest version in the history." in oldest


def test_the_pre_rendered_pages_are_stable(rendered: Path) -> None:
    result = run("docs", "-f", rendered / "mkdocs.yml", "--docs-dir", rendered / "docs", "--check", cwd=rendered)
    assert result.code == 0, result.output


def test_mkdocs_build_with_the_plugin_shows_the_history_and_publishes_old_schemas(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    done = subprocess.run([str(Path(sys.executable).with_name("mkdocs")), "build", "--strict", "-q"], cwd=repo,
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    html = (repo / "site" / "events" / "Order.Placed.Web" / "index.html").read_text(encoding="utf-8")
    assert 'id="changes"' in html and "2026-02-14" in html and "optional field" in html
    old = json.loads((repo / "site" / "schemas" / "Order.Placed.Web" / "1.0.0.json").read_text(encoding="utf-8"))
    assert old["$id"] == f"{BASE_URL}Order.Placed.Web/1.0.0.json"
    assert 'id="changelog"' in (repo / "site" / "events" / "domains" / "shop" / "index.html").read_text("utf-8")


def test_outside_a_git_checkout_the_page_says_so_and_the_build_succeeds(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    plain = tmp_path / "plain"
    shutil.copytree(repo, plain, ignore=shutil.ignore_patterns(".git"))
    result = run("docs", "-f", plain / "mkdocs.yml", "--docs-dir", plain / "docs", cwd=plain)
    assert result.code == 0, result.output
    assert "is not in a git checkout" in result.err
    page = (plain / "docs" / "events" / "Order.Placed.Web.md").read_text(encoding="utf-8")
    only, = rows(section(page, "## Changes { #changes }"))
    assert "is not in a git checkout" in page and "<code>2.0.0</code> (current)" in only
    assert sorted(p.name for p in (plain / "docs" / "schemas" / "Order.Placed.Web").iterdir()) == \
        ["2.0.0.json", "latest.json"]


def test_a_shallow_clone_says_its_history_is_incomplete(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    result = run("docs", "-f", shallow / "mkdocs.yml", "--docs-dir", shallow / "docs", cwd=shallow)
    assert result.code == 0, result.output
    assert "shallow clone" in result.err
    page = (shallow / "docs" / "events" / "Order.Placed.Web.md").read_text(encoding="utf-8")
    assert "shallow clone" in page
    only, = rows(section(page, "## Changes { #changes }"))
    assert "<code>2.0.0</code> (current)" in only and "2026-03-20" in only


def test_a_commit_whose_documents_do_not_load_is_skipped_with_a_note(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", [VERSIONS[0], ("2026-02-01T09:00:00+00:00", "x", "asyncapi: [unclosed\n"),
                                         VERSIONS[2]])
    loader = ContractLoader()
    current = loader.load([repo / "asyncapi"])
    history = git_history([repo / "asyncapi"], current, ContractLoader())
    note, = history.notes
    bad = git(repo, "rev-parse", "HEAD~1").strip()[:12]
    assert note.startswith(f"commit {bad} (2026-02-01) skipped: its documents do not load: "
                           f"git:{bad}:asyncapi/shop.yaml")
    assert "eventdeck-history-" not in note  # no temporary path: pages stay the same from build to build
    assert [r.version for r in history.of_document("shop")] == ["1.0.0", "2.0.0"]


def test_an_explicit_list_of_earlier_versions_replaces_git(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    earlier = tmp_path / "1.0.0" / "shop.yaml"
    earlier.parent.mkdir()
    earlier.write_text(document("1.0.0", SHIPPED_GONE), encoding="utf-8")
    loader = ContractLoader()
    current = loader.load([repo / "asyncapi"])
    history = listed_history([str(earlier.parent), str(tmp_path / "missing")], current, ContractLoader())
    assert [(r.version, r.date) for r in history.of_document("shop")] == [("1.0.0", None), ("2.0.0", None)]
    assert any("missing" in note and "no such file or folder" in note for note in history.notes)
    shipped = history.of_document("shop")[-1].changes
    assert {c.event for c in shipped} == {"Order.Shipped.Web", "Order.Placed.Web"}


def test_diff_reads_git_revisions(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    ok = run("diff", "git:HEAD~2:asyncapi", "git:HEAD~1:asyncapi/shop.yaml", "--format", "json", cwd=repo)
    assert ok.code == 0, ok.output
    report = json.loads(ok.out)
    assert report["documents"] == [{"document": "shop", "old_version": "1.0.0", "new_version": "1.1.0",
                                    "required_bump": "minor", "actual_bump": "minor",
                                    "reasons": ["Order.Placed.Web: non-breaking"]}]
    missing = run("diff", "git:no-such-branch:asyncapi", "asyncapi", cwd=repo)
    assert missing.code == 4 and "git revision 'no-such-branch' does not exist" in missing.err
    hostile = run("diff", "git:--output=/tmp/x:asyncapi", "asyncapi", cwd=repo)
    assert hostile.code == 4 and "is not a git revision" in hostile.err
    gone = run("diff", "git:HEAD:nothing-here", "asyncapi", cwd=repo)
    assert gone.code == 4 and "nothing-here does not exist at" in gone.err


def test_hostile_names_in_an_earlier_version_stay_inert_on_the_pages(tmp_path: Path) -> None:
    from portal.render import SiteRenderer

    hostile = '<script>alert(1)</script>[x](javascript:alert(1))'
    earlier = tmp_path / "1.0.0" / "shop.yaml"
    earlier.parent.mkdir()
    earlier.write_text(document("1.0.0", [{"op": "add", "path": f"{F}/properties/{hostile.replace('/', '~1')}",
                                           "value": {"type": "string", "description": hostile}}]), "utf-8")
    current_folder = tmp_path / "now"
    current_folder.mkdir()
    (current_folder / "shop.yaml").write_text(document("2.0.0", []), encoding="utf-8")
    current = ContractLoader().load([current_folder])
    history = listed_history([str(earlier.parent)], current, ContractLoader())
    site = SiteRenderer().render(current, history=history)
    page = site.pages["events/Order.Placed.Web.md"]
    changes = section(page, "## Changes { #changes }")
    assert "field-removed" not in changes and "removed" in changes
    assert "<script>" not in changes and "](javascript:" not in changes
