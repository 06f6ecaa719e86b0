"""Shared building blocks of the growth figures: a series' points and fitted line from the curated tables and
fits.parquet, and a log-scale chart of several series with their rates in the legend.

The fitted line drawn is computed from the same fits.parquet row whose rate the legend prints, so the two cannot
disagree (tests/test_figures.py checks it on the rendered spec).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import duckdb
import numpy as np
import pandas as pd

from pipeline import fits as fitting
from pipeline.figures import theme

FIT_KEYS = (
    "series",
    "preset",
    "selection",
    "method",
    "n",
    "start_year",
    "end_year",
    "slope_log10_per_year",
    "intercept_log10",
    "growth_per_2y",
    "growth_per_2y_ci_low",
    "growth_per_2y_ci_high",
    "total_growth",
    "total_growth_years",
)
SI = [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]


def human(value: float, unit: str) -> str:
    """989.4e12, 'FLOP/s' -> '989.4 TFLOP/s'; counts use M/B/T (million, billion, trillion)."""
    if value is None or not np.isfinite(value):
        return ""
    if unit == "count":
        for factor, suffix in [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]:
            if abs(value) >= factor:
                return f"{value / factor:.4g}{suffix}"
        return f"{value:.4g}"
    for factor, prefix in SI:
        if abs(value) >= factor:
            return f"{value / factor:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


@dataclass
class Layer:
    legend: str
    points: pd.DataFrame  # id, name, x, y, value_text, date_text, source_url, label
    line: pd.DataFrame | None  # x, y
    fit: dict | None


def fit_row(fits: pd.DataFrame, series: fitting.Series, selection: str | None = None, method: str = "ols") -> dict:
    selection = selection or series.selection
    rows = fits[
        (fits["series"] == series.name)
        & (fits["preset"] == series.preset)
        & (fits["selection"] == selection)
        & (fits["method"] == method)
    ]
    if len(rows) != 1:
        raise LookupError(f"fits.parquet has {len(rows)} rows for {series.key} {selection} {method}; expected 1")
    return rows.iloc[0].to_dict()


def rate_text(fit: dict, total: bool = True) -> str:
    """The legend's rate: '60000x / 20 yrs (3.0x/2yrs)' or '410x/2yrs', from one fits row."""
    per_2y = fit["growth_per_2y"]
    per_2y_text = f"{per_2y:.1f}x/2yrs" if per_2y < 10 else f"{per_2y:.0f}x/2yrs"
    if not total:
        return per_2y_text
    return f"{fitting.format_total(fit['total_growth'])}x / {fit['total_growth_years']:g} yrs ({per_2y_text})"


def series_layer(
    con: duckdb.DuckDBPyConnection,
    fits: pd.DataFrame,
    series: fitting.Series,
    *,
    scale: float = 1.0,
    normalize: bool = False,
    legend: str | None = None,
    total: bool = True,
    with_line: bool = True,
) -> Layer:
    """Points of a series (optionally normalised to its base point, or multiplied by `scale`) and its fitted line."""
    points = con.execute(fitting.points_sql(series)).df()
    fit = fit_row(fits, series) if with_line and series.fit else None
    divisor = 1.0 / scale
    if normalize:
        base_id = series.normalize_to or points["id"].iloc[0]
        base = points.loc[points["id"] == base_id, "value"]
        if base.empty:
            raise LookupError(f"{series.key}: normalisation base {base_id!r} is not among its points")
        divisor = float(base.iloc[0])
    points["y"] = points["value"] / divisor
    points["value_text"] = [human(v, series.unit) for v in points["value"]]
    points["date_text"] = points["release_date"].astype(str)
    points["label"] = _labels(points, series)
    line = None
    if fit is not None:
        xs = np.array([fit["start_year"], fit["end_year"]])
        ys = 10 ** (fit["intercept_log10"] + fit["slope_log10_per_year"] * xs) / divisor
        line = pd.DataFrame({"x": xs, "y": ys})
    text = legend or series.label
    if fit is not None:
        text = f"{text}: {rate_text(fit, total)}"
    return Layer(text, points, line, fit)


def _labels(points: pd.DataFrame, series: fitting.Series) -> list[str]:
    if series.labels:
        return [series.labels.get(i, "") for i in points["id"]]
    if series.label_by:
        out, seen = [], set()
        for text in points["label_text"]:
            key = str(text).upper()
            out.append("" if key in seen or pd.isna(text) else str(text))
            seen.add(key)
        return out
    return [""] * len(points)


def chart(
    layers: list[Layer],
    *,
    width: float,
    height: float,
    y_title: str,
    x_domain: tuple[float, float],
    version: str,
    title: str,
    subtitle: str | list[str],
    data_note: str,
    dashed: list[str] | None = None,
    legend_position: str = "top-left",
    extra_lines: list[tuple[str, pd.DataFrame]] = (),
) -> alt.LayerChart:
    """A log-scale growth chart: one colour and shape per layer, fitted lines, labels that do not overlap."""
    legends = [layer.legend for layer in layers] + [name for name, _ in extra_lines]
    frames = []
    for layer in layers:
        frame = layer.points.assign(legend=layer.legend)
        frames.append(frame[["legend", "id", "name", "x", "y", "value_text", "date_text", "source_url", "label"]])
    points = pd.concat(frames, ignore_index=True)
    lines = [layer.line.assign(legend=layer.legend) for layer in layers if layer.line is not None]
    lines += [frame.assign(legend=name) for name, frame in extra_lines]
    line_frame = pd.concat(lines, ignore_index=True) if lines else pd.DataFrame(columns=["x", "y", "legend"])
    y_domain = theme.nice_log_domain(np.concatenate([points["y"].to_numpy(), line_frame["y"].to_numpy()]))
    axes = theme.Axes(width, height, x_domain, y_domain)
    labelled = points[points["label"] != ""].rename(columns={"y": "y"})
    segments = [
        (frame["x"].iloc[i], frame["y"].iloc[i], frame["x"].iloc[i + 1], frame["y"].iloc[i + 1])
        for frame in [layer.line for layer in layers if layer.line is not None] + [f for _, f in extra_lines]
        for i in range(len(frame) - 1)
    ]
    placed = (
        theme.place_labels(
            labelled.rename(columns={"label": "text"}),
            axes,
            list(zip(points["x"], points["y"], strict=True)),
            segments,
        )
        if len(labelled)
        else labelled
    )
    legend = alt.Legend(title=None, orient=legend_position, direction="vertical", symbolStrokeWidth=1.2)
    color = alt.Color("legend:N", scale=alt.Scale(domain=legends, range=theme.PALETTE[: len(legends)]), legend=legend)
    shapes = theme.SHAPES[: len(layers)] + ["stroke"] * len(extra_lines)  # reference lines show as a line
    shape = alt.Shape("legend:N", scale=alt.Scale(domain=legends, range=shapes), legend=legend)  # one merged legend
    x = alt.X("x:Q", scale=alt.Scale(domain=list(x_domain), nice=False), axis=theme.year_axis(x_domain))
    y_scale = alt.Scale(type="log", domain=list(y_domain), nice=False)
    y = alt.Y("y:Q", scale=y_scale, axis=theme.log_axis(y_title, y_domain))
    point_layer = (
        alt.Chart(points)
        .mark_point(filled=True, size=16, opacity=0.85, clip=True)
        .encode(
            x=x,
            y=y,
            color=color,
            shape=shape,
            href="source_url:N",
            tooltip=[
                alt.Tooltip("name:N", title="Name"),
                alt.Tooltip("value_text:N", title="Value"),
                alt.Tooltip("date_text:N", title="Released"),
                alt.Tooltip("source_url:N", title="Source"),
            ],
        )
    )
    dash = alt.condition(
        alt.FieldOneOfPredicate(field="legend", oneOf=dashed or ["__none__"]),
        alt.value([4, 3]),
        alt.value([1, 0]),
    )
    line_layer = (
        alt.Chart(line_frame).mark_line(clip=True).encode(x=x, y=y, color=color, detail="legend:N", strokeDash=dash)
    )
    label_layer = (
        alt.Chart(
            placed[["label_x", "label_y", "text"]]
            if len(placed)
            else pd.DataFrame(columns=["label_x", "label_y", "text"])
        )
        .mark_text(align="left", baseline="middle", fontSize=theme.LABEL_SIZE - 0.5, color="#222")
        .encode(
            x=alt.X("label_x:Q", scale=alt.Scale(domain=list(x_domain), nice=False)),
            y=alt.Y("label_y:Q", scale=y_scale),
            text="text:N",
        )
    )
    fits_shown = [
        {k: layer.fit[k] for k in FIT_KEYS} | {"legend": layer.legend} for layer in layers if layer.fit is not None
    ]
    leaders = (
        placed[placed["leader_x"].notna()][["x", "y", "leader_x", "leader_y"]]
        if len(placed) and "leader_x" in placed
        else pd.DataFrame(columns=["x", "y", "leader_x", "leader_y"])
    )
    leader_layer = (
        alt.Chart(leaders)
        .mark_rule(color="#999", strokeWidth=0.4)
        .encode(
            x=alt.X("x:Q", scale=alt.Scale(domain=list(x_domain), nice=False)),
            y=alt.Y("y:Q", scale=y_scale),
            x2="leader_x:Q",
            y2="leader_y:Q",
        )
    )
    credit_layer = theme.credit_mark(version, data_note, width, height)
    layered = alt.layer(
        line_layer, leader_layer, point_layer, label_layer, credit_layer, title=theme.title(title, subtitle)
    )
    return layered.properties(
        width=width,
        height=height,
        usermeta={"memwall": {"version": version, "data": data_note, "fits": fits_shown}},
    )


def log10_span(values: np.ndarray) -> float:
    values = np.asarray(values, dtype="float64")
    return math.log10(values.max() / values.min())
