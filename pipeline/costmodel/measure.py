"""This machine's roofline: achieved matrix-multiply FLOP/s (NumPy, FP32 and FP64) and sustained memory bandwidth
(STREAM-style copy and triad with NumPy), the ridge point they imply, and where transformer inference falls on it.

    python -m pipeline.costmodel.measure [--matrix N] [--size-mib M] [--repeats R] [--quick] [--json]
                                         [--figure PATH]
    memwall measure ...  (the same options)

Each kernel runs once to warm up, then `repeats` times; the best run is reported. Bandwidth follows STREAM's
convention: copy (b = a) counts 2 arrays of traffic, triad (a = b + s*c) counts 3. NumPy computes the triad in two
passes, which move 5 arrays, so the triad figure is a lower bound; the ridge point uses the better of the two.
`--figure PATH` writes the roofline figure with this machine added, in the format PATH's extension names (.png,
.svg, .pdf, .html, .json); the committed figures are left untouched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

FLOAT64 = 8


def best_seconds(kernel, repeats: int) -> float:
    kernel()  # warm up: page-in, thread start, BLAS dispatch
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        kernel()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_flops(n: int, dtype: type, repeats: int) -> float:
    """Achieved FLOP/s of an n x n matrix product (2 n^3 FLOPs)."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=dtype), rng.random((n, n), dtype=dtype)
    out = np.empty((n, n), dtype=dtype)
    return 2 * n**3 / best_seconds(lambda: np.matmul(a, b, out=out), repeats)


def stream_bandwidth(size_bytes: int, repeats: int) -> dict[str, float]:
    """STREAM copy and triad on float64 arrays of `size_bytes` each; bytes per second, STREAM's counting."""
    n = size_bytes // FLOAT64
    a, b, c = np.ones(n), np.full(n, 2.0), np.full(n, 0.5)
    scalar = 3.0

    def triad() -> None:
        np.multiply(c, scalar, out=a)
        np.add(a, b, out=a)

    return {
        "copy": 2 * n * FLOAT64 / best_seconds(lambda: np.copyto(b, a), repeats),
        "triad": 3 * n * FLOAT64 / best_seconds(triad, repeats),
    }


def measure(matrix: int, size_mib: int, repeats: int) -> dict:
    bandwidth = stream_bandwidth(size_mib * 2**20, repeats)
    result = {
        "machine": f"{cpu_name()}, {os.cpu_count()} logical CPUs, {platform.system()}, NumPy {np.__version__}",
        "matmul_fp32_flops": matmul_flops(matrix, np.float32, repeats),
        "matmul_fp64_flops": matmul_flops(matrix, np.float64, repeats),
        "copy_bytes_per_s": bandwidth["copy"],
        "triad_bytes_per_s": bandwidth["triad"],
        "matrix": matrix,
        "array_mib": size_mib,
    }
    result["bandwidth_bytes_per_s"] = max(bandwidth.values())
    result["ridge_fp32_flop_per_byte"] = result["matmul_fp32_flops"] / result["bandwidth_bytes_per_s"]
    result["ridge_fp64_flop_per_byte"] = result["matmul_fp64_flops"] / result["bandwidth_bytes_per_s"]
    return result


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def report(r: dict, workloads) -> str:
    lines = [
        f"This machine: {r['machine']}",
        f"  matrix multiply, FP32 (n = {r['matrix']})   {r['matmul_fp32_flops'] / 1e9:10.1f} GFLOP/s",
        f"  matrix multiply, FP64 (n = {r['matrix']})   {r['matmul_fp64_flops'] / 1e9:10.1f} GFLOP/s",
        f"  memory copy  ({r['array_mib']} MiB arrays)    {r['copy_bytes_per_s'] / 1e9:10.1f} GB/s",
        f"  memory triad ({r['array_mib']} MiB arrays)    {r['triad_bytes_per_s'] / 1e9:10.1f} GB/s",
        f"  ridge point, FP32 matmul / best bandwidth {r['ridge_fp32_flop_per_byte']:7.1f} FLOP/byte",
        f"  ridge point, FP64 matmul / best bandwidth {r['ridge_fp64_flop_per_byte']:7.1f} FLOP/byte",
        "",
        "Transformer inference in FP32 (the roofline figure's scenarios) against the FP32 ridge point:",
    ]
    for row in workloads.itertuples():
        bound = "compute-bound" if row.intensity >= r["ridge_fp32_flop_per_byte"] else "memory-bound"
        lines.append(f"  {row.label:<80} {bound}")
    return "\n".join(lines)


def write_figure(path: Path, r: dict) -> None:
    """The roofline figure with this machine added, saved in the format named by the extension."""
    import pandas as pd
    import vl_convert

    from pipeline import fits as fitting
    from pipeline import paths
    from pipeline.figures import roofline

    vl_convert.register_font_directory(str(paths.FONTS))
    con = fitting.connect_curated(paths.CURATED)
    fits = pd.read_parquet(paths.CURATED / "fits.parquet")
    today = dt.date.today()
    year = today.year + (today.timetuple().tm_yday - 0.5) / 365.25
    machine = {"name": "This machine (NumPy FP32)", "year": year, "ridge": r["ridge_fp32_flop_per_byte"]}
    chart = roofline.build(con, fits, paths.dataset_version(), this_machine=machine)
    spec = chart.to_dict()
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        path.write_bytes(vl_convert.vegalite_to_png(spec, ppi=300))
    elif suffix == ".svg":
        path.write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
    elif suffix == ".pdf":
        path.write_bytes(vl_convert.vegalite_to_pdf(spec))
    elif suffix == ".html":
        chart.save(str(path), format="html", inline=True)
    else:
        path.write_text(json.dumps(spec, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memwall measure", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--matrix", type=int, default=2048, help="matrix size n of the n x n products (default 2048)")
    p.add_argument("--size-mib", type=int, default=256, help="MiB per array of the bandwidth tests (default 256)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per kernel; the best counts (default 5)")
    p.add_argument("--quick", action="store_true", help="small sizes, 2 repeats: a few seconds, rougher numbers")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    p.add_argument("--figure", type=Path, help="write the roofline figure with this machine added to this path")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.quick:
        args.matrix, args.size_mib, args.repeats = 512, 32, 2
    if min(args.matrix, args.size_mib, args.repeats) < 1:
        print("memwall measure: --matrix, --size-mib and --repeats must be positive", file=sys.stderr)
        return 2
    if args.figure and args.figure.suffix.lower() not in (".png", ".svg", ".pdf", ".html", ".json"):
        print(f"memwall measure: --figure {args.figure}: use .png, .svg, .pdf, .html or .json", file=sys.stderr)
        return 2
    from pipeline.costmodel.transformer import Precision
    from pipeline.figures.roofline import workloads

    result = measure(args.matrix, args.size_mib, args.repeats)
    print(json.dumps(result, indent=1, sort_keys=True) if args.json else report(result, workloads(Precision(4, 4))))
    if args.figure:
        write_figure(args.figure, result)
        print(f"wrote {args.figure}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
