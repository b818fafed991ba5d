"""The HTML report of a sample run: what it draws, that paper text stays text, the filters in a
real headless Chromium (Debian ``chromium``), and a screenshot saved into the run."""

from __future__ import annotations

import os
import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from curate.records import Figure, Marker, Panel, Quarantine, Region
from curate.report.browser import dump_dom, find_chromium, screenshot_page
from curate.report.html import write_report
from curate.report.overlay import figure_overlay
from curate.roi.rle import encode
from curate.runtime.manifest import RunLayout, read_records, write_records
from stages import STAGE_NAMES


def _all(run_dir: Path, stage: str, table: str, model) -> list:
    return [r for p in sorted((run_dir / stage / table).glob("part-*.parquet")) for r in read_records(p, model)]


@pytest.fixture
def run_copy(sample_run, tmp_path) -> Path:
    """A private copy of the session's sample run, so a test may change its manifests."""
    cfg, _ = sample_run
    dest = tmp_path / cfg.run_dir.name
    shutil.copytree(cfg.run_dir, dest, ignore=shutil.ignore_patterns("report"))
    return dest


@pytest.fixture
def troubled_run(run_copy) -> Path:
    """The copy with paper text that tries to inject markup, and one figure quarantined in markers."""
    path = RunLayout(run_copy).table("ingest", "figures", 0)
    figures = read_records(path, Figure)
    figures[0] = figures[0].model_copy(update={"caption": '<script>alert("x")</script><b id="pwned">A</b> & more'})
    write_records(path, figures, Figure)
    write_records(RunLayout(run_copy).quarantine("markers", 0),
                  [Quarantine(stage="markers", item_id=figures[1].id, error_class="ValueError",
                              message="marker mask <empty> after clipping", part=0)], Quarantine)
    return run_copy


def test_report_draws_every_figure_panel_marker_and_region(run_copy):
    page_path = write_report(run_copy, STAGE_NAMES)
    page = page_path.read_text()
    figures = _all(run_copy, "ingest", "figures", Figure)
    panels = _all(run_copy, "panels", "panels", Panel)
    markers = _all(run_copy, "markers", "markers", Marker)
    regions = _all(run_copy, "regions", "regions", Region)
    assert page.count('<div class="fig" data-figure=') == len(figures)
    assert page.count('<rect class="panel"') == len(panels)
    assert page.count('<g class="marker"') == len(markers) > 0
    assert page.count('<line class="marker-arrow"') == sum(m.tip_xy_panel is not None and m.direction_deg is not None
                                                          for m in markers) > 0
    assert page.count('<g class="region"') == len(regions) > 0
    # Self-contained and relocatable: every image is a file under report/, named relatively.
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) == len(figures) and all(s.startswith("img/") for s in srcs)
    moved = shutil.copytree(page_path.parent, run_copy.parent / "elsewhere")
    assert all((moved / s).is_file() for s in srcs)
    assert "http://" not in page and "https://" not in page and str(run_copy) not in page
    size = sum(p.stat().st_size for p in page_path.parent.rglob("*") if p.is_file())
    assert size < 3_000_000, f"report of {len(figures)} figures takes {size} bytes"


def test_paper_text_is_escaped_and_problems_come_first(troubled_run):
    page = write_report(troubled_run, STAGE_NAMES).read_text()
    assert page.count("<script") == 1  # the report's own filter script, nothing from the caption
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b id=&quot;pwned&quot;&gt;" in page
    assert '<b id="pwned">' not in page
    assert "marker mask &lt;empty&gt; after clipping" in page
    first = re.search(r'<div class="fig" data-figure="([^"]+)" data-quarantined="(\d)"', page)
    quarantined_fig = read_records(RunLayout(troubled_run).quarantine("markers", 0), Quarantine)[0].item_id
    assert first.groups() == (quarantined_fig, "1")


def test_mask_outline_follows_the_rle_mask_in_figure_pixels():
    panel = Panel(id="d_f01_p01", figure_id="d_f01", document_id="d", index=1, bbox_xyxy=[100, 50, 200, 130])
    yy, xx = np.mgrid[0:80, 0:100]
    disc = (xx - 40) ** 2 + (yy - 30) ** 2 <= 15 ** 2
    region = Region(id="d_f01_p01_r01", panel_id=panel.id, figure_id="d_f01", document_id="d",
                    bbox_xyxy_panel=[25, 15, 56, 46], source="marker+sam", mask_rle=encode(disc))
    svg = figure_overlay(300, 200, [panel], [], [region])
    (path,) = re.findall(r'<path class="mask" d="([^"]+)"', svg)
    pts = np.array([[int(v) for v in p.split(",")] for p in re.findall(r"-?\d+,-?\d+", path)])
    assert len(pts) >= 8
    assert pts[:, 0].min() == 100 + 25 and pts[:, 0].max() == 100 + 55
    assert pts[:, 1].min() == 50 + 15 and pts[:, 1].max() == 50 + 45
    broken = region.model_copy(update={"mask_rle": "1 2 3"})
    assert '<path class="mask"' not in figure_overlay(300, 200, [panel], [], [broken])


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required under CI (.ci/run installs Debian's chromium)")
        pytest.skip("no chromium on PATH")
    return binary


def _shown(dom: str) -> int:
    return int(re.search(r'id="shown"[^>]*data-shown="(\d+)"', dom).group(1))


@pytest.mark.slow
def test_report_renders_and_filters_in_headless_chromium(chromium, troubled_run):
    page = write_report(troubled_run, STAGE_NAMES)
    figures = _all(troubled_run, "ingest", "figures", Figure)
    panels = _all(troubled_run, "panels", "panels", Panel)
    markers = _all(troubled_run, "markers", "markers", Marker)

    dom = dump_dom(chromium, page)
    assert 'data-ready="1"' in dom, "the report's script did not run"
    assert dom.count('<div class="fig" data-figure=') == len(figures) == _shown(dom)
    assert dom.count('<rect class="panel"') == len(panels)
    assert dom.count('<g class="marker"') == len(markers) > 0
    assert '<b id="pwned">' not in dom

    unsure_figs = {p.figure_id for p in panels if p.unsure}
    dom = dump_dom(chromium, page, "unsure")
    assert _shown(dom) == len(unsure_figs) and len(re.findall(r'class="fig"[^>]*hidden=""', dom)) == len(
        figures) - len(unsure_figs)
    assert _shown(dump_dom(chromium, page, "quarantined")) == 1

    png = screenshot_page(chromium, page, troubled_run / "report" / "screenshot.png", width=1200, height=1600)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1200, 1600)
    assert png.stat().st_size > 50_000  # a blank page compresses to a few kB; this one holds figures
