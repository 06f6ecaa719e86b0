"""Figure 1 of the paper: peak FLOP/s, DRAM bandwidth and interconnect bandwidth, each normalised to its first
point, on a log scale against year, with a fitted exponential and its rate per series."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline import fits as fitting
from pipeline.figures import growth, theme

SERIES = ("peak_flops", "dram_bandwidth", "interconnect_bandwidth")


def build(con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str, preset: str = "paper"):
    declared = {s.name: s for s in fitting.load_series() if s.preset == preset}
    layers = [growth.series_layer(con, fits, declared[name], normalize=True) for name in SERIES]
    if preset == "paper":
        title = "Scaling of peak hardware FLOP/s, DRAM and interconnect bandwidth"
        subtitle = (
            "Each series normalized to its first point; lines: OLS fit of log10(value) on year (paper's selection)"
        )
        x_domain = (1995.0, 2024.0)
    else:
        title = "Scaling of peak hardware FLOP/s, DRAM and interconnect bandwidth, 2006-2026"
        subtitle = "Data-center accelerators and links that set a record; lines: OLS fit of log10(value) on year"
        x_domain = (2002.0, 2027.0)
    return growth.chart(
        layers,
        width=theme.DOUBLE_COLUMN - 60,
        height=250,
        y_title="Normalized scaling",
        x_domain=x_domain,
        version=version,
        title=title,
        subtitle=subtitle,
        data_note=f"series preset '{preset}' (curated/fits.parquet)",
    )
