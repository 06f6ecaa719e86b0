"""Geometry of a rendered SVG figure, measured independently of the code that placed it: every text's box from the
shipped font's metrics (fontTools, not pipeline.figures.theme), every symbol marker's extent from its path, in the
figure's own coordinates (1 unit = 1 pt)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

FONTS = Path(__file__).resolve().parent.parent / "pipeline" / "fonts"
SVG = "{http://www.w3.org/2000/svg}"
CAP, DESCENDER = 0.76, 0.24  # DejaVu Sans: cap height ~0.73 em (accents aside), descenders 0.236 em


@dataclass
class Text:
    text: str
    size: float
    box: tuple[float, float, float, float]  # left, top, right, bottom
    rotated: bool
    family: str


@dataclass
class Marker:
    x: float
    y: float
    r: float  # half the largest extent of its path
    in_key: bool = False


@cache
def _advances(bold: bool):
    font = TTFont(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"))
    return font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm


def width(text: str, size: float, bold: bool = False) -> float:
    cmap, metrics, units = _advances(bold)
    return sum(metrics[cmap.get(ord(c), ".notdef")][0] for c in text) * size / units


def _translate(transform: str | None) -> tuple[float, float, bool]:
    if not transform:
        return 0.0, 0.0, False
    dx = dy = 0.0
    for a, b in re.findall(r"translate\(([-\d.e]+)[ ,]*([-\d.e]*)\)", transform):
        dx += float(a)
        dy += float(b or 0)
        break  # the first translate places the element; a rotation after it turns it in place
    return dx, dy, "rotate" in transform


def parse(path: Path) -> tuple[float, float, list[Text], list[Marker]]:
    """(width, height, texts, markers) of an SVG written by Vega."""
    root = ET.parse(path).getroot()
    texts: list[Text] = []
    markers: list[Marker] = []

    def walk(node, ox: float, oy: float, classes: str) -> None:
        dx, dy, rotated = _translate(node.get("transform"))
        x, y = ox + dx, oy + dy
        cls = node.get("class") or ""
        if node.tag == SVG + "text":
            size = float((node.get("font-size") or "10px").rstrip("px"))
            bold = node.get("font-weight") == "bold"
            anchor = node.get("text-anchor") or "start"
            spans = node.findall(SVG + "tspan")
            lines, line_y = [], y
            for span in spans:  # a multi-line label: one tspan per line, each moved down by its dy
                line_y += float(span.get("dy") or 0)
                lines.append(("".join(span.itertext()), line_y))
            if not spans:
                lines.append(("".join(node.itertext()), y))
            for content, ly in lines:
                w = width(content, size, bold)
                left = x - {"start": 0.0, "middle": w / 2, "end": w}[anchor]
                box = (left, ly - CAP * size, left + w, ly + DESCENDER * size)
                if rotated:  # an axis title turned by -90 degrees around its anchor
                    half = w / 2 if anchor == "middle" else 0.0
                    box = (x - CAP * size, ly - (w - half), x + DESCENDER * size, ly + half)
                texts.append(Text(content, size, box, rotated, node.get("font-family") or ""))
            return
        if node.tag == SVG + "path" and "mark-symbol" in classes and node.get("d"):
            numbers = [abs(float(v)) for v in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", node.get("d"))]
            markers.append(Marker(x, y, max(numbers) if numbers else 0.0))
            return
        for child in node:
            walk(child, x, y, classes + " " + cls)

    walk(root, 0.0, 0.0, "")
    return float(root.get("width")), float(root.get("height")), texts, markers


def overlap(a, b, tolerance: float = 0.3) -> bool:
    return not (
        a[2] - tolerance <= b[0] or b[2] - tolerance <= a[0] or a[3] - tolerance <= b[1] or b[3] - tolerance <= a[1]
    )


def hits(box, marker: Marker, tolerance: float = 0.3) -> bool:
    nx = min(max(marker.x, box[0]), box[2])
    ny = min(max(marker.y, box[1]), box[3])
    return (nx - marker.x) ** 2 + (ny - marker.y) ** 2 < (marker.r - tolerance) ** 2
