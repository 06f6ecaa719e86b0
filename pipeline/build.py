"""The pipeline's stages, each load -> process -> save, run by the Makefile (or `memwall build`).

    python -m pipeline.build ingest     raw/ -> curated/<raw table>.parquet (fields.RAW_TABLES)
    python -m pipeline.build fits       curated/*.parquet -> curated/fits.parquet
    python -m pipeline.build bounds     curated/{model_shapes,accelerators}.parquet -> curated/inference_bounds.parquet
    python -m pipeline.build paper      raw/reference/paper_points.csv + curated/ -> curated/paper_points.parquet
    python -m pipeline.build report     curated/fits.parquet -> curated/REPORT.md
    python -m pipeline.build database   curated/*.parquet -> curated/memwall.duckdb
    python -m pipeline.build package    curated/ -> datapackage.json, docs/DATA_DICTIONARY.md, generated parts of
                                        CHANGELOG-DATA.md and docs/QUERIES.md
    python -m pipeline.build figures    curated/ -> figures/<version>/
    python -m pipeline.build all

A stage that fails writes nothing: outputs are staged as temporary files and renamed into place together.
One build runs at a time (a lock on curated/.build.lock).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline import fields as F
from pipeline import paths
from pipeline.outputs import build_lock, fault_point, staged


def stage_ingest() -> None:
    from pipeline import ingest

    tables = ingest.build_tables(paths.RAW)
    version = paths.dataset_version()
    with staged() as out:
        for name, frame in tables.items():
            arrow = ingest.to_arrow(F.TABLES[name], frame, version)
            out.write(paths.CURATED / f"{name}.parquet", lambda tmp, a=arrow: ingest.write_parquet(a, tmp))


def stage_fits() -> None:
    from pipeline import fits, ingest

    frame = fits.run_fits(paths.CURATED)
    arrow = ingest.to_arrow(F.FITS, frame, paths.dataset_version())
    with staged() as out:
        out.write(paths.CURATED / "fits.parquet", lambda tmp: ingest.write_parquet(arrow, tmp))


def pd_read(path: Path):
    import pandas as pd

    return pd.read_parquet(path)


def stage_bounds() -> None:
    from pipeline import ingest
    from pipeline.costmodel import grid

    frame = grid.build_grid(paths.CURATED)
    arrow = ingest.to_arrow(F.INFERENCE_BOUNDS, frame, paths.dataset_version())
    with staged() as out:
        out.write(paths.CURATED / "inference_bounds.parquet", lambda tmp: ingest.write_parquet(arrow, tmp))


def stage_paper() -> None:
    from pipeline import fits, ingest, paper_compare

    points = paper_compare.load_points()
    matches = paper_compare.match(points, fits.connect_curated(paths.CURATED))
    provenance = points.set_index("point_id")[["source_file", "source_commit"]]
    frame = matches.join(provenance, on="point_id").rename(columns={"x_year_as_plotted": "plotted_x_year"})
    frame = frame[F.PAPER_POINTS.columns]
    arrow = ingest.to_arrow(F.PAPER_POINTS, frame, paths.dataset_version())
    with staged() as out:
        out.write(paths.CURATED / "paper_points.parquet", lambda tmp: ingest.write_parquet(arrow, tmp))


def stage_report() -> None:
    from pipeline import fits, paper_compare, report
    from pipeline.costmodel import whatif_report
    from pipeline.costmodel.report import report_markdown

    points = paper_compare.load_points()
    con = fits.connect_curated(paths.CURATED)
    matches = paper_compare.match(points, con)
    chains = paper_compare.attribution(points, matches, con, pd_read(paths.CURATED / "fits.parquet"))
    sections = [
        report_markdown(),
        whatif_report.markdown(paths.CURATED),
        paper_compare.report_section(matches, chains),
    ]
    text = report.build_report(paths.CURATED, paths.dataset_version(), sections)
    with staged() as out:
        out.write_text(paths.CURATED / "REPORT.md", text)


def stage_database() -> None:
    from pipeline import database

    database.build_database(paths.CURATED, paths.DATABASE)


def stage_package() -> None:
    from pipeline import package

    package.build(paths.CURATED, paths.ROOT)


def stage_figures() -> None:
    from pipeline.figures import render

    # MEMWALL_FIGURES=name,name renders only these figures and keeps the others as they are (tests and development)
    only = [n for n in os.environ.get("MEMWALL_FIGURES", "").split(",") if n]
    render.render_all(paths.CURATED, paths.FIGURES, paths.dataset_version(), only or None)


STAGES: dict[str, Callable[[], None]] = {
    "ingest": stage_ingest,
    "fits": stage_fits,
    "bounds": stage_bounds,
    "paper": stage_paper,
    "report": stage_report,
    "database": stage_database,
    "package": stage_package,
    "figures": stage_figures,
}


def remove_leftovers() -> list[Path]:
    """Temporary files of a build that was killed (we hold the lock, so no build is writing them now)."""
    leftovers = [
        *paths.CURATED.glob(".*.tmp"),
        *paths.CURATED.glob(".memwall.*"),
        *paths.FIGURES.glob(".staging-*"),
        *paths.FIGURES.glob(".old-*"),
        *paths.FIGURES.glob(".*.tmp"),
        *paths.DOCS.glob(".*.tmp"),
        *paths.ROOT.glob(".*.tmp"),
    ]
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return leftovers


def _trace(event: str) -> None:
    """With MEMWALL_TRACE=<file>, append '<pid> <event> <time>' lines (used by the concurrency test)."""
    target = os.environ.get("MEMWALL_TRACE")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()} {event} {time.time():.6f}\n")


def _raised(err: Exception, module: str, name: str) -> bool:
    """Whether err is a module.name, without importing the module (pipeline.fits and pipeline.ingest bring pandas,
    pyarrow and duckdb, a second of imports that a stage like figures does not need): if it was never imported, err
    cannot be one."""
    return module in sys.modules and isinstance(err, getattr(sys.modules[module], name))


def run(stage_names: list[str], quiet: bool = False, force: bool = False) -> int:
    from pipeline import stagekeys

    with build_lock(paths.LOCK):
        _trace("locked")
        remove_leftovers()
        try:
            for name in stage_names:
                started = time.perf_counter()
                fault_point(f"stage:{name}")
                stage_key = stagekeys.key(name)
                if not force and stagekeys.up_to_date(name, stage_key):
                    stagekeys.touch(name)
                    if not quiet:
                        print(f"memwall: {name:<9} skipped: inputs and outputs as when it last ran", file=sys.stderr)
                    continue
                try:
                    STAGES[name]()
                except Exception as err:
                    if _raised(err, "pipeline.ingest", "ValidationFailed"):
                        print(f"memwall: {name}: {err}", file=sys.stderr)
                        print("memwall: nothing was written; previous outputs are unchanged.", file=sys.stderr)
                    elif _raised(err, "pipeline.fits", "FitError"):
                        print(f"memwall: {name}: {err}", file=sys.stderr)
                    else:  # any other failure: report it, outputs of this stage stay as they were
                        print(f"memwall: {name} failed: {type(err).__name__}: {err}", file=sys.stderr)
                        print(f"memwall: the outputs of '{name}' are unchanged.", file=sys.stderr)
                    return 1
                stagekeys.record(name, stage_key)
                if not quiet:
                    print(f"memwall: {name:<9} {time.perf_counter() - started:6.2f} s", file=sys.stderr)
        finally:
            _trace("released")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stage", nargs="+", choices=[*STAGES, "all"])
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument(
        "--force", action="store_true", help="run every stage named, even those whose inputs are unchanged"
    )
    args = parser.parse_args(argv)
    names = list(STAGES) if "all" in args.stage else args.stage
    try:
        return run(names, args.quiet, args.force)
    except KeyboardInterrupt:
        print("memwall: interrupted; outputs are as they were before the stage that was running", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
