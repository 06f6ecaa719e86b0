"""The roofline over time: each data-center GPU's and TPU's ridge point (peak FLOP/s at training precision divided
by DRAM bandwidth; above it an operation is compute-bound, below it memory-bound) against release year, with its
growth fit (series current/flop_per_byte_memory), and the arithmetic intensity of transformer inference
(configs.toml scenarios) drawn across as horizontal lines. `this_machine` adds a measured point (measure.py)."""

from __future__ import annotations

import altair as alt
import duckdb
import pandas as pd

from pipeline import fits as fitting
from pipeline.costmodel import transformer as T
from pipeline.figures import growth, theme

SERIES = "current/flop_per_byte_memory"
LABELLED = {
    "nvidia-tesla-k40": "K40",
    "nvidia-tesla-p100-sxm2-16gb": "P100",
    "nvidia-tesla-v100-sxm2-16gb": "V100",
    "nvidia-a100-sxm4-80gb": "A100 80GB",
    "nvidia-h100-sxm5-80gb": "H100",
    "nvidia-b200": "B200",
    "google-tpu-v4": "TPU v4",
    "amd-instinct-mi300x": "MI300X",
}
X_DOMAIN = (2006.5, 2027.0)
SIXTEEN_BIT = T.Precision(2, 2)


def workloads(precision: T.Precision = SIXTEEN_BIT) -> pd.DataFrame:
    """Arithmetic intensity (FLOP per byte moved) of each inference scenario of configs.toml."""
    configs, scenarios = T.load()
    rows = []
    for s in scenarios:
        intensity = T.totals(T.scenario_ops(s, configs[s.model], precision))["intensity_flop_per_byte"]
        rows.append({"label": f"{s.label}: {intensity:.3g} FLOP/B", "intensity": intensity})
    return pd.DataFrame(rows)


def build(con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str, this_machine: dict | None = None):
    """`this_machine`: {"name", "year" (fractional), "ridge" (FLOP/B)} of a measured machine, drawn as a diamond."""
    series = {s.key: s for s in fitting.load_series()}[SERIES]
    ridge = growth.series_layer(con, fits, series, total=False, legend="Ridge points of data-center GPUs and TPUs")
    points = ridge.points.assign(legend=ridge.legend)
    fit = ridge.line.assign(legend=ridge.legend)
    lines = workloads().assign(x=X_DOMAIN[0], x2=X_DOMAIN[1], tx=X_DOMAIN[0] + 0.2)
    machine = pd.DataFrame([this_machine] if this_machine else [], columns=["name", "year", "ridge"])
    machine["year"] = machine["year"].clip(upper=X_DOMAIN[1] - 0.4)  # keep the marker inside the plot
    values = [*points["y"], *fit["y"], *lines["intensity"], *machine["ridge"]]
    y_domain = theme.nice_log_domain(values, pad_decades=0.15)
    width, height = theme.DOUBLE_COLUMN - 60, 250

    # Chip names placed clear of points, of the workload lines and of the fitted line.
    segments = [(X_DOMAIN[0], y, X_DOMAIN[1], y) for y in lines["intensity"]]
    segments.append((fit["x"].iloc[0], fit["y"].iloc[0], fit["x"].iloc[-1], fit["y"].iloc[-1]))
    named = points[points["id"].isin(LABELLED)].assign(text=lambda f: f["id"].map(LABELLED))
    axes = theme.Axes(width, height, X_DOMAIN, y_domain)
    everything = list(zip(points["x"], points["y"], strict=True))
    placed = theme.place_labels(named[["x", "y", "text"]], axes, everything, segments)
    leaders = pd.DataFrame(
        [_leader(axes, r.x, r.y, r.box) for r in placed.itertuples()], columns=["x", "y", "x2", "y2"]
    )
    placed = placed.drop(columns=["box"])

    x_scale = alt.Scale(domain=list(X_DOMAIN), nice=False)
    y_scale = alt.Scale(type="log", domain=list(y_domain), nice=False)
    x = alt.X("x:Q", scale=x_scale, axis=theme.year_axis(X_DOMAIN))
    y = alt.Y("y:Q", scale=y_scale, axis=theme.log_axis("FLOP per byte", y_domain))
    color = alt.Color(
        "legend:N",
        scale=alt.Scale(domain=[ridge.legend], range=[theme.PALETTE[0]]),
        legend=alt.Legend(title=None, orient="bottom-right", symbolStrokeWidth=1.2),
    )
    tooltip = [
        alt.Tooltip("name:N", title="Device"),
        alt.Tooltip("y:Q", title="FLOP/B", format=".3g"),
        alt.Tooltip("date_text:N", title="Released"),
    ]
    orange = theme.PALETTE[1]
    layers = [
        alt.Chart(lines)
        .mark_rule(strokeDash=[5, 3], strokeWidth=1, color=orange)
        .encode(x=alt.X("x:Q", scale=x_scale), x2="x2:Q", y=alt.Y("intensity:Q", scale=y_scale)),
        alt.Chart(fit).mark_line().encode(x=x, y=y, color=color),
        alt.Chart(points)
        .mark_point(filled=True, size=16, opacity=0.8)
        .encode(x=x, y=y, color=color, href="source_url:N", tooltip=tooltip),
        alt.Chart(named).mark_point(filled=False, size=45, strokeWidth=0.8, color="#222").encode(x=x, y=y),
        alt.Chart(leaders)
        .mark_rule(strokeWidth=0.5, color="#222")
        .encode(x=alt.X("x:Q", scale=x_scale), x2="x2:Q", y=alt.Y("y:Q", scale=y_scale), y2="y2:Q"),
        alt.Chart(placed)
        .mark_text(align="left", baseline="middle", color="#222")
        .encode(x=alt.X("label_x:Q", scale=x_scale), y=alt.Y("label_y:Q", scale=y_scale), text="text:N"),
        alt.Chart(lines)
        .mark_text(align="left", baseline="bottom", dy=-2, color=orange)
        .encode(x=alt.X("tx:Q", scale=x_scale), y=alt.Y("intensity:Q", scale=y_scale), text="label:N"),
    ]
    if this_machine:
        star = machine.assign(text=machine["name"] + ": " + machine["ridge"].map("{:.3g} FLOP/B".format))
        base = alt.Chart(star).encode(x=alt.X("year:Q", scale=x_scale), y=alt.Y("ridge:Q", scale=y_scale))
        layers += [
            base.mark_point(shape="diamond", filled=True, size=60, color=theme.PALETTE[3], opacity=1),
            base.mark_text(align="right", dx=-7, color=theme.PALETTE[3], fontWeight="bold").encode(text="text:N"),
        ]
    subtitle = [
        "Points: peak FLOP/s at training precision ÷ DRAM bandwidth (the ridge point); line: OLS fit, "
        f"{growth.rate_text(ridge.fit, total=False)}.",
        "Dashed: arithmetic intensity of one inference pass at 16-bit weights and activations (pipeline/costmodel);",
        "a workload below a chip's ridge point is memory-bound on that chip.",
    ]
    fits_shown = [{k: ridge.fit[k] for k in growth.FIT_KEYS} | {"legend": ridge.legend}]
    credit = theme.credit_mark(version, f"series '{SERIES}', costmodel scenarios", width, height, below=32)
    return alt.layer(
        *layers, credit, title=theme.title("The roofline over time: ridge points vs. transformer inference", subtitle)
    ).properties(
        width=width, height=height, usermeta={"memwall": {"version": version, "data": SERIES, "fits": fits_shown}}
    )


def _leader(axes: theme.Axes, x: float, y: float, box: tuple[float, float, float, float]) -> tuple[float, ...]:
    """A short line from a point to the nearest edge of its label's box (pixels in, data units out)."""
    px, py = axes.px(x), axes.py(y)
    bx, by = min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])
    return x, y, axes.x_of(bx), axes.y_of(by)
