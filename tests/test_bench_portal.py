"""`scripts/bench_portal.py`'s building blocks measure what they claim, on a 2 x 3-event catalogue: both sites hold
every event of one catalogue, memory is read from the whole process tree, and the edit it times is the one the
served page shows. The benchmark itself (its figures) is not run in CI; nothing here is timed."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import bench_portal

sys.path.remove(str(ROOT / "scripts"))


@pytest.mark.slow
def test_both_sites_hold_every_event_of_one_catalogue_and_the_figures_are_read(tmp_path: Path) -> None:
    names = bench_portal.event_names(6, per_document=3)
    assert len({name for name, _ in names}) == 6
    config = bench_portal.project(tmp_path / "eventdeck", 6, per_document=3)
    (tmp_path / "eventdeck" / "site").mkdir()
    (tmp_path / "eventdeck" / "site" / "stale.html").write_text("from an earlier build")
    ours = bench_portal.cold_build(config, tmp_path / "eventdeck" / "site")
    bare_config = bench_portal.bare_project(tmp_path / "bare", 6, per_document=3)
    bare = bench_portal.cold_build(bare_config, tmp_path / "bare" / "site")

    assert not (tmp_path / "eventdeck" / "site" / "stale.html").exists()  # cold: an empty site folder
    for name, title in names:
        assert name in (tmp_path / "eventdeck" / "site" / "events" / name / "index.html").read_text("utf-8")
        page = (tmp_path / "bare" / "site" / "events" / name / "index.html").read_text("utf-8")
        assert name in page and title in page
    assert bare.pages == 7  # the home page and one page per event, nothing else
    assert ours.pages > bare.pages
    assert ours.index_mb > bare.index_mb > 0
    for build in (ours, bare):
        assert build.seconds > 0
        assert build.single_mb > 20  # a Python process with MkDocs loaded
        assert build.tree_rss_mb > 20
        assert 0 < build.tree_pss_mb <= build.tree_rss_mb * 1.05


def test_a_failed_build_names_its_configuration(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: broken\nplugins: [no-such-plugin]\n")
    with pytest.raises(RuntimeError, match=r"mkdocs build of .*mkdocs\.yml failed"):
        bench_portal.cold_build(config, tmp_path / "site")


def test_the_tree_sampler_counts_forked_children() -> None:
    code = ("import os, time\nbuf = bytearray(64 * 2**20)\nfor i in range(0, len(buf), 4096): buf[i] = 1\n"
            "pid = os.fork()\nif pid == 0:\n    mine = bytearray(64 * 2**20)\n"
            "    for i in range(0, len(mine), 4096): mine[i] = 1\n    time.sleep(3)\n    os._exit(0)\n"
            "time.sleep(3.5)\nos.waitpid(pid, 0)\n")
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while len(bench_portal._tree(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the child has written its own 64 MB
        tree = bench_portal._tree(process.pid)
        assert len(tree) == 2, tree
        rss = [bench_portal._memory(pid)[0] for pid in tree]
        pss = [bench_portal._memory(pid)[1] for pid in tree]
        assert min(rss) > 64 * 2**20
        # the child shares the parent's 64 MB copy-on-write: counted twice in RSS, once in PSS
        assert sum(rss) > 190 * 2**20
        assert 120 * 2**20 < sum(pss) < sum(rss) - 40 * 2**20
    finally:
        process.wait(timeout=30)


def test_bad_sizes_are_refused_with_a_message() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_portal.py"), "--sizes", "1000,lots"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--sizes" in result.stderr and "'1000,lots'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_timed_edit_is_the_one_the_served_page_shows(tmp_path: Path) -> None:
    config = bench_portal.project(tmp_path, 6, per_document=3)
    path, _ = bench_portal._changed(tmp_path)
    assert path.name == "domain-001.yaml" and path.parent.name == "domains"  # the realistic layout
    (seconds,) = bench_portal.serve_rebuild(config, tmp_path, rounds=1)  # raises unless the page shows the edit
    assert seconds > 0
    assert f"{bench_portal.MARKER} 100." in path.read_text("utf-8")


def test_time_targets_are_also_judged_on_this_machines_scale() -> None:
    ours = bench_portal.Build(seconds=20.0, single_mb=100, tree_rss_mb=300, tree_pss_mb=200, pages=1, index_mb=1.5)
    bare = bench_portal.Build(seconds=44.7, single_mb=40, tree_rss_mb=40, tree_pss_mb=40, pages=1, index_mb=0.1)
    scale = bench_portal.machine_scale(bare)
    assert scale == pytest.approx(3.0)
    text = "\n".join(bench_portal._targets(1000, ours, bare, scale))
    assert "<= 7 s (MISSES; scaled: <= 21.0 s (meets))" in text
    slower = dataclasses.replace(ours, seconds=22.0)
    assert "scaled: <= 21.0 s (MISSES)" in "\n".join(bench_portal._targets(1000, slower, bare, scale))
    assert "scaled" not in "\n".join(bench_portal._targets(1000, ours, bare))  # no reference built: absolute only
