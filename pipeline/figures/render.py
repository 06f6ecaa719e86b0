"""Render every figure in every format, each in its own process, into figures/<version>/, with a manifest.

    python -m pipeline.figures.render one NAME CURATED_DIR OUT_DIR VERSION   (one figure, in this process)

Formats: SVG, PDF (fonts embedded), PNG (300 ppi), the Vega-Lite JSON spec with its data inline, and a standalone
HTML page with Vega inlined (works offline). SVG, PNG, JSON and HTML are byte-reproducible when each figure is
rendered in a fresh process (vl-convert numbers SVG clip ids with a process-wide counter); PDF is not, and is
checked structurally instead.

The JavaScript inlined in every HTML page (vl-convert's vega-embed bundle, ~1 MB) is the same for every figure and
takes seconds to build: render_all builds it once, in its own process beside the figures', and the figure processes
leave a mark in its place (`one ... --bundle-mark`), which it then replaces.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib
import importlib.util
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from pathlib import Path

from pipeline import paths
from pipeline.outputs import replace_directory

# file name -> (module, keyword arguments of its build function)
FIGURES: dict[str, tuple[str, dict]] = {
    "fig1_hw_scaling": ("pipeline.figures.fig1_hw_scaling", {"preset": "paper"}),
    "fig1_hw_scaling_current": ("pipeline.figures.fig1_hw_scaling", {"preset": "current"}),
    "fig2a_model_size": ("pipeline.figures.fig2a_model_size", {"preset": "paper"}),
    "fig2a_model_size_current": ("pipeline.figures.fig2a_model_size", {"preset": "current"}),
    "fig2b_training_compute": ("pipeline.figures.fig2b_training_compute", {"preset": "paper"}),
    "fig2b_training_compute_current": ("pipeline.figures.fig2b_training_compute", {"preset": "current"}),
    "fig_flop_per_byte": ("pipeline.figures.fig_flop_per_byte", {}),
    "fig_precision": ("pipeline.figures.fig_precision", {}),
    "fig3_arithmetic_intensity": ("pipeline.figures.fig3_arithmetic_intensity", {}),
    "fig4_training_memory": ("pipeline.figures.fig4_training_memory", {}),
    "roofline": ("pipeline.figures.roofline", {}),
}
FORMATS = ("svg", "png", "pdf", "vl.json", "html")
BYTE_REPRODUCIBLE = ("svg", "png", "vl.json", "html")
PNG_PPI = 300
BUNDLE_MARK = "/* memwall: vega-embed bundle {} */"  # {}: the arguments of vl_convert.javascript_bundle, as JSON


def build_chart(name: str, curated_dir: Path, version: str):
    import duckdb

    from pipeline import fits as fitting

    module_name, kwargs = FIGURES[name]
    module = importlib.import_module(module_name)
    con = fitting.connect_curated(curated_dir)
    fits = duckdb.sql(f"SELECT * FROM read_parquet('{(curated_dir / 'fits.parquet').as_posix()}')").df()
    return module.build(con, fits, version, **kwargs)


def render_one(name: str, curated_dir: Path, out_dir: Path, version: str, bundle_mark: bool = False) -> None:
    """Every format of one figure into out_dir; with bundle_mark, the HTML page holds a mark for the bundle."""
    import vl_convert

    vl_convert.register_font_directory(str(paths.FONTS))
    chart = build_chart(name, curated_dir, version)
    spec = chart.to_dict()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.vl.json").write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / f"{name}.svg").write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    (out_dir / f"{name}.png").write_bytes(vl_convert.vegalite_to_png(spec, ppi=PNG_PPI))
    (out_dir / f"{name}.pdf").write_bytes(vl_convert.vegalite_to_pdf(spec))
    with _bundle_left_out() if bundle_mark else contextlib.nullcontext():
        chart.save(
            str(out_dir / f"{name}.html"),
            format="html",
            inline=True,
            embed_options={"renderer": "svg", "actions": False},
        )
    data_hash = hashlib.sha256(json.dumps(spec.get("datasets", {}), sort_keys=True).encode()).hexdigest()
    usermeta = spec.get("usermeta", {}).get("memwall", {})
    (out_dir / f"{name}.meta.json").write_text(
        json.dumps({"data_sha256": data_hash, "fits_shown": usermeta.get("fits", [])}, sort_keys=True),
        encoding="utf-8",
    )


@contextlib.contextmanager
def _bundle_left_out() -> Iterator[None]:
    """Within: vl_convert.javascript_bundle returns BUNDLE_MARK naming its arguments, not the bundle itself."""
    import vl_convert

    original = vl_convert.javascript_bundle
    vl_convert.javascript_bundle = lambda **kwargs: BUNDLE_MARK.format(json.dumps(kwargs, sort_keys=True))
    try:
        yield
    finally:
        vl_convert.javascript_bundle = original


def write_bundle(target: Path) -> None:
    """The vega-embed bundle that altair inlines in an HTML page, with the arguments it asks for, as JSON."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    kwargs = {"vl_version": vl_version_for_vl_convert()}
    target.write_text(json.dumps({"kwargs": kwargs, "bundle": vl_convert.javascript_bundle(**kwargs)}), "utf-8")


def fill_bundle(pages: list[Path], bundle_file: Path) -> None:
    """Put the bundle in place of its mark in each HTML page: the bytes a whole chart.save would have written."""
    built = json.loads(bundle_file.read_text(encoding="utf-8"))
    mark = BUNDLE_MARK.format(json.dumps(built["kwargs"], sort_keys=True))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if mark not in text:
            raise RuntimeError(f"{page.name}: no mark for the bundle built with {built['kwargs']}")
        page.write_text(text.replace(mark, built["bundle"], 1), encoding="utf-8")


# What makes the figures: the same files the Makefile lists as the manifest's prerequisites (directly or through
# curated/), so that `make figures` doing nothing and an unchanged inputs hash mean the same thing.
FIGURE_INPUTS = (
    "raw/**/*.csv",
    "VERSION",
    "requirements.lock",
    "pipeline/ingest.py",
    "pipeline/units.py",
    "pipeline/fields.py",
    "pipeline/outputs.py",
    "pipeline/fits.py",
    "pipeline/series.toml",
    "pipeline/figures/*.py",
    "pipeline/costmodel/*.py",
    "pipeline/costmodel/configs.toml",
    "pipeline/fonts/*.ttf",
)


def inputs_hash() -> str:
    """Hash of everything that makes the figures (FIGURE_INPUTS): code, series, fonts, raw data, version, pins."""
    digest = hashlib.sha256()
    files = sorted({path for pattern in FIGURE_INPUTS for path in paths.ROOT.glob(pattern) if path.is_file()})
    for path in files:
        digest.update(path.relative_to(paths.ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


PRELOAD = ["pandas", "pyarrow", "duckdb", "altair", "vl_convert", "pipeline.fits"]  # imported once, not per figure


def _figure_processes() -> ProcessPoolExecutor:
    """A fresh process for each job (vl-convert's clip-id counter starts at zero in each), forked from a server
    process that imports PRELOAD once (instead of a second or more in every figure's process). The server, and so
    every figure process, runs with PYTHONHASHSEED=0."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    saved = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = "0"
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONHASHSEED"]
        else:
            os.environ["PYTHONHASHSEED"] = saved
    return ProcessPoolExecutor(max_workers=max(1, os.cpu_count() or 1), mp_context=context, max_tasks_per_child=1)


def render_all(curated_dir: Path, figures_dir: Path, version: str, names: list[str] | None = None) -> None:
    """Render figures in parallel (one fresh process each) into a staging folder, then move them into place."""
    names = names or list(FIGURES)
    target = figures_dir / version
    figures_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=figures_dir))
    try:
        bundle_file = staging / ".bundle.json"
        jobs = {
            "vega-embed bundle": (write_bundle, bundle_file),
            **{name: (render_one, name, curated_dir, staging, version, True) for name in names},
        }
        with _figure_processes() as pool:
            futures = {name: pool.submit(*job) for name, job in jobs.items()}
        failed = [(name, future.exception()) for name, future in futures.items() if future.exception()]
        if failed:
            details = "\n".join(f"--- {n}:\n{''.join(traceback.format_exception(e)).strip()}" for n, e in failed)
            raise RuntimeError(f"rendering failed for {', '.join(n for n, _ in failed)}:\n{details}")
        fill_bundle([staging / f"{name}.html" for name in names], bundle_file)
        bundle_file.unlink()
        manifest = _manifest(names, staging, version)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        for path in staging.glob("*.meta.json"):
            path.unlink()
        os.chmod(staging, 0o755)
        replace_directory(staging, target)  # the whole version folder at once: never new files beside an old manifest
        _point_latest(figures_dir, version)
        gallery = figures_dir / "README.md"
        tmp = figures_dir / ".README.md.tmp"
        tmp.write_text(gallery_markdown(version), encoding="utf-8")
        os.replace(tmp, gallery)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _manifest(names: list[str], staging: Path, version: str) -> dict:
    figures = {}
    for name in names:
        meta = json.loads((staging / f"{name}.meta.json").read_text(encoding="utf-8"))
        outputs = {}
        for fmt in FORMATS:
            path = staging / f"{name}.{fmt}"
            if fmt in BYTE_REPRODUCIBLE:
                outputs[path.name] = {"sha256": _sha256(path)}
            else:
                outputs[path.name] = {
                    "sha256": None,
                    "note": "PDF is not byte-reproducible; checked structurally",
                }
        figures[name] = {
            "data_sha256": meta["data_sha256"],
            "fits_shown": meta["fits_shown"],
            "outputs": outputs,
        }
    return {"dataset_version": version, "inputs_sha256": inputs_hash(), "figures": figures}


def gallery_markdown(version: str) -> str:
    """figures/README.md: every figure with its caption, a LaTeX snippet and a citation line."""
    lines = [
        "# Figures",
        "",
        f"Generated by `make figures` (pipeline/figures/); dataset version **{version}**; `latest/` points at it. "
        "Each figure comes as PDF (fonts embedded, for LaTeX), SVG, PNG (300 ppi), the Vega-Lite spec with its data "
        "(`.vl.json`) and an offline HTML page with tooltips and source links. `manifest.json` lists the hash of "
        "every output, of the data each figure draws, and of the code and raw data that made it.",
        "",
        "Cite: memwall contributors (2026). *memwall: a cited dataset of AI hardware and model scaling*, dataset "
        f'version {version}. Data CC BY 4.0. Reproduces and extends A. Gholami et al., "AI and Memory Wall", '
        "IEEE Micro, 2024 (arXiv:2403.14123).",
        "",
    ]
    for name, (module_name, kwargs) in FIGURES.items():
        caption = " ".join((_docstring(module_name) or name).split())
        preset = kwargs.get("preset")
        if preset:
            caption += f" Selection preset: `{preset}`."
        lines += [
            f"## {name}",
            "",
            f"![{name}]({version}/{name}.png)",
            "",
            caption,
            "",
            f"Files: [PDF]({version}/{name}.pdf) · [SVG]({version}/{name}.svg) · [PNG]({version}/{name}.png) · "
            f"[Vega-Lite]({version}/{name}.vl.json) · [HTML]({version}/{name}.html)",
            "",
            "```latex",
            "\\begin{figure}[t]",
            "  \\centering",
            f"  \\includegraphics[width=\\linewidth]{{figures/{version}/{name}.pdf}}",
            f"  \\caption{{... Data: memwall {version} (CC BY 4.0).}}",
            f"  \\label{{fig:{name}}}",
            "\\end{figure}",
            "```",
            "",
        ]
    return "\n".join(lines)


def _docstring(module_name: str) -> str | None:
    """A module's docstring, read from its source without importing it (and altair, pandas ... with it)."""
    source = Path(importlib.util.find_spec(module_name).origin).read_text(encoding="utf-8")
    return ast.get_docstring(ast.parse(source), clean=False)


def _point_latest(figures_dir: Path, version: str) -> None:
    """figures/latest -> <version>, replaced atomically."""
    link = figures_dir / "latest"
    tmp = figures_dir / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(version, target_is_directory=True)
    os.replace(tmp, link)


def main(argv: list[str]) -> int:
    if len(argv) in (5, 6) and argv[0] == "one" and argv[5:] in ([], ["--bundle-mark"]):
        _, name, curated, out, version = argv[:5]
        render_one(name, Path(curated), Path(out), version, bundle_mark=len(argv) == 6)
        return 0
    if len(argv) == 2 and argv[0] == "bundle":
        write_bundle(Path(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
