"""The PDF point extractor on a PDF written here, byte by byte, with known data points, labels and axes.

The page mimics matplotlib's output: a FlateDecode content stream; markers drawn both as a form XObject placed by
relative `cm` moves inside one `q ... Q` and as inline closed paths; a Type3 font decoded through /Differences and a
Type0 font through its ToUnicode CMap; ticks as short strokes with numeric labels; a log10 y axis; a fitted polyline.
Glyph procedures are left empty: the reader measures and decodes glyphs, it never draws them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zlib
from pathlib import Path

import pytest

from pipeline import paper_points as pp

SIZE = 10.0  # font size of every label
TYPE3_WIDTHS = {" ": 300, "(": 400, ")": 400, ".": 250, **{d: 500 for d in "0123456789"}, "A": 700, "G": 750}
TYPE3_WIDTHS |= {c: 550 for c in "ahlmp"}
TYPE3_NAMES = {" ": "space", "(": "parenleft", ")": "parenright", ".": "period"}
TYPE3_NAMES |= {
    d: n for d, n in zip("0123456789", "zero one two three four five six seven eight nine".split(), strict=True)
}
# Type0 font: CID -> (text, width); the ToUnicode CMap below maps exactly these
CIDS = {1: ("B", 600), 2: ("e", 500), 3: ("t", 400), 5: ("a", 500), 4: ("\u2212", 700), 12: ("2", 500)}
TOUNICODE = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar <0004> <2212> <0005> <0061> endbfchar
2 beginbfrange <0001> <0003> [<0042> <0065> <0074>] <000A> <0013> <0030> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end"""

# (series colour, year, value, label, font, drawn as)
POINTS = [
    ("red", 2001.25, 0.05, "Alpha", "F1", "xobject"),
    ("red", 2006.3141592, 3.7182818, "", "", "xobject"),
    ("red", 2010.125, 42.0, "Gamma (2)", "F1", "xobject"),
    ("blue", 2003.75, 0.2, "Beta\u22122", "F2", "square"),
    ("blue", 2012.5, 870.0, "", "", "circle"),
    ("blue", 2017.0, 0.013, "Alpha", "F1", "square"),
    # off-centre, and nearer to the first label's box than its own point is: labels prefer the point they centre on
    ("blue", 2002.25, 0.05 * 10 ** (17 / 60), "", "", "circle"),
]
FIT = [(2001.0, 0.03), (2008.0, 4.0), (2015.0, 500.0)]  # vertices of the fitted red line, end points first and last


def X(year: float) -> float:
    return 100.0 + (year - 2000.0) * 20.0


def Y(value: float) -> float:
    return 100.0 + (math.log10(value) + 2.0) * 60.0


def circle(x: float, y: float, r: float) -> str:
    k = 0.5522847498 * r
    return (
        f"{x} {y - r} m {x + k} {y - r} {x + r} {y - k} {x + r} {y} c {x + r} {y + k} {x + k} {y + r} {x} {y + r} c "
        f"{x - k} {y + r} {x - r} {y + k} {x - r} {y} c {x - r} {y - k} {x - k} {y - r} {x} {y - r} c h"
    )


def text_width(text: str, font: str) -> float:
    if font == "F2":
        widths = {t: w for t, w in CIDS.values()}
        return sum(widths[c] for c in text) * SIZE / 1000
    return sum(TYPE3_WIDTHS[c] for c in text) * SIZE / 1000


def show(text: str, font: str) -> str:
    """The operator showing `text`: a literal string (Type3, with escapes), or a TJ array of 2-byte CIDs with a kern."""
    if font == "F1":
        return "(" + text.replace("(", "\\(").replace(")", "\\)") + ") Tj"
    cid = {t: c for c, (t, _) in CIDS.items()}
    hexes = ["".join(f"{cid[c]:04X}" for c in part) for part in (text[:2], text[2:])]
    return f"[<{hexes[0]}> 0 <{hexes[1]}>] TJ"


def label(text: str, font: str, cx: float, baseline: float, colour: str = "0 g") -> str:
    """A label centred on cx (via a text matrix), as matplotlib places tick labels and annotations."""
    x = cx - text_width(text, font) / 2
    return f"q {colour} BT /{font} {SIZE:g} Tf 1 0 0 1 {x!r} {baseline!r} Tm {show(text, font)} ET Q"


def build_pdf(x_ticks: list[tuple[float, str]], points: list[tuple], x_of=X) -> bytes:
    ops = ["1 g 0 0 600 500 re f", "0 G 1 w 100 100 m 500 100 l S 100 100 m 100 460 l S"]  # background, spines
    for x, text in x_ticks:
        ops += [f"{x!r} 100 m {x!r} 92 l S", label(text, "F1", x, 80.0)]
    for decade in range(-2, 4):
        text, y = f"{10.0**decade:g}", Y(10.0**decade)
        width = text_width(text, "F1")  # right-aligned left of the tick, middle level with it: moved by cm + Td
        ops += [f"100 {y!r} m 92 {y!r} l S", f"q 1 0 0 1 {88 - width!r} 0 cm BT /F1 {SIZE:g} Tf 0 {y - 3.6!r} Td"]
        ops += [f"({text}) Tj ET Q"]
    hidden = points[0]  # a blue marker drawn first, exactly under the first red one (matplotlib overlaying series)
    ops.append(f"q 0 0 1 rg 1 0 0 1 {x_of(hidden[1])!r} {Y(hidden[2])!r} cm /M0 Do Q")
    previous = (0.0, 0.0)
    ops.append("q 1 0 0 rg")  # red markers: one form, moved by relative cm steps as matplotlib writes them
    for _, year, value, *_ in [p for p in points if p[5] == "xobject"]:
        x, y = x_of(year), Y(value)
        ops.append(f"1 0 0 1 {x - previous[0]!r} {y - previous[1]!r} cm /M0 Do")
        previous = (x, y)
    ops.append("Q")
    for _, year, value, _, _, kind in points:
        x, y = x_of(year), Y(value)
        if kind == "square":
            ops.append(f"q 0 0 1 rg 0 0 1 RG {x - 4!r} {y - 4!r} m {x + 4!r} {y - 4!r} l {x + 4!r} {y + 4!r} l ")
            ops.append(f"{x - 4!r} {y + 4!r} l h B Q")
        elif kind == "circle":
            ops.append(f"q 0 0 1 rg {circle(x, y, 4.5)} f Q")
    for colour, year, value, text, font, _ in points:
        if text:
            ops.append(label(text, font, x_of(year), Y(value) + 8.0, "0 g" if colour == "red" else "0 0 1 rg"))
    vertices = " ".join(f"{x_of(year)!r} {Y(value)!r} {'m' if i == 0 else 'l'}" for i, (year, value) in enumerate(FIT))
    ops.append(f"q /A1 gs 1 0 0 RG 6 w {vertices} S Q")
    content = zlib.compress("\n".join(ops).encode("latin-1"))

    widths = " ".join(str(TYPE3_WIDTHS.get(chr(code), 0)) for code in range(32, 127))
    differences = " ".join(f"{ord(c)} /{TYPE3_NAMES.get(c, c)}" for c in sorted(TYPE3_WIDTHS))
    form = zlib.compress(f"0 j {circle(0.0, 0.0, 5.0)} f".encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 500] /Contents 4 0 R /Resources << /Font << /F1 5 0 R "
        b"/F2 6 0 R >> /XObject << /M0 7 0 R >> /ExtGState << /A1 << /CA 0.3 /ca 1 >> >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(content), content),
        f"<< /Type /Font /Subtype /Type3 /FontBBox [0 -200 1000 800] /FontMatrix [0.001 0 0 0.001 0 0] /CharProcs "
        f"<< >> /FirstChar 32 /LastChar 126 /Widths [{widths}] /Encoding << /Type /Encoding /Differences "
        f"[{differences}] >> >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Test /Encoding /Identity-H /DescendantFonts [8 0 R] "
        b"/ToUnicode 9 0 R >>",
        b"<< /Type /XObject /Subtype /Form /BBox [-6 -6 6 6] /Length 10 0 R /Filter /FlateDecode >>\nstream\n%s\n"
        b"endstream" % form,
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Test /DW 1000 /W [1 [600 500 400] 4 5 700 5 [500] "
        b"10 19 500] >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(TOUNICODE), TOUNICODE),
        b"%d" % len(form),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    for number, body in enumerate(objects, start=1):
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    return bytes(out + b"trailer\n<< /Root 1 0 R /Size 11 >>\n%%EOF\n")


@pytest.fixture
def spec(monkeypatch: pytest.MonkeyPatch) -> pp.FigureSpec:
    figure = pp.FigureSpec("widgets", {"#ff0000": "red", "#0000ff": "blue"}, {"#ff0000": "red"}, x_scale="linear")
    monkeypatch.setitem(pp.FIGURES, "test", figure)
    return figure


def linear_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "figure.pdf"
    path.write_bytes(build_pdf([(X(year), str(year)) for year in range(2000, 2021, 5)], POINTS))
    return path


def test_page_contents_are_read(tmp_path: Path) -> None:
    page = pp.read_page(linear_pdf(tmp_path))
    assert [(m.fill, m.via) for m in page.markers].count(("#ff0000", "xobject /M0")) == 3
    assert {m.shape for m in page.markers} == {"circle d=10.0", "circle d=9.0", "polygon4 8.0x8.0"}
    texts = {t.text for t in page.texts}
    assert {"2000", "2020", "0.01", "1000", "Alpha", "Gamma (2)", "Beta\u22122"} <= texts
    beta = next(t for t in page.texts if t.text == "Beta\u22122")
    assert beta.width == pytest.approx(text_width("Beta\u22122", "F2"))  # CID widths from /W, both of its forms
    fit = next(line for line in page.lines if len(line.points) == 3)
    assert (fit.color, fit.alpha, fit.width) == ("#ff0000", 0.3, 6.0)


def test_axes_are_calibrated_from_labelled_ticks(tmp_path: Path) -> None:
    x_axis, y_axis = pp.calibrate(pp.read_page(linear_pdf(tmp_path)), "linear", "log")
    assert [label for _, label in x_axis.ticks] == ["2000", "2005", "2010", "2015", "2020"]
    assert [label for _, label in y_axis.ticks] == ["0.01", "0.1", "1", "10", "100", "1000"]
    assert x_axis.to_data(X(2007.3)) == pytest.approx(2007.3, abs=1e-9)
    assert y_axis.to_data(Y(0.37)) == pytest.approx(0.37, rel=1e-12)
    assert y_axis.to_pdf(42.0) == pytest.approx(Y(42.0))
    with pytest.raises(pp.PdfError, match="not linear"):  # decades are evenly spaced: not a linear axis
        pp.calibrate(pp.read_page(linear_pdf(tmp_path)), "linear", "linear")


def test_every_point_and_label_is_recovered(tmp_path: Path, spec: pp.FigureSpec) -> None:
    rows = pp.extract(linear_pdf(tmp_path), "test", "imgs/figure.pdf", "0" * 40)
    markers = [r for r in rows if r["series"] != "fit_line"]
    assert len(markers) == len(POINTS) + 1  # and the hidden one
    hidden = [r for r in markers if "hidden under a later #ff0000 marker" in r["notes"]]
    assert [(r["series"], r["label"]) for r in hidden] == [("blue", "Alpha")]  # takes the label of its cover
    visible = [r for r in markers if r not in hidden]
    expected = sorted((colour, year, value, text) for colour, year, value, text, *_ in POINTS)
    got = sorted((r["series"], r["x_year"], r["y_as_plotted"], r["label"]) for r in visible)
    for (colour, year, value, text), (series, x, y, found) in zip(expected, got, strict=True):
        assert (series, found) == (colour, text)
        assert x == pytest.approx(year, abs=1e-6) and y == pytest.approx(value, abs=1e-6)
    assert {r["y_unit"] for r in rows} == {"widgets"} and {r["source_commit"] for r in rows} == {"0" * 40}
    ends = [(r["x_year"], r["y_as_plotted"]) for r in rows if r["series"] == "fit_line"]
    assert ends == [pytest.approx(FIT[0], abs=1e-6), pytest.approx(FIT[-1], abs=1e-6)]


def test_date_axis_gives_calendar_fractional_years(tmp_path: Path, spec: pp.FigureSpec) -> None:
    """matplotlib's date axes are linear in days: a year tick sits on 1 January, 366 days after a leap year's."""
    day0 = dt.date(2000, 1, 1).toordinal()

    def x_of(year: float) -> float:
        return 100.0 + (pp._days(year) - day0) * 0.05

    day = dt.date(2010, 7, 2)
    year = 2010 + (day.toordinal() - dt.date(2010, 1, 1).toordinal()) / 365
    points = [("red", 2001.0, 1.0, "", "", "xobject"), ("red", year, 5.0, "Alpha", "F1", "xobject")]
    path = tmp_path / "dates.pdf"
    path.write_bytes(build_pdf([(x_of(y), str(y)) for y in range(2000, 2021, 4)], points, x_of))
    pp.FIGURES["test"] = pp.FigureSpec("widgets", spec.series, spec.fits, x_scale="date")
    row = next(r for r in pp.extract(path, "test") if r["label"] == "Alpha" and "hidden" not in r["notes"])
    assert row["x_year"] == pytest.approx(year, abs=1e-6) and row["y_as_plotted"] == pytest.approx(5.0, abs=1e-6)
    assert "date 2010-07-02" in row["notes"]
    assert pp._fractional_year(pp._days(year)) == pytest.approx(year, abs=1e-12)


def test_command_writes_csv(tmp_path: Path, spec: pp.FigureSpec, capsys: pytest.CaptureFixture[str]) -> None:
    assert pp.main(["extract", str(linear_pdf(tmp_path)), "--figure", "test"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == pp.HEADER and len(rows) == len(POINTS) + 1 + 2
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
    assert pp.main(["extract", str(bad)]) == 1
