"""Figure 4 of the paper: memory needed to train each model of its memory table (parameters, optimizer state and
activations, stacked, without gradients as in the paper; from pipeline/costmodel/training_memory.py) against the
largest memory of one GPU released by each model's date: of the GPU families deep-learning models were trained on
(NVIDIA data-center GPUs and AMD Instinct), and of any vendor's data-center GPU (curated/accelerators.parquet).
Ticks: the totals the paper prints."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd

from pipeline.costmodel import training_memory as M
from pipeline.figures import growth, theme

PARTS = (
    ("parameters", "Parameters", "#0072B2"),
    ("optimizer", "Optimizer state", "#E69F00"),
    ("activations", "Activations", "#009E73"),
)
# The GPUs of the deep-learning software stacks these models were trained with: NVIDIA's data-center line and AMD's
# Instinct line. Other data-center GPUs of those years (FirePro S9150/S9170) were OpenCL/FP64 parts.
TRAINING_GPUS = "(a.vendor = 'NVIDIA' OR a.name ILIKE '%instinct%')"
ANY_GPU = "TRUE"
STEPS = (
    (
        "training",
        TRAINING_GPUS,
        "Largest single GPU of the deep-learning training lines (NVIDIA data-center, AMD Instinct) at the model's date",
        "#000000",
        (5, 2),
        1.4,
    ),
    ("any", ANY_GPU, "Largest single data-center GPU of any vendor at the model's date", "#999999", (2, 2), 1.0),
)
SHORT = {"ResNeXt101 (64x4d)": "ResNeXt101", "Transformer Big (WMT)": "Transformer Big"}


def largest_gpu(con: duckdb.DuckDBPyConnection, model_ids: list[str], condition: str) -> pd.DataFrame:
    """For each model: the largest memory of a single-die data-center GPU meeting `condition` released by the
    model's date, and the first GPU to offer it (boards such as the K80 are several GPUs: dies_per_device > 1 are
    left out)."""
    ids = ", ".join(f"'{i}'" for i in model_ids)
    return con.execute(f"""
        WITH eligible AS (
            SELECT m.model_id, a.name, a.memory_bytes,
                   max(a.memory_bytes) OVER (PARTITION BY m.model_id) AS best,
                   strftime(a.release_date, '%Y-%m-%d') || a.name AS first
            FROM models m JOIN accelerators a
              ON a.kind = 'gpu' AND a.segment = 'datacenter' AND coalesce(a.dies_per_device, 1) = 1
             AND a.status = 'shipping' AND a.memory_bytes IS NOT NULL AND a.release_date <= m.release_date
             AND {condition}
            WHERE m.model_id IN ({ids}))
        SELECT model_id, arg_min(name, first) AS gpu, max(memory_bytes) AS gpu_memory_bytes
        FROM eligible WHERE memory_bytes = best GROUP BY ALL
    """).df()


def build(con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str, variant: theme.Variant) -> growth.Drawn:
    rows = pd.DataFrame(M.table())
    rows["model_id"] = [m.model_id for m in M.PAPER_TABLE]
    dates = con.execute(
        "SELECT model_id, release_date, release_fractional_year FROM models WHERE model_id IN "
        f"({', '.join(repr(i) for i in rows['model_id'])})"
    ).df()
    rows = rows.merge(dates, on="model_id", how="left", validate="one_to_one")
    for key, condition, *_ in STEPS:
        gpus = largest_gpu(con, rows["model_id"].tolist(), condition).rename(
            columns={"gpu": f"gpu_{key}", "gpu_memory_bytes": f"bytes_{key}"}
        )
        rows = rows.merge(gpus, on="model_id", how="left", validate="one_to_one")
        if rows[f"bytes_{key}"].isna().any():
            missing = rows.loc[rows[f"bytes_{key}"].isna(), "model_id"].tolist()
            raise LookupError(f"no release date or no earlier GPU ({key}) for {missing} in the curated tables")
        rows[f"gib_{key}"] = (rows[f"bytes_{key}"] / M.GIB).round(3)
    rows = rows.sort_values("release_fractional_year", kind="stable").reset_index(drop=True)
    rows["i"] = range(len(rows))

    bars = []
    for r in rows.itertuples():
        bottom = 0.0
        for part, label, _ in PARTS:
            value = float(getattr(r, f"{part}_gib"))
            bars.append(
                {
                    "i": r.i,
                    "y0": round(bottom, 4),
                    "y1": round(bottom + value, 4),
                    "part": label,
                    "model": r.name,
                    "gib": round(value, 3),
                }
            )
            bottom += value
    bars = pd.DataFrame(bars)
    bars["left"], bars["right"] = bars["i"] - 0.32, bars["i"] + 0.32
    top = max(rows["gib_any"].max(), rows["total_gib"].max(), rows["paper_total_gb"].max()) * 1.12
    label_width = theme.text_width(f"{top:.0f}", theme.TEXT)
    frame = theme.frame_for(variant, label_width, 150.0 if variant.narrow else 190.0)
    x_scale = alt.Scale(domain=[-0.6, len(rows) - 0.4], nice=False, zero=False)
    y_scale = alt.Scale(domain=[0, round(top, 1)], nice=False)
    names = [SHORT.get(n, n) for n in rows["name"]]
    # two lines under each bar: the name's first word, then the rest and the year ("Transformer" / "Big, 2017")
    labels = [
        [n.split(" ", 1)[0], f"{n.split(' ', 1)[1]}, {d.year}" if " " in n else str(d.year)]
        for n, d in zip(names, rows["release_date"], strict=True)
    ]
    x_axis = alt.Axis(
        values=list(rows["i"]),
        labelExpr=f"{labels if not variant.narrow else [n for n in names]}[datum.value]",
        title=None,
        grid=False,
        labelAngle=-40 if variant.narrow else 0,
        labelOverlap=False,
        labelAlign="right" if variant.narrow else "center",
        labelLineHeight=theme.TEXT * 1.15,
    )
    y_axis = alt.Axis(
        title="Memory to train (GiB)",
        minExtent=theme.TICK + theme.GAP + label_width,
        maxExtent=theme.TICK + theme.GAP + label_width,
        titlePadding=5,
        tickCount=5,
    )
    layers = []
    for _part, label, color in PARTS:
        stack = (
            alt.Chart(bars[bars["part"] == label])
            .mark_rect(color=color, stroke="white", strokeWidth=0.3)
            .encode(
                x=alt.X("left:Q", scale=x_scale, axis=x_axis),
                x2="right:Q",
                y=alt.Y("y0:Q", scale=y_scale, axis=y_axis),
                y2="y1:Q",
            )
        )
        if variant.web:
            stack = stack.encode(tooltip=["model:N", "part:N", alt.Tooltip("gib:Q", title="GiB")])
        layers.append(stack)
    for key, _, _, color, dash, width in STEPS:
        steps = pd.DataFrame(
            {
                "x": [*(rows["i"] - 0.5), rows["i"].iloc[-1] + 0.5],
                "y": [*rows[f"gib_{key}"], rows[f"gib_{key}"].iloc[-1]],
            }
        )
        layers.append(
            alt.Chart(steps)
            .mark_line(interpolate="step-after", strokeDash=list(dash), strokeWidth=width, color=color)
            .encode(x=alt.X("x:Q", scale=x_scale, axis=x_axis), y=alt.Y("y:Q", scale=y_scale, axis=y_axis))
        )
    if not variant.narrow:  # the training line's GPU named above each of its steps
        changes = rows[rows["bytes_training"] != rows["bytes_training"].shift()].copy()
        ends = [*changes["i"].iloc[1:] - 0.5, rows["i"].iloc[-1] + 0.5]
        axes = theme.Axes(frame.plot_width, frame.plot_height, (-0.6, len(rows) - 0.4), (0.0, round(top, 1)), False)
        texts = pd.DataFrame(
            {
                "x": [round((a - 0.5 + b) / 2, 4) for a, b in zip(changes["i"], ends, strict=True)],
                "py": [round(axes.py(v) - 3, 2) for v in changes["gib_training"]],
                "text": [
                    f"{g.removeprefix('NVIDIA ').removeprefix('AMD ')}, {v:.0f} GiB"
                    for g, v in zip(changes["gpu_training"], changes["gib_training"], strict=True)
                ],
            }
        )
        layers.append(
            alt.Chart(texts)
            .mark_text(align="center", baseline="bottom", color=theme.INK, font=theme.FONT, fontSize=theme.TEXT)
            .encode(x=alt.X("x:Q", scale=x_scale, axis=x_axis), y=alt.Y("py:Q", scale=None), text="text:N")
        )
    paper = rows.assign(left=rows["i"] - 0.4, right=rows["i"] + 0.4)
    layers.append(
        alt.Chart(paper[["left", "right", "paper_total_gb"]])
        .mark_rule(strokeWidth=2.0, color="#000000")
        .encode(
            x=alt.X("left:Q", scale=x_scale, axis=x_axis),
            x2="right:Q",
            y=alt.Y("paper_total_gb:Q", scale=y_scale, axis=y_axis),
        )
    )
    entries = [theme.KeyEntry(label, "compute", box=True, color=color) for _, label, color in reversed(PARTS)]
    entries += [
        theme.KeyEntry(text, "reference", line=True, color=color, dash=dash) for _, _, text, color, dash, _ in STEPS
    ]
    entries.append(
        theme.KeyEntry(
            "The paper's total, as printed (GB read as GiB)", "reference", line=True, color="#000000", dash=()
        )
    )
    below = 42.0 if variant.narrow else 34.0
    k = theme.key(entries, frame, frame.plot_height + below)
    layers += theme.key_layers(k)
    if variant.web:
        layers.append(
            theme.credit_layer(
                version,
                "models and GPUs: curated/; bars: pipeline/costmodel",
                frame,
                frame.plot_height + below + k.height + 4,
            )
        )
    title = "Memory needed to train vs. single-GPU memory (without gradients, as in the paper)"
    subtitle = (
        "Bars: memwall's cost model at the paper's input sizes and batches; FP32 parameters, SGD with momentum (CV) "
        "or Adam (NLP); gradients, one more copy of the parameters, left out as in the paper."
    )
    furniture = {"title": theme.title(title, theme.wrap(subtitle, variant.width - 8))} if variant.web else {}
    chart = alt.layer(*layers, **furniture).properties(
        width=variant.width,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        height=frame.plot_height,
        description=f"{title}. {subtitle}",
        usermeta={"memwall": {"version": version, "variant": variant.name, "fits": []}},
    )
    table = rows.assign(kind="bar")[
        [
            "kind",
            "model_id",
            "name",
            "release_date",
            "parameters_gib",
            "optimizer_gib",
            "activations_gib",
            "total_gib",
            "paper_total_gb",
            "gpu_training",
            "gib_training",
            "gpu_any",
            "gib_any",
        ]
    ].copy()
    table["release_date"] = table["release_date"].astype(str)
    return growth.Drawn(chart, table, [], title, subtitle)
