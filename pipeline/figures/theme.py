"""The paper theme shared by every figure: print sizes, fonts that ship with the repo, a colour-blind-safe palette,
a credit line, and non-overlapping point labels."""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

# One Vega pixel is one PDF point (1/72 in).
SINGLE_COLUMN = 252  # 3.5 in
DOUBLE_COLUMN = 504  # 7 in
FONT = "Liberation Sans, DejaVu Sans, sans-serif"  # DejaVu Sans supplies the superscript digits
LABEL_SIZE = 7
TITLE_SIZE = 9
# Okabe & Ito (2008), distinguishable with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "wedge", "stroke"]


def theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"stroke": "#444", "strokeWidth": 0.5},
            "axis": {
                "labelFont": FONT,
                "titleFont": FONT,
                "labelFontSize": LABEL_SIZE,
                "titleFontSize": TITLE_SIZE - 1,
                "titleFontWeight": "normal",
                "gridColor": "#e6e6e6",
                "gridWidth": 0.5,
                "domainColor": "#444",
                "tickColor": "#444",
                "domainWidth": 0.5,
                "tickWidth": 0.5,
            },
            "legend": {
                "labelFont": FONT,
                "titleFont": FONT,
                "labelFontSize": LABEL_SIZE,
                "titleFontSize": LABEL_SIZE + 1,
                "labelLimit": 400,
                "symbolSize": 30,
                "padding": 3,
                "rowPadding": 2,
                "fillColor": "rgba(255,255,255,0.85)",
                "strokeColor": "#bbb",
            },
            "title": {"font": FONT, "fontSize": TITLE_SIZE, "fontWeight": "bold", "anchor": "start"},
            "header": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": TITLE_SIZE - 1},
            "text": {"font": FONT, "fontSize": LABEL_SIZE - 0.5},
            "range": {"category": PALETTE},
            "point": {"size": 18, "filled": True, "opacity": 0.9},
            "line": {"strokeWidth": 1.2},
        }
    }


alt.theme.register("memwall", enable=True)(theme)


def credit_mark(version: str, data: str, width: float, height: float, below: float = 26) -> alt.Chart:
    """A small credit line under the plot's bottom-right corner: dataset version, licence, what is drawn."""
    text = f"memwall {version} · data CC BY 4.0 · {data}"
    return (
        alt.Chart(pd.DataFrame({"text": [text]}))
        .mark_text(align="right", baseline="top", fontSize=5.5, color="#777")
        .encode(x=alt.value(width), y=alt.value(height + below), text="text:N")
    )


def title(text: str, subtitle: str | list[str] = "") -> alt.TitleParams:
    return alt.TitleParams(
        text=text,
        subtitle=subtitle,
        subtitleFontSize=LABEL_SIZE,
        subtitleColor="#444",
        subtitleFont=FONT,
        anchor="start",
        offset=4,
    )


# ------------------------------------------------------------------------------------------ label placement


@dataclass(frozen=True)
class Axes:
    """Maps data to plot pixels: linear x, log10 y (origin at the top-left of the plot area)."""

    width: float
    height: float
    x_domain: tuple[float, float]
    y_domain: tuple[float, float]  # in data units; the scale is log10

    def px(self, x: float) -> float:
        return (x - self.x_domain[0]) / (self.x_domain[1] - self.x_domain[0]) * self.width

    def py(self, y: float) -> float:
        lo, hi = math.log10(self.y_domain[0]), math.log10(self.y_domain[1])
        return (1 - (math.log10(y) - lo) / (hi - lo)) * self.height

    def x_of(self, px: float) -> float:
        return self.x_domain[0] + px / self.width * (self.x_domain[1] - self.x_domain[0])

    def y_of(self, py: float) -> float:
        lo, hi = math.log10(self.y_domain[0]), math.log10(self.y_domain[1])
        return 10 ** (lo + (1 - py / self.height) * (hi - lo))


def text_width(text: str, size: float = LABEL_SIZE - 0.5) -> float:
    """Approximate width of a label in points (Liberation Sans averages ~0.52 em per character)."""
    return 0.52 * size * len(text) + 1


def place_labels(
    labels: pd.DataFrame,
    axes: Axes,
    all_points: list[tuple[float, float]] | None = None,
    lines: list[tuple[float, float, float, float]] | None = None,
    size: float = LABEL_SIZE - 0.5,
) -> pd.DataFrame:
    """Greedy label placement: for each labelled point (x, y, text), try positions around it and keep the first whose
    box overlaps no earlier label, no plotted point, no fitted line and stays inside the plot. `all_points` are every
    point drawn (data units); `lines` are segments (x0, y0, x1, y1) in data units. Returns label_x, label_y (data
    units, for a left-aligned, middle-baseline text mark) and the box in pixels (for tests)."""
    boxes: list[tuple[float, float, float, float]] = []
    points = [(axes.px(x), axes.py(y)) for x, y in zip(labels["x"], labels["y"], strict=True)]
    drawn = [(axes.px(x), axes.py(y)) for x, y in (all_points or [])] or points
    point_boxes = [(px - 3, py - 3, px + 3, py + 3) for px, py in drawn]
    line_pixels = [(axes.px(a), axes.py(b), axes.px(c), axes.py(d)) for a, b, c, d in (lines or [])]
    out_x, out_y, out_box, leaders = [], [], [], []
    height = size + 1
    for (px, py), text in zip(points, labels["text"], strict=True):
        width = text_width(text, size)
        gap = 4
        candidates = [
            (px + gap, py - height / 2),  # right
            (px - gap - width, py - height / 2),  # left
            (px - width / 2, py - gap - height),  # above
            (px - width / 2, py + gap),  # below
            (px + gap, py - gap - height),  # above right
            (px - gap - width, py - gap - height),  # above left
            (px + gap, py + gap),  # below right
            (px - gap - width, py + gap),  # below left
        ]
        candidates += [(px + gap, py - height / 2 + dy) for dy in (-12, 12, -20, 20, -28, 28)]
        candidates += [(px - gap - width, py - height / 2 + dy) for dy in (-12, 12, -20, 20, -28, 28)]
        chosen = None
        for left, top in candidates:
            box = (left, top, left + width, top + height)
            inside = box[0] >= 0 and box[2] <= axes.width and box[1] >= 0 and box[3] <= axes.height
            if (
                inside
                and not any(_overlap(box, other) for other in boxes + point_boxes)
                and not any(_crosses(box, segment) for segment in line_pixels)
            ):
                chosen = box
                break
        if chosen is None:  # no free spot: leave the point unlabelled rather than overlap (its tooltip names it)
            out_x.append(np.nan)
            out_y.append(np.nan)
            out_box.append(None)
            leaders.append((np.nan, np.nan))
            continue
        boxes.append(chosen)
        out_x.append(axes.x_of(chosen[0]))
        out_y.append(axes.y_of((chosen[1] + chosen[3]) / 2))
        out_box.append(chosen)
        # a leader line from the point to the nearest point of a label placed away from it
        near_x = min(max(px, chosen[0]), chosen[2])
        near_y = min(max(py, chosen[1]), chosen[3])
        far = math.hypot(near_x - px, near_y - py) > gap + 3
        leaders.append((axes.x_of(near_x), axes.y_of(near_y)) if far else (np.nan, np.nan))
    result = labels.copy()
    result["label_x"] = out_x
    result["label_y"] = out_y
    result["box"] = out_box
    result["leader_x"] = [a for a, _ in leaders]
    result["leader_y"] = [b for _, b in leaders]
    return result[result["box"].notna()]


def _crosses(box, segment, samples: int = 64) -> bool:
    """Whether a straight segment (pixels) passes through a box (sampled along the segment)."""
    x0, y0, x1, y1 = segment
    for t in np.linspace(0.0, 1.0, samples):
        x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        if box[0] <= x <= box[2] and box[1] <= y <= box[3]:
            return True
    return False


def _overlap(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def year_axis(domain: tuple[float, float], title_text: str = "Year") -> alt.Axis:
    start, end = int(math.ceil(domain[0])), int(math.floor(domain[1]))
    step = 5 if end - start > 12 else (2 if end - start > 6 else 1)
    values = [y for y in range(start, end + 1) if y % step == 0]
    return alt.Axis(values=values, format="d", title=title_text, grid=True)


def log_axis(title_text: str, domain: tuple[float, float]) -> alt.Axis:
    lo, hi = int(math.floor(math.log10(domain[0]))), int(math.ceil(math.log10(domain[1])))
    step = max(1, (hi - lo) // 8)
    values = [10.0**e for e in range(lo, hi + 1, step)]
    return alt.Axis(values=values, format="~e", title=title_text, grid=True, labelExpr=_power_label())


def _power_label() -> str:
    """Vega expression printing powers of ten as 10 with a superscript exponent (1e+3 -> 10³)."""
    superscripts = dict(zip("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹", strict=True))
    expression = "format(log(datum.value) / log(10), 'd')"
    for digit, sup in superscripts.items():
        expression = f"replace({expression}, regexp('{digit}', 'g'), '{sup}')"
    return f"datum.value == 1 ? '1' : datum.value == 10 ? '10' : '10' + {expression}"


def nice_log_domain(values: np.ndarray, pad_decades: float = 0.3) -> tuple[float, float]:
    values = np.asarray(values, dtype="float64")
    values = values[np.isfinite(values) & (values > 0)]
    lo, hi = math.log10(values.min()) - pad_decades, math.log10(values.max()) + pad_decades
    return 10 ** math.floor(lo), 10 ** math.ceil(hi)
