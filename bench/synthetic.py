"""Synthetic raw/ trees for the benchmark's scale sweep, derived from the field registry so that they cannot rot.

    write_synthetic_raw(root, models, accelerators)

writes root/raw/ (and root/VERSION): a copy of this checkout's whole raw/ tree (every table of fields.RAW_TABLES
with its real, valid rows: memory technologies, interconnects, model shapes, measurements, the reference lists),
plus `models` synthetic rows in raw/models/synthetic.csv and `accelerators` synthetic rows in
raw/accelerators/synthetic.csv. The real models and accelerators stay, so every id that model_shapes, measurements,
the sparse-headline guard and series.toml name exists.

The header of each synthetic file is the table's `raw_columns` in pipeline/fields.py, read when the data is written.
Columns with a generator below get realistic cells (valid values as the sources print them, trends over the years,
noise); a column added to the registry since gets a valid default from its parser (empty when optional), and a note
on stderr names it, so a schema change never breaks the benchmark silently: tests/test_bench.py ingests and fits a
tiny tree on every `make test`.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the benchmark's own process stays small
    import numpy as np
    import pandas as pd

    from pipeline import fields as F

REPO = Path(__file__).resolve().parent.parent
SYNTHETIC_FILE = "synthetic.csv"
NOTE = "Synthetic row, written by the benchmark."


@dataclass
class Context:
    """What the generators of one table share: the row count, the random generator and cross-table facts."""

    n: int
    rng: np.random.Generator
    years: np.ndarray  # release date as a fractional year, per row
    noise: np.ndarray  # per-row noise around the trends (log10 units)
    accelerator_ids: np.ndarray  # every accelerator id (real and synthetic), for references
    synthetic_accelerator_ids: np.ndarray  # those with an FP32 peak for sure (hardware compute needs one)
    columns: dict  # cells generated so far, by raw column (generators may depend on earlier ones)


# ---------------------------------------------------------------------------------------------------- cells


def _dates(years: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fractional years -> 'YYYY-MM-DD' strings, a tenth as 'YYYY-MM' and a twentieth as 'YYYY'."""
    import numpy as np

    whole = np.floor(years).astype("int64")
    days = ((years - whole) * 365).astype("int64")
    stamps = (whole - 1970).astype("datetime64[Y]").astype("datetime64[D]") + days
    text = np.datetime_as_string(stamps, unit="D").astype(object)
    precision = rng.random(years.size)
    month, year = precision <= 0.1, precision <= 0.05
    text[month] = [t[:7] for t in text[month]]
    text[year] = [t[:4] for t in text[year]]
    return text


def _quantity(log10_values: np.ndarray, unit: str, factor: float, present: np.ndarray | None = None) -> np.ndarray:
    """Values (given as log10 of base units) written as the sources print them: '123.4 TFLOP/s'."""
    import numpy as np

    text = np.char.add(np.char.mod("%.4g", 10.0**log10_values / factor), f" {unit}").astype(object)
    if present is not None:
        text[~present] = ""
    return text


def _trend(ctx: Context, start: float, per_year: float, low: float, high: float, since: float) -> np.ndarray:
    import numpy as np

    return np.clip(start + per_year * (ctx.years - since) + ctx.noise, low, high)


def _choice(ctx: Context, options: list[str], p: list[float] | None = None) -> np.ndarray:
    return ctx.rng.choice(options, ctx.n, p=p).astype(object)


def _where(mask: np.ndarray, yes, no) -> np.ndarray:
    import numpy as np

    return np.where(mask, yes, no).astype(object)


def _numbered(pattern: str, n: int) -> list[str]:
    return [pattern.format(i) for i in range(n)]


Generator = Callable[[Context], "np.ndarray | list[str] | str"]


def _accelerator_generators() -> dict[str, Generator]:
    import numpy as np

    def fp32(c: Context) -> np.ndarray:
        return _trend(c, 9.0, 0.25, 6.5, 16.0, 1996)

    def host_link(c: Context) -> np.ndarray:  # no scale-up link: the bandwidth comes from the PCIe host interface
        return c.columns.setdefault("_host_link", c.rng.random(c.n) < 0.4)

    def unpublished_bandwidth(c: Context) -> np.ndarray:  # memory bandwidth left empty, listed in not_published
        return c.columns.setdefault("_unpublished", c.rng.random(c.n) < 0.05)

    def peak(offset: float, unit: str, factor: float, since_year: float | None = None) -> Generator:
        return lambda c: _quantity(fp32(c) + offset, unit, factor, None if since_year is None else c.years > since_year)

    return {
        "accelerator_id": lambda c: _numbered("synthetic-accelerator-{}", c.n),
        "name": lambda c: _numbered("Synthetic Accelerator {}", c.n),
        "vendor": lambda c: _choice(c, ["NVIDIA", "AMD", "Google", "Intel"]),
        "kind": lambda c: _choice(c, ["gpu", "tpu", "npu", "other", "cpu"], [0.5, 0.15, 0.15, 0.1, 0.1]),
        "segment": lambda c: _choice(c, ["datacenter", "consumer", "workstation"], [0.6, 0.3, 0.1]),
        "release_date": lambda c: _dates(c.years, c.rng),
        "peak_fp64": peak(-0.3, "TFLOP/s", 1e12),
        "peak_fp32": peak(0.0, "GFLOP/s", 1e9),
        "peak_tf32": peak(0.3, "TFLOP/s", 1e12, 2020),
        "peak_fp16": peak(0.6, "TFLOP/s", 1e12),
        "peak_bf16": peak(0.6, "TFLOP/s", 1e12, 2018),
        "peak_fp8": peak(0.9, "PFLOP/s", 1e15, 2022),
        "peak_int8": peak(0.9, "TOP/s", 1e12, 2017),
        "peak_fp4": peak(0.95, "PFLOP/s", 1e15, 2024),
        "memory_capacity": lambda c: _quantity(_trend(c, 8.0, 0.13, 5.5, 12.5, 1996), "GiB", 2.0**30),
        "memory_type": lambda c: _choice(c, ["GDDR5", "GDDR6", "HBM2", "HBM2E", "HBM3", "DDR4", "SRAM"]),
        "memory_bus_width": lambda c: np.char.add(c.rng.choice([256, 384, 4096, 5120], c.n).astype(str), " bit"),
        "memory_bandwidth": lambda c: _quantity(
            _trend(c, 9.5, 0.1, 6.5, 16.0, 1996), "GB/s", 1e9, ~unpublished_bandwidth(c)
        ),
        "interconnect_name": lambda c: _where(host_link(c), "", "NVLink 4.0"),
        "interconnect_bandwidth": lambda c: _quantity(_trend(c, 9.0, 0.1, 6.5, 16.0, 1996), "GB/s", 1e9, ~host_link(c)),
        "interconnect_bandwidth_direction": lambda c: _where(
            host_link(c), "", _choice(c, ["bidirectional", "per_direction"])
        ),
        "host_interface": lambda c: _where(
            host_link(c), _choice(c, ["PCIe 3.0 x16", "PCIe 4.0 x16", "PCIe 5.0 x8"]), _choice(c, ["SXM5", "OAM"])
        ),
        "tdp": lambda c: np.char.add(c.rng.integers(10, 1000, c.n).astype(str), " W"),
        "process_node": lambda c: "TSMC N5",
        "dies_per_device": lambda c: _where(c.rng.random(c.n) < 0.1, "2", ""),
        "status": lambda c: _choice(c, ["shipping", "announced", "cancelled"], [0.9, 0.08, 0.02]),
        "not_published": lambda c: _where(unpublished_bandwidth(c), "memory_bandwidth", ""),
        "not_applicable": lambda c: "",
        "source_url": lambda c: _numbered("https://example.com/datasheets/synthetic-accelerator-{}", c.n),
        "source_kind": lambda c: "datasheet",
        "notes": lambda c: NOTE,
    }


def _model_generators() -> dict[str, Generator]:
    import numpy as np

    def domain(c: Context) -> np.ndarray:
        return c.columns["domain"]

    def architecture(c: Context) -> np.ndarray:
        return c.columns["architecture"]

    def parameters(c: Context) -> np.ndarray:
        return c.columns.setdefault("_parameters", _trend(c, 7.0, 0.4, 3.5, 14.0, 2012))

    def method(c: Context) -> np.ndarray:
        # 6ND and hardware compute are computed by ingest: their training_compute cells stay empty
        return c.columns["training_compute_method"]

    def hardware(c: Context) -> np.ndarray:
        return method(c) == "hardware"

    def trained_on(c: Context) -> np.ndarray:
        cells = _where(c.rng.random(c.n) < 0.3, c.rng.choice(c.accelerator_ids, c.n), "")
        # hardware compute needs an accelerator with a 16-bit-or-wider peak: every synthetic one has an FP32 peak
        cells[hardware(c)] = c.rng.choice(c.synthetic_accelerator_ids, int(hardware(c).sum()))
        return cells

    return {
        "model_id": lambda c: _numbered("synthetic-model-{}", c.n),
        "name": lambda c: _numbered("Synthetic Model {}", c.n),
        "organization": lambda c: _choice(c, ["Lab A", "Lab B", "University C"]),
        "release_date": lambda c: _dates(c.years, c.rng),
        "domain": lambda c: _choice(
            c, ["language", "vision", "multimodal", "speech", "recommendation"], [0.6, 0.2, 0.1, 0.08, 0.02]
        ),
        "architecture": lambda c: _choice(
            c, ["transformer", "moe_transformer", "cnn", "rnn", ""], [0.5, 0.15, 0.2, 0.1, 0.05]
        ),
        "is_recommender": lambda c: _where(domain(c) == "recommendation", "true", "false"),
        "is_language_model": lambda c: _where(np.isin(domain(c), ["language", "multimodal"]), "true", "false"),
        "parameters": lambda c: _quantity(parameters(c), "billion", 1e9),
        "active_parameters": lambda c: _quantity(
            parameters(c) - 1, "billion", 1e9, architecture(c) == "moe_transformer"
        ),
        "training_compute_method": lambda c: _choice(
            c,
            ["reported", "third_party", "6ND", "hardware", ""],
            [0.45, 0.15, 0.25, 0.05, 0.1] if c.synthetic_accelerator_ids.size else [0.5, 0.15, 0.25, 0.0, 0.1],
        ),
        "training_compute": lambda c: _quantity(
            _trend(c, 17.0, 0.6, 10.0, 27.0, 2012), "FLOP", 1.0, np.isin(method(c), ["reported", "third_party"])
        ),
        "training_compute_source_url": lambda c: _where(
            c.rng.random(c.n) < 0.1, "https://epoch.ai/data/notable-ai-models", ""
        ),
        "training_tokens": lambda c: _quantity(_trend(c, 9.0, 0.3, 4.0, 14.0, 2012), "billion", 1e9),
        "training_chip_count": lambda c: _where(hardware(c), c.rng.integers(8, 20_000, c.n).astype(str), ""),
        "training_duration": lambda c: _where(
            hardware(c), np.char.add(c.rng.integers(2, 120, c.n).astype(str), " days"), ""
        ),
        "training_utilization": lambda c: _where(
            hardware(c), np.char.add(c.rng.integers(20, 60, c.n).astype(str), " %"), ""
        ),
        "trained_on": trained_on,
        "status": lambda c: _choice(c, ["released", "unreleased", "preview"], [0.9, 0.09, 0.01]),
        "source_url": lambda c: _numbered("https://example.org/papers/synthetic-model-{}", c.n),
        "source_kind": lambda c: "paper",
        "notes": lambda c: NOTE,
    }


def _default_cells(table: F.Table, f: F.Field, ctx: Context) -> np.ndarray | list[str] | str:
    """A valid cell for a column that has no generator: empty if optional, else a value its parser accepts."""
    if not f.required:
        return ""
    if f.parse == "id":
        return _numbered(f"synthetic-{table.name.replace('_', '-')}-{{}}", ctx.n)
    if f.parse == "enum":
        return f.choices[0]
    if f.parse == "bool":
        return "false"
    if f.parse == "date":
        return _dates(ctx.years, ctx.rng)
    if f.parse == "url":
        return "https://example.com/synthetic"
    if f.parse == "integer":
        return str(int(max(1, f.bounds[0] if f.bounds else 1)))
    if f.parse == "ref" and f.ref == "accelerators.accelerator_id":
        return ctx.rng.choice(ctx.accelerator_ids, ctx.n)
    if f.parse.startswith("quantity:"):
        import math

        from pipeline import units

        dimension = units.DIMENSIONS[f.parse.split(":", 1)[1]]
        unit, factor = min(dimension.units.items(), key=lambda item: abs(math.log10(item[1])))
        low, high = f.bounds or (1.0, 1.0)
        return f"{math.sqrt(low * high) / factor:.4g} {unit}"
    return "Synthetic"


def synthetic_table(
    table: F.Table, generators: dict[str, Generator], n: int, ctx: Context, warn: bool = True
) -> pd.DataFrame:
    """n rows of `table`'s raw columns, in the registry's order: generated cells, or a default by parser."""
    import numpy as np
    import pandas as pd

    # The domain and compute method first: the cells of other columns depend on them
    order = sorted(table.raw_columns, key=lambda c: c not in ("domain", "architecture", "training_compute_method"))
    for column in order:
        f = next(f for f in table.fields if f.raw == column)
        if column in generators:
            cells = generators[column](ctx)
        else:
            if warn:
                print(f"bench: no generator for {table.name}.{column}; writing defaults", file=sys.stderr)
            cells = _default_cells(table, f, ctx)
        ctx.columns[column] = np.asarray(cells, dtype=object) if not isinstance(cells, str) else cells
    return pd.DataFrame({c: ctx.columns[c] for c in table.raw_columns}, index=pd.RangeIndex(n))


def _real_ids(raw: Path, table: F.Table) -> list[str]:
    import csv

    key = next(f.raw for f in table.fields if f.name == table.key)
    ids = []
    for path in sorted(raw.glob(table.raw_glob)):
        with path.open(encoding="utf-8", newline="") as handle:
            ids += [row[key] for row in csv.DictReader(handle)]
    return ids


def write_synthetic_raw(root: Path, models: int, accelerators: int, seed: int = 8) -> dict[str, int]:
    """root/raw/: the real raw/ tree plus synthetic models and accelerators; root/VERSION. Returns row counts per
    table (real + synthetic)."""
    import numpy as np

    from pipeline import fields as F

    rng = np.random.default_rng(seed)
    raw = root / "raw"
    shutil.copytree(REPO / "raw", raw, dirs_exist_ok=True)
    shutil.copy2(REPO / "VERSION", root / "VERSION")
    for name in F.RAW_TABLES:  # every raw table has its real file(s): the small ones are used as they are
        if not list(raw.glob(F.TABLES[name].raw_glob)):
            raise RuntimeError(f"raw/{F.TABLES[name].raw_glob}: no file for table {name} in {REPO / 'raw'}")
    real_accelerators = _real_ids(raw, F.ACCELERATORS)
    counts = {name: len(_real_ids(raw, F.TABLES[name])) for name in F.RAW_TABLES}

    def context(n: int, first: float, last: float, noise: float, ids: np.ndarray, synthetic: np.ndarray) -> Context:
        return Context(n, rng, rng.uniform(first, last, n), rng.normal(0, noise, n), ids, synthetic, {})

    no_ids = np.array([], dtype=object)
    acc = synthetic_table(
        F.ACCELERATORS, _accelerator_generators(), accelerators, context(accelerators, 1996, 2026, 0.3, no_ids, no_ids)
    )
    synthetic_ids = acc["accelerator_id"].to_numpy(dtype=object)
    ids = np.array([*real_accelerators, *synthetic_ids], dtype=object)
    mod = synthetic_table(F.MODELS, _model_generators(), models, context(models, 2012, 2026, 0.5, ids, synthetic_ids))
    for frame, table in ((acc, F.ACCELERATORS), (mod, F.MODELS)):
        folder = raw / Path(table.raw_glob).parent
        frame.to_csv(folder / SYNTHETIC_FILE, index=False, lineterminator="\n")
        counts[table.name] += len(frame)
    return counts
