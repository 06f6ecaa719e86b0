"""Figure 4 of the paper: memory needed to train each model of its memory table (parameters, optimizer state,
activations, stacked; from pipeline/costmodel/training_memory.py) against the largest memory of a single
data-center GPU released by each model's date (curated/accelerators.parquet), drawn as a step line."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd

from pipeline.costmodel import training_memory as M
from pipeline.figures import theme

PARTS = (("parameters", "Parameters"), ("optimizer", "Optimizer state"), ("activations", "Activations"))
GPU_LINE = "Largest memory of one data-center GPU at the model's date"
PAPER_MARK = "Paper's total, as printed"
SHORT = {"ResNeXt101 (64x4d)": ["ResNeXt101", "64x4d"], "Transformer Big (WMT)": ["Transformer", "Big (WMT)"]}


def largest_gpu(con: duckdb.DuckDBPyConnection, model_ids: list[str]) -> pd.DataFrame:
    """For each model: its release date, the largest memory of a single-die data-center GPU released by then and
    the first GPU to offer it (boards such as the K80 are several GPUs, so devices with dies_per_device > 1 are
    left out)."""
    ids = ", ".join(f"'{i}'" for i in model_ids)
    return con.execute(f"""
        WITH eligible AS (
            SELECT m.model_id, m.release_date, m.release_fractional_year, a.name, a.memory_bytes,
                   max(a.memory_bytes) OVER (PARTITION BY m.model_id) AS best,
                   strftime(a.release_date, '%Y-%m-%d') || a.name AS first
            FROM models m JOIN accelerators a
              ON a.kind = 'gpu' AND a.segment = 'datacenter' AND coalesce(a.dies_per_device, 1) = 1
             AND a.memory_bytes IS NOT NULL AND a.release_date <= m.release_date
            WHERE m.model_id IN ({ids}))
        SELECT model_id, release_date, release_fractional_year, arg_min(name, first) AS gpu,
               max(memory_bytes) AS gpu_memory_bytes
        FROM eligible WHERE memory_bytes = best GROUP BY ALL
    """).df()


def build(con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str):
    rows = pd.DataFrame(M.table())
    rows["model_id"] = [m.model_id for m in M.PAPER_TABLE]
    rows = rows.merge(largest_gpu(con, rows["model_id"].tolist()), on="model_id", how="left", validate="one_to_one")
    if rows["gpu_memory_bytes"].isna().any():
        missing = rows.loc[rows["gpu_memory_bytes"].isna(), "model_id"].tolist()
        raise LookupError(f"no release date or no earlier GPU for {missing} in the curated tables")
    rows = rows.sort_values("release_fractional_year", kind="stable").reset_index(drop=True)
    rows["i"] = range(len(rows))
    rows["gpu_gib"] = rows["gpu_memory_bytes"] / M.GIB

    bars = []
    for _, r in rows.iterrows():
        bottom = 0.0
        for part, label in PARTS:
            value = r[f"{part}_gib"]
            bars.append(
                {
                    "i": r["i"],
                    "y0": bottom,
                    "y1": bottom + value,
                    "legend": label,
                    "model": r["name"],
                    "part_gib": round(value, 2),
                }
            )
            bottom += value
    bars = pd.DataFrame(bars)
    bars["left"], bars["right"] = bars["i"] - 0.32, bars["i"] + 0.32
    steps = pd.DataFrame(
        {
            "x": [*(rows["i"] - 0.5), rows["i"].iloc[-1] + 0.5],
            "y": [*rows["gpu_gib"], rows["gpu_gib"].iloc[-1]],
            "legend": GPU_LINE,
        }
    )
    changes = rows[rows["gpu_memory_bytes"] != rows["gpu_memory_bytes"].shift()].copy()
    ends = [*changes["i"].iloc[1:] - 0.5, rows["i"].iloc[-1] + 0.5]
    changes["x"] = (changes["i"] - 0.5 + ends) / 2  # label centred over its step, two short lines
    changes["text"] = [
        [g.removeprefix("NVIDIA ").removeprefix("AMD "), f"{m:.0f} GiB"]
        for g, m in zip(changes["gpu"], changes["gpu_gib"], strict=True)
    ]
    paper = rows.assign(left=rows["i"] - 0.4, right=rows["i"] + 0.4, legend=PAPER_MARK)

    legends = [label for _, label in PARTS] + [GPU_LINE, PAPER_MARK]
    colors = [theme.PALETTE[0], theme.PALETTE[4], theme.PALETTE[2], theme.PALETTE[1], "#000000"]
    color = alt.Color(
        "legend:N",
        scale=alt.Scale(domain=legends, range=colors),
        legend=alt.Legend(title=None, orient="top", direction="horizontal", columns=3, symbolType="square"),
    )
    top = max(rows["gpu_gib"].max(), rows["total_gib"].max(), rows["paper_total_gb"].max()) * 1.15
    width, height = theme.DOUBLE_COLUMN - 60, 230
    x_scale = alt.Scale(domain=[-0.6, len(rows) - 0.4], nice=False, zero=False)
    labels = [SHORT.get(n, [n]) + [str(d.year)] for n, d in zip(rows["name"], rows["release_date"], strict=True)]
    x_axis = alt.Axis(
        values=list(rows["i"]),
        labelExpr=f"{labels}[datum.value]",
        title=None,
        grid=False,
        labelAngle=0,
        labelLineHeight=8,
    )
    y = alt.Y("y0:Q", scale=alt.Scale(domain=[0, top], nice=False), axis=alt.Axis(title="Memory to train (GiB)"))
    stack = (
        alt.Chart(bars)
        .mark_bar(stroke="white", strokeWidth=0.3)
        .encode(
            x=alt.X("left:Q", scale=x_scale, axis=x_axis),
            x2="right:Q",
            y=y,
            y2="y1:Q",
            color=color,
            tooltip=["model:N", "legend:N", alt.Tooltip("part_gib:Q", title="GB")],
        )
    )
    line = (
        alt.Chart(steps)
        .mark_line(interpolate="step-after", strokeDash=[4, 2], strokeWidth=1.4)
        .encode(
            x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=alt.Scale(domain=[0, top], nice=False)), color=color
        )
    )
    step_labels = (
        alt.Chart(changes)
        .mark_text(align="center", baseline="bottom", dy=-12, lineHeight=8, color=theme.PALETTE[1])
        .encode(
            x=alt.X("x:Q", scale=x_scale),
            y=alt.Y("gpu_gib:Q", scale=alt.Scale(domain=[0, top], nice=False)),
            text="text:N",
        )
    )
    ticks = (
        alt.Chart(paper)
        .mark_rule(strokeWidth=1.6)
        .encode(
            x=alt.X("left:Q", scale=x_scale),
            x2="right:Q",
            y=alt.Y("paper_total_gb:Q", scale=alt.Scale(domain=[0, top], nice=False)),
            color=color,
            tooltip=["name:N", alt.Tooltip("paper_total_gb:Q", title="paper's total, GB")],
        )
    )
    subtitle = [
        "Bars: memwall's cost model (pipeline/costmodel) at the paper's input sizes and batches; FP32 parameters,",
        "SGD with momentum (CV) or Adam (NLP); gradients, one more copy of the parameters, left out as in the paper.",
    ]
    return alt.layer(
        stack,
        line,
        step_labels,
        ticks,
        theme.credit_mark(version, "models and GPUs: curated/", width, height, 42),
        title=theme.title("Memory needed to train vs. single-GPU memory", subtitle),
    ).properties(
        width=width, height=height, usermeta={"memwall": {"version": version, "data": "costmodel", "fits": []}}
    )
