"""pipeline.paper_compare: matching the paper's plotted points to memwall rows, and the chain of refits from the
paper's rates to memwall's.

Synthetic cases have known answers (one date shifted by exactly a year carries the whole gap; an optimal assignment
finds the right unlabelled rows; a normalized series whose first point matches nothing recovers its scale; every
string is escaped in the Markdown). The real reference file must give the paper's printed rates, every point must be
matched or explained, and the chain must end exactly on curated/fits.parquet.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline import detmath, paths
from pipeline import fits as fitlib
from pipeline import paper_compare as pc

HEADER = [
    "figure",
    "series",
    "x_year",
    "y_as_plotted",
    "y_unit",
    "label",
    "marker",
    "color",
    "source_file",
    "source_commit",
    "notes",
]


# ------------------------------------------------------------------------------------------------ synthetic data
def write_points(
    path: Path, points: list[tuple[float, float, str]], figure: str = "figS", series: str = "line"
) -> Path:
    """A paper_points.csv with the given (year, value as plotted, label) markers and one fit line to be ignored."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for year, value, label in points:
            date = f"{int(year)}-01-01"
            writer.writerow(
                [
                    figure,
                    series,
                    repr(year),
                    repr(value),
                    "billion",
                    label,
                    "circle",
                    "#000000",
                    "f.pdf",
                    "0" * 40,
                    f"pdf=(0,0); date {date}",
                ]
            )
        writer.writerow(
            [
                figure,
                "fit_line",
                "2017.0",
                "1",
                "billion",
                "",
                "line",
                "#000000",
                "f.pdf",
                "0" * 40,
                f"fit_of={series}; end 1 of 2",
            ]
        )
    return path


def models_con(rows: list[tuple[str, float, float]]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a `models` view holding (model_id, fractional year, parameters) rows, with the other
    columns the points and match queries read."""
    con = duckdb.connect()
    frame = pd.DataFrame(
        {
            "model_id": [r[0] for r in rows],
            "name": [f"Model {r[0]}" for r in rows],
            "release_date": pd.to_datetime([f"{int(r[1])}-01-01" for r in rows]).date,
            "release_date_precision": "day",
            "release_fractional_year": [r[1] for r in rows],
            "parameters": [r[2] for r in rows],
            "training_compute_flop": np.nan,
            "training_compute_method": "",
            "source_url": [f"https://example.org/{r[0]}" for r in rows],
            "source_kind": "paper",
            "status": "released",
        }
    )
    con.register("models_frame", frame)
    con.execute("CREATE VIEW models AS SELECT * FROM models_frame")
    return con


def synthetic_series(labels: dict[str, str], where: str = "model_id LIKE 'm%'") -> fitlib.Series:
    return fitlib.Series(
        name="syn",
        preset="paper",
        table="models",
        value="parameters",
        unit="count",
        where=where,
        window_start=2017,
        window_end=2022,
        selection="all",
        description="synthetic",
        labels=labels,
    )


GROUP = pc.Group("figS", "line", "Synthetic", "models", ("syn",), "parameters", "parameters", "model_id LIKE '%'", 1e9)
RATE = pc.Rate("synthetic", "figS", "line", "syn", "10")


def stored_fits(con: duckdb.DuckDBPyConnection, series: fitlib.Series) -> pd.DataFrame:
    """What run_fits would store for the series: fit_series rows, floats rounded to STORED_DIGITS."""
    frame = pd.DataFrame(fitlib.fit_series(con, series, series.selection))
    frame["growth_per_2y"] = detmath.round_sig(frame["growth_per_2y"].to_numpy(), fitlib.STORED_DIGITS)
    return frame


YEARS = [2017.25, 2017.75, 2018.5, 2019.25, 2020.0, 2020.75]
BILLIONS = [0.1, 0.5, 3.0, 10.0, 80.0, 200.0]  # exact in base units (x 1e9) and back


@pytest.fixture
def shifted(tmp_path):
    """Six labelled points equal to memwall's rows except the third, plotted exactly one year late."""
    labels = {f"m{i}": f"Label {i}" for i in range(6)}
    con = models_con([(f"m{i}", YEARS[i], BILLIONS[i] * 1e9) for i in range(6)])
    plotted = [(YEARS[i] + (1.0 if i == 2 else 0.0), BILLIONS[i], labels[f"m{i}"]) for i in range(6)]
    points = pc.load_points(write_points(tmp_path / "points.csv", plotted))
    series = synthetic_series(labels)
    matches = pc.match(points, con, groups=(GROUP,), series_list=[series])
    table = pc.attribution(
        points, matches, con, stored_fits(con, series), rates=(RATE,), series_list=[series], fit_lines={}
    )
    return points, matches, table


def test_load_points_drops_fit_lines_and_flags_hidden(tmp_path):
    path = write_points(tmp_path / "p.csv", [(2018.0, 1.0, "A"), (2019.0, 2.0, "")])
    text = path.read_text(encoding="utf-8").replace("date 2019-01-01", "date 2019-01-01; hidden under a later marker")
    path.write_text(text, encoding="utf-8")
    points = pc.load_points(path)
    assert list(points["point_id"]) == ["figS/line/00", "figS/line/01"]
    assert list(points["hidden"]) == [False, True]
    assert list(points["label"]) == ["A", ""]
    assert list(points["date_as_plotted"]) == ["2018-01-01", "2019-01-01"]


def test_labels_match_and_the_shift_is_measured(shifted):
    _, matches, _ = shifted
    assert list(matches["matched_id"]) == [f"m{i}" for i in range(6)]
    assert set(matches["match_method"]) == {"label"}
    assert list(matches["date_shift_years"]) == [0.0, 0.0, -1.0, 0.0, 0.0, 0.0]
    assert list(matches["value_ratio_memwall_to_paper"]) == [1.0] * 6
    assert matches["memwall_source_url"].str.startswith("https://example.org/").all()


def test_one_shifted_date_carries_the_whole_gap(shifted):
    _, _, table = shifted
    steps = table[table["kind"] == "step"].set_index("step")
    assert steps.at[1, "growth_per_2y"] != steps.at[0, "growth_per_2y"]
    for step in (2, 3, 4):  # same values, same selection, same window: nothing else moves the rate
        assert steps.at[step, "growth_per_2y"] == steps.at[1, "growth_per_2y"]
    moved = table[(table["kind"] == "point") & (table["step"] == 1)]
    assert list(moved["point_id"]) == ["figS/line/02"]
    assert moved["factor_vs_previous"].iloc[0] == pytest.approx(steps.at[1, "factor_vs_previous"], rel=1e-12)
    assert moved["share_of_step_log"].iloc[0] == pytest.approx(1.0, abs=1e-9)
    assert table[(table["kind"] == "point") & (table["step"] == 2)].empty
    assert steps.at[4, "equals_fits_parquet"]


def test_refits_use_the_ols_of_fits(shifted):
    """Step 0 is OLS of log10(value as plotted) on the plotted year, as pipeline.fits computes it."""
    points, _, table = shifted
    x = points["x_year_as_plotted"].to_numpy()
    moments = fitlib.ols_arrays(x, detmath.log10(points["y_as_plotted"].to_numpy()))
    expected = fitlib.describe_slope(moments["slope"], moments["stderr"], moments["n"])
    step0 = table[(table["kind"] == "step") & (table["step"] == 0)].iloc[0]
    assert step0["n"] == 6
    for key in ("growth_per_2y", "growth_per_2y_ci_low", "growth_per_2y_ci_high"):
        assert step0[key] == detmath.round_sig(expected[key], fitlib.STORED_DIGITS)


def test_a_point_memwall_lacks_is_removed_by_the_selection_step(tmp_path):
    """A plotted point with no row: unmatched, kept as plotted in steps 1-2, gone at step 3."""
    labels = {f"m{i}": f"Label {i}" for i in range(6)}
    con = models_con([(f"m{i}", YEARS[i], BILLIONS[i] * 1e9) for i in range(6)])
    plotted = [(YEARS[i], BILLIONS[i], labels[f"m{i}"]) for i in range(6)] + [(2019.5, 1.0e6, "")]
    points = pc.load_points(write_points(tmp_path / "p.csv", plotted))
    series = synthetic_series(labels)
    matches = pc.match(points, con, groups=(GROUP,), series_list=[series])
    lonely = matches.iloc[-1]
    assert lonely["match_method"] == "unmatched" and lonely["matched_id"] == ""
    assert "would have to be a row of models released about 2019-01-01 with 1e+15 parameters" in lonely["note"]
    table = pc.attribution(
        points, matches, con, stored_fits(con, series), rates=(RATE,), series_list=[series], fit_lines={}
    )
    steps = table[table["kind"] == "step"].set_index("step")
    assert list(steps["n"]) == [7, 7, 7, 6, 6]
    assert steps.at[1, "growth_per_2y"] == steps.at[0, "growth_per_2y"]  # the others' dates are memwall's already
    assert steps.at[3, "growth_per_2y"] != steps.at[2, "growth_per_2y"]
    assert "removed 1" in steps.at[3, "detail"]


def test_optimal_assignment_of_unlabelled_points(tmp_path):
    """Greedy nearest-first would give p0 the row p1 needs; the optimal assignment gives each its own, and a point
    two years from any row stays unmatched with what it would have to be."""
    con = models_con([("a", 2018.0, 1.0e9), ("b", 2018.3, 1.6e9), ("c", 2019.0, 5.0e9), ("far", 2018.1, 1.0e13)])
    plotted = [(2018.15, 1.25, ""), (2017.9, 1.0, ""), (2019.0, 5.0, ""), (2021.0, 7.0, "")]
    points = pc.load_points(write_points(tmp_path / "p.csv", plotted))
    group = pc.Group("figS", "line", "S", "models", ("syn",), "parameters", "parameters", "true", 1e9)
    matches = pc.match(points, con, groups=(group,), series_list=[synthetic_series({})])
    assert list(matches["matched_id"]) == ["b", "a", "c", ""]
    assert list(matches["match_method"]) == ["assignment"] * 3 + ["unmatched"]
    assert "2021-01-01" in matches.at[3, "note"] and "7e+09 parameters" in matches.at[3, "note"]
    shuffled = pc.match(points.iloc[::-1], con, groups=(group,), series_list=[synthetic_series({})])
    assert dict(zip(shuffled["point_id"], shuffled["matched_id"], strict=True)) == dict(
        zip(matches["point_id"], matches["matched_id"], strict=True)
    )


def test_normalized_series_with_an_unmatched_first_point_recovers_its_scale(tmp_path):
    """Plotted values over a first point that matches no row: the scale is the one that matches the rest exactly."""
    base = 7.0e9
    rows = [("r1", 2010.0, 5 * base), ("r2", 2012.0, 20 * base), ("r3", 2014.0, 80 * base), ("x", 2012.2, base)]
    con = models_con(rows)
    plotted = [(2003.0, 1.0, "First"), (2010.0, 5.0, ""), (2012.0, 20.0, ""), (2014.0, 80.0, "")]
    points = pc.load_points(write_points(tmp_path / "p.csv", plotted))
    group = pc.Group("figS", "line", "S", "models", ("syn",), "parameters", "parameters", "true")
    matches = pc.match(points, con, groups=(group,), series_list=[synthetic_series({})])
    assert list(matches["matched_id"]) == ["", "r1", "r2", "r3"]
    assert matches["base_units_per_plotted_unit"].iloc[0] == pytest.approx(base, rel=1e-12)
    assert matches["value_ratio_memwall_to_paper"].iloc[1:].tolist() == pytest.approx([1.0] * 3, rel=1e-12)
    assert matches.at[0, "paper_value_base_units"] == pytest.approx(base, rel=1e-12)
    assert "first point is unmatched" in matches.at[1, "note"]


def test_report_escapes_every_string_from_the_data(tmp_path):
    nasty = "A|B*_`<x>[y]"
    labels = {f"m{i}": (nasty if i == 0 else f"L{i}") for i in range(6)}
    con = models_con([(f"m{i}", YEARS[i], BILLIONS[i] * 1e9) for i in range(6)])
    points = pc.load_points(
        write_points(tmp_path / "p.csv", [(YEARS[i], BILLIONS[i], labels[f"m{i}"]) for i in range(6)])
    )
    series = synthetic_series(labels)
    matches = pc.match(points, con, groups=(GROUP,), series_list=[series])
    matches.loc[1, "memwall_name"] = "evil | name <script>"
    table = pc.attribution(
        points, matches, con, stored_fits(con, series), rates=(RATE,), series_list=[series], fit_lines={}
    )
    text = pc.report_section(matches, table)
    assert nasty not in text and "<script>" not in text
    assert r"A\|B\*\_\`&lt;x&gt;\[y\]" in text
    assert r"evil \| name &lt;script&gt;" in text
    assert_table_rows_well_formed(text)


def assert_table_rows_well_formed(text: str) -> None:
    """Every row of a Markdown table has as many unescaped '|' as its header."""
    width = None
    for line in text.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        count = len(re.findall(r"(?<!\\)\|", line))
        width = width or count
        assert count == width, line


def test_printed_precision():
    rate = pc.RATES[0]  # printed 3.0
    assert pc.printed_precision_ok(rate, 3.04) and not pc.printed_precision_ok(rate, 3.06)
    assert pc.printed_precision_ok(pc.Rate("r", "f", "s", "m", "410"), 413.4)
    assert not pc.printed_precision_ok(pc.Rate("r", "f", "s", "m", "410"), 416.0)
    assert pc.printed_precision_ok(pc.Rate("r", "f", "s", "m", "2"), 1.86)


# ------------------------------------------------------------------------------------------------- the real data
@pytest.fixture(scope="module")
def real():
    points = pc.load_points()
    con = fitlib.connect_curated(paths.CURATED)
    matches = pc.match(points, con)
    fits = pd.read_parquet(paths.CURATED / "fits.parquet")
    table = pc.attribution(points, matches, con, fits)
    return points, con, matches, table, fits


def test_the_paper_points_give_the_printed_rates(real):
    _, _, _, table, _ = real
    step0 = table[(table["kind"] == "step") & (table["step"] == 0)].set_index("rate")
    assert len(step0) == 6
    assert step0["reproduces_printed"].all(), step0[["growth_per_2y", "paper_printed_growth_per_2y"]]
    close = step0[step0["paper_printed_growth_per_2y"] != 2]  # '2x' is printed with one digit: 1.86 is '2'
    ratio = close["growth_per_2y"] / close["paper_printed_growth_per_2y"]
    assert ratio.between(0.99, 1.012).all(), ratio
    drawn = pc.load_fit_lines()
    for rate in pc.RATES:  # the drawn fit lines are these very fits
        assert step0.at[rate.key, "growth_per_2y"] == pytest.approx(drawn[(rate.figure, rate.series)], rel=2e-3)


def test_every_point_is_matched_or_explained(real):
    points, con, matches, _, _ = real
    assert list(matches["point_id"]) == list(points["point_id"])
    unmatched = matches[matches["match_method"] == "unmatched"]
    assert (unmatched["matched_id"] == "").all()
    assert unmatched["note"].str.contains("no free candidate within a cost of").all()
    assert unmatched["note"].str.contains("would have to be a row of").all()
    matched = matches[matches["match_method"] != "unmatched"]
    assert (matched["note"] != "").all() and (matched["memwall_source_url"] != "").all()
    for table, ids in matched.groupby("matched_table")["matched_id"]:
        key = {"accelerators": "accelerator_id", "interconnects": "interconnect_id", "models": "model_id"}[table]
        known = {r[0] for r in con.execute(f"SELECT {key} FROM {table}").fetchall()}
        assert set(ids) <= known
    ok = matched["memwall_value_as_plotted"].notna()
    assert np.allclose(
        matched.loc[ok, "value_ratio_memwall_to_paper"],
        matched.loc[ok, "memwall_value_as_plotted"] / matched.loc[ok, "y_as_plotted"],
        rtol=1e-12,
    )
    assert np.allclose(matched["date_shift_years"], matched["memwall_x_year"] - matched["x_year_as_plotted"])


def test_known_matches(real):
    _, _, matches, _, _ = real
    by_label = matches.set_index(["figure", "series", "label"])["matched_id"]
    assert by_label[("fig2a", "transformer", "Transformer")] == "transformer-base"  # 65M, as the paper's table
    assert by_label[("fig2b", "transformer", "Transformer")] == "transformer-big"
    assert by_label[("fig2a", "transformer", "Microsoft T-NLG")] == "turing-nlg-17b"
    assert by_label[("fig2a", "transformer", "Megatron LM")] == "megatron-lm-8-3b"
    assert by_label[("fig2a", "accelerator_memory", "A100-80 (80GB)")] == "nvidia-a100-sxm4-80gb"
    assert by_label[("fig1", "flops", "H100")] == "nvidia-h100-sxm5-80gb"
    assert by_label[("fig1", "interconnect_bandwidth", "PCIe 1.0a")] == "pcie-1-0a-x16"
    unlabelled = matches[
        (matches["figure"] == "fig2b") & (matches["series"] == "transformer") & (matches["label"] == "")
    ]
    assert set(unlabelled["matched_id"]) == {"roberta-large", "albert-xxlarge", "electra-large"}
    links = matches[(matches["series"] == "interconnect_bandwidth") & (matches["label"] == "")]
    assert set(links["matched_id"]) >= {"nvlink-2-0", "nvlink-3-0"}  # matched on lane rate, which the paper plots


def test_hidden_duplicates_match_their_visible_twins(real):
    _, _, matches, _, _ = real
    hidden = matches[matches["hidden"]]
    assert len(hidden) == 10
    visible = matches[(matches["figure"] == "fig2b") & (matches["series"] == "transformer")]
    twins = visible.set_index(["x_year_as_plotted", "y_as_plotted"])["matched_id"]
    for _, row in hidden.iterrows():
        assert twins[(row["x_year_as_plotted"], row["y_as_plotted"])] == row["matched_id"]


def test_the_chain_ends_on_fits_parquet(real):
    _, _, _, table, fits = real
    last = table[(table["kind"] == "step") & (table["step"] == 4)]
    assert len(last) == 6 and last["equals_fits_parquet"].all()
    for _, row in last.iterrows():
        stored = fits[
            (fits["preset"] == "paper") & (fits["series"] == row["memwall_series"]) & (fits["method"] == "ols")
        ]
        series = {s.name: s for s in fitlib.load_series() if s.preset == "paper"}[row["memwall_series"]]
        stored = stored[stored["selection"] == series.selection]
        assert row["growth_per_2y"] == stored["growth_per_2y"].iloc[0]
        assert row["n"] == stored["n"].iloc[0]


def test_step_factors_multiply_to_the_whole_gap(real):
    _, _, _, table, _ = real
    for _, steps in table[table["kind"] == "step"].groupby("rate"):
        product = math.prod(steps["factor_vs_previous"].iloc[1:])
        assert product == pytest.approx(steps["factor_vs_step0"].iloc[-1], rel=1e-9)


def test_report_section_of_the_real_data(real):
    _, _, matches, table, _ = real
    text = pc.report_section(matches, table)
    assert text.count("\n#### ") == 6
    assert len(re.findall(r"^\*\*.+\*\*: the paper's points give", text, flags=re.M)) == 6
    assert_table_rows_well_formed(text)
    assert "Transformer" in text and "2017-12-06" in text
