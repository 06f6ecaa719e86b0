"""Growth fits: OLS of log10(value) on fractional year, for every series declared in pipeline/series.toml.

For every series, under both selections (all, frontier):
- OLS from exactly rounded sums (math.fsum), with the slope's standard error and a 95% interval from Student's t with
  n - 2 degrees of freedom; the same fit a user writes in DuckDB with regr_slope / regr_intercept (ols_sql, checked
  against this one by the tests).
- A seeded percentile bootstrap interval of the same slope (rows resampled with replacement).
- Theil-Sen (scipy.stats.theilslopes), reported as its own row with method = theil_sen.
- A two-segment (hinge) fit: the break year minimising the squared error, and whether BIC supports it.
Growth per 2 years = 10^(2 x slope); doubling time = log10(2) / slope.

Every committed number is the same bytes on every machine: logarithms and powers come from pipeline.detmath (basic
IEEE operations only, not the CPU-dispatched kernels of numpy or the C library), sums from math.fsum, no BLAS/LAPACK
call, and the stored floats are rounded to STORED_DIGITS significant digits.
"""

from __future__ import annotations

import math
import os
import tomllib
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline import detmath
from pipeline import fields as F

SERIES_FILE = Path(__file__).with_name("series.toml")
SELECTIONS = ("all", "frontier")
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_MIN_RESAMPLES = 100
BOOTSTRAP_MAX_CELLS = 5_000_000  # resamples x points per fit: fewer resamples for very large series
BOOTSTRAP_MAX_POINTS = BOOTSTRAP_MAX_CELLS // BOOTSTRAP_MIN_RESAMPLES  # above: m-out-of-n bootstrap (see below)
BOOTSTRAP_CHUNK_CELLS = 2_000_000  # resamples x points held in memory at once
THEIL_SEN_MAX_POINTS = 2000  # Theil-Sen is O(n^2): larger series are fitted on a seeded subsample
BIC_MARGIN = 6.0  # "strong" evidence for a break (Kass & Raftery 1995)
MIN_POINTS_PER_SEGMENT = 3
MAX_BREAK_CANDIDATES = 200
HINGE_EXACT_MAX_POINTS = 10_000  # above: break candidates are ranked from running sums, then the best one is fitted
PARALLEL_MIN_POINTS = 10_000  # from this many points a fit runs its bootstrap and Theil-Sen in threads
STORED_DIGITS = 12  # significant digits of every float in fits.parquet


class FitError(ValueError):
    pass


@dataclass(frozen=True)
class Series:
    name: str
    preset: str
    table: str
    value: str
    unit: str
    where: str
    window_start: float
    window_end: float
    selection: str
    description: str
    label: str = ""
    normalize_to: str | None = None
    total_growth_years: float | None = None
    paper_growth_per_2y: float | None = None
    labels: dict[str, str] = field(default_factory=dict)  # accelerator/model id -> label printed in figures
    labels_1col: list[str] = field(default_factory=list)  # the ids labelled in single-column figures
    label_by: str | None = None
    fit: bool = True  # False: points drawn in figures, never fitted (e.g. recommenders in Figure 2a)

    @property
    def key(self) -> str:
        return f"{self.preset}/{self.name}"


def load_series(path: Path = SERIES_FILE) -> list[Series]:
    """Read and check the declarative series file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    known = set(Series.__dataclass_fields__)
    out = []
    for position, entry in enumerate(data.get("series", []), start=1):
        unknown = set(entry) - known
        if unknown:
            raise FitError(
                f"{path.name}: series #{position}: unknown key(s) {sorted(unknown)}; expected {sorted(known)}"
            )
        entry = dict(entry)
        entry["labels"] = dict(entry.get("labels", {}))
        entry["labels_1col"] = list(entry.get("labels_1col", []))
        missing = [i for i in entry["labels_1col"] if i not in entry["labels"]]
        if missing:
            raise FitError(f"{path.name}: series #{position}: labels_1col {missing} are not among its labels")
        entry["description"] = " ".join(entry["description"].split())
        series = Series(**entry)
        if series.selection not in SELECTIONS:
            raise FitError(f"{path.name}: {series.key}: selection must be one of {SELECTIONS}")
        if series.table not in F.RAW_TABLES:
            raise FitError(f"{path.name}: {series.key}: unknown table {series.table!r}")
        out.append(series)
    keys = [s.key for s in out]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise FitError(f"{path.name}: series declared twice: {sorted(duplicates)}")
    return out


def connect_curated(curated_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per curated Parquet table."""
    con = duckdb.connect()
    threads = os.environ.get("MEMWALL_DUCKDB_THREADS")  # a test varies it: the results must not depend on it
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    # every table built from raw/, and the derived tables already built (the figures read paper_points)
    for name in F.TABLES:
        path = curated_dir / f"{name}.parquet"
        if name in F.RAW_TABLES or (name != "fits" and path.exists()):
            quoted = path.as_posix().replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{quoted}')")
    return con


def points_sql(
    series: Series, selection: str | None = None, final_only: bool = True, order: str = "x, value DESC, id"
) -> str:
    """SQL returning the points of a series: id, name, label, release_date, x (fractional year), value, source_url,
    provisional (announced, preview or cancelled: never fitted) and estimate (the value is someone's estimate).

    final_only (the fits): only rows whose status is final (fields.FINAL_STATUSES), so an announcement or a preview
    never sets a record or anchors a line. Figures also ask for the others, to draw them hollow.

    order: the ORDER BY of the result (the frontier is always selected in the order x, value DESC, id)."""
    selection = selection or series.selection
    table = F.TABLES[series.table]
    label_column = series.label_by or "name"
    final = ", ".join(f"'{s}'" for s in F.FINAL_STATUSES[series.table])
    estimate = "source_kind = 'estimate'"
    if series.table == "models" and "training_compute" in series.value:
        estimate += " OR training_compute_method = 'third_party'"
    base = f"""
        SELECT {table.key} AS id, name, CAST({label_column} AS VARCHAR) AS label_text, release_date,
               release_fractional_year AS x, CAST({series.value} AS DOUBLE) AS value, source_url,
               status NOT IN ({final}) AS provisional, coalesce({estimate}, false) AS estimate
        FROM {series.table}
        WHERE ({series.where})
          AND release_fractional_year >= {series.window_start}
          AND release_fractional_year < {series.window_end} + 1
          AND ({series.value}) > 0
          {f"AND status IN ({final})" if final_only else ""}
    """
    columns = "id, name, label_text, release_date, x, value, source_url, provisional, estimate"
    if selection == "all":
        return f"SELECT {columns} FROM ({base}) ORDER BY {order}"
    if selection == "frontier":
        return f"""
            SELECT {columns} FROM (
              SELECT *, max(value) OVER (ORDER BY x, value DESC, id
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_max
              FROM ({base}))
            WHERE previous_max IS NULL OR value > previous_max
            ORDER BY {order}
        """
    raise FitError(f"unknown selection {selection!r}")


def ols_sql(points: str) -> str:
    """The OLS fit of log10(value) on year, as a user would write it in DuckDB."""
    return f"""
        SELECT regr_count(log10(value), x) AS n, regr_slope(log10(value), x) AS slope,
               regr_intercept(log10(value), x) AS intercept, regr_r2(log10(value), x) AS r2,
               regr_sxx(log10(value), x) AS sxx, regr_syy(log10(value), x) AS syy,
               regr_sxy(log10(value), x) AS sxy, count(DISTINCT x) AS distinct_x,
               min(x) AS start_year, max(x) AS end_year
        FROM ({points})
    """


def growth_per_2y(slope: float) -> float:
    """10^(2 x slope), deterministic; inf for a degenerate segment of a break search."""
    if not math.isfinite(slope):
        return math.nan
    if 2.0 * slope > 308:
        return math.inf
    return detmath.pow10(2.0 * slope)


def describe_slope(slope: float, stderr: float, n: int) -> dict[str, float]:
    """Growth per 2 years with its t-based 95% interval, and the doubling time."""
    if n > 2 and np.isfinite(stderr):
        t = detmath.t975(n - 2)
        low, high = growth_per_2y(slope - t * stderr), growth_per_2y(slope + t * stderr)
    else:
        low = high = math.nan
    return {
        "growth_per_2y": growth_per_2y(slope),
        "growth_per_2y_ci_low": low,
        "growth_per_2y_ci_high": high,
        "doubling_time_years": detmath.LOG10_2 / slope if slope > 0 else math.nan,
    }


EXACT_SUM_MIN = 4096  # below: math.fsum itself (a Python loop over the values is cheap there)
_EXACT_SUM_CHUNK = 1 << 25  # values per pass: every partial sum of one bin stays below 2**53 units (exact)
_EXACT_SUM_BLOCK = 1 << 16  # values per block: blocks stay in the CPU's cache
_HIGH_BITS = np.uint64(0xFFFFFFFFFC000000)  # sign, exponent and the top 26 bits of the 52-bit fraction


def exact_sum(values: np.ndarray) -> float:
    """math.fsum of a float64 array, the same float: the exactly rounded sum, by exact float64 sums over numpy.

    Each finite value is split, exactly, into a high part (its sign, exponent and top 26 fraction bits) and a low
    part (value - high: the other 26 bits). Within one bin of sign and exponent, every high part is a multiple of
    one power of two and below 2**27 of it, every low part below 2**26 of a smaller one; a sum of fewer than 2**26
    of them is therefore an integer number of units below 2**53, which float64 holds exactly, and np.bincount's
    per-bin sums are exact whatever their order. Python integers add the per-bin sums exactly and one integer
    division rounds the total once, to nearest even, as fsum does. Non-finite values and zero sums take math.fsum
    (its inf, nan, overflow and signed-zero rules)."""
    a = np.ascontiguousarray(values, dtype="float64").ravel()
    if a.size < EXACT_SUM_MIN or not np.isfinite(a).all():
        return math.fsum(a)
    total = 0  # the sum in units of 2**-1074, the smallest subnormal
    for start in range(0, a.size, _EXACT_SUM_CHUNK):
        part = a[start : start + _EXACT_SUM_CHUNK]
        sums = np.zeros((2, 4096))
        for block in range(0, part.size, _EXACT_SUM_BLOCK):
            chunk = part[block : block + _EXACT_SUM_BLOCK]
            bits = chunk.view(np.uint64)
            bins = (bits >> np.uint64(52)).view(np.int64)  # sign * 2048 + biased exponent
            high = (bits & _HIGH_BITS).view(np.float64)
            sums[0] += np.bincount(bins, weights=high, minlength=4096)
            sums[1] += np.bincount(bins, weights=chunk - high, minlength=4096)  # the low bits: exact difference
        for value in sums[sums != 0].tolist():
            numerator, denominator = value.as_integer_ratio()
            total += numerator * ((1 << 1074) // denominator)
    if total == 0:
        return math.fsum(a)
    try:
        return total / (1 << 1074)
    except OverflowError:  # the sum is beyond the float range: fsum says so in its own words
        return math.fsum(a)


def _distinct_count(x: np.ndarray) -> int:
    """np.unique(x).size, without sorting when x is already sorted (the points of a fit come sorted by date)."""
    if x.size > 1 and not np.isnan(x[-1]) and bool((x[1:] >= x[:-1]).all()):
        return int(np.count_nonzero(x[1:] != x[:-1])) + 1
    return int(np.unique(x).size)


def _moments(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float, float]:
    """Means and centred sums of squares and products of x and y, from exactly rounded sums."""
    n = x.size
    xm, ym = exact_sum(x) / n, exact_sum(y) / n
    u, v = x - xm, y - ym
    return xm, ym, exact_sum(u * u), exact_sum(u * v), exact_sum(v * v)


def ols_arrays(x: np.ndarray, y_log10: np.ndarray, moments: tuple | None = None) -> dict[str, float]:
    """OLS of log10 values on years from exactly rounded sums: the fit of every series, independent of row order,
    of SIMD and of BLAS. `moments`: _moments(x, y) when the caller has them already."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y_log10, dtype="float64")
    n = x.size
    distinct = _distinct_count(x) if n else 0
    if n < 2 or distinct < 2:
        raise FitError(f"a growth fit needs at least 2 distinct dates; got {distinct} among {n} points")
    xm, ym, sxx, sxy, syy = moments or _moments(x, y)
    slope = sxy / sxx
    return _stats_from_moments(n, slope, ym - slope * xm, sxx, syy, sxy)


def _stats_from_moments(n: int, slope: float, intercept: float, sxx: float, syy: float, sxy: float) -> dict:
    residual = max(syy - slope * sxy, 0.0)
    residual_std = math.sqrt(residual / (n - 2)) if n > 2 else math.nan
    stderr = residual_std / math.sqrt(sxx) if n > 2 else math.nan
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 1.0
    return {"n": n, "slope": slope, "intercept": intercept, "stderr": stderr, "r2": r2, "residual_std": residual_std}


def bootstrap_interval(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
    """Seeded percentile-bootstrap 95% interval of growth per 2 years (rows resampled with replacement).

    Above BOOTSTRAP_MAX_POINTS points the work stays bounded by an m-out-of-n bootstrap: the rows of a seeded
    subsample of m points are resampled, and the interval's distances from the subsample's slope are scaled by
    sqrt(m / n) around the slope of all n points (the spread of an OLS slope shrinks as 1 / sqrt(n))."""
    n = x.size
    if n < 3:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    if n <= BOOTSTRAP_MAX_POINTS:
        low, high = np.percentile(_resampled_slopes(x, y, rng), [2.5, 97.5])
    else:
        keep = np.sort(rng.choice(n, BOOTSTRAP_MAX_POINTS, replace=False))
        shrink = math.sqrt(BOOTSTRAP_MAX_POINTS / n)
        quantiles = np.percentile(_resampled_slopes(x[keep], y[keep], rng), [2.5, 97.5])
        low, high = _slope(x, y) + (quantiles - _slope(x[keep], y[keep])) * shrink
    return growth_per_2y(float(low)), growth_per_2y(float(high))


def _resampled_slopes(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = x.size
    resamples = max(BOOTSTRAP_MIN_RESAMPLES, min(BOOTSTRAP_RESAMPLES, BOOTSTRAP_MAX_CELLS // n))
    chunk = max(1, BOOTSTRAP_CHUNK_CELLS // n)
    slopes = []
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, resamples - start), n))
        xs, ys = x[idx], y[idx]
        xc = xs - xs.mean(axis=1, keepdims=True)
        sxx = (xc * xc).sum(axis=1)
        sxy = (xc * (ys - ys.mean(axis=1, keepdims=True))).sum(axis=1)
        ok = sxx > 0
        slopes.append(sxy[ok] / sxx[ok])
    return np.concatenate(slopes)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    xc = x - x.mean()
    sxx = float((xc * xc).sum())
    return float((xc * (y - y.mean())).sum()) / sxx if sxx > 0 else math.nan


def theil_sen(x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    """Theil-Sen slope with its 95% interval (scipy); subsampled (seeded) above THEIL_SEN_MAX_POINTS points."""
    if x.size > THEIL_SEN_MAX_POINTS:
        keep = np.sort(np.random.default_rng(seed).choice(x.size, THEIL_SEN_MAX_POINTS, replace=False))
        x, y = x[keep], y[keep]
    slope, intercept, low_slope, high_slope = _theilslopes(y, x)
    return {
        "slope": float(slope),
        "intercept": float(intercept),
        "growth_per_2y_ci_low": growth_per_2y(float(low_slope)),
        "growth_per_2y_ci_high": growth_per_2y(float(high_slope)),
    }


THEIL_SEN_SCIPY_MAX_POINTS = 100  # up to this many points scipy.stats.theilslopes itself


def _theilslopes(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float, float]:
    """scipy.stats.theilslopes(y, x, alpha=0.95) (method 'separate'), the same four floats, without sorting the
    n(n-1)/2 pairwise slopes: scipy sorts them to read three order statistics (the median and the interval's two
    ends); one np.partition selects them in linear time, from the same array of slopes computed as scipy does, and
    the median is taken as np.median takes it (the middle value, or np.mean of the two middle values)."""
    from scipy import stats
    from scipy.stats._stats_mstats_common import _find_repeats

    x = np.array(x, dtype=float, copy=True).ravel()
    y = np.array(y, dtype=float, copy=True).ravel()
    if x.size <= THEIL_SEN_SCIPY_MAX_POINTS or not (np.isfinite(x).all() and np.isfinite(y).all()):
        result = stats.theilslopes(y, x, alpha=0.95)
        return result.slope, result.intercept, result.low_slope, result.high_slope
    deltax = x[:, np.newaxis] - x
    deltay = y[:, np.newaxis] - y
    later = deltax > 0
    slopes = deltay[later] / deltax[later]
    del deltax, deltay, later
    nt = slopes.size
    if nt == 0:  # every date the same: scipy's warning and NaNs
        result = stats.theilslopes(y, x, alpha=0.95)
        return result.slope, result.intercept, result.low_slope, result.high_slope
    alpha = 1.0 - 0.95  # as scipy turns alpha=0.95 into the tail probability
    z = stats.distributions.norm.ppf(alpha / 2.0)
    _, nxreps = _find_repeats(x.copy())
    _, nyreps = _find_repeats(y.copy())
    ny = len(y)
    sigsq = (
        1
        / 18.0
        * (
            ny * (ny - 1) * (2 * ny + 5)
            - sum(k * (k - 1) * (2 * k + 5) for k in nxreps)
            - sum(k * (k - 1) * (2 * k + 5) for k in nyreps)
        )
    )
    sigma = np.sqrt(sigsq)
    upper = min(int(np.round((nt - z * sigma) / 2.0)), nt - 1) if np.isfinite(sigma) else None
    lower = max(int(np.round((nt + z * sigma) / 2.0)) - 1, 0) if np.isfinite(sigma) else None
    middle = [nt // 2 - 1, nt // 2] if nt % 2 == 0 else [(nt - 1) // 2]
    kth = sorted({*middle, *((lower, upper) if lower is not None else ())})
    part = np.partition(slopes, kth)
    medslope = np.mean(part[middle[0] : middle[-1] + 1])
    medinter = np.median(y) - medslope * np.median(x)
    if lower is None or not 0 <= lower < nt:
        return medslope, medinter, np.nan, np.nan
    return medslope, medinter, part[lower], part[upper]


def two_segment(x: np.ndarray, y: np.ndarray, moments: tuple | None = None) -> dict[str, float]:
    """Continuous two-segment (hinge) fit y = a + b x + c max(0, x - t), t searched over the data's dates.

    Returns the break year t with the least squared error, the growth per 2 years before and after it, and whether
    BIC prefers it to a single line by more than BIC_MARGIN (4 parameters against 2). Each candidate is solved in
    closed form from exactly rounded sums (no BLAS). `moments`: _moments(x, y) when the caller has them already.
    """
    empty = {
        "break_year": math.nan,
        "log10_at_break": math.nan,
        "n_before_break": 0,
        "n_after_break": 0,
        "growth_per_2y_before_break": math.nan,
        "growth_per_2y_before_break_ci_low": math.nan,
        "growth_per_2y_before_break_ci_high": math.nan,
        "growth_per_2y_after_break": math.nan,
        "growth_per_2y_after_break_ci_low": math.nan,
        "growth_per_2y_after_break_ci_high": math.nan,
        "break_supported": False,
    }
    if x.size < 2 * MIN_POINTS_PER_SEGMENT + 1:
        return empty
    if not bool((x[1:] >= x[:-1]).all()):  # the points of a fit come sorted by date already
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    n = x.size
    candidates = _unique_sorted(x[MIN_POINTS_PER_SEGMENT - 1 : n - MIN_POINTS_PER_SEGMENT])
    candidates = candidates[(candidates > x[0]) & (candidates < x[-1])]
    if candidates.size > MAX_BREAK_CANDIDATES:  # large series: search a quantile grid of the dates
        candidates = np.unique(np.quantile(candidates, np.linspace(0, 1, MAX_BREAK_CANDIDATES)))
    if n < 2 * MIN_POINTS_PER_SEGMENT + 1 or candidates.size == 0:
        return empty
    if n > HINGE_EXACT_MAX_POINTS:  # large series: rank the candidates cheaply, then fit the best one as below
        candidates = candidates[[_best_hinge(x, y, candidates)]]
    xm, ym, suu, suv, svv = moments or _moments(x, y)  # sums do not depend on the order of the points
    u = x - xm
    v = y - ym
    sse_line = max(svv - suv * suv / suu, 0.0)
    best = None
    for t in candidates:
        hinge = np.maximum(0.0, x - t)
        hbar = exact_sum(hinge) / n
        h = hinge - hbar
        shh, suh, shv = exact_sum(h * h), exact_sum(u * h), exact_sum(h * v)
        det = suu * shh - suh * suh
        if not det > 0:
            continue
        b = (shh * suv - suh * shv) / det  # slope before the break
        c = (suu * shv - suh * suv) / det  # change of slope at the break
        sse = max(svv - (b * suv + c * shv), 0.0)
        if best is None or sse < best[0]:
            best = (sse, float(t), b, c, hbar, suu, shh, suh, det)
    if best is None:
        return empty
    sse, t, b, c, hbar, suu_, shh, suh, det = best
    tiny = 1e-300
    bic_line = n * detmath.ln(max(sse_line, tiny) / n) + 2 * detmath.ln(n)
    bic_break = n * detmath.ln(max(sse, tiny) / n) + 4 * detmath.ln(n)
    # Intervals of both slopes, the break year taken as given (it was chosen from the data: the intervals are narrower
    # than an interval that also reflected that choice).
    sigma2 = sse / (n - 3)
    t_quantile = detmath.t975(n - 3)
    half_before = t_quantile * math.sqrt(sigma2 * shh / det)
    half_after = t_quantile * math.sqrt(max(sigma2 * (shh + suu_ - 2 * suh) / det, 0.0))
    return {
        "break_year": t,
        "log10_at_break": ym + b * (t - xm) - c * hbar,
        "n_before_break": int(np.count_nonzero(x <= t)),
        "n_after_break": int(np.count_nonzero(x > t)),
        "growth_per_2y_before_break": growth_per_2y(b),
        "growth_per_2y_before_break_ci_low": growth_per_2y(b - half_before),
        "growth_per_2y_before_break_ci_high": growth_per_2y(b + half_before),
        "growth_per_2y_after_break": growth_per_2y(b + c),
        "growth_per_2y_after_break_ci_low": growth_per_2y(b + c - half_after),
        "growth_per_2y_after_break_ci_high": growth_per_2y(b + c + half_after),
        "break_supported": bool(bic_line - bic_break > BIC_MARGIN),
    }


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """np.unique of an array sorted ascending, without sorting it again."""
    if values.size == 0 or np.isnan(values[-1]):
        return np.unique(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def _best_hinge(x: np.ndarray, y: np.ndarray, candidates: np.ndarray) -> int:
    """Index of the candidate break whose hinge fit has the least squared error, for x sorted ascending.

    The same least squares as two_segment's, from running sums over the points after each candidate (O(n) for all
    candidates, instead of one O(n) lstsq per candidate): with u = x - mean(x), v = y - mean(y) and the hinge
    h = max(0, u - tau), the error is Svv - b'S^-1 b for S the covariance of (u, h) and b their covariances with v."""
    n = x.size
    u, v = x - x.mean(), y - y.mean()
    suffix = [np.append(np.cumsum(a[::-1])[::-1], 0.0) for a in (u, u * u, u * v, v)]  # sums over points i..n-1
    su, suu, suv, sv = (s[np.searchsorted(x, candidates, side="right")] for s in suffix)
    tau = candidates - x.mean()
    count = n - np.searchsorted(x, candidates, side="right")
    sum_h = su - tau * count
    shh = suu - 2 * tau * su + tau * tau * count - sum_h * sum_h / n
    suh = suu - tau * su
    shv = suv - tau * sv
    uu, uv, vv = float((u * u).sum()), float((u * v).sum()), float((v * v).sum())
    det = uu * shh - suh * suh
    with np.errstate(divide="ignore", invalid="ignore"):
        explained = (shh * uv * uv - 2 * suh * uv * shv + uu * shv * shv) / det
    sse = np.where(det > 0, vv - explained, np.inf)
    return int(np.argmin(sse))


def fit_series(con: duckdb.DuckDBPyConnection, series: Series, selection: str) -> list[dict]:
    """Both methods (OLS, Theil-Sen) of one series under one selection, as rows of the fits table."""
    # Points that tie on both date and value may come in any order: they are the same (x, value) pair, so the arrays
    # are those of points_sql's order (x, value DESC, id), without sorting by id (a third of the time at 10^6 points)
    data = con.execute(f"SELECT x, value FROM ({points_sql(series, selection, order='x, value DESC')})").fetchnumpy()
    x = np.asarray(data["x"], dtype="float64")
    y = detmath.log10(np.asarray(data["value"], dtype="float64"))
    y = np.atleast_1d(y)
    distinct_x = _distinct_count(x)
    if distinct_x < 2:
        raise FitError(
            f"series {series.key} ({selection}): a growth fit needs at least 2 distinct dates; got "
            f"{distinct_x} among {x.size} points. Check its `where` and window in series.toml."
        )
    seed = zlib.crc32(f"{series.key}/{selection}".encode())
    # The bootstrap, Theil-Sen and the sums behind OLS and the two-segment search are independent and seeded; on a
    # large series the first two run in threads beside the others (numpy releases the GIL): the same numbers, sooner.
    pool = ThreadPoolExecutor(2) if x.size >= PARALLEL_MIN_POINTS else None
    try:
        if pool is not None:
            boot_future = pool.submit(bootstrap_interval, x, y, seed)
            robust_future = pool.submit(theil_sen, x, y, seed)
        sums = _moments(x, y)
        moments = ols_arrays(x, y, sums)
        segments = two_segment(x, y, sums)
        if pool is None:
            (boot_low, boot_high), robust = bootstrap_interval(x, y, seed), theil_sen(x, y, seed)
        else:
            (boot_low, boot_high), robust = boot_future.result(), robust_future.result()
    finally:
        if pool is not None:
            pool.shutdown()
    n, slope, intercept, r2 = moments["n"], moments["slope"], moments["intercept"], moments["r2"]
    start, end = float(x.min()), float(x.max())
    span = float(end - start)
    total_years = series.total_growth_years or round(span)
    common = {
        "series": series.name,
        "preset": series.preset,
        "selection": selection,
        "description": series.description + ("" if selection == series.selection else f" [{selection} selection]"),
        "table_name": series.table,
        "value_column": series.value,
        "value_unit": series.unit,
        "window_start_year": float(series.window_start),
        "window_end_year": float(series.window_end),
        "n": int(n),
        "start_year": float(start),
        "end_year": float(end),
        "total_growth_years": float(total_years),
        "r2": float(r2) if r2 is not None else math.nan,
        "paper_growth_per_2y": float(series.paper_growth_per_2y) if series.paper_growth_per_2y else math.nan,
    }
    ols = {
        **common,
        "method": "ols",
        "slope_log10_per_year": float(slope),
        "intercept_log10": float(intercept),
        "slope_stderr": moments["stderr"],
        "mean_year": sums[0],  # exact_sum(x) / x.size
        "residual_std_log10": moments["residual_std"],
        **describe_slope(float(slope), moments["stderr"], int(n)),
        "growth_per_2y_boot_ci_low": boot_low,
        "growth_per_2y_boot_ci_high": boot_high,
        "total_growth": detmath.pow10(float(slope) * total_years),
        **segments,
    }
    theil = {
        **common,
        "method": "theil_sen",
        "slope_log10_per_year": robust["slope"],
        "intercept_log10": robust["intercept"],
        "slope_stderr": math.nan,
        "growth_per_2y": growth_per_2y(robust["slope"]),
        "growth_per_2y_ci_low": robust["growth_per_2y_ci_low"],
        "growth_per_2y_ci_high": robust["growth_per_2y_ci_high"],
        "doubling_time_years": detmath.LOG10_2 / robust["slope"] if robust["slope"] > 0 else math.nan,
        "growth_per_2y_boot_ci_low": math.nan,
        "growth_per_2y_boot_ci_high": math.nan,
        "total_growth": detmath.pow10(robust["slope"] * total_years),
        "r2": math.nan,
        "mean_year": math.nan,
        "residual_std_log10": math.nan,
        **{k: v for k, v in two_segment(x[:0], y[:0]).items()},
    }
    return [ols, theil]


def run_fits(curated_dir: Path, series_list: list[Series] | None = None) -> pd.DataFrame:
    """Fit every declared series under both selections; one row per series, preset, selection and method."""
    series_list = series_list if series_list is not None else load_series()
    con = connect_curated(curated_dir)
    rows = []
    for series in (s for s in series_list if s.fit):
        for selection in SELECTIONS:
            rows += fit_series(con, series, selection)
    frame = pd.DataFrame(rows, columns=F.FITS.columns)
    for f in F.FITS.fields:  # what a table needs, free of differences in the last bits
        if f.dtype == "float64":
            frame[f.name] = detmath.round_sig(frame[f.name].to_numpy(dtype="float64"), STORED_DIGITS)
    return frame.sort_values(["preset", "series", "selection", "method"], kind="stable").reset_index(drop=True)


def format_rate(row: pd.Series | dict) -> str:
    """'3.0x / 2 yrs [2.6-3.4], n=37, 1996.1-2022.7' — a rate with its interval, selection size and span."""
    return (
        f"{format_ratio(row['growth_per_2y'])}x / 2 yrs [95% CI {format_ratio(row['growth_per_2y_ci_low'])}-"
        f"{format_ratio(row['growth_per_2y_ci_high'])}], n={int(row['n'])}, "
        f"{row['start_year']:.1f}-{row['end_year']:.1f}"
    )


def format_ratio(value: float) -> str:
    """A growth factor as printed: 3.0, 235, 1,058 (n/a when missing or not finite)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}"


def format_total(value: float) -> str:
    """Totals as the paper prints them: 60000x, 100x, 30x (two significant digits)."""
    if not np.isfinite(value):
        return "n/a"
    if value >= 10:
        digits = int(math.floor(math.log10(value))) - 1
        return f"{round(value, -digits):,.0f}".replace(",", "")
    return f"{value:.1f}"
