"""Recover the plotted points of the paper's vector figures (matplotlib PDFs) from their drawing commands.

    python -m pipeline.paper_points extract PDF --figure fig1 > points.csv

A small reader for one page of a PDF (pure Python + zlib, no dependency) returns what the page draws:
- markers: a form XObject painted with ``Do`` (matplotlib's ``draw_markers``; each ``cm`` before it moves the origin,
  cumulatively inside one ``q ... Q``), or a small painted closed path drawn inline. Centre: the form's origin, or the
  centre of the inline path's bounding box (exact for matplotlib's circles, squares, diamonds and triangles);
- lines: every stroked open path (polyline) with its points, colour, alpha and width (ticks, grid, fitted lines);
- texts: every string shown, with its origin, advance width, size, angle and colour. Glyphs are decoded through the
  font's ToUnicode CMap (Type42 / Type0 fonts), else its /Encoding /Differences glyph names (Type3), else Latin-1.

Axes are calibrated from the tick marks next to numeric tick labels: a least-squares map from PDF coordinate to
value (log10 of the value on a log axis; days on a date axis, matplotlib's own unit, so that a year tick sits on
1 January and fractional years follow the calendar as in pipeline/ingest.py). Not supported: object streams,
encryption, filters other than FlateDecode, inline images, mathtext tick labels (10^k drawn as two strings).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MARKER_MAX = 40.0  # pt: a painted closed path at most this wide and tall is a marker
TICK_MAX = 30.0  # pt: an axis-parallel 2-point stroke at most this long is a tick mark
LABEL_MAX = 2.5  # font sizes: a text farther than this from a marker's centre is not that marker's label
CENTRING = 0.5  # weight of a label's horizontal offset from its marker (labels are mostly centred on their point)
COLOUR_PENALTY = 0.5  # font sizes added to the distance when a label's colour differs from the marker's

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
Point = tuple[float, float]


class PdfError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------------- PDF syntax
class Keyword(str):
    """A bare word: an operator in a content stream, or obj / stream / R / true ... in the file."""


@dataclass(frozen=True)
class Ref:
    num: int


TOKEN = re.compile(
    rb"(\s+|%[^\r\n]*)|(<<|>>|\[|\]|\{|\})|<([0-9A-Fa-f\s]*)>|/([^\s()<>\[\]{}/%]*)"
    rb"|([+-]?(?:\d+\.?\d*|\.\d+))(?![^\s()<>\[\]{}/%])|([^\s()<>\[\]{}/%]+)|(\()"
)
ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def _literal(data: bytes, pos: int) -> tuple[bytes, int]:
    """A literal string starting after its '(': (bytes, position after the closing ')')."""
    out, depth = bytearray(), 1
    while True:
        char = data[pos]
        pos += 1
        if char == ord("\\"):
            nxt = data[pos]
            octal = re.match(rb"[0-7]{1,3}", data[pos : pos + 3])
            if octal:
                out.append(int(octal[0], 8) & 0xFF)
                pos += len(octal[0])
            elif nxt in b"\r\n":  # line continuation
                pos += 2 if data[pos : pos + 2] == b"\r\n" else 1
            else:
                out += ESCAPES.get(nxt, bytes([nxt]))
                pos += 1
            continue
        depth += {ord("("): 1, ord(")"): -1}.get(char, 0)
        if depth == 0:
            return bytes(out), pos
        out.append(char)


def _tokens(data: bytes, pos: int = 0) -> Iterator[tuple[object, int]]:
    """(token, end position): numbers, bytes (strings), str (names), Keyword, and '[' ']' '<<' '>>' markers."""
    while pos < len(data):
        m = TOKEN.match(data, pos)
        if m is None:
            raise PdfError(f"unreadable PDF syntax at byte {pos}: {data[pos : pos + 20]!r}")
        pos = m.end()
        if m[1] is not None:
            continue
        if m[2] is not None:
            token: object = ("open" if m[2] in (b"[", b"<<", b"{") else "close", m[2].decode())
        elif m[3] is not None:
            token = bytes.fromhex(re.sub(rb"\s", b"", m[3]).decode() + ("0" if len(m[3].strip()) % 2 else ""))
        elif m[4] is not None:
            token = re.sub(rb"#([0-9A-Fa-f]{2})", lambda h: bytes([int(h[1], 16)]), m[4]).decode("latin-1")
        elif m[5] is not None:
            token = float(m[5]) if b"." in m[5] else int(m[5])
        elif m[6] is not None:
            token = Keyword(m[6].decode("latin-1"))
        else:
            token, pos = _literal(data, pos)
        yield token, pos


def _parse(tokens: Iterator[tuple[object, int]], stop: frozenset[str] = frozenset()) -> tuple[list[object], int]:
    """Assemble arrays, dictionaries and references; stop after a Keyword in `stop` (returned last)."""
    stack: list[list[object]] = [[]]
    pos = 0
    for token, end in tokens:
        pos = end
        if isinstance(token, tuple):
            kind, text = token
            if kind == "open":
                stack.append([text])
                continue
            items = stack.pop()
            opener, items = items[0], items[1:]
            value: object = dict(zip(items[::2], items[1::2], strict=True)) if opener == "<<" else items
            stack[-1].append(value)
        elif token == "R" and isinstance(token, Keyword) and len(stack[-1]) >= 2:
            del stack[-1][-1]
            stack[-1][-1] = Ref(int(stack[-1][-1]))
        else:
            stack[-1].append(token)
            if isinstance(token, Keyword) and token in stop and len(stack) == 1:
                break
    return stack[0], pos


class PdfFile:
    """The objects of a classic (uncompressed-xref) PDF file, found by scanning it in order."""

    OBJ = re.compile(rb"(\d+)\s+\d+\s+obj\b")

    def __init__(self, data: bytes) -> None:
        self.objects: dict[int, object] = {}
        self.streams: dict[int, bytes] = {}
        pos = 0
        while m := self.OBJ.search(data, pos):
            items, pos = _parse(_tokens(data, m.end()), frozenset({"endobj", "stream"}))
            num = int(m[1])
            self.objects[num] = items[0] if len(items) > 1 else None
            if items and items[-1] == "stream":
                start = pos + (2 if data[pos : pos + 2] == b"\r\n" else 1)
                length = self.objects[num].get("Length") if isinstance(self.objects[num], dict) else None
                end = start + length if isinstance(length, int) else data.index(b"endstream", start)
                self.streams[num] = data[start:end]
                pos = data.index(b"endobj", end)

    def get(self, value: object) -> object:
        while isinstance(value, Ref):
            value = self.objects.get(value.num)
        return value

    def stream(self, ref: object) -> bytes:
        """The decoded bytes of a stream (FlateDecode or unfiltered)."""
        if not isinstance(ref, Ref) or ref.num not in self.streams:
            raise PdfError(f"not a stream: {ref!r}")
        filters = self.get(self.get(self.objects[ref.num]).get("Filter", []))
        data = self.streams[ref.num]
        for name in filters if isinstance(filters, list) else [filters]:
            if name != "FlateDecode":
                raise PdfError(f"unsupported stream filter /{name}")
            data = zlib.decompressobj().decompress(data)
        return data

    def pages(self) -> list[dict]:
        def walk(node: object) -> list[dict]:
            node = self.get(node)
            if not isinstance(node, dict):
                return []
            if node.get("Type") == "Page":
                return [node]
            return [page for kid in self.get(node.get("Kids", [])) for page in walk(kid)]

        roots = [v for v in self.objects.values() if isinstance(v, dict) and v.get("Type") == "Catalog"]
        return walk(roots[-1].get("Pages")) if roots else []


# ---------------------------------------------------------------------------------------------------- fonts
GLYPHS = {
    "space": " ", "exclam": "!", "quotedbl": '"', "numbersign": "#", "dollar": "$", "percent": "%", "ampersand": "&",
    "quotesingle": "'", "quoteright": "\u2019", "parenleft": "(", "parenright": ")", "asterisk": "*", "plus": "+",
    "comma": ",", "hyphen": "-", "minus": "\u2212", "period": ".", "slash": "/", "colon": ":", "semicolon": ";",
    "less": "<", "equal": "=", "greater": ">", "question": "?", "at": "@", "bracketleft": "[", "backslash": "\\",
    "bracketright": "]", "asciicircum": "^", "underscore": "_", "grave": "`", "braceleft": "{", "bar": "|",
    "braceright": "}", "asciitilde": "~", "multiply": "\u00d7", "degree": "\u00b0", "mu": "\u00b5",
    **{name: str(digit) for digit, name in enumerate("zero one two three four five six seven eight nine".split())},
}  # fmt: skip


def _glyph_text(name: str, code: int) -> str:
    if len(name) == 1:
        return name
    if m := re.fullmatch(r"uni([0-9A-Fa-f]{4,6})", name):
        return chr(int(m[1], 16))
    return GLYPHS.get(name, chr(code))


@dataclass
class Font:
    """What decoding and measuring a shown string needs: code width, code -> text, widths in text space units."""

    code_bytes: int = 1
    to_text: dict[int, str] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)
    default_width: float = 0.5  # unknown widths (standard 14 fonts without /Widths): half an em

    @classmethod
    def load(cls, pdf: PdfFile, ref: object) -> Font:
        spec = pdf.get(ref)
        if not isinstance(spec, dict):
            return cls()
        font = cls(code_bytes=2 if spec.get("Subtype") == "Type0" else 1)
        scale = float(pdf.get(spec.get("FontMatrix", [0.001]))[0]) if spec.get("Subtype") == "Type3" else 0.001
        if font.code_bytes == 2:
            cid = pdf.get(pdf.get(spec["DescendantFonts"])[0])
            font.default_width = float(cid.get("DW", 1000)) * scale
            w = list(pdf.get(cid.get("W", [])))
            while w:  # [c [w1 w2 ...]] or [c_first c_last w]
                if isinstance(pdf.get(w[1]), list):
                    font.widths.update({w[0] + i: float(x) * scale for i, x in enumerate(pdf.get(w[1]))})
                    del w[:2]
                else:
                    font.widths.update({c: float(w[2]) * scale for c in range(w[0], w[1] + 1)})
                    del w[:3]
        else:
            first = int(spec.get("FirstChar", 0))
            font.widths = {first + i: float(x) * scale for i, x in enumerate(pdf.get(spec.get("Widths", [])))}
            encoding = pdf.get(spec.get("Encoding"))
            code = 0
            for item in pdf.get(encoding.get("Differences", [])) if isinstance(encoding, dict) else []:
                if isinstance(item, int):
                    code = item
                else:
                    font.to_text[code] = _glyph_text(str(item), code)
                    code += 1
        if "ToUnicode" in spec:
            font.to_text.update(_cmap(pdf.stream(spec["ToUnicode"])))
        return font

    def codes(self, data: bytes) -> list[int]:
        return [int.from_bytes(data[i : i + self.code_bytes], "big") for i in range(0, len(data), self.code_bytes)]

    def text(self, code: int) -> str:
        return self.to_text.get(code, chr(code) if self.code_bytes == 1 else "\ufffd")


def _cmap(data: bytes) -> dict[int, str]:
    """The bfchar and bfrange mappings of a ToUnicode CMap."""
    out: dict[int, str] = {}

    def utf16(hexdigits: bytes) -> str:
        return bytes.fromhex(hexdigits.decode()).decode("utf-16-be", "replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(src, 16)] = utf16(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", block):
            targets = re.findall(rb"<([0-9A-Fa-f]*)>", dst)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                if dst.startswith(b"["):
                    out[code] = utf16(targets[i]) if i < len(targets) else ""
                else:
                    start = bytes.fromhex(targets[0].decode())
                    out[code] = (start[:-1] + bytes([(start[-1] + i) & 0xFF])).decode("utf-16-be", "replace")
    return out


# ---------------------------------------------------------------------------------------------------- drawing
def _mul(a: Matrix, b: Matrix) -> Matrix:
    """a then b (PDF row-vector convention: cm multiplies the new matrix on the left of the CTM)."""
    return (
        a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3], a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5],
    )  # fmt: skip


def _apply(m: Matrix, p: Point) -> Point:
    return m[0] * p[0] + m[2] * p[1] + m[4], m[1] * p[0] + m[3] * p[1] + m[5]


def _hex(rgb: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgb)


def _extent(points: list[Point]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _rgb(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return (values[0],) * 3
    if len(values) == 4:
        c, m, y, k = values
        return (1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)
    return values[0], values[1], values[2]


@dataclass(frozen=True)
class Marker:
    x: float  # centre, PDF points
    y: float
    fill: str | None  # "#rrggbb", None when not filled
    stroke: str | None
    shape: str  # signature, e.g. "circle d=20.0", "polygon4 12.0x12.0"
    via: str  # "xobject /M0" or "path"
    order: int  # painting order on the page: a later marker is drawn over an earlier one
    size: float


@dataclass(frozen=True)
class Line:
    points: tuple[Point, ...]
    color: str
    alpha: float
    width: float
    order: int


@dataclass(frozen=True)
class Text:
    text: str
    x: float  # origin of the string (start of its baseline), PDF points
    y: float
    width: float  # advance width along the baseline
    size: float
    angle: float  # degrees, 0 = horizontal
    color: str
    order: int

    @property
    def box(self) -> tuple[float, float, float, float]:
        """Approximate bounding box (x0, y0, x1, y1) of a horizontal string: baseline to cap height."""
        return self.x, self.y - 0.2 * self.size, self.x + self.width, self.y + 0.75 * self.size


@dataclass
class Page:
    width: float
    height: float
    markers: list[Marker] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


@dataclass
class _State:
    ctm: Matrix = IDENTITY
    fill: tuple[float, float, float] = (0.0, 0.0, 0.0)
    stroke: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fill_alpha: float = 1.0
    stroke_alpha: float = 1.0
    line_width: float = 1.0
    font: Font = field(default_factory=Font)
    font_size: float = 1.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    leading: float = 0.0


def _shape(subpaths: list[tuple[list[Point], str, bool]], centre: Point) -> str:
    """A signature of a marker's outline: circle with its diameter, or polygon with its vertex count and size."""
    points = [p for pts, kinds, _ in subpaths for p, k in zip(pts, kinds, strict=True) if k in "ml"]
    x0, y0, x1, y1 = _extent(points)
    radii = [math.dist(p, centre) for p in points]
    curved = any("c" in kinds for _, kinds, _ in subpaths)
    if curved and max(radii) - min(radii) < 0.01 * max(radii):
        return f"circle d={2 * max(radii):.1f}"
    unique = {(round(x, 3), round(y, 3)) for x, y in points}
    return f"{'curved' if curved else 'polygon'}{len(unique)} {x1 - x0:.1f}x{y1 - y0:.1f}"


class _Interpreter:
    def __init__(self, pdf: PdfFile, page: Page) -> None:
        self.pdf, self.page, self.order = pdf, page, 0
        self.fonts: dict[int, Font] = {}

    def run(self, content: bytes, resources: dict, state: _State, sink: list[tuple] | None) -> None:
        """Execute a content stream. Painted paths, as (subpaths, state, op), go to `sink` (inside a form) or are
        sorted at once into the page's markers and lines (sink None); texts go to the page."""
        stack: list[_State] = []
        path: list[tuple[list[Point], str, bool]] = []  # subpaths: user-space points, segment kinds, closed
        operands: list[object] = []
        tm = tlm = IDENTITY
        items, _ = _parse(_tokens(content))
        for item in items:
            if not isinstance(item, Keyword):
                operands.append(item)
                continue
            op, nums = str(item), [float(x) for x in operands if isinstance(x, int | float)]
            if op == "q":
                stack.append(_State(**vars(state)))
            elif op == "Q" and stack:
                state = stack.pop()
            elif op == "cm":
                state.ctm = _mul(tuple(nums), state.ctm)
            elif op in ("g", "rg", "k", "sc", "scn"):
                state.fill = _rgb(nums) if nums else state.fill
            elif op in ("G", "RG", "K", "SC", "SCN"):
                state.stroke = _rgb(nums) if nums else state.stroke
            elif op == "cs":
                state.fill = (0.0, 0.0, 0.0)  # a new colour space starts at its initial colour, black
            elif op == "CS":
                state.stroke = (0.0, 0.0, 0.0)
            elif op == "w":
                state.line_width = nums[0]
            elif op == "gs":
                gs = self.pdf.get(self.pdf.get(resources.get("ExtGState", {})).get(operands[0], {}))
                state.stroke_alpha = float(gs.get("CA", state.stroke_alpha))
                state.fill_alpha = float(gs.get("ca", state.fill_alpha))
            elif op == "m":
                path.append(([(nums[0], nums[1])], "m", False))
            elif op in ("l", "c", "v", "y") and path:
                pts = [(nums[i], nums[i + 1]) for i in range(0, len(nums), 2)]
                if op == "v":  # first control point = current point
                    pts.insert(0, path[-1][0][-1])
                elif op == "y":  # second control point = end point
                    pts.insert(1, pts[1])
                kinds = "l" if op == "l" else "ccl"  # per point: on-curve (m, l) or control (c)
                path[-1] = (path[-1][0] + pts, path[-1][1] + kinds, False)
            elif op == "h" and path:
                path[-1] = (path[-1][0], path[-1][1], True)
            elif op == "re":
                x, y, w, h = nums
                path.append(([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], "mlll", True))
            elif op in ("S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"):
                if op != "n" and path:
                    closes = op in ("s", "b", "b*")
                    dev = [([_apply(state.ctm, p) for p in pts], kinds, c or closes) for pts, kinds, c in path]
                    self._emit([(dev, _State(**vars(state)), op)], sink)
                path = []
            elif op == "Do":
                self._xobject(str(operands[0]), resources, state, sink)
            elif op == "BT":
                tm = tlm = IDENTITY
            elif op == "Tf":
                fonts = self.pdf.get(resources.get("Font", {}))
                ref = fonts.get(operands[0]) if isinstance(fonts, dict) else None
                key = ref.num if isinstance(ref, Ref) else id(ref)
                state.font = self.fonts.setdefault(key, Font.load(self.pdf, ref))
                state.font_size = nums[-1]
            elif op in ("Tc", "Tw", "TL"):
                setattr(state, {"Tc": "char_spacing", "Tw": "word_spacing", "TL": "leading"}[op], nums[0])
            elif op in ("Td", "TD", "T*", "Tm", "'", '"'):
                if op == "Tm":
                    tm = tlm = tuple(nums[:6])
                else:
                    if op == "TD":
                        state.leading = -nums[1]
                    dx, dy = nums[:2] if op in ("Td", "TD") else (0.0, -state.leading)
                    tm = tlm = _mul((1, 0, 0, 1, dx, dy), tlm)
                if op in ("'", '"'):
                    tm = self._show([operands[-1]], state, tm)
            elif op in ("Tj", "TJ"):
                shown = operands[0] if op == "TJ" else [operands[0]]
                tm = self._show(shown, state, tm)
            operands = []

    def _emit(self, painted: list[tuple], sink: list[tuple] | None) -> None:
        if sink is None:
            self.paint(painted)
        else:
            sink.extend(painted)

    def _xobject(self, name: str, resources: dict, state: _State, sink: list[tuple] | None) -> None:
        xobjects = self.pdf.get(resources.get("XObject", {}))
        ref = xobjects.get(name) if isinstance(xobjects, dict) else None
        spec = self.pdf.get(ref)
        if not isinstance(spec, dict) or spec.get("Subtype") != "Form":
            return  # images and unknown objects draw no marker
        inner = _State(**vars(state))
        inner.ctm = _mul(tuple(float(x) for x in spec.get("Matrix", IDENTITY)), state.ctm)
        painted: list[tuple] = []
        form_resources = self.pdf.get(spec.get("Resources")) or resources
        self.run(self.pdf.stream(ref), form_resources, inner, painted)
        points = [p for sub, _, _ in painted for pts, _, _ in sub for p in pts]
        if not points:
            return
        x0, y0, x1, y1 = _extent(points)
        if max(x1 - x0, y1 - y0) > MARKER_MAX:
            self._emit(painted, sink)  # a big form is a drawing of its own, not a marker
            return
        centre = _apply(inner.ctm, (0.0, 0.0))
        self._add_marker(painted, centre, f"xobject /{name}")

    def _add_marker(self, painted: list[tuple], centre: Point, via: str) -> None:
        _, st, _ = painted[0]
        fills = any(op not in ("S", "s") for _, _, op in painted)
        strokes = any(op in ("S", "s", "B", "B*", "b", "b*") for _, _, op in painted)
        subpaths = [sub for subs, _, _ in painted for sub in subs]
        x0, y0, x1, y1 = _extent([p for pts, _, _ in subpaths for p in pts])
        self.order += 1
        self.page.markers.append(
            Marker(
                centre[0], centre[1], _hex(st.fill) if fills else None, _hex(st.stroke) if strokes else None,
                _shape(subpaths, centre), via, self.order, max(x1 - x0, y1 - y0),
            )
        )  # fmt: skip

    def paint(self, painted: list[tuple]) -> None:
        """Sort the page's painted paths into markers (small closed shapes) and lines (open strokes)."""
        for subpaths, st, op in painted:
            x0, y0, x1, y1 = _extent([p for pts, _, _ in subpaths for p in pts])
            filled = op not in ("S", "s")
            if (
                (filled or all(c for _, _, c in subpaths))
                and 0.5 < x1 - x0 <= MARKER_MAX
                and 0.5 < y1 - y0 <= MARKER_MAX
            ):
                self._add_marker([(subpaths, st, op)], ((x0 + x1) / 2, (y0 + y1) / 2), "path")
            elif op not in ("f", "F", "f*"):
                for pts, _, closed in subpaths:
                    self.order += 1
                    line = tuple(pts + pts[:1] if closed else pts)
                    self.page.lines.append(Line(line, _hex(st.stroke), st.stroke_alpha, st.line_width, self.order))

    def _show(self, shown: list[object], state: _State, tm: Matrix) -> Matrix:
        """Show strings (TJ array items: bytes, or numbers in thousandths of an em moving back); return the new Tm."""
        font, size = state.font, state.font_size
        start = _mul(tm, state.ctm)
        text = []
        for item in shown:
            if isinstance(item, int | float):
                tm = _mul((1, 0, 0, 1, -item / 1000 * size, 0), tm)
                continue
            for code in font.codes(item):
                char = font.text(code)
                text.append(char)
                advance = font.widths.get(code, font.default_width) * size + state.char_spacing
                advance += state.word_spacing if char == " " and font.code_bytes == 1 else 0.0
                tm = _mul((1, 0, 0, 1, advance, 0), tm)
        end = _mul(tm, state.ctm)
        x0, y0 = _apply(start, (0, 0))
        x1, y1 = _apply(end, (0, 0))
        scale = math.hypot(start[2], start[3])  # length of the text space's y unit on the page
        self.order += 1
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) if (x1, y1) != (x0, y0) else 0.0
        colour = _hex(state.fill)
        self.page.texts.append(
            Text("".join(text), x0, y0, math.dist((x0, y0), (x1, y1)), size * scale, angle, colour, self.order)
        )
        return tm


def read_page(path: Path, number: int = 1) -> Page:
    """Markers, lines and texts drawn on one page (1-based) of a PDF file."""
    pdf = PdfFile(path.read_bytes())
    pages = pdf.pages()
    if not 1 <= number <= len(pages):
        raise PdfError(f"no page {number} (the file has {len(pages)})")
    spec = pages[number - 1]
    box = [float(v) for v in pdf.get(spec.get("MediaBox", [0, 0, 612, 792]))]
    page = Page(box[2] - box[0], box[3] - box[1])
    contents = pdf.get(spec.get("Contents"))
    refs = contents if isinstance(contents, list) else [spec.get("Contents")]
    data = b"\n".join(pdf.stream(ref) for ref in refs)
    _Interpreter(pdf, page).run(data, pdf.get(spec.get("Resources", {})), _State(), None)
    page.markers.sort(key=lambda m: m.order)
    page.lines.sort(key=lambda line: line.order)
    return page


# ---------------------------------------------------------------------------------------------------- axes
@dataclass(frozen=True)
class Axis:
    """value = intercept + slope * PDF coordinate, in the axis's own unit: log10(value) (log), days (date), value."""

    scale: str  # "linear", "log" or "date" (tick labels are years; matplotlib's date unit is the day)
    intercept: float
    slope: float
    ticks: tuple[tuple[float, str], ...]  # (PDF coordinate of the tick mark, its label)
    residual: float  # largest |fitted - labelled| over the ticks, in the axis's own unit

    def to_data(self, coordinate: float) -> float:
        """Data value at a PDF coordinate: the value (linear, log) or the fractional year (date)."""
        value = self.intercept + self.slope * coordinate
        if self.scale == "log":
            return 10.0**value
        if self.scale == "date":
            return _fractional_year(value)
        return value

    def to_pdf(self, value: float) -> float:
        unit = math.log10(value) if self.scale == "log" else _days(value) if self.scale == "date" else value
        return (unit - self.intercept) / self.slope


def _days(year: float) -> float:
    """Fractional year -> days since 0001-01-01 (proleptic Gregorian ordinal)."""
    whole = math.floor(year)
    start = dt.date(whole, 1, 1).toordinal()
    return start + (year - whole) * (dt.date(whole + 1, 1, 1).toordinal() - start)


def _fractional_year(days: float) -> float:
    year = dt.date.fromordinal(math.floor(days)).year
    start = dt.date(year, 1, 1).toordinal()
    return year + (days - start) / (dt.date(year + 1, 1, 1).toordinal() - start)


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace("\u2212", "-"))
    except ValueError:
        return None


def tick_labels(page: Page) -> dict[str, list[tuple[float, Text]]]:
    """Numeric tick labels paired with their tick marks: {"x": [(tick x, label)], "y": [(tick y, label)]}.

    A tick mark is an axis-parallel 2-point stroke at most TICK_MAX long. An x label is centred under its (vertical)
    tick; a y label sits left of its (horizontal) tick, its middle (baseline + 0.36 size) level with it. Each label
    takes the nearest tick of either kind within a quarter of its font size."""
    ticks = [line.points for line in page.lines if len(line.points) == 2 and math.dist(*line.points) <= TICK_MAX]
    vertical = [p for p in ticks if abs(p[0][0] - p[1][0]) < 1e-6 and p[0][1] != p[1][1]]
    horizontal = [p for p in ticks if abs(p[0][1] - p[1][1]) < 1e-6 and p[0][0] != p[1][0]]
    out: dict[str, list[tuple[float, Text]]] = {"x": [], "y": []}
    for text in page.texts:
        if abs(text.angle) > 1e-6 or _number(text.text) is None:
            continue
        centre, middle = text.x + text.width / 2, text.y + 0.36 * text.size
        candidates = [(abs(p[0][0] - centre), "x", p[0][0]) for p in vertical if min(p[0][1], p[1][1]) > text.y]
        candidates += [(abs(p[0][1] - middle), "y", p[0][1]) for p in horizontal if min(p[0][0], p[1][0]) > text.x]
        if candidates and (best := min(candidates))[0] <= 0.25 * text.size:
            out[best[1]].append((best[2], text))
    return out


def calibrate(page: Page, x_scale: str = "linear", y_scale: str = "log") -> tuple[Axis, Axis]:
    """Least-squares maps from PDF coordinates to data values, fitted on the labelled ticks of each axis."""
    axes = []
    for name, scale in (("x", x_scale), ("y", y_scale)):
        pairs = sorted({(round(c, 6), t.text) for c, t in tick_labels(page)[name]})
        if len(pairs) < 2:
            raise PdfError(f"{name} axis: fewer than 2 numeric tick labels next to tick marks")
        values = [_number(label) for _, label in pairs]
        if scale == "log":
            units = [math.log10(v) for v in values]
        elif scale == "date":
            units = [float(dt.date(int(v), 1, 1).toordinal()) for v in values]
        else:
            units = [float(v) for v in values]
        coords = [c for c, _ in pairs]
        n, mx, my = len(coords), sum(coords) / len(coords), sum(units) / len(units)
        sxx = sum((c - mx) ** 2 for c in coords)
        slope = sum((c - mx) * (u - my) for c, u in zip(coords, units, strict=True)) / sxx
        intercept = my - slope * mx
        residual = max(abs(intercept + slope * c - u) for c, u in zip(coords, units, strict=True))
        if residual > 1e-4 * abs(slope) * (max(coords) - min(coords)) / n + 1e-9:
            raise PdfError(f"{name} axis: tick labels are not {scale} in position (largest residual {residual:.3g})")
        axes.append(Axis(scale, intercept, slope, tuple(pairs), residual))
    return axes[0], axes[1]


# ---------------------------------------------------------------------------------------------------- labels
def hidden_under(markers: list[Marker]) -> dict[int, Marker]:
    """Markers covered by a later one at the same centre (within 0.05 pt) at least as large: index -> cover."""
    out = {}
    for i, marker in enumerate(markers):
        for later in markers[i + 1 :]:
            if math.dist((marker.x, marker.y), (later.x, later.y)) < 0.05 and later.size >= marker.size - 1e-6:
                out[i] = later
    return out


def match_labels(page: Page, skip: set[int]) -> dict[int, Text]:
    """Label texts assigned to markers (index -> text), one to one, nearest first.

    Cost = distance from the marker's centre to the text's box, plus CENTRING times the horizontal offset of the
    text's centre (matplotlib labels are mostly centred on their point), plus COLOUR_PENALTY font sizes when the
    text's colour differs from the marker's. Pairs whose box distance exceeds LABEL_MAX font sizes are never matched.
    Numbers (tick labels), rotated texts and markers in `skip` (hidden ones) take no part."""
    pairs = []
    for t, text in enumerate(page.texts):
        if abs(text.angle) > 1e-6 or _number(text.text) is not None or not text.text.strip():
            continue
        x0, y0, x1, y1 = text.box
        for i, m in enumerate(page.markers):
            if i in skip:
                continue
            distance = math.hypot(max(x0 - m.x, 0, m.x - x1), max(y0 - m.y, 0, m.y - y1))
            if distance <= LABEL_MAX * text.size:
                penalty = 0.0 if text.color in (m.fill, m.stroke) else COLOUR_PENALTY * text.size
                pairs.append((distance + CENTRING * abs((x0 + x1) / 2 - m.x) + penalty, i, t))
    out: dict[int, Text] = {}
    used: set[int] = set()
    for _, i, t in sorted(pairs):
        if i not in out and t not in used:
            out[i] = page.texts[t]
            used.add(t)
    return out


# ---------------------------------------------------------------------------------------------------- figures
@dataclass(frozen=True)
class FigureSpec:
    """How to read one of the paper's figures: its axis scales, and series named by marker fill / line colour."""

    y_unit: str
    series: dict[str, str]  # marker fill colour -> series
    fits: dict[str, str]  # stroke colour of a fitted (sloped) line -> the series it fits
    units: dict[str, str] = field(default_factory=dict)  # series -> y unit, where not y_unit
    x_scale: str = "date"  # the paper's figures plot datetimes: year ticks on 1 January
    y_scale: str = "log"


FIGURES = {
    "fig1": FigureSpec(
        "normalized scaling (each series / its first point)",
        {"#000000": "flops", "#008000": "dram_bandwidth", "#0000ff": "interconnect_bandwidth"},
        {"#000000": "flops", "#008000": "dram_bandwidth", "#0000ff": "interconnect_bandwidth"},
    ),
    "fig2a": FigureSpec(
        "billion parameters",
        {"#ff0000": "transformer", "#0000ff": "cv", "#000000": "recommender", "#008000": "accelerator_memory"},
        {"#ff0000": "transformer", "#008000": "accelerator_memory"},
        {"accelerator_memory": "billion parameters (accelerator memory in GB / 6)"},
    ),
    "fig2b": FigureSpec(
        "PFLOPs (training compute)",
        {"#ff0000": "transformer", "#0000ff": "all_models"},
        {"#ff0000": "transformer", "#000000": "moores_law_reference"},
    ),
}
HEADER = "figure,series,x_year,y_as_plotted,y_unit,label,marker,color,source_file,source_commit,notes".split(",")


def _where(x_axis: Axis, pdf_x: float, pdf_y: float) -> str:
    note = f"pdf=({pdf_x:.4f},{pdf_y:.4f})"
    if x_axis.scale == "date":
        days = x_axis.intercept + x_axis.slope * pdf_x
        if abs(days - round(days)) < 0.01:  # matplotlib plotted a calendar date at midnight
            note += f"; date {dt.date.fromordinal(round(days)).isoformat()}"
    return note


def extract(pdf: Path, figure: str | None = None, source_file: str = "", source_commit: str = "") -> list[dict]:
    """One row per marker (and two per fitted line, its end points) of page 1, keyed as HEADER; x_year and
    y_as_plotted are floats (csv_row rounds them: 4 decimals, 6 significant digits)."""
    page = read_page(pdf)
    spec = FIGURES[figure] if figure else FigureSpec("", {}, {}, x_scale="linear")
    x_axis, y_axis = calibrate(page, spec.x_scale, spec.y_scale)
    hidden = hidden_under(page.markers)
    labels = match_labels(page, set(hidden))
    base = {"figure": figure or "", "source_file": source_file or pdf.name, "source_commit": source_commit}
    rows = []
    for i, m in enumerate(page.markers):
        colour = m.fill or m.stroke or ""
        series = spec.series.get(colour, colour)
        notes = [_where(x_axis, m.x, m.y)]
        label = labels.get(i)
        if i in hidden:
            cover = hidden[i]
            label = labels.get(page.markers.index(cover))
            notes.append(f"hidden under a later {cover.fill or cover.stroke} marker at the same position")
        rows.append({
            **base, "series": series, "x_year": x_axis.to_data(m.x), "y_as_plotted": y_axis.to_data(m.y),
            "y_unit": spec.units.get(series, spec.y_unit), "label": label.text.strip() if label else "",
            "marker": m.shape, "color": colour, "notes": "; ".join(notes),
        })  # fmt: skip
    for line in page.lines:
        xs = [p[0] for p in line.points]
        if len(line.points) < 2 or line.color not in spec.fits or max(xs) - min(xs) < 1e-6:
            continue
        if max(abs(p[1] - line.points[0][1]) for p in line.points) < 1e-6:
            continue  # horizontal: a grid line or spine, not a fit
        ends = [min(line.points), max(line.points)]
        for k, (px, py) in enumerate(ends, start=1):
            rows.append({
                **base, "series": "fit_line", "x_year": x_axis.to_data(px), "y_as_plotted": y_axis.to_data(py),
                "y_unit": spec.y_unit, "label": "", "marker": "line",
                "color": line.color, "notes": f"fit_of={spec.fits[line.color]}; end {k} of 2; alpha {line.alpha:g}; "
                f"width {line.width:g} pt; {len(line.points)} vertices; " + _where(x_axis, px, py),
            })  # fmt: skip
    return rows


def csv_row(row: dict) -> dict:
    return row | {"x_year": f"{row['x_year']:.4f}", "y_as_plotted": f"{row['y_as_plotted']:.6g}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.paper_points", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("extract", help="the points of a figure as CSV on standard output")
    run.add_argument("pdf", type=Path)
    run.add_argument("--figure", choices=sorted(FIGURES), help="name series by colour (else: series = colour)")
    run.add_argument("--source-file", default="", help="the PDF's path in its repository (default: its file name)")
    run.add_argument("--source-commit", default="", help="the commit the PDF was taken from")
    run.add_argument("--no-header", action="store_true", help="omit the header row (to append to a file)")
    args = parser.parse_args(argv)
    try:
        rows = extract(args.pdf, args.figure, args.source_file, args.source_commit)
    except (OSError, ValueError) as error:  # PdfError, or a malformed file
        print(f"paper_points: {args.pdf}: {error}", file=sys.stderr)
        return 1
    writer = csv.DictWriter(sys.stdout, fieldnames=HEADER, lineterminator="\n")
    if not args.no_header:
        writer.writeheader()
    writer.writerows(csv_row(row) for row in rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
