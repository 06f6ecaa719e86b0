"""The fit engine on synthetic data with known rates: OLS in DuckDB, intervals, Theil-Sen, frontier, breaks."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline import fits

LOG10_3 = math.log10(3.0)


def synthetic_series(where: str = "TRUE", selection: str = "all", window=(1990, 2030), **extra) -> fits.Series:
    return fits.Series(
        name="synthetic",
        preset="test",
        table="accelerators",
        value="peak_training_flops",
        unit="FLOP/s",
        where=where,
        window_start=window[0],
        window_end=window[1],
        selection=selection,
        description="synthetic",
        **extra,
    )


def connection_with(years, values) -> duckdb.DuckDBPyConnection:
    frame = pd.DataFrame(
        {
            "accelerator_id": [f"chip-{i}" for i in range(len(years))],
            "name": [f"Chip {i}" for i in range(len(years))],
            "release_date": pd.to_datetime([f"{int(y)}-01-01" for y in years]).date,
            "release_fractional_year": np.asarray(years, dtype="float64"),
            "peak_training_flops": np.asarray(values, dtype="float64"),
            "source_url": "https://example.org",
            "status": "shipping",
            "source_kind": "datasheet",
        }
    )
    con = duckdb.connect()
    con.register("accelerators_frame", frame)
    con.execute("CREATE TABLE accelerators AS SELECT * FROM accelerators_frame")
    return con


def by_method(rows, method):
    return next(r for r in rows if r["method"] == method)


def test_exact_three_x_per_two_years_is_recovered():
    years = np.arange(2000.0, 2021.0)
    values = 1e9 * 3.0 ** ((years - 2000) / 2)
    rows = fits.fit_series(connection_with(years, values), synthetic_series(), "all")
    ols = by_method(rows, "ols")
    assert ols["growth_per_2y"] == pytest.approx(3.0, rel=1e-9)
    assert ols["doubling_time_years"] == pytest.approx(2 * math.log(2) / math.log(3), rel=1e-9)
    assert ols["r2"] == pytest.approx(1.0)
    assert ols["n"] == 21 and ols["start_year"] == 2000 and ols["end_year"] == 2020
    # 3.0x per 2 years over 20 years is 3^10 = 59049x: the paper's "60000x / 20 yrs".
    ols_20 = fits.fit_series(connection_with(years, values), synthetic_series(total_growth_years=20), "all")
    assert by_method(ols_20, "ols")["total_growth"] == pytest.approx(3.0**10, rel=1e-9)
    assert fits.format_total(3.0**10) == "59000"
    assert by_method(rows, "theil_sen")["growth_per_2y"] == pytest.approx(3.0, rel=1e-9)


def test_noisy_rate_lies_inside_its_interval_and_sql_matches_numpy():
    rng = np.random.default_rng(7)
    years = np.sort(rng.uniform(1997, 2022, 40))
    log_values = 6 + (LOG10_3 / 2) * (years - 1997) + rng.normal(0, 0.3, years.size)
    rows = fits.fit_series(connection_with(years, 10**log_values), synthetic_series(), "all")
    ols = by_method(rows, "ols")
    assert ols["growth_per_2y_ci_low"] < 3.0 < ols["growth_per_2y_ci_high"]
    assert ols["growth_per_2y_boot_ci_low"] < 3.0 < ols["growth_per_2y_boot_ci_high"]
    reference = fits.ols_arrays(years, log_values)
    assert ols["slope_log10_per_year"] == pytest.approx(reference["slope"], rel=1e-9)
    assert ols["slope_stderr"] == pytest.approx(reference["stderr"], rel=1e-6)
    # scipy's linregress as an independent reference for the standard error
    from scipy import stats

    independent = stats.linregress(years, log_values)
    assert ols["slope_stderr"] == pytest.approx(independent.stderr, rel=1e-6)
    assert ols["r2"] == pytest.approx(independent.rvalue**2, rel=1e-6)


def test_interval_is_95_percent_over_many_synthetic_draws():
    """Coverage check: the t interval contains the true 3.0x in about 95% of 400 noisy samples."""
    rng = np.random.default_rng(11)
    years = np.linspace(2000, 2020, 12)
    hits = 0
    for _ in range(400):
        y = (LOG10_3 / 2) * years + rng.normal(0, 0.25, years.size)
        r = fits.ols_arrays(years, y)
        ci = fits.describe_slope(r["slope"], r["stderr"], r["n"])
        hits += ci["growth_per_2y_ci_low"] <= 3.0 <= ci["growth_per_2y_ci_high"]
    assert 0.92 <= hits / 400 <= 0.98


def test_fewer_than_two_distinct_dates_is_an_error():
    with pytest.raises(fits.FitError, match="at least 2 distinct dates"):
        fits.fit_series(connection_with([2020, 2020, 2020], [1, 2, 3]), synthetic_series(), "all")
    with pytest.raises(fits.FitError, match="at least 2 distinct dates"):
        fits.ols_arrays(np.array([2020.0]), np.array([1.0]))
    with pytest.raises(fits.FitError, match="at least 2 distinct dates"):
        fits.fit_series(connection_with([2020, 2021], [1, 2]), synthetic_series(window=(2030, 2031)), "all")


def test_frontier_keeps_only_new_records():
    years = [2000, 2001, 2002, 2003, 2004, 2005]
    values = [10, 5, 20, 20, 15, 40]  # records: 10 (2000), 20 (2002), 40 (2005); a tie is not a record
    con = connection_with(years, values)
    points = con.execute(fits.points_sql(synthetic_series(), "frontier")).df()
    assert points["value"].tolist() == [10, 20, 40]
    assert points["x"].tolist() == [2000, 2002, 2005]


def test_window_is_inclusive_of_whole_end_year():
    con = connection_with([1999.9, 2000.0, 2010.5, 2010.99, 2011.0], [1, 2, 3, 4, 5])
    points = con.execute(fits.points_sql(synthetic_series(window=(2000, 2010)))).df()
    assert points["x"].tolist() == [2000.0, 2010.5, 2010.99]


def test_theil_sen_resists_an_outlier_that_drags_ols():
    years = np.arange(2000.0, 2016.0)
    log_values = (LOG10_3 / 2) * (years - 2000)
    log_values[-1] += 3  # one wild point
    rows = fits.fit_series(connection_with(years, 10**log_values), synthetic_series(), "all")
    assert by_method(rows, "theil_sen")["growth_per_2y"] == pytest.approx(3.0, rel=0.02)
    assert by_method(rows, "ols")["growth_per_2y"] > 3.5


def test_planted_break_is_found_and_supported():
    rng = np.random.default_rng(3)
    years = np.linspace(2000, 2024, 49)
    slope_before, slope_after, t0 = math.log10(3) / 2, math.log10(1.4) / 2, 2012.0
    y = slope_before * (years - 2000) + (slope_after - slope_before) * np.maximum(0, years - t0)
    y += rng.normal(0, 0.05, years.size)
    result = fits.two_segment(years, y)
    assert result["break_supported"] is True
    assert abs(result["break_year"] - t0) <= 1.0
    assert result["growth_per_2y_before_break"] == pytest.approx(3.0, rel=0.1)
    assert result["growth_per_2y_after_break"] == pytest.approx(1.4, rel=0.1)


def test_no_break_is_claimed_on_a_straight_noisy_line():
    rng = np.random.default_rng(5)
    years = np.linspace(2000, 2024, 49)
    y = (LOG10_3 / 2) * (years - 2000) + rng.normal(0, 0.2, years.size)
    assert fits.two_segment(years, y)["break_supported"] is False


def test_bootstrap_is_seeded():
    x = np.linspace(2000, 2020, 15)
    y = 0.2 * x + np.random.default_rng(1).normal(0, 0.3, x.size)
    assert fits.bootstrap_interval(x, y, seed=42) == fits.bootstrap_interval(x, y, seed=42)


def test_declared_series_load_and_are_unique():
    series = fits.load_series()
    keys = {(s.preset, s.name) for s in series}
    for name in (
        "peak_flops",
        "dram_bandwidth",
        "interconnect_bandwidth",
        "accelerator_memory",
        "model_parameters",
        "training_compute",
    ):
        assert ("paper", name) in keys, f"the paper preset lacks {name}"
        assert ("current", name) in keys, f"the current preset lacks {name}"
    assert all(s.description for s in series)


def test_every_id_named_in_series_exists_in_the_curated_tables():
    """A typo in a series' id list would silently drop a point of the paper's selection: refuse it."""
    import re

    from pipeline import fields as F
    from pipeline import paths

    con = fits.connect_curated(paths.CURATED)
    for series in fits.load_series():
        key = F.TABLES[series.table].key
        known = {row[0] for row in con.execute(f"SELECT {key} FROM {series.table}").fetchall()}
        named = set(re.findall(r"'([a-z0-9]+(?:-[a-z0-9]+)+)'", series.where)) | set(series.labels)
        if series.normalize_to:
            named.add(series.normalize_to)
        missing = sorted(named - known)
        assert not missing, f"{series.key} names ids that are not in {series.table}: {missing}"


def test_link_series_hold_whole_devices_not_one_lane_or_link():
    """Every interconnect series is per device (or per x16 host link): a row that describes one lane or one link
    (link_count 1, e.g. UALink 1.0's 200 Gb/s lane) plotted beside full link sets would read as a collapse."""
    from pipeline import paths

    con = fits.connect_curated(paths.CURATED)
    for series in fits.load_series():
        if series.table != "interconnects":
            continue
        ids = [row[0] for row in con.execute(f"SELECT id FROM ({fits.points_sql(series, 'all', False)})").fetchall()]
        single = con.execute(
            "SELECT interconnect_id FROM interconnects WHERE link_count = 1 AND list_contains(?, interconnect_id)",
            [ids],
        ).fetchall()
        assert not single, f"{series.key} plots one lane or link as a device: {single}"


def test_every_paper_series_has_its_paper_rate_and_points():
    con_rows = fits.run_fits(__import__("pipeline.paths", fromlist=["CURATED"]).CURATED)
    paper = con_rows[(con_rows["preset"] == "paper") & (con_rows["method"] == "ols")]
    assert set(paper["series"]) == {
        "peak_flops",
        "dram_bandwidth",
        "interconnect_bandwidth",
        "accelerator_memory",
        "model_parameters",
        "training_compute",
    }
    assert paper["paper_growth_per_2y"].notna().all()
    assert (paper["n"] >= 5).all()


def _wide_floats(rng: np.random.Generator, n: int) -> np.ndarray:
    """Values that make naive summation lose digits: both signs, exponents 1e-300 to 1e300, cancelling pairs."""
    mantissa = rng.uniform(-1, 1, n)
    exponent = rng.integers(-300, 300, n)
    values = mantissa * 10.0 ** exponent.astype("float64")
    values[: n // 4] = -values[n // 4 : 2 * (n // 4)]  # exact cancellations leave tiny survivors to round
    values[-4:] = [1e306, -1e306, 5e-324, -1e-320]  # large magnitudes that cancel, and subnormals
    return rng.permutation(values)


@pytest.mark.parametrize("seed", range(6))
def test_exact_sum_is_math_fsum(seed):
    """exact_sum claims the float math.fsum returns (the exactly rounded sum): math.fsum is the reference."""
    rng = np.random.default_rng(seed)
    for n in (fits.EXACT_SUM_MIN, 10_000, 70_001):
        values = _wide_floats(rng, n)
        assert fits.exact_sum(values) == math.fsum(values)
        years = rng.uniform(1990, 2030, n)  # the fits' own case: dates and their centred squares
        assert fits.exact_sum(years) == math.fsum(years)
        assert fits.exact_sum((years - years.mean()) ** 2) == math.fsum((years - years.mean()) ** 2)


def test_exact_sum_keeps_fsums_special_cases():
    n = fits.EXACT_SUM_MIN + 1
    assert math.isnan(fits.exact_sum(np.r_[np.ones(n), np.nan]))
    assert fits.exact_sum(np.r_[np.ones(n), np.inf]) == math.inf
    zeros = -np.zeros(n)
    assert math.copysign(1.0, fits.exact_sum(zeros)) == math.copysign(1.0, math.fsum(zeros))
    for too_large in (np.full(n, 1e308), np.r_[1e308, 1e308, -1e308, np.zeros(n)]):
        with pytest.raises(OverflowError):
            math.fsum(too_large)
        with pytest.raises(OverflowError):
            fits.exact_sum(too_large)


@pytest.mark.parametrize("n", [150, 401])
def test_theil_sen_without_sorting_every_slope_is_scipys(n):
    """Above THEIL_SEN_SCIPY_MAX_POINTS the slopes' order statistics are selected, not sorted: the four floats must be
    scipy.stats.theilslopes's own (ties in x and y included, which change its interval)."""
    from scipy import stats

    rng = np.random.default_rng(n)
    x = np.round(rng.uniform(2000, 2026, n), 1)  # rounded: many tied dates
    y = np.round(0.2 * x + rng.normal(0, 0.5, n), 2)
    y[:10] = y[10]  # tied values
    assert n > fits.THEIL_SEN_SCIPY_MAX_POINTS
    expected = stats.theilslopes(y, x, alpha=0.95)
    got = fits._theilslopes(y, x)
    assert got == (expected.slope, expected.intercept, expected.low_slope, expected.high_slope)


def test_a_large_fit_gives_the_same_numbers_in_threads_as_in_sequence(monkeypatch):
    """Above PARALLEL_MIN_POINTS the bootstrap and Theil-Sen run in threads: every number must be the one the
    sequential path gives (same seeds, same arrays)."""
    rng = np.random.default_rng(11)
    years = np.sort(rng.uniform(1990, 2025, fits.PARALLEL_MIN_POINTS + 500))
    values = 10 ** (0.2 * (years - 1990) + rng.normal(0, 0.5, years.size))
    con = connection_with(years, values)
    threaded = fits.fit_series(con, synthetic_series(), "all")
    monkeypatch.setattr(fits, "PARALLEL_MIN_POINTS", 10**12)
    sequential = fits.fit_series(con, synthetic_series(), "all")
    assert len(threaded) == len(sequential) == 2
    for a, b in zip(threaded, sequential, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            same = a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
            assert same, f"{a['method']} {k}: {a[k]} in threads, {b[k]} in sequence"
    assert math.isfinite(threaded[0]["growth_per_2y_boot_ci_low"])
    assert math.isfinite(threaded[1]["slope_log10_per_year"])
