"""Figure 3 of the paper: encoder (BERT-Base, BERT-Large) against decoder (GPT-2) inference over sequence length:
(a) total FLOPs, (b) bytes moved, (c) arithmetic intensity, (d) roofline latency normalised to BERT-Base at the
shortest length. From the analytic model in pipeline/costmodel/transformer.py; the paper profiled a CPU."""

from __future__ import annotations

import math

import altair as alt
import duckdb
import pandas as pd

from pipeline.costmodel import transformer as T
from pipeline.figures import theme

PANELS = (
    ("flops", "(a) Total FLOPs", "FLOPs"),
    ("bytes", "(b) Memory operations", "Bytes moved"),
    ("intensity_flop_per_byte", "(c) Arithmetic intensity", "FLOPs per byte"),
    ("latency_normalized", "(d) Latency, normalized", "× BERT-Base at {base}"),
)


def data(
    con: duckdb.DuckDBPyConnection,
    models: tuple[str, ...],
    lengths: tuple[int, ...],
    accelerator: str,
    precision: T.Precision,
) -> tuple[pd.DataFrame, str]:
    """One row per model and length: totals and roofline latency (an encoder processes the whole sequence at once;
    a decoder generates it one token at a time with a KV cache)."""
    configs = T.configs()
    name, peak, bandwidth = T.accelerator_roofline(con, accelerator, precision)
    rows = []
    for key in models:
        c = configs[key]
        for length in lengths:
            if c.architecture == "decoder":
                ops = T.generation(c, prompt=0, generate=length, p=precision)
            else:
                ops = T.encoder(c, length, p=precision)
            rows.append(
                {"model": c.name, "length": length, **T.totals(ops), "latency_s": T.latency_s(ops, peak, bandwidth)}
            )
    frame = pd.DataFrame(rows)
    base = frame.loc[(frame["model"] == configs[models[0]].name) & (frame["length"] == lengths[0]), "latency_s"].iloc[0]
    frame["latency_normalized"] = frame["latency_s"] / base
    return frame, name


def build(
    con: duckdb.DuckDBPyConnection,
    fits: pd.DataFrame,
    version: str,
    models: tuple[str, ...] = ("bert-base", "bert-large", "gpt2-small"),
    lengths: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096),
    accelerator: str = "intel-xeon-platinum-8280",
    bytes_per_value: int = 4,
):
    precision = T.Precision(bytes_per_value, bytes_per_value)
    frame, machine = data(con, models, lengths, accelerator, precision)
    names = list(dict.fromkeys(frame["model"]))
    width, height = 196, 118
    legend = alt.Legend(title=None, orient="top", direction="horizontal", symbolStrokeWidth=1.2)
    color = alt.Color("model:N", scale=alt.Scale(domain=names, range=theme.PALETTE[: len(names)]), legend=legend)
    shape = alt.Shape("model:N", scale=alt.Scale(domain=names, range=theme.SHAPES[: len(names)]), legend=legend)
    x = alt.X(
        "length:Q",
        scale=alt.Scale(type="log", base=2, domain=[lengths[0], lengths[-1]], nice=False),
        axis=alt.Axis(values=list(lengths), format="d", title="Sequence length (tokens)", grid=True),
    )
    panels = []
    for field, panel_title, y_title in PANELS:
        domain = theme.nice_log_domain(frame[field].to_numpy(), pad_decades=0.15)
        y = alt.Y(
            f"{field}:Q",
            scale=alt.Scale(type="log", domain=list(domain), nice=False),
            axis=_si_axis(y_title.format(base=lengths[0]), domain),
        )
        base = alt.Chart(frame).encode(
            x=x,
            y=y,
            color=color,
            tooltip=["model:N", "length:Q", alt.Tooltip(f"{field}:Q", format=".3~s")],
        )
        layers = [base.mark_line(), base.mark_point(filled=True, size=18).encode(shape=shape)]
        if field == "latency_normalized":
            layers.append(theme.credit_mark(version, "analytic model, pipeline/costmodel", width, height, below=36))
        panels.append(
            alt.layer(*layers, title=alt.TitleParams(panel_title, fontSize=theme.TITLE_SIZE - 1)).properties(
                width=width, height=height
            )
        )
    subtitle = [
        f"Batch 1, {8 * bytes_per_value}-bit weights and activations. Encoders process the whole sequence at once; "
        "GPT-2 (small) generates",
        "it one token at a time with a KV cache. Lengths beyond a model's trained context (512 tokens for BERT, 1024 "
        "for GPT-2)",
        f"extrapolate the same shapes. Latency: per-operation roofline on the {machine}",
        "(peak FLOP/s and DRAM bandwidth from curated/accelerators.parquet).",
    ]
    grid = alt.vconcat(alt.hconcat(*panels[:2], spacing=28), alt.hconcat(*panels[2:], spacing=28), spacing=14)
    return grid.properties(
        title=theme.title("Arithmetic intensity of encoder and decoder inference", subtitle),
        usermeta={"memwall": {"version": version, "data": "pipeline/costmodel/transformer.py", "fits": []}},
    ).resolve_scale(color="shared", shape="shared")


def _si_axis(title: str, domain: tuple[float, float]) -> alt.Axis:
    """A log axis labelled at powers of ten with SI prefixes (10G, 1T), plain numbers below 1000."""
    values = [10.0**e for e in range(round(math.log10(domain[0])), round(math.log10(domain[1])) + 1)]
    label = "datum.value < 1000 ? format(datum.value, '~g') : format(datum.value, '~s')"
    return alt.Axis(values=values, labelExpr=label, title=title, grid=True)
