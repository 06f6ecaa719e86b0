"""Figure 1 of the paper: peak hardware FLOP/s, DRAM bandwidth and interconnect bandwidth, each normalized to its
first point, on a log scale against year, each with its fitted exponential (95% band) and its growth rate."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline import fits as fitting
from pipeline.figures import growth, theme

SERIES = (
    ("peak_flops", "compute"),
    ("dram_bandwidth", "memory_bandwidth"),
    ("interconnect_bandwidth", "interconnect"),
)
LEGENDS = {
    "paper": {
        "peak_flops": "Peak FLOP/s (the paper's chips and NVIDIA server GPUs to 2017)",
        "dram_bandwidth": "DRAM bandwidth (GPUs that set a record)",
        "interconnect_bandwidth": "Interconnect bandwidth (PCIe x16 and NVLink, per direction)",
    },
    "current": {
        "peak_flops": "Peak FLOP/s (data-center accelerators that set a record)",
        "dram_bandwidth": "DRAM bandwidth (data-center accelerators that set a record)",
        "interconnect_bandwidth": "Interconnect bandwidth (host and scale-up links that set a record, per direction)",
    },
}


def build(
    con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str, variant: theme.Variant, preset: str = "paper"
) -> growth.Drawn:
    declared = {s.name: s for s in fitting.load_series() if s.preset == preset}
    series = [
        growth.plotted(
            con, fits, declared[name], role, legend=LEGENDS[preset][name], normalize=True, paper=preset == "paper"
        )
        for name, role in SERIES
    ]
    if preset == "paper":
        title = "Scaling of peak hardware FLOP/s, DRAM and interconnect bandwidth, 1996-2022"
        subtitle = (
            "Each series normalized to its first point; lines: OLS fit of log10(value) on year with its 95% band, "
            "over the paper's selection of chips and links."
        )
        x_domain = (1995.0, 2024.0)
    else:
        title = "Scaling of peak hardware FLOP/s, DRAM and interconnect bandwidth, 2003-2026"
        subtitle = (
            "Each series normalized to its first point; record-setting data-center accelerators and links; lines: OLS "
            "fit of log10(value) on year with its 95% band."
        )
        x_domain = (2002.0, 2027.0)
    return growth.chart(
        series,
        variant,
        version=version,
        y_title="Relative to first point (×)",
        x_domain=x_domain,
        title=title,
        subtitle=subtitle,
        data_note=f"series preset '{preset}' (curated/fits.parquet)",
    )
