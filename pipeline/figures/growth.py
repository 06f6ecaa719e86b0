"""The growth figures' common machinery: a declared series as a figure draws it (its points, the fit that
curated/fits.parquet holds for it, drawn only over the span it was fitted on: one line, or two segments where the
two-segment fit is supported, with its 95% band), and a log-scale chart of several such series in a variant's size,
with its key, labels and axes from pipeline.figures.theme.

Every rate the figure prints comes from one fits.parquet row, with its interval and n, and the line drawn is computed
from the same row (tests/test_figures.py checks both on the rendered spec).
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, field

import altair as alt
import duckdb
import numpy as np
import pandas as pd

from pipeline import detmath
from pipeline import fits as fitting
from pipeline.figures import theme

SI = [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
HOLLOW_NOTE = "Hollow: announced, preview or estimated value (announced and preview rows are never fitted)"


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


@dataclass
class Segment:
    """A straight piece of a fitted line on the log axis, in data units, with the rate it draws."""

    x0: float
    x1: float
    y0: float
    y1: float
    text: str  # the printed rate: growth, 95% interval, n (and the paper's value on reproduction figures)
    growth: float
    ci_low: float
    ci_high: float
    n: int
    kind: str  # ols | before_break | after_break


@dataclass
class Plotted:
    """One series as a figure draws it: points (y already scaled), the fitted segments and their band."""

    series: fitting.Series
    role: str
    legend: str
    points: pd.DataFrame
    fit: dict | None = None
    segments: list[Segment] = field(default_factory=list)
    band: pd.DataFrame | None = None
    divisor: float = 1.0

    def key_text(self) -> str:
        if not self.segments:
            return f"{self.legend} (not fitted)" if not self.series.fit else self.legend
        if len(self.segments) == 1:
            return f"{self.legend}: {self.segments[0].text}"
        return f"{self.legend}, two-segment fit: " + "; ".join(
            f"{math.floor(s.x0)}\u2013{math.floor(s.x1)} {s.text}" for s in self.segments
        )

    def fits_shown(self) -> list[dict]:
        shown = []
        for s in self.segments:
            shown.append(
                {
                    "series": self.series.name,
                    "preset": self.series.preset,
                    "selection": self.fit["selection"],
                    "kind": s.kind,
                    "text": s.text,
                    "growth_per_2y": s.growth,
                    "ci_low": s.ci_low,
                    "ci_high": s.ci_high,
                    "n": s.n,
                    "x0": s.x0,
                    "x1": s.x1,
                    "legend": self.legend,
                }
            )
        return shown


def series_points(con: duckdb.DuckDBPyConnection, series: fitting.Series) -> pd.DataFrame:
    """The points a figure draws for a series: the fitted selection (in_fit) plus the rows of the series that are
    not final (announced, preview, cancelled), drawn hollow and never fitted."""
    fitted = con.execute(fitting.points_sql(series)).df().assign(in_fit=series.fit)
    every = con.execute(fitting.points_sql(series, "all", final_only=False)).df()
    provisional = every[every["provisional"] & ~every["id"].isin(fitted["id"])].assign(in_fit=False)
    points = pd.concat([fitted, provisional], ignore_index=True) if len(provisional) else fitted
    return points.sort_values(["x", "id"], kind="stable").reset_index(drop=True)


def plotted(
    con: duckdb.DuckDBPyConnection,
    fits: pd.DataFrame,
    series: fitting.Series,
    role: str,
    *,
    legend: str | None = None,
    scale: float = 1.0,
    normalize: bool = False,
    paper: bool = False,
    with_line: bool = True,
) -> Plotted:
    """Points of a series (normalised to its base point, or multiplied by `scale`) and its fitted line."""
    points = series_points(con, series)
    divisor = 1.0 / scale
    if normalize:
        base_id = series.normalize_to or points.loc[points["in_fit"], "id"].iloc[0]
        base = points.loc[points["id"] == base_id, "value"]
        if base.empty:
            raise LookupError(f"{series.key}: normalisation base {base_id!r} is not among its points")
        divisor = float(base.iloc[0])
    points["y"] = detmath.round_sig(points["value"].to_numpy(dtype="float64") / divisor, 7)
    points["x"] = points["x"].round(4)
    points["value_text"] = [human(v, series.unit) for v in points["value"]]
    points["date_text"] = points["release_date"].astype(str)
    points["label"] = _labels(points, series)
    points["label_1col"] = points["id"].isin(series.labels_1col)
    points["hollow"] = points["provisional"] | points["estimate"]
    result = Plotted(series, role, legend or series.label, points, divisor=divisor)
    if with_line and series.fit:
        fit = fit_row(fits, series)
        result.fit = fit
        result.segments, result.band = _segments(fit, divisor, fit.get("paper_growth_per_2y") if paper else None)
    return result


def _labels(points: pd.DataFrame, series: fitting.Series) -> list[str]:
    """Declared labels by id; or, for a series labelled by a column (memory type), its first point of each value."""
    if series.labels or not series.label_by:
        return [series.labels.get(i, "") for i in points["id"]]
    out, seen = [], set()
    for text, fitted in zip(points["label_text"], points["in_fit"], strict=True):
        key = str(text).upper()
        out.append("" if key in seen or pd.isna(text) or not fitted else str(text))
        seen.add(key)
    return out


def _segments(fit: dict, divisor: float, paper: float | None) -> tuple[list[Segment], pd.DataFrame | None]:
    start, end = float(fit["start_year"]), float(fit["end_year"])
    log_div = detmath.log10(divisor)
    if fit["break_supported"]:
        t, at = float(fit["break_year"]), float(fit["log10_at_break"])
        before = detmath.log10(fit["growth_per_2y_before_break"]) / 2
        after = detmath.log10(fit["growth_per_2y_after_break"]) / 2
        y = lambda x, slope: detmath.round_sig(detmath.pow10(at + slope * (x - t) - log_div), 7)  # noqa: E731
        segments = [
            Segment(
                start,
                t,
                y(start, before),
                y(t, before),
                theme.rate_text(
                    fit["growth_per_2y_before_break"],
                    fit["growth_per_2y_before_break_ci_low"],
                    fit["growth_per_2y_before_break_ci_high"],
                    int(fit["n_before_break"]),
                ),
                fit["growth_per_2y_before_break"],
                fit["growth_per_2y_before_break_ci_low"],
                fit["growth_per_2y_before_break_ci_high"],
                int(fit["n_before_break"]),
                "before_break",
            ),
            Segment(
                t,
                end,
                y(t, after),
                y(end, after),
                theme.rate_text(
                    fit["growth_per_2y_after_break"],
                    fit["growth_per_2y_after_break_ci_low"],
                    fit["growth_per_2y_after_break_ci_high"],
                    int(fit["n_after_break"]),
                ),
                fit["growth_per_2y_after_break"],
                fit["growth_per_2y_after_break_ci_low"],
                fit["growth_per_2y_after_break_ci_high"],
                int(fit["n_after_break"]),
                "after_break",
            ),
        ]
        return segments, None
    slope, intercept = float(fit["slope_log10_per_year"]), float(fit["intercept_log10"])
    line = lambda x: detmath.round_sig(detmath.pow10(intercept + slope * x - log_div), 7)  # noqa: E731
    text = theme.rate_text(
        fit["growth_per_2y"], fit["growth_per_2y_ci_low"], fit["growth_per_2y_ci_high"], int(fit["n"]), paper
    )
    segment = Segment(
        start,
        end,
        line(start),
        line(end),
        text,
        fit["growth_per_2y"],
        fit["growth_per_2y_ci_low"],
        fit["growth_per_2y_ci_high"],
        int(fit["n"]),
        "ols",
    )
    return [segment], _band(fit, start, end, log_div)


def _band(fit: dict, start: float, end: float, log_div: float) -> pd.DataFrame | None:
    """The 95% confidence band of the fitted mean: log10 y +- t sqrt(s^2 / n + stderr^2 (x - mean)^2)."""
    n = int(fit["n"])
    s, se, mean = fit["residual_std_log10"], fit["slope_stderr"], fit["mean_year"]
    if n < 3 or not all(map(np.isfinite, (s, se, mean))):
        return None
    t = detmath.t975(n - 2)
    xs = np.linspace(start, end, 25)
    center = fit["intercept_log10"] + fit["slope_log10_per_year"] * xs - log_div
    half = t * np.sqrt(s * s / n + se * se * (xs - mean) ** 2)
    return pd.DataFrame(
        {
            "x": np.round(xs, 4),
            "lo": detmath.round_sig(detmath.pow10(center - half), 5),
            "hi": detmath.round_sig(detmath.pow10(center + half), 5),
        }
    )


# ------------------------------------------------------------------------------------------ the chart


@dataclass
class Reference:
    """A line that is not a fit (Moore's law): its segment and its key text."""

    x0: float
    x1: float
    y0: float
    y1: float
    text: str
    role: str = "reference"
    direct: str = ""  # a label written on the line itself (its key entry is then shared)
    tag: str = ""  # written instead where `direct` finds no free place; the key then explains the tag


def data_per_connection(function):
    """Memoize a figure's data function on its arguments, the DuckDB connection first: the renderer builds each
    figure several times from one connection (three variants; a figure of panels again to fit its width), and the
    data never depend on the variant. The cache holds the connection (so its id is never reused) and gives each
    caller its own deep copy (a caller that changes its frame cannot change the next one's)."""
    cached = functools.lru_cache(maxsize=4)(function)

    @functools.wraps(function)
    def wrapper(con, *args):
        return copy.deepcopy(cached(con, *args))

    return wrapper


@dataclass
class Drawn:
    """What a figure module returns: the chart, the data it draws (the figure's CSV) and the rates it prints."""

    chart: alt.TopLevelMixin
    data: pd.DataFrame
    fits_shown: list[dict]
    title: str
    description: str


@dataclass
class Overlay:
    """Points drawn as crosses in a quantity's colour over a chart, not fitted (another source's values: the paper's
    own plotted points). `points` columns: x, y, name, matched_id, source (where the value comes from)."""

    role: str
    legend: str
    points: pd.DataFrame


def chart(
    series: list[Plotted],
    variant: theme.Variant,
    *,
    version: str,
    y_title: str,
    x_domain: tuple[float, float],
    title: str,
    subtitle: str,
    data_note: str,
    context: list[Plotted] = (),
    references: list[Reference] = (),
    counts: bool = False,
    key_note: str | None = None,
    overlays: list[Overlay] = (),
    overlay_key: str = "",
) -> Drawn:
    """A log-scale growth chart in a variant: context points (grey) under the series, fitted segments with their
    bands, labelled points, overlay crosses, the key below the plot; title, subtitle and credit in the web flavour
    only."""
    drawn = [*context, *series]
    all_y = np.concatenate(
        [p.points["y"].to_numpy(dtype="float64") for p in drawn]
        + [o.points["y"].to_numpy(dtype="float64") for o in overlays]
        + [np.array([v for s in p.segments for v in (s.y0, s.y1)]) for p in series]
        + [np.array([r.y0, r.y1]) for r in references]
    )
    y_domain = theme.log_domain(all_y)
    exponents = theme.decades(y_domain)
    frame = theme.frame_for(variant, theme.y_label_width(exponents, counts))
    axes = theme.Axes(frame.plot_width, frame.plot_height, x_domain, y_domain)

    # markers for label placement: every drawn point keeps labels off itself
    markers = []
    for p, radius in [(c, 2.0) for c in context] + [(p, theme.marker_radius(theme.style(p.role).size)) for p in series]:
        for x, y in zip(p.points["x"], p.points["y"], strict=True):
            markers.append((axes.px(x), axes.py(y), radius))
    for o in overlays:
        for x, y in zip(o.points["x"], o.points["y"], strict=True):
            markers.append((axes.px(x), axes.py(y), theme.marker_radius(theme.style("paper").size)))
    segments_px = [(axes.px(s.x0), axes.py(s.y0), axes.px(s.x1), axes.py(s.y1)) for p in series for s in p.segments] + [
        (axes.px(r.x0), axes.py(r.y0), axes.px(r.x1), axes.py(r.y1)) for r in references
    ]
    wanted = []
    for p in [*context, *series]:
        chosen = p.points["label_1col"] if variant.narrow else pd.Series(True, index=p.points.index)
        rows = p.points[chosen & (p.points["label"] != "")]
        wanted += [{"x": r.x, "y": r.y, "text": r.label} for r in rows.itertuples()]
    direct, obstacles, tagged = _direct_labels(references, axes, markers)
    labels = theme.place_labels(
        pd.DataFrame(wanted, columns=["x", "y", "text"]), axes, markers, segments_px, obstacles, what=title
    )

    x_axis, y_axis, tick_labels = _axes(axes, exponents, y_title, variant, counts)
    x_scale = alt.X("x:Q", scale=alt.Scale(domain=list(x_domain), nice=False, zero=False), axis=x_axis)
    y_scale = alt.Y("y:Q", scale=alt.Scale(type="log", domain=list(y_domain), nice=False), axis=y_axis)
    y_low = alt.Y("lo:Q", scale=alt.Scale(type="log", domain=list(y_domain), nice=False), axis=y_axis)
    layers: list[alt.Chart] = [tick_labels]
    for p in series:
        if p.band is not None:
            layers.append(
                alt.Chart(p.band)
                .mark_area(color=theme.style(p.role).color, opacity=0.13, clip=True)
                .encode(x=x_scale, y=y_low, y2="hi:Q")
            )
    for p in context:
        layers.append(_points_layer(p, theme.style("context"), x_scale, y_scale, variant, hollow=None))
    for r in references:
        st = theme.style(r.role)
        layers.append(
            alt.Chart(pd.DataFrame({"x": [r.x0, r.x1], "y": [r.y0, r.y1]}))
            .mark_line(color=st.color, strokeDash=list(st.dash), strokeWidth=1.2, clip=True)
            .encode(x=x_scale, y=y_scale)
        )
    for p in series:
        st = theme.style(p.role)
        for s in p.segments:
            layers.append(
                alt.Chart(
                    pd.DataFrame(
                        {"x": [round(s.x0, 4), round(s.x1, 4)], "y": [s.y0, s.y1], "fit": f"{p.series.key}/{s.kind}"}
                    )
                )
                .mark_line(color=st.color, strokeDash=list(st.dash) or [1, 0], strokeWidth=1.4, clip=True)
                .encode(x=x_scale, y=y_scale)
            )
    for p in series:
        st = theme.style(p.role)
        layers.append(_points_layer(p, st, x_scale, y_scale, variant, hollow=False))
        layers.append(_points_layer(p, st, x_scale, y_scale, variant, hollow=True))
    for o in overlays:
        mark = (
            alt.Chart(o.points[["x", "y", "name", "source"]])
            .mark_point(
                shape="cross",
                color=theme.style(o.role).color,
                size=theme.style("paper").size,
                filled=True,
                opacity=1,
                strokeWidth=0,
            )
            .encode(x=x_scale, y=y_scale)
        )
        if variant.web:
            mark = mark.encode(
                tooltip=[
                    "name:N",
                    alt.Tooltip("x:Q", format=".2f", title="year as plotted"),
                    alt.Tooltip("y:Q", format=".3~g", title="as plotted"),
                    "source:N",
                ]
            )
        layers.append(mark)
    layers += _label_layers(labels, axes, x_axis)
    if len(direct):
        layers.append(_data_x_text(direct, axes, x_axis, color=theme.MUTED))

    entries = [theme.KeyEntry(p.key_text(), p.role, marker=True, line=bool(p.segments)) for p in series]
    entries += list({r.text: theme.KeyEntry(r.text, r.role, line=True) for r in references}.values())
    entries += [theme.KeyEntry(f"{r.tag}: {r.direct}", r.role) for r in tagged]
    entries += [theme.KeyEntry(f"{p.legend} (context, not fitted)", "context", marker=True) for p in context]
    if overlays:
        entries.append(theme.KeyEntry(overlay_key, "paper", marker=True, color=theme.INK))
    if any(p.points["hollow"].any() for p in series):
        entries.append(theme.KeyEntry(key_note or HOLLOW_NOTE, "note", marker=True, hollow=True))
    key_top = frame.plot_height + _x_axis_extent()
    k = theme.key(entries, frame, key_top)
    layers += theme.key_layers(k)
    data_note_text = data_note
    if variant.web:
        layers.append(theme.credit_layer(version, data_note_text, frame, key_top + k.height + 4))
    fits_shown = [f for p in series for f in p.fits_shown()]
    furniture = (
        {"title": theme.title(title, theme.wrap(subtitle, variant.width - 2 * theme.PADDING))} if variant.web else {}
    )
    layered = alt.layer(*layers, **furniture).properties(
        width=variant.width,
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
        height=frame.plot_height,
        description=f"{title}. {subtitle}",
        usermeta={"memwall": {"version": version, "variant": variant.name, "fits": fits_shown}},
    )
    data = figure_data(series, context, references)
    if overlays:
        extra = pd.concat(
            [
                o.points.assign(kind="overlay_point", legend=o.legend).rename(columns={"x": "x_year", "y": "plotted_y"})
                for o in overlays
            ],
            ignore_index=True,
        )
        data = pd.concat([data, extra], ignore_index=True)
    return Drawn(layered, data, fits_shown, title, subtitle)


def _x_axis_extent() -> float:
    return theme.TICK + theme.GAP + theme.TEXT * (theme.ASCENT + theme.DESCENT) + 4 + theme.AXIS_TITLE * 1.2 + 6


def _direct_labels(references: list[Reference], axes: theme.Axes, markers) -> tuple[pd.DataFrame, list]:
    """Labels written along reference lines (just above, else just below), at the first place from the left where
    they cover no marker and no other such label."""
    rows, boxes, tagged = [], [], []
    for r in references:
        if not r.direct:
            continue
        for text in (r.direct, r.tag):
            chosen = _free_along(text, axes.py(r.y0), axes, markers, boxes) if text else None
            if chosen:
                break
        if chosen is None:
            raise theme.LabelError(f"no free place along the line for its label {r.direct!r} (nor its tag)")
        if text == r.tag:
            tagged.append(r)
        boxes.append(chosen)
        rows.append({"px": round(chosen[0], 2), "py": round((chosen[1] + chosen[3]) / 2, 2), "text": text})
    return pd.DataFrame(rows, columns=["px", "py", "text"]), boxes, tagged


def _free_along(text: str, y_line: float, axes: theme.Axes, markers, boxes):
    width = theme.text_width(text)
    height = (theme.ASCENT + theme.DESCENT) * theme.TEXT
    for side in (-1, 1):
        for step in range(0, max(1, int(axes.width - width - 3)), 4):
            left = 3.0 + step
            top = y_line - 1.5 - height if side < 0 else y_line + 1.5
            box = (left, top, left + width, top + height)
            if top < 0 or box[3] > axes.height:
                break
            if any(theme._circle_hits(box, *m) for m in markers) or any(theme._overlap(box, b) for b in boxes):
                continue
            return box
    return None


def _axes(axes, exponents, y_title, variant, counts: bool = False) -> tuple[alt.Axis, alt.Axis, alt.Chart]:
    """Both axes (every data layer carries the same two, so Vega-Lite merges them into one) and the y tick labels,
    drawn as text: years on x, decades on y."""
    width = theme.y_label_width(exponents, counts)
    x_axis = alt.Axis(
        values=theme.year_values(axes.x_domain, variant.narrow),
        format="d",
        title="Year",
        grid=False,
        labelFlush=True,
        titlePadding=4,
    )
    y_axis = alt.Axis(
        values=[10.0**e if e >= 0 else 1.0 / 10 ** (-e) for e in exponents],
        labels=False,
        title=y_title,
        grid=True,
        minExtent=theme.TICK + theme.GAP + width,
        maxExtent=theme.TICK + theme.GAP + width,
        titlePadding=5,
    )
    labels, _ = theme.y_log_axis_labels(axes, exponents, counts)
    return x_axis, y_axis, theme.text_layer(labels, align="right")


def _points_layer(p: Plotted, st: theme.Style, x_scale, y_scale, variant, hollow: bool | None) -> alt.Chart:
    points = p.points if hollow is None else p.points[p.points["hollow"] == hollow]
    columns = ["x", "y", "name", "value_text", "date_text", "source_url"]
    mark = alt.Chart(points[columns]).mark_point(
        shape=st.shape,
        color=st.color,
        size=st.size,
        filled=not hollow,
        opacity=1 if hollow is not None else 0.8,
        strokeWidth=1.0 if hollow else 0.6,
        clip=True,
    )
    encoding = {"x": x_scale, "y": y_scale}
    if variant.web:
        encoding["href"] = "source_url:N"
        encoding["tooltip"] = [
            alt.Tooltip("name:N", title="Name"),
            alt.Tooltip("value_text:N", title="Value"),
            alt.Tooltip("date_text:N", title="Released"),
            alt.Tooltip("source_url:N", title="Source"),
        ]
    return mark.encode(**encoding)


def _data_x(px: pd.Series, axes: theme.Axes) -> pd.Series:
    """Pixels along x as data (years): labels move with the points if Vega sizes the plot a point wider or narrower
    than planned (autosize fit-x makes the figure exactly its column width)."""
    span = axes.x_domain[1] - axes.x_domain[0]
    return (axes.x_domain[0] + px.astype("float64") / axes.width * span).round(5)


def _x_encoding(field: str, axes: theme.Axes, x_axis: alt.Axis) -> alt.X:
    return alt.X(f"{field}:Q", scale=alt.Scale(domain=list(axes.x_domain), nice=False, zero=False), axis=x_axis)


def _data_x_text(rows: pd.DataFrame, axes: theme.Axes, x_axis: alt.Axis, color: str = theme.INK) -> alt.Chart:
    rows = rows.assign(lx=_data_x(rows["px"], axes))
    return (
        alt.Chart(rows[["lx", "py", "text"]])
        .mark_text(align="left", baseline="middle", color=color, font=theme.FONT, fontSize=theme.TEXT)
        .encode(x=_x_encoding("lx", axes, x_axis), y=alt.Y("py:Q", scale=None), text="text:N")
    )


def _label_layers(labels: pd.DataFrame, axes: theme.Axes, x_axis: alt.Axis) -> list[alt.Chart]:
    layers = []
    leaders = labels[labels["lx0"].notna()]
    if len(leaders):
        leaders = leaders.assign(x0=_data_x(leaders["lx0"], axes), x1=_data_x(leaders["lx1"], axes))
        layers.append(
            alt.Chart(leaders[["x0", "ly0", "x1", "ly1"]])
            .mark_rule(color="#888888", strokeWidth=0.5)
            .encode(x=_x_encoding("x0", axes, x_axis), y=alt.Y("ly0:Q", scale=None), x2="x1:Q", y2="ly1:Q")
        )
    if len(labels):
        layers.append(_data_x_text(labels, axes, x_axis))
    return layers


def figure_data(series: list[Plotted], context: list[Plotted], references: list[Reference]) -> pd.DataFrame:
    """The figure's data as a reader re-plots it: every point (id, name, date, value in base units, unit, source,
    whether it is fitted or provisional) and every drawn line with its parameters."""
    rows = []
    for p in [*context, *series]:
        for r in p.points.itertuples():
            rows.append(
                {
                    "kind": "point",
                    "series": p.series.key,
                    "legend": p.legend,
                    "id": r.id,
                    "name": r.name,
                    "release_date": r.date_text,
                    "x_year": r.x,
                    "value": r.value,
                    "unit": p.series.unit,
                    "plotted_y": r.y,
                    "in_fit": bool(r.in_fit) and any(p is q for q in series),
                    "provisional": bool(r.provisional),
                    "estimate": bool(r.estimate),
                    "source_url": r.source_url,
                }
            )
    for p in series:
        for s in p.segments:
            rows.append(
                {
                    "kind": f"fit_{s.kind}",
                    "series": p.series.key,
                    "legend": p.legend,
                    "x_year": s.x0,
                    "x1_year": s.x1,
                    "plotted_y": s.y0,
                    "plotted_y1": s.y1,
                    "growth_per_2y": s.growth,
                    "growth_per_2y_ci_low": s.ci_low,
                    "growth_per_2y_ci_high": s.ci_high,
                    "n": s.n,
                    "slope_log10_per_year": detmath.log10(s.growth) / 2,
                    "selection": p.fit["selection"],
                    "text": s.text,
                }
            )
    for r in references:
        rows.append(
            {
                "kind": "reference",
                "legend": r.text,
                "x_year": r.x0,
                "x1_year": r.x1,
                "plotted_y": r.y0,
                "plotted_y1": r.y1,
                "text": r.text,
            }
        )
    return pd.DataFrame(rows, columns=DATA_COLUMNS)


DATA_COLUMNS = [
    "kind",
    "series",
    "legend",
    "id",
    "name",
    "release_date",
    "x_year",
    "x1_year",
    "value",
    "unit",
    "plotted_y",
    "plotted_y1",
    "in_fit",
    "provisional",
    "estimate",
    "growth_per_2y",
    "growth_per_2y_ci_low",
    "growth_per_2y_ci_high",
    "n",
    "slope_log10_per_year",
    "selection",
    "text",
    "source_url",
]


def log10_span(values: np.ndarray) -> float:
    values = np.asarray(values, dtype="float64")
    return math.log10(values.max() / values.min())
