"""The house style of every figure: flavours and sizes, one font that ships with the repository, one colour, marker
and dash per quantity, text measured with the font's own metrics, power-of-ten axis labels, point labels that never
collide, and a key drawn below the plot.

Variants. Every figure is rendered in three variants, chosen here and applied to every figure alike:
- ``web``: 7 in wide, with title, subtitle and credit, for the gallery and the HTML pages;
- ``2col``: print, 7 in wide (IEEE/ACM double column, ``figure*`` + ``\\textwidth``), no title, subtitle or credit
  (those go to the caption file and the PDF's metadata);
- ``1col``: print, 3.5 in wide (single column, ``figure`` + ``\\linewidth``), key below, fewer labels.
One Vega pixel is one PDF point. All print text is 8 pt (ticks, key, labels) or 9 pt (axis titles); exponents of
powers of ten are 6 pt digits, never smaller.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from pipeline import detmath, paths

FONT_FAMILY = "DejaVu Sans"  # the only family drawn: it has every glyph the figures print (superscripts, ×, −)
FONT = f"{FONT_FAMILY}, sans-serif"  # the generic fallback only names a family for viewers of the SVG without it
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}

TEXT = 8.0  # ticks, key, point labels, subtitle
AXIS_TITLE = 9.0
TITLE = 10.0  # web only
CREDIT = 7.0  # web only
EXPONENT = 6.0  # the exponent digits of 10^n: the smallest text of any figure
INK = "#222222"
MUTED = "#555555"
LINE_HEIGHT = 1.25  # of the font size, for wrapped text
PADDING = 4.0  # around the whole figure, in pt
TICK = 3.0
GAP = 2.0  # between a tick and its label


@dataclass(frozen=True)
class Variant:
    name: str  # web | 2col | 1col
    flavour: str  # web | print
    width: float  # total width of the figure in pt (1 px = 1 pt)
    plot_height: float  # height of a single-panel plot area
    key_columns: int
    suffix: str  # file name suffix: '' (web) | '_2col' | '_1col'

    @property
    def web(self) -> bool:
        return self.flavour == "web"

    @property
    def narrow(self) -> bool:
        return self.width < 400


VARIANTS: dict[str, Variant] = {
    "web": Variant("web", "web", 504.0, 250.0, 2, ""),
    "2col": Variant("2col", "print", 504.0, 200.0, 2, "_2col"),
    "1col": Variant("1col", "print", 252.0, 150.0, 1, "_1col"),
}
SINGLE_COLUMN, DOUBLE_COLUMN = 252.0, 504.0


# ------------------------------------------------------------------------------------------ one style per quantity


@dataclass(frozen=True)
class Style:
    color: str
    shape: str  # Vega symbol shape
    dash: tuple[float, ...] = ()  # of the fitted line; () is solid
    size: float = 22.0  # marker area in pt^2
    filled: bool = True


# Okabe & Ito (2008) colours, by what is drawn, never by layer order. Each line also has its own dash pattern, so the
# lines stay apart in greyscale.
STYLES: dict[str, Style] = {
    "compute": Style("#0072B2", "circle"),
    "memory_bandwidth": Style("#D55E00", "square", (6, 2)),
    "interconnect": Style("#009E73", "triangle-up", (2, 2)),
    "memory_capacity": Style("#CC79A7", "diamond", (7, 2, 2, 2), 28.0),
    "transformer": Style("#000000", "square"),
    "cv": Style("#56B4E9", "circle", (3, 2)),
    "other_models": Style("#E69F00", "triangle-down", (3, 2)),
    "recommender": Style("#E69F00", "cross"),
    "format_fp32": Style("#0072B2", "circle"),
    "format_16bit": Style("#D55E00", "square", (6, 2)),
    "format_8bit": Style("#009E73", "triangle-up", (2, 2)),
    "format_4bit": Style("#CC79A7", "diamond", (7, 2, 2, 2), 28.0),
    "ratio_memory": Style("#0072B2", "circle"),
    "ratio_interconnect": Style("#009E73", "triangle-up", (2, 2)),
    "reference": Style(MUTED, "stroke", (4, 3)),
    "context": Style("#BBBBBB", "circle", (), 9.0),
    "paper": Style("#D55E00", "cross", (), 30.0),
    "note": Style(INK, "circle"),  # the key's generic hollow marker
}


def style(role: str) -> Style:
    return STYLES[role]


# ------------------------------------------------------------------------------------------ text metrics


@functools.cache
def _font(bold: bool) -> tuple[dict[int, str], dict[str, int], int]:
    from fontTools.ttLib import TTFont

    font = TTFont(paths.FONTS / FONT_FILES[bold], lazy=True)
    advances = {name: width for name, (width, _) in font["hmtx"].metrics.items()}
    return font.getBestCmap(), advances, font["head"].unitsPerEm


ASCENT, DESCENT = 1901 / 2048, 483 / 2048  # DejaVu Sans hhea ascender and descender, in em


def text_width(text: str, size: float = TEXT, bold: bool = False) -> float:
    """Advance width of `text` in pt in the shipped font (kerning ignored: an upper bound, the safe side)."""
    cmap, advances, units = _font(bold)
    missing = advances.get(".notdef", units // 2)
    return sum(advances.get(cmap.get(ord(ch), ".notdef"), missing) for ch in text) * size / units


def text_box(
    x: float, y: float, text: str, size: float, align: str = "left", baseline: str = "middle", bold: bool = False
) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a text mark at (x, y) with Vega's align and baseline, from the font's metrics."""
    width = text_width(text, size, bold)
    left = x - {"left": 0.0, "center": width / 2, "right": width}[align]
    top = (
        y
        - {
            "top": 0.0,
            "middle": (ASCENT + DESCENT) * size / 2,
            "alphabetic": ASCENT * size,
            "bottom": (ASCENT + DESCENT) * size,
        }[baseline]
    )
    return left, top, left + width, top + (ASCENT + DESCENT) * size


def wrap(text: str, width: float, size: float = TEXT) -> list[str]:
    """Greedy word wrap to `width` pt in the shipped font."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and text_width(candidate, size) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


# ------------------------------------------------------------------------------------------ numbers in text

SUPERSCRIPT_MINUS = "\u2212"  # a true minus sign, not a hyphen


def format_growth(value: float) -> str:
    """A growth factor as printed: 3.0, 235, 1,058 (as REPORT.md prints it: pipeline.fits.format_ratio)."""
    from pipeline import fits

    return fits.format_ratio(value)


def rate_text(rate: float, low: float, high: float, n: int, paper: float | None = None) -> str:
    """'2.9×/2 yr (95% CI 2.6–3.2, n=37; paper 3.0×)': a growth rate with its interval, its n and the paper's."""
    text = f"{format_growth(rate)}×/2\u00a0yr (95% CI {format_growth(low)}\u2013{format_growth(high)}, n={n}"
    if paper is not None and math.isfinite(paper):
        text += f"; paper {format_growth(paper)}×"
    return text + ")"


def power_label(exponent: int) -> tuple[str, str]:
    """('10', '6') for 10^6, ('10', '−3') for 10^-3: the base and exponent of a power-of-ten tick label."""
    return "10", (SUPERSCRIPT_MINUS + str(-exponent)) if exponent < 0 else str(exponent)


def count_label(value: float) -> str:
    """Counts at powers of ten as words: 1k, 10M, 1B, 100B, 1T."""
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:g}{suffix}"
    return f"{value:g}"


# ------------------------------------------------------------------------------------------ plot geometry


@dataclass(frozen=True)
class Axes:
    """Maps data to plot pixels: linear x, log10 (or linear) y, origin at the top-left of the plot area."""

    width: float
    height: float
    x_domain: tuple[float, float]
    y_domain: tuple[float, float]  # data units
    y_log: bool = True

    def px(self, x: float) -> float:
        return (x - self.x_domain[0]) / (self.x_domain[1] - self.x_domain[0]) * self.width

    def _ly(self, y: float) -> float:
        return detmath.log10(y) if self.y_log else y

    def py(self, y: float) -> float:
        lo, hi = self._ly(self.y_domain[0]), self._ly(self.y_domain[1])
        return (1 - (self._ly(y) - lo) / (hi - lo)) * self.height


def log_domain(values, pad_decades: float = 0.12) -> tuple[float, float]:
    """Data range padded by a fraction of a decade on each side (no rounding out to whole decades)."""
    values = np.asarray(values, dtype="float64")
    values = values[np.isfinite(values) & (values > 0)]
    lo, hi = detmath.log10(float(values.min())) - pad_decades, detmath.log10(float(values.max())) + pad_decades
    return detmath.round_sig(detmath.pow10(lo), 4), detmath.round_sig(detmath.pow10(hi), 4)


def decades(domain: tuple[float, float], max_ticks: int = 9) -> list[int]:
    lo = math.ceil(detmath.log10(domain[0]) - 1e-9)
    hi = math.floor(detmath.log10(domain[1]) + 1e-9)
    step = max(1, math.ceil((hi - lo + 1) / max_ticks))
    return [e for e in range(lo, hi + 1) if (e - lo) % step == 0]


def year_values(domain: tuple[float, float], narrow: bool) -> list[int]:
    start, end = int(math.ceil(domain[0])), int(math.floor(domain[1]))
    span = end - start
    step = (10 if span > 16 else 5) if narrow else (5 if span > 12 else (2 if span > 6 else 1))
    return [y for y in range(start, end + 1) if y % step == 0]


@dataclass
class Frame:
    """Where everything goes: the plot area's size and the extents around it, for one variant."""

    variant: Variant
    plot_width: float
    plot_height: float
    left: float  # y-axis extent (ticks, labels, title)
    below_axis: float = 30.0  # x-axis extent (ticks, labels, title)


def frame_for(variant: Variant, y_label_width: float, height: float | None = None) -> Frame:
    """The plot width that makes the figure exactly variant.width wide: total = 2 x PADDING + y-axis extent + plot."""
    # Vega rounds an axis' extent up to whole points and adds the axis line: ceil + 1 is the extent it lays out
    left = math.ceil(TICK + GAP + y_label_width + 5.0 + AXIS_TITLE * (ASCENT + DESCENT)) + 1.0
    plot_width = variant.width - 2 * PADDING - left
    return Frame(variant, round(plot_width, 2), height or variant.plot_height, round(left, 2))


# ------------------------------------------------------------------------------------------ axes


def y_log_axis_labels(axes: Axes, exponents: list[int], counts: bool = False) -> tuple[pd.DataFrame, float]:
    """Tick labels of a log y axis drawn as text marks: 10 at TEXT pt with its exponent at EXPONENT pt, raised (or
    count words like 10M, 1B). Returns the text rows (pixels; align right at the axis) and the widest label."""
    rows = []
    widest = 0.0
    right = -(TICK + GAP)
    for e in exponents:
        y = round(axes.py(10.0**e if e >= 0 else 1.0 / 10 ** (-e)), 2)
        if counts:
            text = count_label(10.0**e)
            rows.append({"px": right, "py": y, "text": text, "size": TEXT, "dy": 0.0})
            widest = max(widest, text_width(text, TEXT))
            continue
        base, exponent = power_label(e)
        exponent_width = text_width(exponent, EXPONENT)
        rows.append({"px": right, "py": y, "text": exponent, "size": EXPONENT, "dy": -TEXT * 0.38})
        rows.append({"px": round(right - exponent_width, 2), "py": y, "text": base, "size": TEXT, "dy": 0.0})
        widest = max(widest, exponent_width + text_width(base, TEXT))
    return pd.DataFrame(rows, columns=["px", "py", "text", "size", "dy"]), widest


def y_label_width(exponents: list[int], counts: bool = False) -> float:
    if counts:
        return max(text_width(count_label(10.0**e), TEXT) for e in exponents)
    return max(text_width(power_label(e)[1], EXPONENT) + text_width("10", TEXT) for e in exponents)


def text_layer(
    rows: pd.DataFrame, align: str = "right", baseline: str = "middle", color: str = INK, weight: str = "normal"
) -> alt.Chart:
    """Text at pixel positions (columns px, py, text, and optional size, dy), no scales involved."""
    rows = rows.copy()
    if "size" not in rows:
        rows["size"] = TEXT
    if "dy" not in rows:
        rows["dy"] = 0.0
    rows["py"] = rows["py"] + rows["dy"]
    return (
        alt.Chart(rows[["px", "py", "text", "size"]])
        .mark_text(align=align, baseline=baseline, color=color, font=FONT, fontWeight=weight)
        .encode(
            x=alt.X("px:Q", scale=None),
            y=alt.Y("py:Q", scale=None),
            text="text:N",
            size=alt.Size("size:Q", scale=None, legend=None),
        )
    )


# ------------------------------------------------------------------------------------------ label placement


class LabelError(ValueError):
    """A label a figure declares could not be placed without overlapping: the build stops instead of dropping it."""


def marker_radius(size: float, stroke: float = 0.6) -> float:
    """Keep-out radius of a marker of area `size` pt^2: half its diagonal-ish extent plus stroke and 1 pt."""
    return math.sqrt(size / math.pi) * 1.25 + stroke + 1.0


def place_labels(
    labels: pd.DataFrame,
    axes: Axes,
    markers: list[tuple[float, float, float]],
    lines: list[tuple[float, float, float, float]] = (),
    obstacles: list[tuple[float, float, float, float]] = (),
    size: float = TEXT,
    required: bool = True,
    what: str = "",
) -> pd.DataFrame:
    """Greedy placement of point labels (columns x, y, text in data units), widest first, each at the first free
    position around its point, then farther out with a leader line. A box may not overlap another label, any marker
    (keep-out circles of radius r: `markers` are (px, py, r) in pixels), a line segment (pixels) or an obstacle box,
    and stays inside the plot. Points closer than 1 pt share one label ('Seq2Seq, VGG-19').

    Returns one row per label: text, the label's anchor (px, py, left-aligned, middle baseline), its box, and the
    leader's two ends (NaN when the label sits next to its point). Raises LabelError when `required` and a label
    cannot be placed."""
    merged: list[dict] = []
    for row in labels.itertuples():
        x, y = round(axes.px(row.x), 3), round(axes.py(row.y), 3)
        for other in merged:
            if math.hypot(other["x"] - x, other["y"] - y) < 1.0:
                other["text"] = f"{other['text']}, {row.text}"
                break
        else:
            merged.append({"x": x, "y": y, "text": str(row.text), "r": _radius_at(markers, x, y)})
    height = (ASCENT + DESCENT) * size
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for item in sorted(merged, key=lambda m: (-text_width(m["text"], size), m["x"], m["y"])):
        width = text_width(item["text"], size)
        box = _find_spot(item, width, height, axes, placed, markers, lines, obstacles)
        if box is None:
            if required:
                raise LabelError(
                    f"{what}: no free place for the label {item['text']!r} at ({item['x']:.0f}, {item['y']:.0f}) px; "
                    "shorten it, drop it from the variant's labels, or move its neighbours"
                )
            continue
        placed.append(box)
        left, top, right, bottom = box
        near_x, near_y = min(max(item["x"], left), right), min(max(item["y"], top), bottom)
        distance = math.hypot(near_x - item["x"], near_y - item["y"])
        leader = distance > item["r"] + 3.5
        if leader:  # from the marker's edge to the box
            f = item["r"] / distance
            start = (item["x"] + (near_x - item["x"]) * f, item["y"] + (near_y - item["y"]) * f)
        out.append(
            {
                "text": item["text"],
                "px": round(left, 2),
                "py": round((top + bottom) / 2, 2),
                "box": tuple(round(v, 2) for v in box),
                "lx0": round(start[0], 2) if leader else np.nan,
                "ly0": round(start[1], 2) if leader else np.nan,
                "lx1": round(near_x, 2) if leader else np.nan,
                "ly1": round(near_y, 2) if leader else np.nan,
            }
        )
    return pd.DataFrame(out, columns=["text", "px", "py", "box", "lx0", "ly0", "lx1", "ly1"])


def _radius_at(markers: list[tuple[float, float, float]], x: float, y: float) -> float:
    radii = [r for mx, my, r in markers if abs(mx - x) < 0.5 and abs(my - y) < 0.5]
    return max(radii) if radii else marker_radius(STYLES["compute"].size)


def _find_spot(item, width, height, axes, placed, markers, lines, obstacles):
    x, y, r = item["x"], item["y"], item["r"]
    gap = r + 1.5
    candidates = [
        (x + gap, y - height / 2),  # right
        (x - gap - width, y - height / 2),  # left
        (x - width / 2, y - gap - height),  # above
        (x - width / 2, y + gap),  # below
        (x + gap * 0.7, y - gap * 0.7 - height),  # above right
        (x - gap * 0.7 - width, y - gap * 0.7 - height),  # above left
        (x + gap * 0.7, y + gap * 0.7),  # below right
        (x - gap * 0.7 - width, y + gap * 0.7),  # below left
    ]
    for distance in (12, 20, 30, 42, 56):  # farther out, joined by a leader
        for dx, dy in ((1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)):
            cx = x + dx * (gap + distance) - (width if dx < 0 else (width / 2 if dx == 0 else 0))
            cy = y + dy * (gap + distance) - (height if dy < 0 else (height / 2 if dy == 0 else 0))
            candidates.append((cx, cy))
    for avoid_lines in (True, False):  # a label may cross a fitted line only when nothing else is free
        for left, top in candidates:
            # a box that sticks out of the plot is pushed back inside, if that keeps it near its point
            left = min(max(left, 1.0), axes.width - width - 1.0)
            top = min(max(top, 1.0), axes.height - height - 1.0)
            box = (left, top, left + width, top + height)
            if left < 0 or top < 0:
                continue
            if any(_overlap(box, other) for other in placed) or any(_overlap(box, o) for o in obstacles):
                continue
            if any(_circle_hits(box, mx, my, mr) for mx, my, mr in markers):
                continue
            if avoid_lines and any(_crosses(box, segment) for segment in lines):
                continue
            return box
    return None


def _circle_hits(box, cx, cy, r) -> bool:
    nx, ny = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
    return (nx - cx) ** 2 + (ny - cy) ** 2 < r * r


def _crosses(box, segment, samples: int = 48) -> bool:
    """Whether a straight segment (pixels) passes through a box (sampled along the segment)."""
    x0, y0, x1, y1 = segment
    if max(x0, x1) < box[0] or min(x0, x1) > box[2] or max(y0, y1) < box[1] or min(y0, y1) > box[3]:
        return False
    for i in range(samples + 1):
        t = i / samples
        x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        if box[0] - 0.5 <= x <= box[2] + 0.5 and box[1] - 0.5 <= y <= box[3] + 0.5:
            return True
    return False


def _overlap(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


# ------------------------------------------------------------------------------------------ the key


@dataclass
class KeyEntry:
    """One entry of a figure's key: a symbol (a marker, a line sample, both, or a filled box) and its text."""

    text: str
    role: str
    marker: bool = False
    line: bool = False
    hollow: bool = False
    box: bool = False
    color: str | None = None  # overrides the role's colour (boxes of stacked bars)
    dash: tuple[float, ...] | None = None


@dataclass
class Key:
    """The key drawn below the x axis, wrapped into the variant's columns; `height` in pt."""

    symbols: pd.DataFrame
    lines: pd.DataFrame
    boxes: pd.DataFrame
    texts: pd.DataFrame
    height: float
    entries: list[KeyEntry] = field(default_factory=list)


def key(entries: list[KeyEntry], frame: Frame, top: float) -> Key:
    """Lay out entries in frame.variant.key_columns columns spanning the figure from the y axis' left edge to its
    right edge, starting `top` pt below the plot's top-left corner."""
    columns = frame.variant.key_columns
    left_edge = -frame.left + 1.0  # inside the y axis's extent, so the key never widens the figure
    total = frame.left + frame.plot_width - 1.0
    column_width = total / columns
    sample = 16.0
    text_x = sample + 4.0
    line_height = TEXT * LINE_HEIGHT
    rows_symbols, rows_lines, rows_boxes, rows_texts = [], [], [], []
    heights = [0.0] * columns
    for i, entry in enumerate(entries):
        col = i % columns if columns > 1 else 0
        x0 = left_edge + col * column_width
        y0 = top + heights[col]
        wrapped = wrap(entry.text, column_width - text_x - 6.0)
        style_ = STYLES[entry.role]
        color = entry.color or style_.color
        cy = y0 + line_height / 2
        if entry.box:
            rows_boxes.append({"x": x0 + 3, "x2": x0 + sample - 3, "y": cy - 4, "y2": cy + 4, "color": color})
        if entry.line:
            dash = entry.dash if entry.dash is not None else style_.dash
            rows_lines.append(
                {"x": x0, "x2": x0 + sample, "y": cy, "y2": cy, "color": color, "dash": list(dash) or [1, 0]}
            )
        if entry.marker:
            rows_symbols.append(
                {
                    "px": x0 + sample / 2,
                    "py": cy,
                    "shape": style_.shape,
                    "color": color,
                    "size": style_.size,
                    "filled": not entry.hollow,
                }
            )
        for j, text in enumerate(wrapped):
            rows_texts.append({"px": x0 + text_x, "py": y0 + line_height * (j + 0.5), "text": text})
        heights[col] += line_height * len(wrapped) + 2.0
        if columns > 1 and col == columns - 1:  # next row starts below the tallest entry of this row
            heights = [max(heights)] * columns
    height = max(heights) if entries else 0.0

    def frame_of(rows, columns_):
        frame_ = pd.DataFrame(rows, columns=columns_)
        for c in frame_.columns:
            if frame_[c].dtype.kind == "f":
                frame_[c] = frame_[c].round(2)
        return frame_

    return Key(
        frame_of(rows_symbols, ["px", "py", "shape", "color", "size", "filled"]),
        frame_of(rows_lines, ["x", "x2", "y", "y2", "color", "dash"]),
        frame_of(rows_boxes, ["x", "x2", "y", "y2", "color"]),
        frame_of(rows_texts, ["px", "py", "text"]),
        height,
        entries,
    )


def key_layers(k: Key) -> list[alt.Chart]:
    layers = []
    if len(k.lines):
        for (color, dash), group in k.lines.groupby(["color", k.lines["dash"].map(tuple)], sort=True):
            layers.append(
                alt.Chart(group[["x", "x2", "y", "y2"]])
                .mark_rule(color=color, strokeWidth=1.4, strokeDash=list(dash))
                .encode(x=alt.X("x:Q", scale=None), x2="x2:Q", y=alt.Y("y:Q", scale=None), y2="y2:Q")
            )
    if len(k.boxes):
        for color, group in k.boxes.groupby("color", sort=True):
            layers.append(
                alt.Chart(group[["x", "x2", "y", "y2"]])
                .mark_rect(color=color)
                .encode(x=alt.X("x:Q", scale=None), x2="x2:Q", y=alt.Y("y:Q", scale=None), y2="y2:Q")
            )
    for (shape, color, size, filled), group in k.symbols.groupby(["shape", "color", "size", "filled"], sort=True):
        layers.append(
            alt.Chart(group[["px", "py"]])
            .mark_point(shape=shape, color=color, size=size, filled=bool(filled), opacity=1, strokeWidth=1.0)
            .encode(x=alt.X("px:Q", scale=None), y=alt.Y("py:Q", scale=None))
        )
    if len(k.texts):
        layers.append(text_layer(k.texts, align="left"))
    return layers


# ------------------------------------------------------------------------------------------ web furniture


def title(text: str, subtitle: str | list[str] = "") -> alt.TitleParams:
    return alt.TitleParams(
        text=text,
        subtitle=subtitle,
        fontSize=TITLE,
        subtitleFontSize=TEXT,
        subtitleColor="#444444",
        font=FONT,
        subtitleFont=FONT,
        anchor="start",
        offset=6,
        frame="bounds",
    )


def credit_layer(version: str, data: str, frame: Frame, top: float) -> alt.Chart:
    """The web flavour's credit line, left-aligned under the key."""
    text = f"memwall {version} · data CC BY 4.0 · {data}"
    rows = pd.DataFrame([{"px": -frame.left + 1.0, "py": top, "text": text, "size": CREDIT}])
    return text_layer(rows, align="left", baseline="top", color="#666666")


def key_chart(entries: list, frame: Frame, variant, version: str, data: str) -> alt.LayerChart:
    """The key of a figure of panels as a chart of its own, the frame's plot width; the web flavour adds the credit
    line (naming `data`) under it."""
    k = key(entries, frame, 0.0)
    chart = alt.layer(*key_layers(k)).properties(
        width=frame.plot_width, height=max(k.height, 1.0), view=alt.ViewBackground(stroke=None)
    )
    if variant.web:
        chart = alt.layer(chart, credit_layer(version, data, frame, k.height + 4))
    return chart


def panels_with_key(
    panels: list, key_chart: alt.Chart, variant, spacing: float, version: str, title_text: str, subtitle: str
) -> alt.VConcatChart:
    """Panels side by side (stacked in a narrow variant) above their key; the web flavour adds the title and the
    wrapped subtitle. The description holds both, the usermeta the version and variant (these figures fit no line)."""
    grid = (alt.vconcat if variant.narrow else alt.hconcat)(*panels, spacing=spacing)
    furniture = {"title": title(title_text, wrap(subtitle, variant.width - 2 * PADDING))} if variant.web else {}
    return alt.vconcat(grid, key_chart, spacing=10).properties(
        description=f"{title_text}. {subtitle}",
        usermeta={"memwall": {"version": version, "variant": variant.name, "fits": []}},
        **furniture,
    )


# ------------------------------------------------------------------------------------------ the Vega-Lite theme


def theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "padding": PADDING,
            "autosize": {"type": "pad"},
            "view": {"stroke": "#444444", "strokeWidth": 0.5},
            "axis": {
                "labelFont": FONT,
                "titleFont": FONT,
                "labelFontSize": TEXT,
                "titleFontSize": AXIS_TITLE,
                "titleFontWeight": "normal",
                "labelColor": INK,
                "titleColor": INK,
                "gridColor": "#e6e6e6",
                "gridWidth": 0.5,
                "domainColor": "#444444",
                "tickColor": "#444444",
                "domainWidth": 0.5,
                "tickWidth": 0.5,
                "tickSize": TICK,
                "labelPadding": GAP,
            },
            "legend": {"disable": True},
            "title": {"font": FONT, "fontSize": TITLE, "fontWeight": "bold", "anchor": "start", "color": INK},
            "header": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": TEXT, "titleFontSize": AXIS_TITLE},
            "text": {"font": FONT, "fontSize": TEXT, "color": INK},
            "point": {"strokeWidth": 0.8},
            "line": {"strokeWidth": 1.4},
        }
    }


alt.theme.register("memwall", enable=True)(theme)
