"""Escaping, one function per output format. Every string that comes from raw/ (names, URLs, notes) is untrusted when
it reaches HTML, a script, SVG, Markdown or LaTeX; it passes through here, and nowhere else writes those formats.

(SVG is written by Vega, which escapes text nodes and attributes itself; the tests check the rendered SVG.)
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re

import pandas as pd


def html_text(text: str) -> str:
    """Text for an HTML element or attribute value (quotes included)."""
    return html.escape(str(text), quote=True)


def json_for_script(value) -> str:
    """JSON that is safe inside an HTML <script> element: no '<', '>' or '&' (a '</script>' in a string cannot end
    the element) and no U+2028/U+2029 (ASCII only)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="description" content="{description}">
<style>
  body {{ font-family: "DejaVu Sans", sans-serif; margin: 1em; }}
  #vis.vega-embed {{ width: 100%; display: flex; }}
</style>
<script type="text/javascript" src="{bundle}"></script>
</head>
<body>
<div class="vega-visualization" id="vis" role="figure" aria-label="{description}"></div>
<script type="text/javascript">
  const spec = {spec};
  const embedOpt = {options};
  vegaEmbed("#vis", spec, embedOpt).catch(console.error);
</script>
</body>
</html>
"""
EMBED_OPTIONS = {"renderer": "svg", "actions": False, "mode": "vega-lite", "loader": {"target": "_blank"}}


def html_page(spec: dict, title: str, description: str, version: str, bundle: str) -> str:
    """A page that works offline beside `bundle` (the Vega/vega-embed script file of its folder): the spec as
    script-safe JSON, every text HTML-escaped, links opening in a new tab."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+\.js", bundle):
        raise ValueError(f"the bundle must be a plain file name beside the page, not {bundle!r}")
    return HTML_TEMPLATE.format(
        title=html_text(f"{title} (memwall {version})"),
        description=html_text(description),
        bundle=bundle,
        spec=json_for_script(spec),
        options=json_for_script(EMBED_OPTIONS),
    )


MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def markdown(text: str) -> str:
    """Text for a Markdown paragraph or table cell: every character with a Markdown meaning backslash-escaped, HTML
    characters as entities, one line."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())


def markdown_url(url: str) -> str:
    """A URL as the target of a Markdown link, `[text](<target>)`: inside angle brackets, with every character that
    could end the target or open markup percent-encoded (ingest admits only https URLs without spaces or quotes)."""
    encoded = "".join(f"%{ord(c):02X}" if c in "<>()[]\\ \"'`" or ord(c) < 0x21 else c for c in str(url))
    return f"<{encoded}>"


def code_block(text: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any run of backticks in the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "×": r"\texttimes{}",
    "÷": r"\textdiv{}",
    "–": "--",
    "—": "---",
    "−": r"\textminus{}",
    "·": r"\textperiodcentered{}",
    "≈": r"$\approx$",
    "µ": r"\textmu{}",
    "Σ": r"$\Sigma$",
    "α": r"$\alpha$",
    "²": r"\textsuperscript{2}",
    "³": r"\textsuperscript{3}",
    "’": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
}


def latex(text: str) -> str:
    """Text for a LaTeX document (a caption): every special character escaped, the figures' typographic characters
    as commands pdfLaTeX knows; nothing in the text can start a command or a math group."""
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def csv_text(frame: pd.DataFrame) -> str:
    """A figure's data as CSV: floats in full precision (repr), missing values empty, LF line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)
