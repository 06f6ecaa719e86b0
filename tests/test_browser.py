"""The interactive HTML figures in a real browser: headless Chromium (Debian's package, installed by .ci/run) loads
each page with networking disabled; the chart must render its marks and the console must stay silent."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from pipeline import paths
from pipeline.figures import render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VERSION_DIR = paths.FIGURES / paths.dataset_version()

pytestmark = pytest.mark.browser
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: install Debian's chromium (see .ci/run)")
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason="chromium not installed (.ci/run installs it)")]


def load(page, profile):
    """Headless Chromium with no network (every host unresolvable, a dead proxy): the DOM after scripts ran."""
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=8000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout, [line for line in result.stderr.splitlines() if "CONSOLE" in line]


@pytest.mark.parametrize("name", render.FIGURES)
def test_page_renders_offline_with_its_marks_and_no_console_output(name, tmp_path):
    page = VERSION_DIR / f"{name}.html"
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=\"https?://", html), "the page loads a script from the network"
    dom, console = load(page, tmp_path / "profile")
    assert console == [], f"console output: {console}"
    assert 'class="marks"' in dom, "vega-embed did not render an SVG chart"
    spec = json.loads((VERSION_DIR / f"{name}.vl.json").read_text(encoding="utf-8"))
    drawn = len(re.findall(r'aria-roledescription="(?:point|bar|rect|line mark|area mark|rule mark)"', dom))
    rows = sum(len(rows) for rows in spec.get("datasets", {}).values())
    assert drawn >= 3, f"only {drawn} data marks drawn ({rows} data rows in the spec)"
    point_rows = sum(len(r) for r in spec.get("datasets", {}).values() if r and "value_text" in r[0])
    points = len(re.findall(r'aria-roledescription="point"', dom))
    assert points >= point_rows, f"{points} points drawn for {point_rows} data points"
    assert "mark-text" in dom, "no text marks (labels, axes) drawn"


PAYLOADS = {
    # what ingest refuses (markup), written straight into curated/ as if ingest had been bypassed
    "name": "GPT-3</script><script>document.body.setAttribute('data-pwned','script')</script>",
    "source_url": "https://example.org/\"><img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">",
    # and what ingest lets through (no markup characters), which must stay inert text
    "organization": "'); document.body.setAttribute('data-pwned','js'); //",
}


@pytest.fixture(scope="module")
def hostile_figures(tmp_path_factory):
    """Every figure rendered from curated tables whose rows carry script payloads in the fields that reach the HTML
    (names in labels and tooltips, source URLs in links)."""
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("hostile") / "repo"
    shutil.copytree(paths.CURATED, root / "curated", ignore=shutil.ignore_patterns("*.duckdb*", ".*"))
    for file in ("VERSION", "CHANGELOG-DATA.md"):
        shutil.copy(paths.ROOT / file, root / file)
    for table, key, ids in (
        ("models", "model_id", ("gpt-3-175b", "alexnet", "bert-large")),
        ("accelerators", "accelerator_id", ("nvidia-h100-sxm5-80gb", "nvidia-tesla-k40")),
    ):
        path = root / "curated" / f"{table}.parquet"
        data = pq.read_table(path)
        frame = data.to_pandas()
        hit = frame[key].isin(ids)
        frame.loc[hit, "name"] = PAYLOADS["name"]
        frame.loc[hit, "source_url"] = PAYLOADS["source_url"]
        if table == "models":
            frame.loc[hit, "organization"] = PAYLOADS["organization"]
        pq.write_table(pa.Table.from_pandas(frame, schema=data.schema, preserve_index=False), path)
    env = {**os.environ, "MEMWALL_ROOT": str(root), "PYTHONHASHSEED": "0"}
    script = (
        "from pipeline import paths; from pipeline.figures import render; "
        "render.render_all(paths.CURATED, paths.FIGURES, paths.dataset_version())"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=900)
    return root / "figures" / paths.dataset_version()


@pytest.mark.parametrize("name", render.FIGURES)
def test_a_script_in_the_data_never_runs_in_a_figure(name, hostile_figures, tmp_path):
    import xml.etree.ElementTree as ET

    page = hostile_figures / f"{name}.html"
    html = page.read_text(encoding="utf-8")
    assert "</script><script>" not in html and "<img src=x" not in html, "a payload reached the page unescaped"
    dom, console = load(page, tmp_path / "profile")
    assert 'data-pwned="' not in dom, f"{name}: a payload ran in the browser"
    assert 'class="marks"' in dom, f"{name}: the chart did not render"
    for stem in (name, f"{name}_2col", f"{name}_1col"):
        ET.parse(hostile_figures / f"{stem}.svg")  # still well-formed XML: every text escaped
        svg = (hostile_figures / f"{stem}.svg").read_text(encoding="utf-8")
        assert "<script" not in svg.lower()
