"""Amdahl's law for low-bit LLMs: the overall speed-up of one decode step (batch 1, on an NVIDIA H100 SXM5's peak
and bandwidth) when only the projection weights (attention and feed-forward matrices) go from 16 bits to 8, 4, 2 or
1.58 bits, against the context length, for three sizes of Llama 3.1. Attention over the KV cache, the embeddings and
the output head are untouched, so the speed-up is bounded by the Amdahl bound (dashed: the speed-up if the
projections took no time at all), and that bound falls as the context, and with it the KV cache, grows. From the
what-if engine (pipeline/costmodel/engine.py), idealized."""

from __future__ import annotations

import altair as alt
import duckdb
import numpy as np
import pandas as pd

from pipeline import detmath
from pipeline.costmodel import engine as E
from pipeline.figures import growth, theme
from pipeline.figures.fig3_arithmetic_intensity import panel_axes

MODELS = ("llama-3-1-8b", "llama-3-1-70b", "llama-3-1-405b")
ACCELERATOR = "nvidia-h100-sxm5-80gb"
CONTEXTS = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
BITS = (
    (8.0, "8-bit weights", "format_8bit"),
    (4.0, "4-bit", "format_4bit"),
    (2.0, "2-bit", "format_16bit"),
    (1.58, "1.58-bit (ternary)", "format_fp32"),
)
SPACING = 12.0


@growth.data_per_connection
def data(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    shapes = con.execute("SELECT * FROM model_shapes").df()
    accelerators = con.execute("SELECT * FROM accelerators").df()
    rows = []
    for model in MODELS:
        cases = pd.DataFrame(
            {
                "model_id": model,
                "accelerator_id": ACCELERATOR,
                "weights_format": "bf16",
                "activations_format": "bf16",
                "kv_cache_format": "bf16",
                "batch_size": 1.0,
                "prompt_tokens": np.array(CONTEXTS, dtype="float64") - 1,
                "generated_tokens": 1.0,
                "decode_context_tokens": np.array(CONTEXTS, dtype="float64"),
                "chips": 1.0,
                "tensor_parallel": 1.0,
                "pipeline_parallel": 1.0,
            }
        )
        for bits, label, _ in BITS:
            r, _, _ = E.amdahl(cases, shapes, accelerators, weight_bits=bits)
            rows.append(
                pd.DataFrame(
                    {
                        "model_id": model,
                        "context_tokens": CONTEXTS,
                        "weights": label,
                        "weight_bits": bits,
                        "speedup": r["speedup"],
                        "projections_fraction": r["improved_fraction_before"],
                        "amdahl_bound": r["amdahl_bound"],
                    }
                )
            )
    frame = pd.concat(rows, ignore_index=True)
    for column in ("speedup", "projections_fraction", "amdahl_bound"):
        frame[column] = detmath.round_sig(frame[column].to_numpy(dtype="float64"), 6)
    names = con.execute(
        f"SELECT model_id, name FROM models WHERE model_id IN ({', '.join(repr(m) for m in MODELS)})"
    ).df()
    return frame.merge(names, on="model_id", how="left", validate="many_to_one")


def build(con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str, variant: theme.Variant) -> growth.Drawn:
    frame = data(con)
    domain = theme.log_domain(np.concatenate([frame["speedup"], frame["amdahl_bound"], [1.0]]), 0.1)
    exps = theme.decades(domain, 4)
    label_width = theme.y_label_width(exps)
    left = theme.frame_for(variant, label_width).left
    columns = 1 if variant.narrow else len(MODELS)
    panel_width = round((variant.width - 2 * theme.PADDING - columns * left - (columns - 1) * SPACING) / columns, 2)
    panel_height = 80.0 if variant.narrow else 150.0
    x_scale = alt.Scale(type="log", base=2, domain=[CONTEXTS[0] / 1.2, CONTEXTS[-1] * 1.2], nice=False)
    x_values = [CONTEXTS[0], 8192, CONTEXTS[-1]] if variant.narrow or columns > 1 else list(CONTEXTS)
    y_scale = alt.Scale(type="log", domain=list(domain), nice=False)
    panels = []
    for i, model in enumerate(MODELS):
        part = frame[frame["model_id"] == model]
        axes = theme.Axes(panel_width, panel_height, (0.0, 1.0), domain)
        y_title = "Decode speed-up" if (i == 0 or variant.narrow) else ""
        x_title = "Context (tokens)" if (variant.narrow and i == len(MODELS) - 1) or not variant.narrow else None
        x_axis, y_axis, tick_labels = panel_axes(axes, exps, label_width, y_title, x_values, x_title)
        x_axis.labelExpr = "datum.value >= 1024 ? format(datum.value / 1024, 'd') + 'k' : format(datum.value, 'd')"
        enc = {"x": alt.X("context_tokens:Q", scale=x_scale, axis=x_axis)}
        layers = [tick_labels]
        bound = part[part["weight_bits"] == BITS[0][0]][["context_tokens", "amdahl_bound"]]
        layers.append(
            alt.Chart(bound)
            .mark_line(color=theme.INK, strokeWidth=1.2, strokeDash=[4, 3])
            .encode(**enc, y=alt.Y("amdahl_bound:Q", scale=y_scale, axis=y_axis))
        )
        for bits, _, role in BITS:
            st = theme.style(role)
            rows = part[part["weight_bits"] == bits][["context_tokens", "speedup", "projections_fraction"]]
            y = alt.Y("speedup:Q", scale=y_scale, axis=y_axis)
            layers.append(
                alt.Chart(rows)
                .mark_line(color=st.color, strokeWidth=1.2, strokeDash=list(st.dash) or [1, 0])
                .encode(**enc, y=y)
            )
            point = (
                alt.Chart(rows)
                .mark_point(shape=st.shape, color=st.color, size=st.size * 0.7, filled=True, opacity=1)
                .encode(**enc, y=y)
            )
            if variant.web:
                point = point.encode(
                    tooltip=[
                        "context_tokens:Q",
                        alt.Tooltip("speedup:Q", format=".3~g"),
                        alt.Tooltip("projections_fraction:Q", format=".1%"),
                    ]
                )
            layers.append(point)
        name = part["name"].iloc[0]
        panels.append(
            alt.layer(
                *layers,
                title=alt.TitleParams(
                    f"({chr(ord('a') + i)}) {name}",
                    fontSize=theme.TEXT,
                    anchor="start",
                    frame="group",
                    fontWeight="bold",
                ),
            ).properties(width=panel_width, height=panel_height)
        )
    width = columns * panel_width + (columns - 1) * (left + SPACING)
    frame_ = theme.Frame(variant, width, panel_height, left)
    entries = [theme.KeyEntry(label, role, marker=True, line=True) for _, label, role in BITS]
    entries.append(
        theme.KeyEntry("Amdahl bound: projections taking no time", "reference", line=True, color=theme.INK, dash=(4, 3))
    )
    credit = "model shapes and H100: curated/; engine: pipeline/costmodel"
    key_chart = theme.key_chart(entries, frame_, variant, version, credit)
    title = "Amdahl's law for low-bit LLMs: decode speed-up when only the projection weights shrink"
    subtitle = (
        "Batch 1, one H100's peak and bandwidth, 16-bit activations and KV cache; speed-up over 16-bit weights. "
        "Idealized (no overheads)."
    )
    chart = theme.panels_with_key(panels, key_chart, variant, SPACING, version, title, subtitle)
    table = frame.assign(kind="line", accelerator_id=ACCELERATOR)[
        [
            "kind",
            "model_id",
            "name",
            "accelerator_id",
            "context_tokens",
            "weights",
            "weight_bits",
            "speedup",
            "projections_fraction",
            "amdahl_bound",
        ]
    ]
    return growth.Drawn(chart, table, [], title, subtitle)
