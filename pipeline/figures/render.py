"""Render every figure in every variant and format into figures/<version>/, with its data, its caption and a manifest.

    python -m pipeline.figures.render one NAME CURATED_DIR OUT_DIR VERSION   (one figure, every variant, here)

Per figure NAME:
- web variant: NAME.svg, NAME.png (300 ppi), NAME.pdf, NAME.vl.json, NAME.html (offline: it loads the folder's
  vega-embed.js, the Vega/Vega-Lite/vega-embed bundle, written once per version folder);
- print variants: NAME_2col.{svg,pdf,vl.json} (7 in wide) and NAME_1col.{svg,pdf,vl.json} (3.5 in);
- NAME.csv: the plotted points and fitted lines; NAME.caption.tex: the print caption (LaTeX-escaped).
SVG comes from Vega once per variant (a figure of panels: the render that measured its width); PNG and PDF are
converted from that SVG (vl-convert's svg_to_*), so no format is computed twice. SVG ids are renumbered per file,
so several figures render in one process and the bytes do not depend on the order. SVG, PNG, JSON, HTML, CSV and
the caption are byte-reproducible; PDF is not (vl-convert orders its dictionaries freely) and is checked
structurally.

A figure is re-rendered only when what it draws changes: its key (the SHA-256 of its specs in every variant, the
shipped fonts, the vl-convert version and the output settings) is kept in the manifest, and a figure whose key is
unchanged is copied from the current version folder instead of rendered.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import json
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline import paths
from pipeline.outputs import fault_point, replace_directory

# file name -> (module, keyword arguments of its build function)
FIGURES: dict[str, tuple[str, dict]] = {
    "fig1_hw_scaling": ("pipeline.figures.fig1_hw_scaling", {"preset": "paper"}),
    "fig1_hw_scaling_current": ("pipeline.figures.fig1_hw_scaling", {"preset": "current"}),
    "fig1_hw_scaling_paper_overlay": ("pipeline.figures.fig1_hw_scaling", {"preset": "paper", "overlay": True}),
    "fig2a_model_size": ("pipeline.figures.fig2a_model_size", {"preset": "paper"}),
    "fig2a_model_size_current": ("pipeline.figures.fig2a_model_size", {"preset": "current"}),
    "fig2b_training_compute": ("pipeline.figures.fig2b_training_compute", {"preset": "paper"}),
    "fig2b_training_compute_current": ("pipeline.figures.fig2b_training_compute", {"preset": "current"}),
    "fig_flop_per_byte": ("pipeline.figures.fig_flop_per_byte", {}),
    "fig_precision": ("pipeline.figures.fig_precision", {}),
    "fig3_arithmetic_intensity": ("pipeline.figures.fig3_arithmetic_intensity", {}),
    "fig4_training_memory": ("pipeline.figures.fig4_training_memory", {}),
    "roofline": ("pipeline.figures.roofline", {}),
    "fig_memory_wall_decode": ("pipeline.figures.fig_memory_wall_decode", {}),
    "fig_amdahl_low_bit": ("pipeline.figures.fig_amdahl_low_bit", {}),
}
# Figures of panels, measured and built again to their width: the slowest to render (about 3-6 s each against 2 s),
# started first so that the workers finish together
SLOWEST = ("fig3_arithmetic_intensity", "fig_amdahl_low_bit", "fig_memory_wall_decode")
VARIANT_NAMES = ("web", "2col", "1col")
WEB_FORMATS = ("svg", "png", "pdf", "vl.json", "html")
PRINT_FORMATS = ("svg", "pdf", "vl.json")  # the PDF is the print master; the web PNG serves screens
BUNDLE_FILE = "vega-embed.js"  # one copy per version folder, which every HTML page loads (offline, no CDN)
BYTE_REPRODUCIBLE = ("svg", "png", "vl.json", "html", "csv", "caption.tex")
PNG_PPI = 300
RENDER_SETTINGS = {"png_ppi": PNG_PPI, "svg_ids": "renumbered", "pdf": "svg_to_pdf + info", "html": "shared bundle"}


def outputs_of(name: str) -> list[str]:
    """Every file a figure writes."""
    files = [f"{name}.{fmt}" for fmt in WEB_FORMATS]
    for variant in VARIANT_NAMES[1:]:
        files += [f"{name}_{variant}.{fmt}" for fmt in PRINT_FORMATS]
    return [*files, f"{name}.csv", f"{name}.caption.tex"]


@dataclass
class Built:
    """One variant of a figure: what it draws, its spec as written (spec_json) and, when the width had to be measured,
    the SVG of exactly that spec (rendered once, kept)."""

    drawn: object  # pipeline.figures.growth.Drawn
    spec: str
    svg: str | None = None


def build_drawn(name: str, con, fits, version: str, variant_name: str) -> Built:
    """The figure's chart, data and printed rates in one variant (pipeline.figures.growth.Drawn), with its spec.

    Single and layered views come out exactly the variant's width (autosize fit-x). Vega lays out concatenated
    views (Figure 3's panels) by rules of its own and sizes the SVG in whole points: such a figure is rendered,
    measured and built again with the difference taken off its panels, until it is the width or at most
    WIDTH_TOLERANCE_PT wider (never narrower than the column), or narrower panels no longer change it; the closest
    one measured that is not narrower is kept (the first of equals)."""
    import dataclasses

    from pipeline.figures import theme

    module_name, kwargs = FIGURES[name]
    module = importlib.import_module(module_name)
    variant = theme.VARIANTS[variant_name]
    target = variant.width
    drawn = module.build(con, fits, version, variant, **kwargs)
    spec_dict = drawn.chart.to_dict(validate=False)  # validated in tests (test_figures)
    spec = spec_json(spec_dict)
    if "vconcat" not in spec_dict and "hconcat" not in spec_dict:
        return Built(drawn, spec)
    measured: list[tuple[float, Built]] = []
    for _ in range(MEASURES):
        svg = _svg(spec)
        excess = _svg_width(svg) - target
        unmoved = bool(measured) and excess == measured[-1][0]  # narrower panels left the width as it was:
        measured.append((excess, Built(drawn, spec, svg)))  # something else (a title, the key) sets it
        if 0 <= excess <= WIDTH_TOLERANCE_PT or unmoved:
            break
        variant = dataclasses.replace(variant, width=variant.width - excess)
        drawn = module.build(con, fits, version, variant, **kwargs)
        spec = spec_json(drawn.chart.to_dict(validate=False))
    return min(measured, key=lambda m: (m[0] < 0, abs(m[0])))[1]


MEASURES = 4  # renders of a figure of panels to bring it to its width (two or three suffice for every figure today)
WIDTH_TOLERANCE_PT = 1.0  # Vega sizes a concatenated chart's SVG in whole points


def _svg(spec: str) -> str:
    """The SVG of a spec as written: ids renumbered (renumber_svg_ids), the shipped fonts only."""
    import vl_convert

    vl_convert.register_font_directory(str(paths.FONTS))
    return renumber_svg_ids(vl_convert.vegalite_to_svg(json.loads(spec), allowed_base_urls=[]))


def _svg_width(svg: str) -> float:
    return float(re.search(r'<svg[^>]*\bwidth="([\d.]+)"', svg).group(1))


def spec_json(spec: dict) -> str:
    return json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def figure_key(specs: dict[str, str], data_csv: str, caption: str) -> str:
    """What a figure's files are a function of: its specs, data and caption, the fonts, vl-convert and settings."""
    import vl_convert

    digest = hashlib.sha256()
    for variant in sorted(specs):
        digest.update(variant.encode() + b"\0" + specs[variant].encode() + b"\0")
    digest.update(data_csv.encode() + b"\0" + caption.encode() + b"\0")
    for font in sorted(paths.FONTS.glob("*.ttf")):
        digest.update(font.name.encode() + hashlib.sha256(font.read_bytes()).digest())
    digest.update(getattr(vl_convert, "__version__", "unknown").encode())
    digest.update(json.dumps(RENDER_SETTINGS, sort_keys=True).encode())
    return digest.hexdigest()


def render_figure(
    name: str,
    curated_dir: Path,
    out_dir: Path,
    version: str,
    previous: Path | None,
    previous_keys: dict[str, str],
) -> dict:
    """Every file of one figure into out_dir: copied from `previous` when its key is unchanged, else rendered.
    Returns the figure's manifest entry."""
    import pandas as pd

    from pipeline import fits as fitting
    from pipeline.figures import escape

    con = fitting.connect_curated(curated_dir)
    fits = pd.read_parquet(curated_dir / "fits.parquet")
    built = {v: build_drawn(name, con, fits, version, v) for v in VARIANT_NAMES}
    drawn = {v: b.drawn for v, b in built.items()}
    specs = {v: b.spec for v, b in built.items()}
    data_csv = escape.csv_text(drawn["web"].data)
    caption = caption_tex(name, drawn["2col"], version)
    key = figure_key(specs, data_csv, caption)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = outputs_of(name)
    reused = previous is not None and previous_keys.get(name) == key and all((previous / f).is_file() for f in files)
    if reused:
        for f in files:
            _link_or_copy(previous / f, out_dir / f)
    else:
        svgs = {v: b.svg or _svg(b.spec) for v, b in built.items()}
        _render_files(name, drawn, specs, svgs, data_csv, caption, out_dir, version)
    return {
        "key": key,
        "rendered": not reused,
        "fits_shown": drawn["web"].fits_shown,
        "data_sha256": hashlib.sha256(data_csv.encode()).hexdigest(),
        "outputs": {
            f: {"sha256": _sha256(out_dir / f) if f.split(".", 1)[1] in BYTE_REPRODUCIBLE else None}
            | (
                {}
                if f.split(".", 1)[1] in BYTE_REPRODUCIBLE
                else {"note": "PDF is not byte-reproducible; checked structurally"}
            )
            for f in files
        },
    }


def _render_files(name, drawn, specs, svgs, data_csv, caption, out_dir, version) -> None:
    import vl_convert

    from pipeline.figures import escape

    vl_convert.register_font_directory(str(paths.FONTS))
    for variant in VARIANT_NAMES:
        stem = name if variant == "web" else f"{name}_{variant}"
        spec = json.loads(specs[variant])
        svg = svgs[variant]
        (out_dir / f"{stem}.vl.json").write_text(specs[variant], encoding="utf-8")
        (out_dir / f"{stem}.svg").write_text(svg, encoding="utf-8")
        if variant == "web":
            (out_dir / f"{stem}.png").write_bytes(vl_convert.svg_to_png(svg, ppi=PNG_PPI))
        info = {
            "Title": drawn[variant].title,
            "Author": "memwall contributors",
            "Subject": f"memwall dataset version {version}; data CC BY 4.0; {drawn[variant].description}",
            "Keywords": f"memwall {version}",
            "Creator": "memwall (pipeline/figures)",
        }
        (out_dir / f"{stem}.pdf").write_bytes(with_pdf_info(vl_convert.svg_to_pdf(svg), info))
        if variant == "web":
            page = escape.html_page(spec, drawn[variant].title, drawn[variant].description, version, BUNDLE_FILE)
            (out_dir / f"{stem}.html").write_text(page, encoding="utf-8")
    (out_dir / f"{name}.csv").write_text(data_csv, encoding="utf-8")
    (out_dir / f"{name}.caption.tex").write_text(caption, encoding="utf-8")


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


SVG_ID = re.compile(r'(id="|url\(#|href="#)([^")]+)(["\)])')


def renumber_svg_ids(svg: str) -> str:
    """Ids in the order they first appear, as id1, id2 ...: vl-convert numbers them with a process-wide counter, so
    the second figure of a process would otherwise differ from the same figure rendered alone."""
    mapping: dict[str, str] = {}
    for match in re.finditer(r'id="([^"]+)"', svg):
        mapping.setdefault(match.group(1), f"id{len(mapping) + 1}")
    return SVG_ID.sub(lambda m: m.group(1) + mapping.get(m.group(2), m.group(2)) + m.group(3), svg)


def with_pdf_info(pdf: bytes, info: dict[str, str]) -> bytes:
    """The PDF with its document information (title, author, subject: the credit and dataset version the print
    variants leave out of the image) set by an incremental update that replaces the Info object."""
    trailer = pdf[pdf.rfind(b"trailer") :]
    info_ref = re.search(rb"/Info\s+(\d+)\s+(\d+)\s+R", trailer)
    size = re.search(rb"/Size\s+(\d+)", trailer)
    root = re.search(rb"/Root\s+(\d+\s+\d+\s+R)", trailer)
    start = re.search(rb"startxref\s+(\d+)", trailer)
    if not (info_ref and size and root and start):
        raise ValueError("unexpected PDF trailer: cannot set the document information")
    number = int(info_ref.group(1))

    def text(value: str) -> bytes:  # UTF-16BE hex string: any character, nothing to escape
        return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode() + b">"

    body = b"".join(b"/" + key.encode() + b" " + text(value) + b"\n" for key, value in info.items())
    offset = len(pdf) + 1
    obj = b"\n%d 0 obj\n<<\n%s/Producer (svg2pdf)\n>>\nendobj\n" % (number, body)
    xref_at = offset + len(obj) - 1
    xref = b"xref\n%d 1\n%010d 00000 n\r\n" % (number, offset)
    new_trailer = b"trailer\n<<\n  /Size %s\n  /Root %s\n  /Info %d 0 R\n  /Prev %s\n>>\nstartxref\n%d\n%%%%EOF" % (
        size.group(1),
        root.group(1),
        number,
        start.group(1),
        xref_at,
    )
    return pdf + obj + xref + new_trailer


def caption_tex(name: str, drawn, version: str) -> str:
    """The print caption: what the figure shows (its module's docstring), every rate it prints with its interval, the
    data version and the credit; LaTeX-escaped."""
    from pipeline.figures import escape

    module_name, kwargs = FIGURES[name]
    what = " ".join((_docstring(module_name) or name).split())
    rates = "; ".join(f"{f['legend']}: {f['text']}" for f in drawn.fits_shown)
    parts = [drawn.title + ".", what]
    if rates:
        parts.append(f"Fitted rates (OLS of log10 value on year, 95% intervals): {rates}.")
    parts.append(f"Data: memwall {version} (CC BY 4.0), selection preset {kwargs.get('preset', 'current')}.")
    return (
        "% Generated by pipeline/figures/render.py; \\input{} it inside \\caption{...}.\n"
        + escape.latex(" ".join(parts))
        + "\n"
    )


def _docstring(module_name: str) -> str | None:
    """A module's docstring, read from its source without importing it (and altair, pandas ... with it)."""
    source = Path(importlib.util.find_spec(module_name).origin).read_text(encoding="utf-8")
    return ast.get_docstring(ast.parse(source), clean=False)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def inputs_hash() -> str:
    """Hash of everything that makes the figures: the figures stage's key (pipeline/stagekeys.py: the code, fonts,
    version, pins and raw data, notes left out since no figure prints them)."""
    from pipeline import stagekeys

    return stagekeys.key("figures")


PRELOAD = ["pandas", "pyarrow", "duckdb", "altair", "vl_convert", "pipeline.fits", "pipeline.figures.growth"]


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes forked from a server that imports PRELOAD once, with PYTHONHASHSEED=0."""
    from multiprocessing import forkserver

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
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def javascript_bundle() -> str:
    """The vega-embed bundle every HTML page loads, built once and cached (.build/) by vl-convert and Vega-Lite
    version."""
    import vl_convert
    from altair.utils._importers import vl_version_for_vl_convert

    vl_version = vl_version_for_vl_convert()
    cache = paths.ROOT / ".build" / f"vega-embed-{getattr(vl_convert, '__version__', 'x')}-{vl_version}.js"
    if cache.exists():
        return cache.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    tmp.write_text(bundle, encoding="utf-8")
    os.replace(tmp, cache)
    return bundle


def render_all(curated_dir: Path, figures_dir: Path, version: str, names: list[str] | None = None) -> dict:
    """Render (or reuse) every figure into a staging folder, then put the whole version folder in place at once.
    Figures not in `names` are reused from the current folder as they are. Returns the manifest."""
    names = names or list(FIGURES)
    target = figures_dir / version
    figures_dir.mkdir(parents=True, exist_ok=True)
    previous = target if (target / "manifest.json").is_file() else None
    previous_keys = {}
    if previous is not None:
        old = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
        previous_keys = {n: entry.get("key", "") for n, entry in old.get("figures", {}).items()}
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=figures_dir))
    try:
        bundle = javascript_bundle()
        workers = max(1, min(len(names), os.cpu_count() or 1))
        entries: dict[str, dict] = {}
        if workers == 1:
            for name in names:
                entries[name] = render_figure(name, curated_dir, staging, version, previous, previous_keys)
        else:
            with _pool(workers) as pool:
                futures = {
                    name: pool.submit(render_figure, name, curated_dir, staging, version, previous, previous_keys)
                    for name in sorted(names, key=lambda n: n not in SLOWEST)
                }
            failed = [(name, future.exception()) for name, future in futures.items() if future.exception()]
            if failed:
                details = "\n".join(f"--- {n}:\n{''.join(traceback.format_exception(e)).strip()}" for n, e in failed)
                raise RuntimeError(f"rendering failed for {', '.join(n for n, _ in failed)}:\n{details}")
            entries = {name: future.result() for name, future in futures.items()}
        (staging / BUNDLE_FILE).write_text(bundle, encoding="utf-8")
        for name in FIGURES:
            if name not in entries:
                if previous is None or name not in previous_keys:
                    raise RuntimeError(f"{name} was not rendered and has no previous output to keep")
                for f in outputs_of(name):
                    _link_or_copy(previous / f, staging / f)
                entries[name] = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))["figures"][name]
        manifest = _manifest(entries, version)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", "utf-8")
        fault_point("figures:before_swap")
        os.chmod(staging, 0o755)
        replace_directory(staging, target)  # the whole version folder at once: never new files beside an old manifest
        _point_latest(figures_dir, version)
        gallery = figures_dir / "README.md"
        tmp = figures_dir / ".README.md.tmp"
        tmp.write_text(gallery_markdown(version), encoding="utf-8")
        os.replace(tmp, gallery)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _manifest(entries: dict[str, dict], version: str) -> dict:
    figures = {}
    for name in FIGURES:
        entry = dict(entries[name])
        entry.pop("rendered", None)
        figures[name] = entry
    bundle = {"sha256": hashlib.sha256(javascript_bundle().encode()).hexdigest()}
    return {"dataset_version": version, "inputs_sha256": inputs_hash(), "figures": figures, "bundle": bundle}


def gallery_markdown(version: str) -> str:
    """figures/README.md: every figure in both flavours, with its caption, LaTeX snippets and the citation."""
    from pipeline import package
    from pipeline.figures import escape

    date = package.release_date(version, (paths.ROOT / package.CHANGELOG).read_text(encoding="utf-8"))
    lines = [
        "# Figures",
        "",
        f"Generated by `make figures` (pipeline/figures/); dataset version **{version}**; `latest/` points at it. "
        "Each figure comes in two flavours: **web** (title, subtitle and credit in the image; SVG, PNG at 300 ppi, "
        "PDF, the Vega-Lite spec with its data, and an offline HTML page with tooltips and source links) and "
        "**print** (no title or credit in the image: all text 8-9 pt at final size, the caption in `.caption.tex` "
        "and the credit in the PDF's metadata), in a double-column (`_2col`, 7 in) and a single-column (`_1col`, "
        "3.5 in) width. `NAME.csv` holds the plotted points and fitted lines; `manifest.json` the hash of every "
        "output, of the data each figure draws, and of the code and raw data that made it.",
        "",
        f"Cite: {escape.markdown(package.AUTHOR)} ({date[:4]}). *{escape.markdown(package.TITLE)}*, dataset version "
        f'{version}. {package.PROJECT_URL}. Data CC BY 4.0. Reproduces and extends A. Gholami et al., "AI and '
        'Memory Wall", IEEE Micro, 2024 (arXiv:2403.14123).',
        "",
        "```bibtex",
        package.bibtex(version, date),
        "```",
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
            escape.markdown(caption),
            "",
            f"Web: [PDF]({version}/{name}.pdf) · [SVG]({version}/{name}.svg) · [PNG]({version}/{name}.png) · "
            f"[Vega-Lite]({version}/{name}.vl.json) · [HTML]({version}/{name}.html) · [data]({version}/{name}.csv)",
            "",
            f"Print: double column [PDF]({version}/{name}_2col.pdf) · [SVG]({version}/{name}_2col.svg) · "
            f"[Vega-Lite]({version}/{name}_2col.vl.json); single column [PDF]({version}/{name}_1col.pdf) · "
            f"[SVG]({version}/{name}_1col.svg) · [Vega-Lite]({version}/{name}_1col.vl.json); "
            f"[caption]({version}/{name}.caption.tex)",
            "",
            "```latex",
            "% double column (IEEE/ACM two-column papers): spans both columns",
            "\\begin{figure*}[t]",
            "  \\centering",
            f"  \\includegraphics[width=\\textwidth]{{figures/{version}/{name}_2col.pdf}}",
            f"  \\caption{{\\input{{figures/{version}/{name}.caption.tex}}}}",
            f"  \\label{{fig:{name}}}",
            "\\end{figure*}",
            "% single column",
            "\\begin{figure}[t]",
            "  \\centering",
            f"  \\includegraphics[width=\\linewidth]{{figures/{version}/{name}_1col.pdf}}",
            f"  \\caption{{\\input{{figures/{version}/{name}.caption.tex}}}}",
            f"  \\label{{fig:{name}-1col}}",
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
        render_figure(name, Path(curated), Path(out), version, None, {})
        (Path(out) / BUNDLE_FILE).write_text(javascript_bundle(), encoding="utf-8")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
