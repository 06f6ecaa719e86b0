"""The generated report (curated/REPORT.md): each claim of the paper beside memwall's reproduction, today's value,
the same-precision value, a sensitivity table and the format decomposition. Rebuilt by `make figures`."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import fits as fitting

CLAIMS = [
    # (series, claim as the paper states it, same-precision series or None)
    (
        "peak_flops",
        "Peak hardware FLOP/s grew 3.0x / 2 yrs (60,000x in 20 years)",
        "precision/peak_fp32_vector",
    ),
    ("dram_bandwidth", "DRAM bandwidth grew 1.6x / 2 yrs (100x in 20 years)", None),
    ("interconnect_bandwidth", "Interconnect bandwidth grew 1.4x / 2 yrs (30x in 20 years)", None),
    ("model_parameters", "Transformer parameter count grew 410x / 2 yrs (2017-2021)", None),
    ("training_compute", "Transformer training compute grew 750x / 2 yrs (2017-2020)", None),
    ("accelerator_memory", "Single-accelerator memory grew 2x / 2 yrs", None),
]
SHIFTS = (-2, 0, 2)


def _rate(row: pd.Series | dict | None) -> str:
    if row is None:
        return "n/a"
    return fitting.format_rate(row)


def _row(fits: pd.DataFrame, preset: str, series: str, selection: str, method: str = "ols") -> pd.Series | None:
    rows = fits[
        (fits["preset"] == preset)
        & (fits["series"] == series)
        & (fits["selection"] == selection)
        & (fits["method"] == method)
    ]
    return rows.iloc[0] if len(rows) else None


def claims_table(fits: pd.DataFrame, declared: dict[str, fitting.Series]) -> str:
    lines = [
        "| claim (paper) | paper | memwall, paper's selection (95% CI, n, span) | inside CI? | bootstrap CI | "
        "Theil-Sen | 20-yr total | today, through 2026 (current preset) | same precision |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for series, claim, same in CLAIMS:
        spec = declared[f"paper/{series}"]
        ols = _row(fits, "paper", series, spec.selection)
        theil = _row(fits, "paper", series, spec.selection, "theil_sen")
        current_spec = declared.get(f"current/{series}")
        current = _row(fits, "current", series, current_spec.selection) if current_spec else None
        same_row = None
        if same:
            preset, name = same.split("/")
            same_row = _row(fits, preset, name, declared[same].selection)
        inside = ols["growth_per_2y_ci_low"] <= spec.paper_growth_per_2y <= ols["growth_per_2y_ci_high"]
        total = (
            f"{fitting.format_total(ols['total_growth'])}x / {ols['total_growth_years']:g} yrs"
            if spec.total_growth_years
            else ""
        )
        boot = (
            f"{fitting.format_ratio(ols['growth_per_2y_boot_ci_low'])}-"
            f"{fitting.format_ratio(ols['growth_per_2y_boot_ci_high'])}"
        )
        lines.append(
            f"| {claim} | {spec.paper_growth_per_2y:g}x | {_rate(ols)} ({spec.selection}) | "
            f"{'yes' if inside else '**no**'} | {boot} | {fitting.format_ratio(theil['growth_per_2y'])}x | {total} | "
            f"{_rate(current)} ({current_spec.selection if current_spec else ''}) | "
            f"{_rate(same_row) + ' (' + same + ')' if same_row is not None else ''} |"
        )
    return "\n".join(lines)


def not_reproduced(fits: pd.DataFrame, declared: dict[str, fitting.Series]) -> str:
    """One paragraph per claim whose paper value falls outside memwall's interval: by how much, and why."""
    lines = []
    for series, claim, _ in CLAIMS:
        spec = declared[f"paper/{series}"]
        ols = _row(fits, "paper", series, spec.selection)
        low, high = ols["growth_per_2y_ci_low"], ols["growth_per_2y_ci_high"]
        if low <= spec.paper_growth_per_2y <= high:
            continue
        side = "above" if spec.paper_growth_per_2y > high else "below"
        lines.append(
            f"- **{claim}: not reproduced.** memwall finds {_rate(ols)}; "
            f"the paper's {spec.paper_growth_per_2y:g}x lies {side} the 95% interval. The paper does not list the "
            "points of this series, so memwall fits a stated rule instead of a hand-picked list: "
            f"{spec.description} The sensitivity table below shows how the rate "
            "moves with the window and with the all/frontier selection."
        )
    return "\n".join(lines) if lines else "Every claim's value lies inside memwall's interval."


def sensitivity_table(con, fits: pd.DataFrame, declared: dict[str, fitting.Series]) -> str:
    """Each paper rate when the window's start or end moves by 2 years, under both selections."""
    lines = [
        "| series | selection | window | n | growth / 2 yrs (95% CI) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for series, _, _ in CLAIMS:
        spec = declared[f"paper/{series}"]
        for selection in fitting.SELECTIONS:
            for d_start in SHIFTS:
                for d_end in SHIFTS:
                    if d_start and d_end:
                        continue  # move one end at a time
                    shifted = dataclasses.replace(
                        spec, window_start=spec.window_start + d_start, window_end=spec.window_end + d_end
                    )
                    window = f"{shifted.window_start:g}-{shifted.window_end:g}"
                    try:
                        row = fitting.fit_series(con, shifted, selection)[0]
                    except fitting.FitError:
                        lines.append(f"| {series} | {selection} | {window} | <2 dates | n/a |")
                        continue
                    mark = " (paper's)" if not d_start and not d_end else ""
                    lines.append(
                        f"| {series} | {selection} | {window}{mark} | {row['n']} | "
                        f"{fitting.format_ratio(row['growth_per_2y'])}x "
                        f"({fitting.format_ratio(row['growth_per_2y_ci_low'])}-"
                        f"{fitting.format_ratio(row['growth_per_2y_ci_high'])}) |"
                    )
    return "\n".join(lines)


def decomposition(con, declared: dict[str, fitting.Series]) -> str:
    """Split the paper's peak-FLOP/s slope into a same-format part (FP32 vector) and a format part.

    log10(peak at training precision) = log10(FP32 vector peak) + log10(format factor), where the format factor is the
    ratio of the two. OLS is linear in y, so over the same points the slopes add exactly: growth = FP32 growth x
    format-factor growth. Chips without a published FP32 vector rate (TPUs) are left out of this split.
    """
    spec = declared["paper/peak_flops"]
    points = con.execute(
        f"""SELECT p.id, p.x, p.value AS training_peak, a.peak_fp32_flops AS fp32
            FROM ({fitting.points_sql(spec)}) p JOIN accelerators a ON a.accelerator_id = p.id
            WHERE a.peak_fp32_flops > 0"""
    ).df()
    x = points["x"].to_numpy()
    total = fitting.ols_arrays(x, np.log10(points["training_peak"].to_numpy()))
    same = fitting.ols_arrays(x, np.log10(points["fp32"].to_numpy()))
    factor = fitting.ols_arrays(x, np.log10((points["training_peak"] / points["fp32"]).to_numpy()))
    g = fitting.growth_per_2y
    share = factor["slope"] / total["slope"] if total["slope"] else math.nan
    return (
        f"Over the {len(points)} chips of the paper's FLOP/s series that publish an FP32 vector rate "
        f"({x.min():.0f}-{x.max():.0f}), peak FLOP/s at training precision grows **{g(total['slope']):.2f}x / 2 yrs**. "
        f"The same chips' FP32 vector peak grows **{g(same['slope']):.2f}x / 2 yrs**, and the ratio of the two (the "
        f"number-format factor: 1 for FP32-only chips, 8-16 for FP16/BF16 tensor units) grows "
        f"**{g(factor['slope']):.2f}x / 2 yrs**. Because log10(training peak) = log10(FP32 peak) + log10(factor) and "
        f"least squares is linear, the slopes add exactly: {g(same['slope']):.2f} x {g(factor['slope']):.2f} = "
        f"{g(same['slope']) * g(factor['slope']):.2f}. The format switch thus accounts for {share:.0%} of the "
        "log-growth of this series; the rest is same-format gain, which itself includes the switch from CPUs to GPUs "
        "at the start of the window. TPUs, which publish no FP32 vector rate, are not in this split."
    )


def breaks_table(fits: pd.DataFrame) -> str:
    rows = fits[(fits["method"] == "ols") & (fits["preset"] == "current")]
    lines = [
        "| series | selection | break year | before / 2 yrs | after / 2 yrs | supported by BIC? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for _, r in rows.iterrows():
        if not np.isfinite(r["break_year"]):
            continue
        lines.append(
            f"| {r['series']} | {r['selection']} | {r['break_year']:.1f} | {r['growth_per_2y_before_break']:.2f}x | "
            f"{r['growth_per_2y_after_break']:.2f}x | {'yes' if r['break_supported'] else 'no'} |"
        )
    return "\n".join(lines)


def gap_table(fits: pd.DataFrame) -> str:
    lines = ["| ratio | selection | growth / 2 yrs (95% CI, n, span) |", "| --- | --- | --- |"]
    for series in ("flop_per_byte_memory", "flop_per_byte_interconnect"):
        for selection in fitting.SELECTIONS:
            lines.append(f"| {series} | {selection} | {_rate(_row(fits, 'current', series, selection))} |")
    return "\n".join(lines)


COMPUTE_SPREAD = 2.0  # a recorded training compute and its 6ND value further apart than this factor are listed


def compute_spread(con) -> str:
    """The models whose recorded training compute (reported, hardware or third-party) and 6ND value differ by more
    than COMPUTE_SPREAD, from the models table."""
    from pipeline.figures import escape

    rows = con.execute(
        """
        SELECT model_id, training_compute_method AS method, training_compute_flop AS recorded,
               training_compute_6nd_flop AS six_nd, training_compute_flop / training_compute_6nd_flop AS ratio
        FROM models
        WHERE training_compute_method <> '6ND' AND training_compute_flop IS NOT NULL
          AND training_compute_6nd_flop IS NOT NULL
        ORDER BY ratio DESC, model_id
        """
    ).df()
    apart = rows[(rows["ratio"] > COMPUTE_SPREAD) | (rows["ratio"] < 1 / COMPUTE_SPREAD)]
    within = len(rows) - len(apart)
    lines = [
        f"{len(rows)} models have a training compute obtained otherwise than by 6ND (reported, hardware or third "
        "party) and the parameters and training tokens for 6 x N x D (`training_compute_6nd_flop`, active parameters "
        f"for mixture-of-experts). {within} agree within a factor of {COMPUTE_SPREAD:g}; the {len(apart)} below do "
        "not. The table keeps the recorded value (`training_compute_flop`) and shows both; the usual reasons are in "
        "each row's notes: tokens of the model's own stage only when it starts from another model (the recorded value "
        "may count the base model's run), tokens that are samples or image-text pairs rather than text tokens, a "
        "mixture-of-experts model whose active parameters are not published (6ND then counts every parameter), or "
        "compute outside the forward and backward passes 6ND counts.",
        "",
        "| model | method | recorded FLOP | 6ND FLOP | recorded / 6ND |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in apart.itertuples():
        lines.append(
            f"| {escape.markdown(r.model_id)} | {escape.markdown(r.method)} | {r.recorded:.3g} | {r.six_nd:.3g} | "
            f"{r.ratio:.3g} |"
        )
    return "\n".join(lines)


def build_report(curated_dir: Path, version: str, extra_sections: list[str] = ()) -> str:
    fits = pd.read_parquet(curated_dir / "fits.parquet")
    declared = {s.key: s for s in fitting.load_series()}
    con = fitting.connect_curated(curated_dir)
    sections = [
        f"# memwall report, dataset {version}",
        "Generated by `make figures` from `curated/fits.parquet` (pipeline/report.py); do not edit by hand. Rates are "
        "OLS fits of log10(value) on fractional year; intervals are 95% (Student t on the slope; percentile bootstrap "
        "with 2,000 seeded resamples); n is the number of points and the span their first and last release. Each "
        "selection rule is in `pipeline/series.toml`.",
        "## The paper's claims, reproduced and brought to 2026",
        claims_table(fits, declared),
        "A claim counts as reproduced when the paper's value lies inside memwall's 95% interval over the paper's "
        "selection. The paper's selections for model parameters and compute are the models its Figure 2 shows "
        "(recommenders excluded); where a model's value in memwall differs from the authors' table, memwall keeps the "
        "primary source and the row's notes say so.",
        not_reproduced(fits, declared),
        "## Sensitivity: move the window by two years",
        sensitivity_table(con, fits, declared),
        "## How much of the FLOP/s growth is the number format?",
        decomposition(con, declared),
        "## The gap itself: FLOPs per byte of bandwidth",
        gap_table(fits),
        "## Has the trend slowed? Two-segment fits (current preset)",
        "A continuous two-segment (hinge) fit, break year searched over the data's dates with at least three points "
        "per segment; a break is *supported* when BIC prefers it to one line by more than 6.",
        breaks_table(fits),
        "## Training compute: the recorded value beside 6ND",
        compute_spread(con),
        *extra_sections,
    ]
    return "\n\n".join(sections) + "\n"
