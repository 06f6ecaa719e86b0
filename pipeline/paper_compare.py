"""The paper's own plotted points beside memwall: which memwall row each marker shows, and why the rates differ.

raw/reference/paper_points.csv holds every marker of the paper's Figures 1, 2a and 2b as extracted from the authors'
vector PDFs (pipeline/paper_points.py). Refitted, those points give the paper's printed rates (3.0x, 1.6x, 1.4x, 410x,
2x, 750x per 2 years); memwall's reproduction (curated/fits.parquet, preset 'paper') gives other numbers. This module

1. `load_points`: reads the markers (the drawn fit lines apart, `load_fit_lines`), flagging the hidden duplicates;
2. `match`: finds, for every marker, the memwall row it shows: by its label where it has one (series.toml labels of
   the paper preset, then ALIASES, which cite the tables of the paper's repository), else by an optimal assignment
   (scipy.optimize.linear_sum_assignment) on a cost of date and log-value difference among plausible rows; a marker
   whose every candidate costs more than MAX_COST is listed as unmatched, with what it would have to be;
3. `attribution`: refits each of the six rates changing one thing at a time (dates, values, selection, window), from
   the paper's points to the rate of curated/fits.parquet, with the single points that move the rate most;
4. `report_section`: all of it as a Markdown section.

Every stored or printed number comes from pipeline.detmath (log10, pow10) and the OLS of pipeline.fits, rounded to
fits.STORED_DIGITS significant digits: the same bytes on every machine.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from pipeline import detmath, paths
from pipeline import fields as F
from pipeline import fits as fitlib
from pipeline.figures import escape

PAPER_POINTS = paths.RAW / "reference" / "paper_points.csv"
DATE_SCALE_YEARS = 1.0  # cost of a date difference: one unit per year
LOG_SCALE_DECADES = 0.25  # cost of a value difference: one unit per quarter decade (a factor 1.78)
MAX_COST = 1.5  # above: not a plausible match (e.g. 1.5 years with equal values, or equal dates and a factor 2.4)
INFEASIBLE = 1e9
ONE_PERCENT_LOG10 = 0.0043  # log10(1.01): a value change below it is a rounding of the plotted value
A_WEEK_YEARS = 0.02
GIB = float(2**30)
HIDDEN_NOTE = "hidden under"


@dataclass(frozen=True)
class Group:
    """One plotted series of a paper figure and where memwall keeps what it shows."""

    figure: str
    series: str
    title: str
    table: str  # accelerators | interconnects | models
    memwall_series: tuple[str, ...]  # paper-preset series of series.toml whose labels name these points, own first
    value: str  # SQL expression of the plotted quantity in base units
    base_unit: str
    candidates: str  # SQL condition: the rows an unlabelled point may be
    base_per_plotted: float | None = None  # base units per plotted unit; None: normalized to the series' first point
    labels_name: str = "row"  # "row": a label names a memwall row; "memory_type": it names a memory generation
    match_value: str | None = None  # SQL of the quantity the plotted values follow, if not `value` (matching only)


@dataclass(frozen=True)
class Rate:
    """One of the paper's six printed rates: the plotted series it is fitted on and memwall's series for it."""

    key: str
    figure: str
    series: str
    memwall_series: str
    printed: str  # the rate per 2 years as the paper prints it


GROUPS: tuple[Group, ...] = (
    Group(
        "fig1",
        "flops",
        "Figure 1: peak FLOP/s (normalized)",
        "accelerators",
        ("peak_flops",),
        "peak_training_flops",
        "FLOP/s",
        # data-center GPUs and the CPUs, and TPUs and Xeon Phi coprocessors (kind 'other'): the unlabelled point of
        # 2017-05-17 is TPUv2, at its date and peak
        "kind = 'cpu' OR (segment = 'datacenter' AND kind IN ('gpu', 'tpu', 'other'))",
    ),
    Group(
        "fig1",
        "dram_bandwidth",
        "Figure 1: DRAM bandwidth (normalized)",
        "accelerators",
        ("dram_bandwidth",),
        "memory_bandwidth_bytes_per_s",
        "B/s",
        "kind = 'gpu' AND memory_type IS NOT NULL AND memory_type <> 'SRAM'",
        labels_name="memory_type",
    ),
    Group(
        "fig1",
        "interconnect_bandwidth",
        "Figure 1: interconnect bandwidth (normalized)",
        "interconnects",
        ("interconnect_bandwidth",),
        "bandwidth_per_direction_bytes_per_s",
        "B/s",
        "(family = 'PCIe' AND link_count = 16) OR (family = 'NVLink' AND scope = 'scale_up')",
        # the plotted values are ratios of lane signalling rates (PCIe 3.0 = 3.2 = 8 / 2.5 GT/s, NVLink 1.0 = 8 =
        # 20 / 2.5 Gb/s, NVLink 4.0 = 40): unlabelled points are matched on those, memwall's bandwidth is reported
        match_value="lane_rate_bits_per_s",
    ),
    Group(
        "fig2a",
        "transformer",
        "Figure 2a: transformer parameters",
        "models",
        ("model_parameters",),
        "parameters",
        "parameters",
        "is_language_model AND NOT is_recommender",
        1e9,
    ),
    Group(
        "fig2a",
        "cv",
        "Figure 2a: vision model parameters",
        "models",
        ("cv_model_parameters",),
        "parameters",
        "parameters",
        "domain = 'vision'",
        1e9,
    ),
    Group(
        "fig2a",
        "recommender",
        "Figure 2a: recommender parameters",
        "models",
        ("recommender_parameters",),
        "parameters",
        "parameters",
        "is_recommender",
        1e9,
    ),
    Group(
        "fig2a",
        "accelerator_memory",
        "Figure 2a: accelerator memory / 6 (GB read as GiB)",
        "accelerators",
        ("accelerator_memory",),
        "memory_bytes",
        "B",
        "segment = 'datacenter' AND kind IN ('gpu', 'tpu', 'npu')",
        6 * GIB,
    ),
    Group(
        "fig2b",
        "transformer",
        "Figure 2b: transformer training compute",
        "models",
        ("training_compute",),
        "training_compute_flop",
        "FLOP",
        "is_language_model AND architecture IN ('transformer', 'moe_transformer')",
        1e15,
    ),
    Group(
        "fig2b",
        "all_models",
        "Figure 2b: all models' training compute",
        "models",
        ("cv_training_compute", "other_training_compute", "training_compute"),
        "training_compute_flop",
        "FLOP",
        "NOT is_recommender",
        1e15,
    ),
)

RATES: tuple[Rate, ...] = (
    Rate("fig1 flops", "fig1", "flops", "peak_flops", "3.0"),
    Rate("fig1 dram", "fig1", "dram_bandwidth", "dram_bandwidth", "1.6"),
    Rate("fig1 interconnect", "fig1", "interconnect_bandwidth", "interconnect_bandwidth", "1.4"),
    Rate("fig2a transformer parameters", "fig2a", "transformer", "model_parameters", "410"),
    Rate("fig2a accelerator memory", "fig2a", "accelerator_memory", "accelerator_memory", "2"),
    Rate("fig2b transformer compute", "fig2b", "transformer", "training_compute", "750"),
)

# Paper labels that no series.toml label spells: the memwall row, and where the paper names it.
README = "README of github.com/amirgholami/ai_and_memory_wall"
ALIASES: dict[str, tuple[str, str]] = {
    "Microsoft T-NLG": ("turing-nlg-17b", f"{README}, NLP table: Microsoft T-NLG, 17,000M, 02/13/2020"),
    "Megatron-Turing": ("mt-nlg-530b", "the only Megatron-Turing model; 530B as plotted"),
    "A100-80 (80GB)": ("nvidia-a100-sxm4-80gb", "the A100 with 80 GB (SXM4, November 2020)"),
    "10TB Baidu RecSys": ("baidu-recsys-e", f"{README}, NLP table: Baidu RecSys-E, 10,000,000M"),
    "VGG": ("vgg-19", f"{README}, CV table: VGG-19, 09/04/2014, 11,000 PFLOPs"),
    "ResNet": ("resnet-152", f"{README}, CV table: ResNet152, 12/10/2015, 11,000 PFLOPs"),
    "ResNext": ("resnext-101-64x4d", f"{README}, CV table: ResNeXt101(64x4d), 12,000 PFLOPs"),
    "MoCo ResNet50": ("moco", "MoCo with a ResNet-50 backbone (the paper's label)"),
    "XLNet": ("xlnet-large", "not in the README tables; XLNet-Large is the XLNet trained at this compute"),
}

STEPS = {
    0: "paper points as plotted",
    1: "memwall dates of the matched points",
    2: "memwall values of the matched points",
    3: "memwall selection, within the matched points' span",
    4: "memwall window (curated/fits.parquet)",
}


# ------------------------------------------------------------------------------------------------------ loading
def load_points(path: Path = PAPER_POINTS) -> pd.DataFrame:
    """The markers of raw/reference/paper_points.csv (fit-line end points left out), one row each, with
    point_id (figure/series/position), x_year_as_plotted, y_as_plotted, date_as_plotted (from the notes), the label
    ('' when none) and hidden (drawn under a later marker at the same position, as fig2b's all_models re-plot of the
    transformers)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    points = raw[raw["series"] != "fit_line"].rename(columns={"x_year": "x_year_as_plotted"}).reset_index(drop=True)
    points["x_year_as_plotted"] = points["x_year_as_plotted"].astype("float64")
    points["y_as_plotted"] = points["y_as_plotted"].astype("float64")
    points["position"] = points.groupby(["figure", "series"], sort=False).cumcount()
    points["point_id"] = points["figure"] + "/" + points["series"] + "/" + points["position"].map("{:02d}".format)
    points["date_as_plotted"] = points["notes"].str.extract(r"date (\d{4}-\d{2}-\d{2})", expand=False).fillna("")
    points["hidden"] = points["notes"].str.contains(HIDDEN_NOTE, regex=False)
    return points.drop(columns="position")


def load_fit_lines(path: Path = PAPER_POINTS) -> dict[tuple[str, str], float]:
    """Growth per 2 years of each fit line the paper draws, from its two end points: {(figure, series): rate}."""
    raw = pd.read_csv(path, keep_default_na=False)
    lines = raw[raw["series"] == "fit_line"].copy()
    lines["fit_of"] = lines["notes"].str.extract(r"fit_of=([A-Za-z0-9_]+);", expand=False)
    out = {}
    for (figure, fit_of), ends in lines.groupby(["figure", "fit_of"], sort=True):
        x = ends["x_year"].astype("float64").to_numpy()
        y = detmath.log10(ends["y_as_plotted"].astype("float64").to_numpy())
        out[(figure, fit_of)] = fitlib.growth_per_2y(float((y[-1] - y[0]) / (x[-1] - x[0])))
    return out


# ----------------------------------------------------------------------------------------------------- matching
def _key(text: str) -> str:
    """A label reduced to lower-case letters and digits, to compare spellings."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _label_index(group: Group, series_list: list[fitlib.Series]) -> dict[str, tuple[str, str]]:
    """Normalized paper-preset label -> (memwall id, series name): the group's own series first, then the other
    paper-preset series of the same table."""
    paper = {s.name: s for s in series_list if s.preset == "paper" and s.table == group.table}
    own = [paper[name] for name in group.memwall_series if name in paper]
    ordered = own + [s for name, s in paper.items() if name not in group.memwall_series]
    index: dict[str, tuple[str, str]] = {}
    for s in ordered:
        for row_id, label in s.labels.items():
            index.setdefault(_key(label), (row_id, s.name))
    return index


def _resolve_label(label: str, index: dict[str, tuple[str, str]]) -> tuple[str, str, str] | None:
    """(memwall id, method, why) for a paper label, or None."""
    for text in (label, re.sub(r"\s*\(.*?\)\s*", "", label)):
        if text and _key(text) in index:
            row_id, series = index[_key(text)]
            return row_id, "label", f"label '{label}' is series.toml paper/{series}'s label of {row_id}"
    if label in ALIASES:
        row_id, why = ALIASES[label]
        return row_id, "label_alias", f"label '{label}' is {row_id} ({why})"
    return None


def _rows(con: duckdb.DuckDBPyConnection, group: Group) -> pd.DataFrame:
    """Every row of the group's table: id, name, date, fractional year, value (and the matched quantity) in base
    units, source, memory type; candidate: the group's candidates condition and a final status; plausible: a
    candidate with a positive matched quantity (an unlabelled point can only be matched on a value)."""
    key = F.TABLES[group.table].key
    final = ", ".join(f"'{s}'" for s in F.FINAL_STATUSES[group.table])
    memory_type = "memory_type" if group.table == "accelerators" else "NULL"
    match_value = group.match_value or group.value
    frame = con.execute(f"""
        SELECT {key} AS id, name, CAST(release_date AS VARCHAR) AS release_date, release_date_precision,
               release_fractional_year AS x,
               CAST({group.value} AS DOUBLE) AS value, CAST({match_value} AS DOUBLE) AS match_value, source_url,
               CAST({memory_type} AS VARCHAR) AS memory_type,
               coalesce(({group.candidates}) AND status IN ({final}), false) AS candidate
        FROM {group.table} ORDER BY {key}""").df()
    frame["plausible"] = frame["candidate"] & (frame["match_value"] > 0)
    return frame.set_index("id", drop=False)


def _cost(px: np.ndarray, py: np.ndarray, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Cost of every (point, candidate) pair: |date difference| / DATE_SCALE_YEARS + |log10 value difference| /
    LOG_SCALE_DECADES (px, py: the points' years and log10 values; cx, cy: the candidates')."""
    date = np.abs(cx[None, :] - px[:, None]) / DATE_SCALE_YEARS
    value = np.abs(cy[None, :] - py[:, None]) / LOG_SCALE_DECADES
    return date + value


def _assign(cost: np.ndarray) -> tuple[list[int | None], float]:
    """Optimal assignment of points (rows) to candidates (columns), each point free to stay unmatched at MAX_COST;
    a pair above MAX_COST is never used. Returns each point's candidate index (or None) and the total cost."""
    n, m = cost.shape
    feasible = np.where(cost <= MAX_COST, cost, INFEASIBLE)
    dummy = np.full((n, n), INFEASIBLE)
    np.fill_diagonal(dummy, MAX_COST)
    rows, cols = linear_sum_assignment(np.hstack([feasible, dummy]))
    chosen: list[int | None] = [None] * n
    total = 0.0
    for r, c in zip(rows, cols, strict=True):
        chosen[r] = int(c) if c < m else None
        total += MAX_COST if c >= m else float(feasible[r, c])
    return chosen, total


def _allowed(points: pd.DataFrame, pool: pd.DataFrame, group: Group) -> np.ndarray:
    """Which (point, candidate) pairs respect a label that names a memory generation."""
    if group.labels_name != "memory_type":
        return np.ones((len(points), len(pool)), dtype=bool)
    labels = points["label"].to_numpy(dtype=object)
    types = pool["memory_type"].fillna("").to_numpy(dtype=object)
    return (labels[:, None] == "") | (labels[:, None] == types[None, :])


def _logs(values: pd.Series) -> np.ndarray:
    """log10 of a column, deterministic (detmath), always an array."""
    return np.atleast_1d(detmath.log10(values.to_numpy(dtype="float64")))


def _pair_costs(points: pd.DataFrame, pool: pd.DataFrame, group: Group, log_scale: float) -> np.ndarray:
    """The cost matrix of points against the candidate pool, the matched quantity divided by 10^log_scale."""
    px = points["x_year_as_plotted"].to_numpy(dtype="float64")
    cost = _cost(
        px, _logs(points["y_as_plotted"]), pool["x"].to_numpy(dtype="float64"), _logs(pool["match_value"]) - log_scale
    )
    return np.where(_allowed(points, pool, group) & np.isfinite(cost), cost, INFEASIBLE)


def _fit_scale(points: pd.DataFrame, pool: pd.DataFrame, group: Group) -> float:
    """log10 of the base value of a normalized series whose first point matches no row: the offset, among those
    that put one plausible pair exactly on top of each other, whose optimal assignment costs least."""
    px = points["x_year_as_plotted"].to_numpy(dtype="float64")
    near = np.abs(pool["x"].to_numpy(dtype="float64")[None, :] - px[:, None]) <= MAX_COST * DATE_SCALE_YEARS
    offsets = np.unique(
        (_logs(pool["match_value"])[None, :] - _logs(points["y_as_plotted"])[:, None])[
            near & _allowed(points, pool, group)
        ]
    )
    best = (math.inf, math.nan)
    for offset in offsets:
        total = _assign(_pair_costs(points, pool, group, float(offset)))[1]
        if total < best[0]:
            best = (total, float(offset))
    return best[1]


@dataclass(frozen=True)
class _Scale:
    """Base units per plotted unit: of memwall's value (report) and of the matched quantity (match)."""

    report: float
    match: float
    how: str
    calibration: float = 1.0  # the paper's base / memwall's base, from the labelled points


def _scale(group: Group, points: pd.DataFrame, rows: pd.DataFrame, resolved: dict, pool: pd.DataFrame) -> _Scale:
    """The plotted unit of a group: fixed, or (normalized series) memwall's value of the row of the point plotted at
    1, or, when that point matches no row, the scale that lets the other points be matched at least cost."""
    if group.base_per_plotted is not None:
        return _Scale(group.base_per_plotted, group.base_per_plotted, "fixed unit")
    base = (points["y_as_plotted"] - 1.0).abs().idxmin()  # the point the series is normalized to: plotted at 1
    if base in resolved:
        row = rows.loc[resolved[base][0]]
        if row["value"] > 0 and row["match_value"] > 0:
            calibration = _calibration(points, rows, resolved, float(row["match_value"]))
            how = f"normalized to memwall's {row['id']}"
            if calibration != 1.0:
                how += (
                    f" (the labelled points put the paper's base at {calibration:.3g}x memwall's: unlabelled "
                    "points are matched at that scale)"
                )
            return _Scale(float(row["value"]), float(row["match_value"]) * calibration, how, calibration)
    offset = _fit_scale(points.drop(index=list(resolved)), pool, group)
    report = detmath.pow10(offset) if group.match_value is None else math.nan
    return _Scale(
        report,
        detmath.pow10(offset),
        "normalized: its first point is unmatched, the scale is the one that matches the other points at least cost",
    )


def _calibration(points: pd.DataFrame, rows: pd.DataFrame, resolved: dict, base: float) -> float:
    """The median ratio memwall / paper of the labelled points of a normalized series (1 with fewer than three):
    how far the paper's base value is from memwall's value of the same row."""
    ratios = [
        rows.at[f[0], "match_value"] / base / points.at[i, "y_as_plotted"]
        for i, f in resolved.items()
        if rows.at[f[0], "match_value"] > 0
    ]
    return float(detmath.round_sig(float(np.median(ratios)), 6)) if len(ratios) >= 3 else 1.0


def _label_matches(group: Group, points: pd.DataFrame, rows: pd.DataFrame, series_list: list) -> dict:
    """{point index: (memwall id, method, why)} of the points whose label names a memwall row."""
    if group.labels_name != "row":
        return {}
    index = _label_index(group, series_list)
    found = {i: _resolve_label(label, index) for i, label in points["label"].items() if label}
    return {i: f for i, f in found.items() if f and f[0] in rows.index}


def _match_group(group: Group, points: pd.DataFrame, rows: pd.DataFrame, series_list: list) -> pd.DataFrame:
    """The match of every point of one plotted series: labels first, then the optimal assignment."""
    resolved = _label_matches(group, points, rows, series_list)
    pool = rows[rows["plausible"] & ~rows["id"].isin({r[0] for r in resolved.values()})]
    scale = _scale(group, points, rows, resolved, pool)
    free = points.drop(index=list(resolved))
    cost = _pair_costs(free, pool, group, detmath.log10(scale.match))
    chosen, _ = _assign(cost)
    used = {c: free.at[i, "point_id"] for i, c in zip(free.index, chosen, strict=True) if c is not None}
    notes = {}
    for k, (i, c) in enumerate(zip(free.index, chosen, strict=True)):
        if c is None:
            notes[i] = _unmatched_note(points.loc[i], group, scale, pool, cost[k], used, rows)
            continue
        how = "memory generation" if group.labels_name == "memory_type" and points.at[i, "label"] else "unlabelled"
        plausible = int(np.sum(cost[k] <= MAX_COST))
        resolved[i] = (
            pool.index[c],
            "assignment",
            f"{how}: optimal assignment among {plausible} plausible rows, cost {cost[k, c]:.2f}",
        )
    return pd.DataFrame(
        [_describe(group, points.loc[i], rows, resolved.get(i), scale, notes.get(i, "")) for i in points.index]
    )


def _describe(
    group: Group, point: pd.Series, rows: pd.DataFrame, found: tuple | None, scale: _Scale, unmatched: str
) -> dict:
    """One output row: the point, its memwall row (if any) and a note."""
    y = float(point["y_as_plotted"])
    out = {
        "point_id": point["point_id"],
        "figure": point["figure"],
        "series": point["series"],
        "label": point["label"],
        "hidden": bool(point["hidden"]),
        "date_as_plotted": point["date_as_plotted"],
        "x_year_as_plotted": float(point["x_year_as_plotted"]),
        "y_as_plotted": y,
        "y_unit": point["y_unit"],
        "base_unit": group.base_unit,
        "base_units_per_plotted_unit": scale.report,
        "plotted_unit_note": scale.how,
        "paper_value_base_units": y * scale.report * scale.calibration,
        "matched_table": "",
        "matched_id": "",
        "memwall_name": "",
        "memwall_release_date": "",
        "memwall_release_date_precision": "",
        "memwall_x_year": math.nan,
        "memwall_value_base_units": math.nan,
        "memwall_value_as_plotted": math.nan,
        "value_ratio_memwall_to_paper": math.nan,
        "date_shift_years": math.nan,
        "memwall_source_url": "",
        "match_method": "unmatched",
        "note": unmatched,
    }
    if found is None:
        return out
    row = rows.loc[found[0]]
    value = float(row["value"]) if row["value"] > 0 else math.nan
    out |= {
        "matched_table": group.table,
        "matched_id": found[0],
        "memwall_name": row["name"],
        "memwall_release_date": row["release_date"] or "",
        "memwall_release_date_precision": row["release_date_precision"] or "",
        "memwall_x_year": float(row["x"]),
        "memwall_value_base_units": value,
        "memwall_value_as_plotted": value / scale.report,
        "value_ratio_memwall_to_paper": value / scale.report / y,
        "date_shift_years": float(row["x"]) - float(point["x_year_as_plotted"]),
        "memwall_source_url": row["source_url"] or "",
        "match_method": found[1],
    }
    out["note"] = f"{found[2]}; {scale.how}" + _value_note(group, row, scale, y)
    return out


def _value_note(group: Group, row: pd.Series, scale: _Scale, y: float) -> str:
    """What the note adds about the row's values: a missing value, or the matched quantity's ratio."""
    if not row["value"] > 0:
        return f"; memwall has no {group.value} for this row"
    if group.match_value and row["match_value"] > 0:
        return (
            f"; matched on {group.match_value}, which the plotted values follow: memwall's is "
            f"{row['match_value'] / scale.match / y:.4g}x the plotted value"
        )
    return ""


def _unmatched_note(
    point: pd.Series,
    group: Group,
    scale: _Scale,
    pool: pd.DataFrame,
    costs: np.ndarray,
    used: dict[int, str],
    rows: pd.DataFrame,
) -> str:
    """Why a point has no match, and what a memwall row would have to be to be it."""
    value = point["y_as_plotted"] * scale.report * scale.calibration
    value_text = f"{value:.4g} {group.base_unit}" if value > 0 else "an unknown value"
    text = (
        f"no free candidate within a cost of {MAX_COST} (|years| / {DATE_SCALE_YEARS} + |log10 ratio| / "
        f"{LOG_SCALE_DECADES})"
    )
    order = [int(c) for c in np.argsort(costs, kind="stable") if costs[c] < INFEASIBLE]
    if order and order[0] in used:
        text += f"; the nearest, {pool.index[order[0]]} (cost {costs[order[0]]:.2f}), is the match of {used[order[0]]}"
    free = [c for c in order if c not in used]
    text += (
        f"; the nearest free one, {pool.index[free[0]]}, costs {costs[free[0]]:.2f}"
        if free
        else "; no candidate at all"
    )
    x = float(point["x_year_as_plotted"])
    blank = rows[rows["candidate"] & ~(rows["match_value"] > 0) & ((rows["x"] - x).abs() <= 0.1)]
    text += f"; candidates of that date without a value: {_few(list(blank['id']))}" if len(blank) else ""
    return (
        f"{text}. It would have to be a row of {group.table} released about {point['date_as_plotted']} with "
        f"{value_text}"
    )


def match(
    points: pd.DataFrame,
    con: duckdb.DuckDBPyConnection,
    groups: tuple[Group, ...] = GROUPS,
    series_list: list[fitlib.Series] | None = None,
) -> pd.DataFrame:
    """For every paper point, the memwall row it shows (accelerator, interconnect or model), with memwall's date
    and value in the plotted unit, the ratio memwall / paper, the date shift in years, the row's source_url and a
    note; a point without a plausible match is listed as unmatched, with the date and value it would need. Rows
    come in the order of `points`; points of a series no group describes are left out."""
    series_list = series_list if series_list is not None else fitlib.load_series()
    frames = []
    for group in groups:
        mine = points[(points["figure"] == group.figure) & (points["series"] == group.series)]
        if not mine.empty:
            frames.append(_match_group(group, mine, _rows(con, group), series_list))
    out = pd.concat(frames, ignore_index=True)
    order = {point_id: i for i, point_id in enumerate(points["point_id"])}
    return out.sort_values("point_id", key=lambda ids: ids.map(order), kind="stable").reset_index(drop=True)


# -------------------------------------------------------------------------------------------------- attribution
def _fit(x: np.ndarray, y_log10: np.ndarray) -> dict[str, float]:
    """OLS growth per 2 years with its t-based 95% interval, as pipeline.fits computes it, rounded as fits.parquet."""
    moments = fitlib.ols_arrays(np.asarray(x, dtype="float64"), np.atleast_1d(np.asarray(y_log10, dtype="float64")))
    rate = fitlib.describe_slope(float(moments["slope"]), moments["stderr"], int(moments["n"]))
    keys = ("growth_per_2y", "growth_per_2y_ci_low", "growth_per_2y_ci_high")
    out = {k: detmath.round_sig(rate[k], fitlib.STORED_DIGITS) for k in keys}
    return {"n": int(moments["n"]), **out, "start_year": float(np.min(x)), "end_year": float(np.max(x))}


def _memwall_points(con: duckdb.DuckDBPyConnection, series: fitlib.Series, span: tuple[float, float] | None) -> tuple:
    """(x, log10 value, ids) of a memwall series: its own window, or the given span (inclusive) instead."""
    if span is not None:
        series = dataclasses.replace(series, window_start=span[0], window_end=span[1] - 1 + 1e-9)
    data = con.execute(f"SELECT id, x, value FROM ({fitlib.points_sql(series)})").df()
    return (
        data["x"].to_numpy(dtype="float64"),
        np.atleast_1d(detmath.log10(data["value"].to_numpy("float64"))),
        list(data["id"]),
    )


@dataclass(frozen=True)
class _Plotted:
    """The points of one fitted paper series as arrays: as plotted (x0, y0: log10) and with memwall's dates and
    values where a matched row has them (x1, y1)."""

    points: pd.DataFrame
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    has_x: np.ndarray
    has_y: np.ndarray


def _plotted(matches: pd.DataFrame, rate: Rate) -> _Plotted:
    """The arrays of the points of one rate's plotted series (hidden duplicates left out)."""
    pts = matches[(matches["figure"] == rate.figure) & (matches["series"] == rate.series) & ~matches["hidden"]]
    pts = pts.reset_index(drop=True)
    x0 = pts["x_year_as_plotted"].to_numpy(dtype="float64")
    y0 = _logs(pts["y_as_plotted"])
    has_x = pts["memwall_x_year"].notna().to_numpy()
    has_y = (pts["memwall_value_as_plotted"] > 0).to_numpy()
    x1 = np.where(has_x, pts["memwall_x_year"].to_numpy(dtype="float64"), x0)
    y1 = np.where(has_y, _logs(pts["memwall_value_as_plotted"].where(has_y, 1.0)), y0)
    return _Plotted(pts, x0, y0, x1, y1, has_x, has_y)


def _row(rate: Rate, kind: str, step: int, fit: dict, factor: float, detail: str, **extra: object) -> dict:
    """One row of the attribution table."""
    return {
        "rate": rate.key,
        "memwall_series": rate.memwall_series,
        "paper_printed_growth_per_2y": float(rate.printed),
        "kind": kind,
        "step": step,
        "step_name": STEPS[step],
        "point_id": "",
        "label": "",
        **fit,
        "factor_vs_previous": factor,
        "factor_vs_step0": math.nan,
        "share_of_step_log": math.nan,
        "detail": detail,
        **extra,
    }


def _point_rows(
    rate: Rate,
    step: int,
    before: dict,
    after: dict,
    x: np.ndarray,
    y: np.ndarray,
    changes: dict[int, tuple[float, float, str]],
    pts: pd.DataFrame,
) -> list[dict]:
    """Refits of the points (x, y) with one point's change at a time (changes: position -> new x, new y, text):
    the factor each moves the rate by from `before`, and its share of the whole step to `after`, largest first."""
    step_log = detmath.log10(after["growth_per_2y"] / before["growth_per_2y"])
    rows = []
    for pos, (new_x, new_y, text) in changes.items():
        xs, ys = x.copy(), y.copy()
        xs[pos], ys[pos] = new_x, new_y
        fit = _fit(xs, ys)
        factor = fit["growth_per_2y"] / before["growth_per_2y"]
        share = detmath.log10(factor) / step_log if abs(step_log) > 1e-12 else math.nan
        point = pts.iloc[pos]
        rows.append(
            _row(rate, "point", step, fit, factor, text, point_id=point["point_id"], label=_name(point))
            | {"share_of_step_log": share}
        )
    return sorted(rows, key=lambda r: (-abs(detmath.log10(r["factor_vs_previous"])), r["point_id"]))


def _name(point: pd.Series) -> str:
    """A point's label, else memwall's name of its row, else its id."""
    return point["label"] or point.get("memwall_name", "") or point["point_id"]


def _memwall_date(point: pd.Series) -> str:
    """memwall's release date of a matched point, with its precision when coarser than a day (a date of year
    precision stands for mid-year in the fractional year)."""
    precision = point["memwall_release_date_precision"]
    return point["memwall_release_date"] + (f" ({precision} precision)" if precision not in ("", "day") else "")


def _date_text(point: pd.Series, shift: float) -> str:
    """A date change, as plotted and in memwall, for a single-point row."""
    return f"date {point['date_as_plotted']} as plotted, {_memwall_date(point)} in memwall ({shift:+.2f} y)"


def _single_point_rows(rate: Rate, p: _Plotted, fit0: dict, fit1: dict, fit2: dict) -> list[dict]:
    """Steps 1 and 2 one point at a time: each date on the paper's points, each value on step 1's."""
    pts, n = p.points, len(p.points)
    dates = {i: (p.x1[i], p.y0[i], _date_text(pts.iloc[i], p.x1[i] - p.x0[i])) for i in range(n) if p.x1[i] != p.x0[i]}
    values = {
        i: (p.x1[i], p.y1[i], f"value {detmath.pow10(p.y1[i] - p.y0[i]):.3g}x the plotted one in memwall")
        for i in range(n)
        if p.y1[i] != p.y0[i]
    }
    return _point_rows(rate, 1, fit0, fit1, p.x0, p.y0, dates, pts) + _point_rows(
        rate, 2, fit1, fit2, p.x1, p.y0, values, pts
    )


def _chain(
    rate: Rate,
    matches: pd.DataFrame,
    con: duckdb.DuckDBPyConnection,
    fits: pd.DataFrame,
    series: fitlib.Series,
    drawn: float | None,
) -> list[dict]:
    """The five refits of one rate, then the single-point effects of steps 1 and 2."""
    p = _plotted(matches, rate)
    span = (float(p.x1[p.has_x].min()), float(p.x1[p.has_x].max())) if p.has_x.any() else None
    x3, y3, ids3 = _memwall_points(con, series, span)
    x4, y4, ids4 = _memwall_points(con, series, None)
    fits_ = [_fit(p.x0, p.y0), _fit(p.x1, p.y0), _fit(p.x1, p.y1), _fit(x3, y3), _fit(x4, y4)]
    stored = _stored_rate(fits, series)
    n = len(p.points)
    details = [
        _step0_detail(rate, fits_[0], drawn),
        f"{int(np.sum(p.x1 != p.x0))} of {n} dates change, {int(np.sum(np.abs(p.x1 - p.x0) > A_WEEK_YEARS))} by "
        f"more than a week",
        f"{int(np.sum(p.y1 != p.y0))} of {n} values change, {int(np.sum(np.abs(p.y1 - p.y0) > ONE_PERCENT_LOG10))} "
        f"by more than 1%" + _missing_values(p),
        _selection_detail(p.points, ids3, span),
        _window_detail(series, ids3, ids4, fits_[4], stored),
    ]
    rows = []
    for step, (fit, detail) in enumerate(zip(fits_, details, strict=True)):
        factor = fit["growth_per_2y"] / fits_[step - 1]["growth_per_2y"] if step else math.nan
        rows.append(
            _row(rate, "step", step, fit, factor, detail)
            | {"factor_vs_step0": fit["growth_per_2y"] / fits_[0]["growth_per_2y"]}
        )
    for row in rows:
        row |= {
            "reproduces_printed": printed_precision_ok(rate, row["growth_per_2y"]),
            "fits_parquet_growth_per_2y": stored,
            "equals_fits_parquet": row["growth_per_2y"] == stored,
        }
    return rows + _single_point_rows(rate, p, *fits_[:3])


def _stored_rate(fits: pd.DataFrame, series: fitlib.Series) -> float:
    """The paper-preset OLS rate of a series in curated/fits.parquet (its declared selection)."""
    row = fits[
        (fits["preset"] == series.preset)
        & (fits["series"] == series.name)
        & (fits["selection"] == series.selection)
        & (fits["method"] == "ols")
    ]
    return float(row["growth_per_2y"].iloc[0]) if len(row) == 1 else math.nan


def _printed_digits(printed: str) -> int:
    """Significant digits of a rate as printed: '3.0' and '410' have 2, '2' has 1."""
    digits = printed.replace(".", "").lstrip("0")
    return max(len(digits if "." in printed else digits.rstrip("0")), 1)


def printed_precision_ok(rate: Rate, growth: float) -> bool:
    """Whether a rate rounds to the paper's printed value at the number of significant digits printed."""
    return float(f"{growth:.{_printed_digits(rate.printed)}g}") == float(rate.printed)


def _step0_detail(rate: Rate, fit: dict, drawn: float | None) -> str:
    """How closely the refit of the paper's points gives the printed rate and the drawn line."""
    same = "equals" if printed_precision_ok(rate, fit["growth_per_2y"]) else "differs from"
    line = f"; the drawn fit line gives {drawn:.4g}x" if drawn else ""
    return (
        f"refit {fit['growth_per_2y']:.4g}x {same} the printed {rate.printed}x at the printed precision "
        f"({fit['growth_per_2y'] / float(rate.printed):.4f} of it){line}"
    )


def _missing_values(p: _Plotted) -> str:
    """Which points keep the paper's value in step 2, and why."""
    keep = [_name(p.points.iloc[i]) for i in range(len(p.points)) if p.has_x[i] and not p.has_y[i]]
    unmatched = [_name(p.points.iloc[i]) for i in range(len(p.points)) if not p.has_x[i]]
    text = f"; kept as plotted (memwall row without a value): {', '.join(keep)}" if keep else ""
    return text + (f"; unmatched, kept as plotted: {', '.join(unmatched)}" if unmatched else "")


def _selection_detail(pts: pd.DataFrame, ids3: list[str], span: tuple | None) -> str:
    """The span of step 3 and the rows memwall's selection adds and removes."""
    matched = set(pts["matched_id"])
    added = [i for i in ids3 if i not in matched]
    removed = [
        r["matched_id"] or r["label"] or r["point_id"]
        for _, r in pts.iterrows()
        if not r["matched_id"] or r["matched_id"] not in set(ids3)
    ]
    where = f"{span[0]:.3f}-{span[1]:.3f}" if span else "n/a"
    return f"span {where}; added {len(added)}: {_few(added)}; removed {len(removed)}: {_few(removed)}"


def _window_detail(series: fitlib.Series, ids3: list[str], ids4: list[str], fit4: dict, stored: float) -> str:
    """The rows memwall's window adds and removes, and whether the rate equals fits.parquet's."""
    added = [i for i in ids4 if i not in set(ids3)]
    removed = [i for i in ids3 if i not in set(ids4)]
    same = "equals" if fit4["growth_per_2y"] == stored else "DIFFERS FROM"
    return (
        f"window {series.window_start}-{series.window_end} ({series.selection}); added {len(added)}: "
        f"{_few(added)}; removed {len(removed)}: {_few(removed)}; {same} fits.parquet ({stored:.6g}x)"
    )


def _few(items: list[str], limit: int = 6) -> str:
    """The first `limit` items, comma-separated, and how many more."""
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "") or "none"


def attribution(
    points: pd.DataFrame,
    matches: pd.DataFrame,
    con: duckdb.DuckDBPyConnection,
    fits: pd.DataFrame,
    rates: tuple[Rate, ...] = RATES,
    series_list: list[fitlib.Series] | None = None,
    fit_lines: dict[tuple[str, str], float] | None = None,
) -> pd.DataFrame:
    """For each rate, the chain of refits from the paper's points to memwall's rate, one change at a time:
    (0) the paper's points as plotted, (1) memwall's dates of the matched points, (2) memwall's values too,
    (3) memwall's selection of points (its paper-preset series) within the matched points' span, (4) memwall's window,
    which is curated/fits.parquet's rate. kind 'step' rows give n, growth per 2 years with its 95% interval and the
    factor each step moves the rate by; kind 'point' rows, for steps 1 and 2, the refit with only that point changed
    (factor_vs_previous: against the step before; share_of_step_log: its share of the step's log change).
    `points` (load_points) gives the markers the matches were made for; fits is curated/fits.parquet."""
    known = set(points["point_id"])
    if not set(matches["point_id"]) <= known:
        raise ValueError("matches hold points that are not among `points`")
    series_list = series_list if series_list is not None else fitlib.load_series()
    by_name = {s.name: s for s in series_list if s.preset == "paper"}
    fit_lines = fit_lines if fit_lines is not None else load_fit_lines()
    rows = []
    for rate in rates:
        drawn = fit_lines.get((rate.figure, rate.series))
        rows += _chain(rate, matches, con, fits, by_name[rate.memwall_series], drawn)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------------- report
def _md(text: object) -> str:
    """Any value as Markdown text (pipeline.figures.escape)."""
    return escape.markdown(str(text))


def _num(value: float, digits: int = 3) -> str:
    """A number with `digits` significant digits, n/a when missing."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def _rate_text(row: pd.Series) -> str:
    """Growth per 2 years with its 95% interval, as the report prints rates."""
    return (
        f"{fitlib.format_ratio(row['growth_per_2y'])}x [{fitlib.format_ratio(row['growth_per_2y_ci_low'])}-"
        f"{fitlib.format_ratio(row['growth_per_2y_ci_high'])}]"
    )


def _point_line(p: pd.Series, step_factor: float) -> str:
    """One single-point effect; its share of the step only where the step itself moves the rate by 1% or more."""
    share = f", {_num(p['share_of_step_log'], 2)} of the step in log" if abs(step_factor - 1) >= 0.01 else ""
    return (
        f"- step {p['step']}, {_md(p['label'])}: {_md(p['detail'])}; alone it moves the rate by a factor "
        f"{_num(p['factor_vs_previous'], 4)}{share}"
    )


def _points_table(group: pd.DataFrame) -> list[str]:
    """The Markdown table of one figure series' visible points beside their memwall rows."""
    lines = [
        "| label | paper date | paper value | memwall row | memwall date | memwall value | ratio memwall/paper "
        "| date shift (y) |",
        "| --- | --- | ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for _, r in group[~group["hidden"]].iterrows():
        row = f"{_md(r['memwall_name'])} ({_md(r['matched_id'])})" if r["matched_id"] else "unmatched"
        lines.append(
            f"| {_md(r['label']) or '-'} | {_md(r['date_as_plotted'])} | {_num(r['y_as_plotted'])} | {row} "
            f"| {_md(_memwall_date(r))} | {_num(r['memwall_value_as_plotted'])} "
            f"| {_num(r['value_ratio_memwall_to_paper'])} | {_num(r['date_shift_years'])} |"
        )
    return lines


def _chain_lines(rate_rows: pd.DataFrame) -> list[str]:
    """The Markdown table of one rate's five steps and its three largest single-point effects per step."""
    steps = rate_rows[rate_rows["kind"] == "step"].set_index("step", drop=False)
    lines = [
        "| step | what changes | n | growth / 2 yrs [95% CI] | factor vs previous | detail |",
        "| ---: | --- | ---: | --- | ---: | --- |",
    ]
    for _, s in steps.iterrows():
        lines.append(
            f"| {s['step']} | {_md(s['step_name'])} | {s['n']} | {_rate_text(s)} "
            f"| {_num(s['factor_vs_previous'], 4)} | {_md(s['detail'])} |"
        )
    for step in (1, 2):
        top = rate_rows[(rate_rows["kind"] == "point") & (rate_rows["step"] == step)].head(3)
        lines += [_point_line(p, steps.at[step, "factor_vs_previous"]) for _, p in top.iterrows()]
    return lines


def _verdict(rate_rows: pd.DataFrame) -> str:
    """One line: the two ends of the chain, its largest step and, for a step of dates or values, its leading point."""
    steps = rate_rows[rate_rows["kind"] == "step"].set_index("step")
    moves = steps.loc[1:4, "factor_vs_previous"]
    biggest = int(moves.map(lambda f: abs(detmath.log10(f))).idxmax())
    points = rate_rows[(rate_rows["kind"] == "point") & (rate_rows["step"] == biggest)]
    lead = ""
    if len(points):
        top = points.iloc[0]
        lead = f", led by {_md(top['label'])} ({_md(top['detail'])}: factor {_num(top['factor_vs_previous'], 3)})"
    return (
        f"**{_md(steps.at[0, 'rate'])}**: the paper's points give "
        f"{fitlib.format_ratio(steps.at[0, 'growth_per_2y'])}x / 2 yrs, memwall's paper preset "
        f"{fitlib.format_ratio(steps.at[4, 'growth_per_2y'])}x (factor {_num(steps.at[4, 'factor_vs_step0'])}); "
        f"the largest step is {biggest}, {_md(STEPS[biggest])} (factor {_num(moves.at[biggest])}){lead}."
    )


def _group_heading(figure: str, series: str, group: pd.DataFrame) -> list[str]:
    """A figure series' heading (its GROUPS title), match counts and its plotted unit."""
    titles = {(g.figure, g.series): g.title for g in GROUPS}
    matched = int((group["match_method"] != "unmatched").sum())
    hidden = int(group["hidden"].sum())
    first = group.iloc[0]
    unit = f"{_num(first['base_units_per_plotted_unit'], 4)} {_md(first['base_unit'])}"
    return [
        f"### {_md(titles.get((figure, series), f'{figure} {series}'))}: {matched} of {len(group)} points matched"
        + (f" ({hidden} hidden duplicates not shown)" if hidden else ""),
        "",
        f"1 as plotted = {unit}; {_md(first['plotted_unit_note'])}.",
        "",
    ]


def report_section(matches: pd.DataFrame, attribution: pd.DataFrame) -> str:
    """A Markdown section: the points of each figure beside their memwall rows, the unmatched points, the chain of
    refits of each rate, and a one-line verdict per rate. Every string from the data is escaped for Markdown."""
    lines = [
        "## The paper's plotted points beside memwall",
        "",
        "Every marker of the paper's Figures 1, 2a and 2b (extracted from the authors' vector PDFs) and the "
        "memwall row it shows, by its label or, unlabelled, by an optimal assignment on date and value "
        f"(cost |years| / {DATE_SCALE_YEARS:g} + |log10 ratio| / {LOG_SCALE_DECADES:g}, at most {MAX_COST:g}); "
        "values in the plotted unit.",
        "",
    ]
    for (figure, series), group in matches.groupby(["figure", "series"], sort=False):
        lines += [*_group_heading(figure, series, group), *_points_table(group), ""]
    unmatched = matches[matches["match_method"] == "unmatched"]
    lines += ["### Unmatched points", ""]
    lines += [f"- {_md(r['point_id'])} {_md(r['label'])}: {_md(r['note'])}" for _, r in unmatched.iterrows()]
    lines += [] if len(unmatched) else ["- none"]
    lines += ["", "### From the paper's rate to memwall's, one change at a time", ""]
    for key, rows in attribution.groupby("rate", sort=False):
        lines += [f"#### {_md(key)}", "", *_chain_lines(rows), "", _verdict(rows), ""]
    return "\n".join(lines).rstrip() + "\n"
