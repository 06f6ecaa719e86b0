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

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline import paths

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


def build_chart(name: str, curated_dir: Path, version: str):
    import duckdb

    from pipeline import fits as fitting

    module_name, kwargs = FIGURES[name]
    module = importlib.import_module(module_name)
    con = fitting.connect_curated(curated_dir)
    fits = duckdb.sql(f"SELECT * FROM read_parquet('{(curated_dir / 'fits.parquet').as_posix()}')").df()
    return module.build(con, fits, version, **kwargs)


def render_one(name: str, curated_dir: Path, out_dir: Path, version: str) -> None:
    import vl_convert

    vl_convert.register_font_directory(str(paths.FONTS))
    chart = build_chart(name, curated_dir, version)
    spec = chart.to_dict()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.vl.json").write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / f"{name}.svg").write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    (out_dir / f"{name}.png").write_bytes(vl_convert.vegalite_to_png(spec, ppi=PNG_PPI))
    (out_dir / f"{name}.pdf").write_bytes(vl_convert.vegalite_to_pdf(spec))
    chart.save(
        str(out_dir / f"{name}.html"), format="html", inline=True, embed_options={"renderer": "svg", "actions": False}
    )
    data_hash = hashlib.sha256(json.dumps(spec.get("datasets", {}), sort_keys=True).encode()).hexdigest()
    usermeta = spec.get("usermeta", {}).get("memwall", {})
    (out_dir / f"{name}.meta.json").write_text(
        json.dumps({"data_sha256": data_hash, "fits_shown": usermeta.get("fits", [])}, sort_keys=True),
        encoding="utf-8",
    )


def inputs_hash() -> str:
    """Hash of everything that makes the figures: the code, the series file, fonts, raw data, version, pins."""
    digest = hashlib.sha256()
    files = sorted(
        [
            *paths.ROOT.joinpath("pipeline").rglob("*.py"),
            *paths.ROOT.joinpath("pipeline").rglob("*.toml"),
            *paths.FONTS.glob("*.ttf"),
            *paths.RAW.rglob("*.csv"),
            paths.ROOT / "VERSION",
            paths.ROOT / "requirements.lock",
        ]
    )
    for path in files:
        digest.update(path.relative_to(paths.ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def render_all(curated_dir: Path, figures_dir: Path, version: str, names: list[str] | None = None) -> None:
    """Render figures in parallel (one fresh process each) into a staging folder, then move them into place."""
    names = names or list(FIGURES)
    target = figures_dir / version
    figures_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=figures_dir))
    try:
        env = {**os.environ, "PYTHONHASHSEED": "0"}

        def run(name: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pipeline.figures.render",
                    "one",
                    name,
                    str(curated_dir),
                    str(staging),
                    version,
                ],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )

        with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
            results = list(pool.map(run, names))
        failed = [(n, r) for n, r in zip(names, results, strict=True) if r.returncode != 0]
        if failed:
            details = "\n".join(f"--- {n}:\n{r.stderr.strip()}" for n, r in failed)
            raise RuntimeError(f"rendering failed for {', '.join(n for n, _ in failed)}:\n{details}")
        manifest = _manifest(names, staging, version)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(staging.iterdir()):
            if path.name.endswith(".meta.json"):
                continue
            os.replace(path, target / path.name)
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
        "IEEE Micro 44(3), 2024.",
        "",
    ]
    for name, (module_name, kwargs) in FIGURES.items():
        module = importlib.import_module(module_name)
        caption = " ".join((module.__doc__ or name).split())
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


def _point_latest(figures_dir: Path, version: str) -> None:
    """figures/latest -> <version>, replaced atomically."""
    link = figures_dir / "latest"
    tmp = figures_dir / ".latest.tmp"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(version, target_is_directory=True)
    os.replace(tmp, link)


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[0] == "one":
        _, name, curated, out, version = argv
        render_one(name, Path(curated), Path(out), version)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
