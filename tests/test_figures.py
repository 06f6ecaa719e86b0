"""Figures: every declared figure exists in every format, its legend's rate is the line it draws, fonts are embedded,
text is drawn, and a re-render gives the same bytes."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from pipeline import paths
from pipeline.figures import render
from pipeline.reproducible import pdf_facts

VERSION_DIR = paths.FIGURES / paths.dataset_version()


def spec(name: str) -> dict:
    return json.loads((VERSION_DIR / f"{name}.vl.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", render.FIGURES)
def test_every_format_exists(name):
    for fmt in render.FORMATS:
        path = VERSION_DIR / f"{name}.{fmt}"
        assert path.exists() and path.stat().st_size > 1000, f"{path} missing or empty"
    assert (paths.FIGURES / "latest").resolve() == VERSION_DIR.resolve()


@pytest.mark.parametrize("name", render.FIGURES)
def test_legend_rate_is_the_drawn_line(name):
    """Recompute each line's growth per 2 years from its two drawn endpoints and compare with its legend text."""
    s = spec(name)
    if not s.get("usermeta", {}).get("memwall", {}).get("fits"):
        pytest.skip(f"{name} draws no fitted growth line")
    datasets = s["datasets"]
    lines = {}
    for rows in datasets.values():
        if rows and set(rows[0]) == {"x", "y", "legend"}:
            for row in rows:
                lines.setdefault(row["legend"], []).append((row["x"], row["y"]))
    assert lines, "no fitted line found in the spec"
    for legend, points in lines.items():
        (x0, y0), (x1, y1) = points[0], points[-1]
        per_2y = (y1 / y0) ** (2 / (x1 - x0))
        printed = re.search(r"\(?([\d.]+)x/2yrs\)?", legend)
        assert printed, f"legend {legend!r} prints no rate"
        decimals = len(printed.group(1).split(".")[1]) if "." in printed.group(1) else 0
        assert round(per_2y, decimals) == float(printed.group(1)), f"{legend}: line draws {per_2y:.3f}x/2yrs"
        total = re.search(r": ([\d]+)x / (\d+) yrs", legend)
        if total:
            drawn_total = (y1 / y0) ** (float(total.group(2)) / (x1 - x0))
            assert math.isclose(drawn_total, float(total.group(1)), rel_tol=0.05), legend


@pytest.mark.parametrize("name", render.FIGURES)
def test_pdf_embeds_fonts_and_svg_uses_shipped_font(name):
    facts = pdf_facts((VERSION_DIR / f"{name}.pdf").read_bytes())
    assert facts["is_pdf"] and facts["fonts_embedded"], facts
    svg = (VERSION_DIR / f"{name}.svg").read_text(encoding="utf-8")
    assert "Liberation Sans" in svg and "<text" in svg


def test_png_has_text_drawn():
    """A PNG rendered with the text hidden must differ from the one with text: missing fonts would erase all text."""
    import vl_convert

    vl_convert.register_font_directory(str(paths.FONTS))
    s = spec("fig1_hw_scaling")
    with_text = vl_convert.vegalite_to_png(s, ppi=72)
    hidden = json.loads(json.dumps(s))
    hidden.setdefault("config", {})
    for key in ("text", "title", "axis", "legend"):
        hidden["config"].setdefault(key, {})
    hidden["config"]["text"]["opacity"] = 0
    hidden["config"]["title"]["color"] = "white"
    hidden["config"]["title"]["subtitleColor"] = "white"
    hidden["config"]["axis"].update({"labelColor": "white", "titleColor": "white"})
    hidden["config"]["legend"].update({"labelColor": "white"})
    hidden["title"] = {
        "text": s["title"]["text"],
        "color": "white",
        "subtitleColor": "white",
        "subtitle": s["title"].get("subtitle", ""),
    }
    assert vl_convert.vegalite_to_png(hidden, ppi=72) != with_text


def test_png_is_300_ppi():
    data = (VERSION_DIR / "fig1_hw_scaling.png").read_bytes()
    width = int.from_bytes(data[16:20], "big")
    svg = (VERSION_DIR / "fig1_hw_scaling.svg").read_text(encoding="utf-8")
    svg_width = float(re.search(r'<svg[^>]*width="([\d.]+)"', svg).group(1))
    assert width == pytest.approx(svg_width * 300 / 72, abs=2)


def test_rendering_again_gives_identical_bytes(tmp_path):
    """Re-render one figure in a fresh process: SVG, PNG, JSON and HTML must be byte-identical to the committed ones."""
    name = "fig1_hw_scaling"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline.figures.render",
            "one",
            name,
            str(paths.CURATED),
            str(tmp_path),
            paths.dataset_version(),
        ],
        check=True,
        env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"},
    )
    for fmt in render.BYTE_REPRODUCIBLE:
        fresh = (tmp_path / f"{name}.{fmt}").read_bytes()
        assert fresh == (VERSION_DIR / f"{name}.{fmt}").read_bytes(), f"{name}.{fmt} differs on re-render"


def test_manifest_lists_every_output_with_its_hash():
    import hashlib

    manifest = json.loads((VERSION_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dataset_version"] == paths.dataset_version()
    assert set(manifest["figures"]) == set(render.FIGURES)
    for name, entry in manifest["figures"].items():
        shown = spec(name).get("usermeta", {}).get("memwall", {}).get("fits", [])
        assert entry["fits_shown"] == shown, f"{name}: manifest and figure disagree on the fits shown"
        for file, info in entry["outputs"].items():
            if info["sha256"]:
                assert hashlib.sha256((VERSION_DIR / file).read_bytes()).hexdigest() == info["sha256"]
