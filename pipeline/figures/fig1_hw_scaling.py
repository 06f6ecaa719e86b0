"""Figure 1 of the paper: peak hardware FLOP/s, DRAM bandwidth and interconnect bandwidth, each normalized to its
first point, on a log scale against year, each with its fitted exponential (95% band) and its growth rate. The
overlay version adds the paper's own plotted points (crosses, from the vector PDF of its Figure 1:
raw/reference/paper_points.csv) as the paper drew them, each series relative to its own first point; which memwall
row each cross shows, and why the rates differ, is in curated/paper_points.parquet and curated/REPORT.md."""

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
    con: duckdb.DuckDBPyConnection,
    fits: pd.DataFrame,
    version: str,
    variant: theme.Variant,
    preset: str = "paper",
    overlay: bool = False,
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
    overlays = _paper_points(con) if overlay else []
    if overlay:
        title = "Figure 1 with the paper's own points (crosses) over memwall's data and fits"
    return growth.chart(
        series,
        variant,
        version=version,
        y_title="Relative to first point (×)",
        x_domain=x_domain,
        title=title,
        subtitle=subtitle,
        data_note=f"series preset '{preset}' (curated/fits.parquet)"
        + ("; crosses: curated/paper_points.parquet" if overlay else ""),
        overlays=overlays,
        overlay_key="Crosses: the paper's points as it plotted them (its Figure 1 PDF), each in its quantity's colour",
    )


def _paper_points(con: duckdb.DuckDBPyConnection) -> list[growth.Overlay]:
    """The paper's Figure 1 markers (curated/paper_points.parquet) per quantity, at the year and height it drew."""
    rows = con.execute(
        "SELECT series, plotted_x_year AS x, y_as_plotted AS y, coalesce(label, '') AS label, "
        "coalesce(memwall_name, 'no memwall row') AS matched, point_id FROM paper_points "
        "WHERE figure = 'fig1' AND NOT hidden ORDER BY point_id"
    ).df()
    roles = {"flops": "compute", "dram_bandwidth": "memory_bandwidth", "interconnect_bandwidth": "interconnect"}
    out = []
    for series, role in roles.items():
        part = rows[rows["series"] == series]
        points = pd.DataFrame(
            {
                "x": part["x"].round(4),
                "y": part["y"],
                "name": [
                    f"{lab or 'unlabelled'} (memwall: {m})"
                    for lab, m in zip(part["label"], part["matched"], strict=True)
                ],
                "source": "paper Figure 1 PDF, " + part["point_id"],
                "series": f"paper/{series}",
            }
        )
        out.append(growth.Overlay(role, f"paper/{series}", points))
    return out
