"""Figure 3 of the paper: encoder (BERT-Base, BERT-Large) against decoder (GPT-2) inference over sequence length:
(a) total FLOP, (b) bytes moved, (c) arithmetic intensity, (d) roofline latency normalised to BERT-Base at the
shortest length. From the analytic model in pipeline/costmodel/transformer.py at batch 1 and 32-bit values; latency
is a per-operation roofline on the Xeon Platinum 8280 (the paper profiled a CPU). Dashed: lengths beyond a model's
trained context (512 tokens for BERT, 1024 for GPT-2), which extrapolate the same shapes."""

from __future__ import annotations

import math

import altair as alt
import duckdb
import pandas as pd

from pipeline import detmath
from pipeline.costmodel import transformer as T
from pipeline.figures import growth, theme

PANELS = (
    ("flops", "(a) Total FLOP", "FLOP"),
    ("bytes", "(b) Memory operations", "Bytes moved"),
    ("intensity_flop_per_byte", "(c) Arithmetic intensity", "FLOP/byte"),
    ("latency_normalized", "(d) Latency", "Relative to BERT-Base at {base}"),
)
NARROW_TITLES = ("(a) FLOP", "(b) Bytes", "(c) FLOP/byte", "(d) Latency")
ROLES = ("compute", "memory_bandwidth", "interconnect")
SPACING = 14.0


@growth.data_per_connection
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
                {
                    "model": c.name,
                    "length": length,
                    "trained": length <= c.max_positions,
                    **T.totals(ops),
                    "latency_s": T.latency_s(ops, peak, bandwidth),
                }
            )
    frame = pd.DataFrame(rows)
    base = frame.loc[(frame["model"] == configs[models[0]].name) & (frame["length"] == lengths[0]), "latency_s"].iloc[0]
    frame["latency_normalized"] = frame["latency_s"] / base
    return frame, name


def build(
    con: duckdb.DuckDBPyConnection,
    fits: pd.DataFrame,
    version: str,
    variant: theme.Variant,
    models: tuple[str, ...] = ("bert-base", "bert-large", "gpt-2-117m"),
    lengths: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096),
    accelerator: str = "intel-xeon-platinum-8280",
    bytes_per_value: int = 4,
) -> growth.Drawn:
    precision = T.Precision(bytes_per_value, bytes_per_value)
    frame, machine = data(con, models, lengths, accelerator, precision)
    names = list(dict.fromkeys(frame["model"]))
    # every panel has the same extents, so the four plot areas align
    domains = {f: theme.log_domain(frame[f].to_numpy(), 0.15) for f, _, _ in PANELS}
    exponents = {f: theme.decades(d, 5 if variant.narrow else 8) for f, d in domains.items()}
    label_width = max(theme.y_label_width(e) for e in exponents.values())
    left = math.ceil(theme.TICK + theme.GAP + label_width + 5.0 + theme.AXIS_TITLE * (theme.ASCENT + theme.DESCENT)) + 1
    panel_width = round((variant.width - 2 * theme.PADDING - 2 * left - SPACING) / 2, 2)
    panel_height = 70.0 if variant.narrow else 105.0
    x_values = [lengths[0], lengths[len(lengths) // 2], lengths[-1]] if variant.narrow else list(lengths)
    x_scale = alt.Scale(type="log", base=2, domain=[lengths[0] / 1.15, lengths[-1] * 1.15], nice=False)

    panels = []
    for i, (field, panel_title, y_title) in enumerate(PANELS):
        if variant.narrow:
            panel_title, y_title = NARROW_TITLES[i], ("× BERT-Base, {base}" if i == 3 else y_title)
        domain = domains[field]
        axes = theme.Axes(panel_width, panel_height, (0.0, 1.0), domain)
        y_scale = alt.Scale(type="log", domain=list(domain), nice=False)
        x_title = ("Tokens" if variant.narrow else "Sequence length (tokens)") if i >= 2 else None
        x_axis, y_axis, tick_labels = panel_axes(
            axes, exponents[field], label_width, y_title.format(base=lengths[0]), x_values, x_title
        )
        layers = [tick_labels]
        for model, role in zip(names, ROLES, strict=False):
            st = theme.style(role)
            rows = frame[frame["model"] == model][["length", field, "trained"]].rename(columns={field: "v"})
            rows["v"] = detmath.round_sig(rows["v"].to_numpy(dtype="float64"), 7)
            last_trained = rows[rows["trained"]]["length"].max()
            solid, beyond = rows[rows["length"] <= last_trained], rows[rows["length"] >= last_trained]
            enc = {"x": alt.X("length:Q", scale=x_scale, axis=x_axis), "y": alt.Y("v:Q", scale=y_scale, axis=y_axis)}
            layers.append(alt.Chart(solid).mark_line(color=st.color, strokeWidth=1.3).encode(**enc))
            if len(beyond) > 1:
                layers.append(
                    alt.Chart(beyond).mark_line(color=st.color, strokeWidth=1.3, strokeDash=[3, 2]).encode(**enc)
                )
            point = (
                alt.Chart(rows)
                .mark_point(shape=st.shape, color=st.color, size=st.size * 0.8, filled=True, opacity=1)
                .encode(**enc)
            )
            if variant.web:
                point = point.encode(tooltip=["length:Q", alt.Tooltip("v:Q", format=".3~s", title=y_title)])
            layers.append(point)
        panels.append(
            alt.layer(
                *layers,
                title=alt.TitleParams(
                    panel_title, fontSize=theme.TEXT, anchor="start", frame="group", fontWeight="bold"
                ),
            ).properties(width=panel_width, height=panel_height)
        )
    frame_ = theme.Frame(variant, 2 * panel_width + left + SPACING, panel_height, left)  # under both columns
    entries = [theme.KeyEntry(m, r, marker=True, line=True, dash=()) for m, r in zip(names, ROLES, strict=False)]
    entries.append(theme.KeyEntry("Dashed: beyond the model's trained context", "reference", line=True))
    key_chart = theme.key_chart(entries, frame_, variant, version, "analytic model, pipeline/costmodel")
    title = "Arithmetic intensity of encoder and decoder inference"
    subtitle = (
        f"Batch 1, {8 * bytes_per_value}-bit values; encoders process the whole sequence at once, GPT-2 (small) "
        f"generates it one token at a time with a KV cache. Latency: per-operation roofline on the {machine}."
    )
    grid = alt.vconcat(
        alt.hconcat(*panels[:2], spacing=SPACING),
        alt.hconcat(*panels[2:], spacing=SPACING),
        key_chart,
        spacing=10,
    )
    furniture = (
        {"title": theme.title(title, theme.wrap(subtitle, variant.width - 2 * theme.PADDING))} if variant.web else {}
    )
    chart = grid.properties(
        description=f"{title}. {subtitle}",
        usermeta={"memwall": {"version": version, "variant": variant.name, "fits": []}},
        **furniture,
    )
    table = frame.assign(kind="point").rename(columns={"length": "x_tokens"})
    return growth.Drawn(chart, table, [], title, subtitle)


def panel_axes(axes, exponents, label_width, y_title, x_values, x_title) -> tuple[alt.Axis, alt.Axis, alt.Chart]:
    """A panel's two axes (carried by every data layer, so Vega-Lite merges them) and its y tick labels as text."""
    x_axis = alt.Axis(
        values=x_values,
        format="d",
        title=x_title,
        grid=False,
        labelFlush=True,
    )
    extent = theme.TICK + theme.GAP + label_width
    y_axis = alt.Axis(
        values=[10.0**e if e >= 0 else 1.0 / 10 ** (-e) for e in exponents],
        labels=False,
        title=y_title,
        grid=True,
        minExtent=extent,
        maxExtent=extent,
        titlePadding=5,
    )
    labels, _ = theme.y_log_axis_labels(axes, exponents)
    return x_axis, y_axis, theme.text_layer(labels, align="right")
