"""The memory wall in one picture: a fixed reference model (Llama 2 70B, 16-bit weights and KV cache) decoding one
token at batch 1 with a 4,096-token context on each year's flagship data-center accelerator (the largest 16-bit
peak released that year; FP32 for chips without a 16-bit peak, hollow). (a) The time the step would take if it were
bound by compute alone (its FLOPs at the chip's peak) and by memory alone (its bytes at the chip's DRAM bandwidth),
on one chip's peak and bandwidth (spreading the weights over n chips divides both by n); (b) their ratio: how far
below its compute roofline batch-1 decoding runs. From the what-if engine (pipeline/costmodel/engine.py)."""

from __future__ import annotations

import math

import altair as alt
import duckdb
import numpy as np
import pandas as pd

from pipeline import detmath
from pipeline.costmodel import engine as E
from pipeline.figures import growth, theme
from pipeline.figures.fig3_arithmetic_intensity import panel_axes

MODEL = "llama-2-70b"
CONTEXT = 4096
FIRST_YEAR, LAST_YEAR = 2012, 2026
SPACING = 14.0


def flagships(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per release year: the shipping data-center accelerator (no CPUs) with the largest 16-bit peak (BF16 or FP16,
    else FP32) and a known memory bandwidth; ties broken by name."""
    return con.execute(f"""
        SELECT year, accelerator_id, name, format FROM (
            SELECT year(release_date) AS year, accelerator_id, name,
                   CASE WHEN peak_bf16_flops IS NOT NULL THEN 'bf16'
                        WHEN peak_fp16_flops IS NOT NULL THEN 'fp16' ELSE 'fp32' END AS format,
                   row_number() OVER (PARTITION BY year(release_date)
                       ORDER BY (coalesce(greatest(peak_bf16_flops, peak_fp16_flops), 0) > 0) DESC,
                                coalesce(greatest(peak_bf16_flops, peak_fp16_flops), peak_fp32_flops) DESC,
                                name) AS rank
            FROM accelerators
            WHERE segment = 'datacenter' AND kind <> 'cpu' AND status = 'shipping'
              AND memory_bandwidth_bytes_per_s IS NOT NULL
              AND coalesce(peak_bf16_flops, peak_fp16_flops, peak_fp32_flops) IS NOT NULL
              AND year(release_date) BETWEEN {FIRST_YEAR} AND {LAST_YEAR})
        WHERE rank = 1 ORDER BY year
    """).df()


@growth.data_per_connection
def data(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    chips = flagships(con)
    shapes = con.execute("SELECT * FROM model_shapes").df()
    accelerators = con.execute("SELECT * FROM accelerators").df()
    cases = pd.DataFrame(
        {
            "model_id": MODEL,
            "accelerator_id": chips["accelerator_id"],
            "weights_format": chips["format"],
            "activations_format": chips["format"],
            "kv_cache_format": chips["format"],
            "batch_size": 1.0,
            "prompt_tokens": float(CONTEXT - 1),
            "generated_tokens": 1.0,
            "decode_context_tokens": float(CONTEXT),
            "chips": 1.0,
            "tensor_parallel": 1.0,
            "pipeline_parallel": 1.0,
        }
    )
    r = E.evaluate(cases, shapes, accelerators)
    out = chips.assign(
        compute_time_s=detmath.round_sig(r["decode_compute_time_s"].to_numpy(), 6),
        memory_time_s=detmath.round_sig(r["decode_memory_time_s"].to_numpy(), 6),
    )
    out["ratio"] = detmath.round_sig((out["memory_time_s"] / out["compute_time_s"]).to_numpy(), 6)
    out["x"] = out["year"].astype("float64")
    return out


def _power(exponent: int) -> float:
    """10^exponent as the exactly rounded float (integer arithmetic, no pow)."""
    return float(10**exponent) if exponent >= 0 else 1.0 / 10 ** (-exponent)


def build(con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str, variant: theme.Variant) -> growth.Drawn:
    frame = data(con)
    model_name = con.execute("SELECT name FROM models WHERE model_id = ?", [MODEL]).fetchone()[0]
    times = np.concatenate([frame["compute_time_s"], frame["memory_time_s"]])
    panels_spec = (
        (
            "(a) Time per token if bound by",
            "Seconds per token",
            times,
            (("compute", "compute_time_s"), ("memory_bandwidth", "memory_time_s")),
        ),
        ("(b) Memory time ÷ compute time", "Ratio", frame["ratio"].to_numpy(), (("transformer", "ratio"),)),
    )
    # whole decades around each panel's values, so that every panel has at least two labelled ticks
    domains = [
        (_power(math.floor(detmath.log10(float(v.min())))), _power(math.ceil(detmath.log10(float(v.max())))))
        for _, _, v, _ in panels_spec
    ]
    exponents = [theme.decades(d, 5 if variant.narrow else 8) for d in domains]
    label_width = max(theme.y_label_width(e) for e in exponents)
    left = theme.frame_for(variant, label_width).left
    columns = 1 if variant.narrow else 2
    panel_width = round((variant.width - 2 * theme.PADDING - columns * left - (columns - 1) * SPACING) / columns, 2)
    panel_height = 95.0 if variant.narrow else 150.0
    x_domain = (FIRST_YEAR - 0.6, LAST_YEAR + 0.6)
    x_scale = alt.Scale(domain=list(x_domain), nice=False)
    x_values = theme.year_values(x_domain, variant.narrow)
    panels = []
    for (panel_title, y_title, _, lines), domain, exps in zip(panels_spec, domains, exponents, strict=True):
        axes = theme.Axes(panel_width, panel_height, x_domain, domain)
        y_scale = alt.Scale(type="log", domain=list(domain), nice=False)
        x_axis, y_axis, tick_labels = panel_axes(axes, exps, label_width, y_title, x_values, "Release year")
        layers = [tick_labels]
        for role, column in lines:
            st = theme.style(role)
            rows = frame[["x", column, "name", "format"]].rename(columns={column: "v"})
            enc = {"x": alt.X("x:Q", scale=x_scale, axis=x_axis), "y": alt.Y("v:Q", scale=y_scale, axis=y_axis)}
            layers.append(
                alt.Chart(rows)
                .mark_line(color=st.color, strokeWidth=1.2, strokeDash=list(st.dash) or [1, 0])
                .encode(**enc)
            )
            for filled, part in ((True, rows[rows["format"] != "fp32"]), (False, rows[rows["format"] == "fp32"])):
                if part.empty:
                    continue
                point = (
                    alt.Chart(part)
                    .mark_point(shape=st.shape, color=st.color, size=st.size, filled=filled, opacity=1, strokeWidth=1.0)
                    .encode(**enc)
                )
                if variant.web:
                    point = point.encode(
                        tooltip=["x:Q", "name:N", "format:N", alt.Tooltip("v:Q", format=".3~g", title=y_title)]
                    )
                layers.append(point)
        panels.append(
            alt.layer(
                *layers,
                title=alt.TitleParams(
                    panel_title, fontSize=theme.TEXT, anchor="start", frame="group", fontWeight="bold"
                ),
            ).properties(width=panel_width, height=panel_height)
        )
    width = columns * panel_width + (columns - 1) * (left + SPACING)
    frame_ = theme.Frame(variant, width, panel_height, left)
    entries = [
        theme.KeyEntry("Compute-bound time: the step's FLOPs at the chip's peak", "compute", marker=True, line=True),
        theme.KeyEntry(
            "Memory-bound time: the step's bytes (weights, KV cache) at the chip's DRAM bandwidth",
            "memory_bandwidth",
            marker=True,
            line=True,
        ),
        theme.KeyEntry("Ratio of the two", "transformer", marker=True, line=True),
        theme.KeyEntry("Hollow: FP32 (the chip has no 16-bit peak)", "note", marker=True, hollow=True),
    ]
    key_chart = theme.key_chart(entries, frame_, variant, version, "accelerators: curated/; engine: pipeline/costmodel")
    title = f"The memory wall in one picture: {model_name} decoding at batch 1 on each year's flagship"
    subtitle = (
        f"One token at a {CONTEXT:,}-token context, 16-bit weights and KV cache, on one chip's peak and bandwidth; "
        "flagship: the year's shipping data-center chip with the largest 16-bit peak; idealized (no overheads)."
    )
    chart = theme.panels_with_key(panels, key_chart, variant, SPACING, version, title, subtitle)
    table = frame.assign(kind="point", model_id=MODEL)[
        ["kind", "year", "accelerator_id", "name", "format", "model_id", "compute_time_s", "memory_time_s", "ratio"]
    ]
    return growth.Drawn(chart, table, [], title, subtitle)
