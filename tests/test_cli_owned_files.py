"""eventdeck writes and deletes only its own files (issue 9, item 3).

Every test puts a victim file outside the folder the command owns (or a hand-written one inside it), runs the
command with hostile paths — manifest lines, symbolic links, options — and checks that the victim is untouched
and that the command says why it refused, naming the file and line.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import yaml
from cli_runner import run
from test_portal_build import SMALL, project

from conftest import EXAMPLES, write

VICTIM_TEXT = "precious, not eventdeck's\n"
RENAMED = SMALL.replace("Small.Thing.Happened", "Small.Thing.Renamed")


def victim(folder: Path, name: str = "victim.txt") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(VICTIM_TEXT, encoding="utf-8")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A project whose docs were written once by `eventdeck docs` (so there is a manifest); its mkdocs.yml."""
    config = project(tmp_path / "project", {"small.yaml": SMALL})
    assert docs(config).code == 0
    return config


def docs(config: Path, *extra: str) -> object:
    return run("docs", "-f", config, "--docs-dir", config.parent / "docs", *extra)


def manifest(config: Path) -> Path:
    return config.parent / "docs" / "events" / ".eventdeck-files"


def add_lines(config: Path, *lines: str) -> int:
    """Append ``lines`` to the manifest; the number of the first."""
    path = manifest(config)
    before = path.read_text(encoding="utf-8")
    path.write_text(before + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return before.count("\n") + 1


def obsolete_page(config: Path) -> Path:
    """Rename the event, so the previous run's page is obsolete (and would be deleted); that page."""
    write(config.parent / "asyncapi", "small.yaml", RENAMED)
    return config.parent / "docs" / "events" / "Small.Thing.Happened.md"


# --------------------------------------------------------------------------------------- the docs manifest


def test_the_manifest_records_what_it_wrote_with_a_digest(site: Path) -> None:
    lines = manifest(site).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# Written by `eventdeck docs`")
    digest, path = lines[1].split("  ", 1)
    assert digest == sha256(site.parent / "docs" / path)


@pytest.mark.parametrize("line", [
    "../../victim.txt",
    "events/../../victim.txt",
    "{outside}/victim.txt",
    "./events/../../victim.txt",
    "events\\..\\..\\victim.txt",
])
def test_a_manifest_line_leaving_the_docs_folder_is_refused_and_nothing_is_deleted(site: Path, line: str) -> None:
    target = victim(site.parent.parent)  # tmp_path/victim.txt: ../../victim.txt from docs/
    line = line.format(outside=target.parent)
    number = add_lines(site, f"{sha256(target)}  {line}")
    page = obsolete_page(site)
    result = docs(site)
    assert result.code == 1
    assert f"{manifest(site)}:{number}: {line!r}" in result.err
    assert "nothing was written or deleted" in result.err
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT
    assert page.is_file()  # not even the legitimately obsolete page went
    assert not (site.parent / "docs" / "events" / "Small.Thing.Renamed.md").exists()  # nor anything written


def test_a_symbolic_link_in_the_docs_folder_pointing_out_is_refused(site: Path) -> None:
    target = victim(site.parent.parent)
    link = site.parent / "docs" / "events" / "link.md"
    link.symlink_to(target)
    number = add_lines(site, f"{sha256(target)}  events/link.md")
    result = docs(site)
    assert result.code == 1
    assert f"{manifest(site)}:{number}: 'events/link.md': leads out of" in result.err
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT and link.is_symlink()


def test_a_linked_folder_pointing_out_is_refused(site: Path) -> None:
    outside = site.parent.parent / "outside"
    target = victim(outside, "page.md")
    (site.parent / "docs" / "schemas" / "elsewhere").symlink_to(outside)
    number = add_lines(site, f"{sha256(target)}  schemas/elsewhere/page.md")
    result = docs(site, "--check")
    assert result.code == 1 and f"{manifest(site)}:{number}: 'schemas/elsewhere/page.md'" in result.err
    assert docs(site).code == 1
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT


def test_a_line_naming_a_hand_written_file_is_refused(site: Path) -> None:
    notes = victim(site.parent / "docs" / "events", "notes.md")
    number = add_lines(site, "events/notes.md")  # no digest: eventdeck cannot have written it
    result = docs(site)
    assert result.code == 1
    assert f"{manifest(site)}:{number}: 'events/notes.md': listed without a digest" in result.err
    assert notes.read_text(encoding="utf-8") == VICTIM_TEXT


def test_a_line_with_a_made_up_digest_is_refused(site: Path) -> None:
    notes = victim(site.parent / "docs" / "events", "notes.md")
    number = add_lines(site, f"{'0' * 64}  events/notes.md")
    result = docs(site)
    assert result.code == 1
    assert f"{manifest(site)}:{number}: 'events/notes.md': is not what eventdeck wrote" in result.err
    assert notes.is_file()


def test_a_hand_written_page_outside_the_generated_folders_is_refused_even_with_its_digest(site: Path) -> None:
    index = site.parent / "docs" / "index.md"
    number = add_lines(site, f"{sha256(index)}  index.md")
    result = docs(site)
    assert result.code == 1
    assert f"{manifest(site)}:{number}: 'index.md': is outside the folders eventdeck generates" in result.err
    assert index.read_text(encoding="utf-8") == "# Home\n"


def test_an_edited_generated_page_that_became_obsolete_is_kept(site: Path) -> None:
    page = obsolete_page(site)
    page.write_text(page.read_text(encoding="utf-8") + "\nMy own notes.\n", encoding="utf-8")
    result = docs(site)
    assert result.code == 1 and "'events/Small.Thing.Happened.md': is not what eventdeck wrote" in result.err
    assert "My own notes." in page.read_text(encoding="utf-8")


def test_an_absolute_path_is_refused(site: Path) -> None:
    target = victim(site.parent.parent)
    number = add_lines(site, f"{sha256(target)}  {target}")
    result = docs(site)
    assert result.code == 1 and f"{manifest(site)}:{number}: {str(target)!r}: is an absolute path" in result.err
    assert target.is_file()


def test_a_manifest_that_is_a_symbolic_link_is_refused(site: Path) -> None:
    target = victim(site.parent.parent)
    manifest(site).unlink()
    manifest(site).symlink_to(target)
    result = docs(site)
    assert result.code == 1 and f"{manifest(site)}: refusing" in result.err and "symbolic link" in result.err
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT


def test_a_manifest_that_is_not_utf8_is_refused(site: Path) -> None:
    manifest(site).write_bytes(b"events/caf\xe9.md\n")
    result = docs(site)
    assert result.code == 1 and f"{manifest(site)}: the manifest is not UTF-8 text" in result.err


def test_obsolete_pages_eventdeck_wrote_are_still_deleted(site: Path) -> None:
    page = obsolete_page(site)
    schema_folder = site.parent / "docs" / "schemas" / "Small.Thing.Happened"
    assert schema_folder.is_dir()
    assert docs(site).code == 0
    assert not page.exists() and not schema_folder.exists()  # the emptied folder went too
    assert (site.parent / "docs" / "events" / "Small.Thing.Renamed.md").is_file()
    assert docs(site, "--check").code == 0


def test_a_manifest_of_an_older_eventdeck_is_upgraded(site: Path) -> None:
    text = manifest(site).read_text(encoding="utf-8")
    manifest(site).write_text("".join(line.split("  ", 1)[1] + "\n" for line in text.splitlines()[1:]))
    assert docs(site, "--check").code == 1  # the manifest is stale
    assert docs(site).code == 0
    assert manifest(site).read_text(encoding="utf-8") == text


# --------------------------------------------------------------------------------------- generated paths


def test_a_generated_page_path_leaving_the_docs_folder_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path / "project", {"small.yaml": SMALL}, plugin={"section": "../../escaped"})
    result = docs(config)
    assert result.code == 1
    assert "refusing to write a generated file that leaves its folder" in result.err
    assert not (tmp_path / "escaped").exists()


def test_a_schema_folder_leaving_the_docs_folder_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path / "project", {"small.yaml": SMALL}, plugin={"schemas": "../escaped"})
    result = docs(config)
    assert result.code == 1 and "refusing to write a generated file" in result.err
    assert not (tmp_path / "project" / "escaped").exists()


def test_a_section_folder_that_links_out_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path / "project", {"small.yaml": SMALL})
    outside = tmp_path / "outside"
    outside.mkdir()
    (config.parent / "docs" / "events").symlink_to(outside)
    result = docs(config)
    assert result.code == 1 and "leads out of" in result.err
    assert list(outside.iterdir()) == []


def test_a_generated_page_that_is_a_symbolic_link_is_not_written_through(site: Path) -> None:
    target = victim(site.parent.parent)
    page = site.parent / "docs" / "events" / "Small.Thing.Happened.md"
    page.unlink()
    page.symlink_to(target)
    result = docs(site)
    assert result.code == 1 and f"{page}: refusing" in result.err and "symbolic link" in result.err
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT


def test_written_pages_get_the_usual_mode(site: Path) -> None:
    page = site.parent / "docs" / "events" / "Small.Thing.Happened.md"
    umask = os.umask(0o022)
    os.umask(umask)
    assert page.stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------------------------- backstage, bundle, keys


def test_backstage_does_not_write_through_a_symbolic_link(tmp_path: Path) -> None:
    target = victim(tmp_path)
    output = tmp_path / "project" / "catalog-info.yaml"
    output.parent.mkdir()
    output.symlink_to(target)
    result = run("backstage", EXAMPLES, "-o", output)
    assert result.code == 1 and f"{output} is a symbolic link" in result.err
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT


def test_backstage_into_a_folder_says_to_name_the_file(tmp_path: Path) -> None:
    result = run("backstage", EXAMPLES, "-o", tmp_path)
    assert result.code == 1 and f"{tmp_path} is a folder" in result.err


def test_backstage_replaces_its_file_atomically(tmp_path: Path) -> None:
    output = tmp_path / "catalog-info.yaml"
    output.write_text("old: true\n")
    assert run("backstage", EXAMPLES, "-o", output).code == 0
    assert any(doc.get("kind") == "API" for doc in yaml.safe_load_all(output.read_text(encoding="utf-8")))
    # no temporary file left: the catalog file and the definitions folder (docs/asyncapi/) it points at, nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog-info.yaml", "docs"]
    assert not [p for p in (tmp_path / "docs").rglob("*") if p.name.startswith((".tmp", "tmp")) or "~" in p.name]


def test_bundle_does_not_write_through_a_symbolic_link(tmp_path: Path) -> None:
    target = victim(tmp_path)
    output = tmp_path / "contract.json"
    output.symlink_to(target)
    result = run("bundle", "--contract", EXAMPLES, "-o", output)
    assert result.code == 1 and "is a symbolic link" in result.err and "nothing was changed" in result.err
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT


def test_keys_new_force_replaces_a_symbolic_link_not_what_it_points_to(tmp_path: Path) -> None:
    target = victim(tmp_path)
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    (keys / "private.jwks.json").symlink_to(target)
    refused = run("keys", "new", "--general", "--out", keys)
    assert refused.code == 1 and "exists" in refused.err
    assert run("keys", "new", "--general", "--out", keys, "--force").code == 0
    assert target.read_text(encoding="utf-8") == VICTIM_TEXT
    assert not (keys / "private.jwks.json").is_symlink()
