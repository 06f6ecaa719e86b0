"""memwall from Python: the curated tables as pandas DataFrames with proper types and their units attached.

    import memwall
    acc = memwall.load("accelerators")        # dates as datetime64, counts as nullable integers
    acc.attrs["units"]["memory_bandwidth_bytes_per_s"]          # 'B/s'
    acc.attrs["descriptions"]["memory_bandwidth_bytes_per_s"]   # one sentence
    memwall.tables()                          # the table names: accelerators, ..., models, fits
    con = memwall.connect()                   # a read-only DuckDB connection with every table, view and macro
    memwall.whatif("llama-3-70b", "nvidia-h100-sxm5-80gb", weights="int4", batch=8)   # what `memwall whatif` prints

Paths are resolved from this package, so it works from any working directory.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["connect", "load", "tables", "version", "whatif"]


def tables() -> list[str]:
    """The names of the curated tables."""
    from pipeline import fields as F

    return list(F.TABLES)


def version() -> str:
    """The dataset version of this checkout (VERSION)."""
    from pipeline import paths

    return paths.dataset_version()


def load(table: str, curated_dir: str | Path | None = None):
    """One curated table as a pandas DataFrame: date columns as datetime64[ns], integer columns as nullable Int64,
    booleans as nullable boolean, text as string; ``df.attrs`` holds ``units``, ``descriptions``, ``table`` and
    ``dataset_version``."""
    import pandas as pd
    import pyarrow.parquet as pq

    from pipeline import fields as F
    from pipeline import paths

    if table not in F.TABLES:
        import difflib

        close = difflib.get_close_matches(table, list(F.TABLES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown table {table!r}{hint} (tables: {', '.join(F.TABLES)})")
    folder = Path(curated_dir) if curated_dir is not None else paths.CURATED
    arrow = pq.read_table(folder / f"{table}.parquet")
    frame = arrow.to_pandas()
    spec = F.TABLES[table]
    for f in spec.fields:
        if f.dtype == "date":
            frame[f.name] = pd.to_datetime(frame[f.name])
        elif f.dtype == "int64":
            frame[f.name] = frame[f.name].astype("Int64")
        elif f.dtype == "bool":
            frame[f.name] = frame[f.name].astype("boolean")
        elif f.dtype == "string":
            frame[f.name] = frame[f.name].astype("string")
    frame.attrs = {
        "table": table,
        "description": spec.description,
        "dataset_version": (arrow.schema.metadata or {}).get(b"memwall.dataset_version", b"").decode(),
        "units": {f.name: f.unit for f in spec.fields},
        "descriptions": {f.name: f.description for f in spec.fields},
    }
    return frame


def connect(source: str = "auto"):
    """A read-only DuckDB connection to the dataset (the database file when it is current, else views over the
    Parquet files), with the views and macros of curated/memwall.duckdb."""
    from pipeline import query

    con, _ = query.connect(source)
    return con


def whatif(model_id: str, accelerator_id: str, amdahl_bits: float | None = None, **settings) -> dict:
    """The idealized cost of a model on an accelerator, as `memwall whatif --json` prints it (the same function):
    settings are weights, activations, kv_cache (formats), batch, prompt, generate, chips, tensor_parallel,
    pipeline_parallel. Raises pipeline.costmodel.engine.WhatIfError for an unknown id, a format the chip lacks or a
    model that does not fit."""
    from pipeline import paths
    from pipeline.costmodel import engine
    from pipeline.costmodel import whatif as answer

    return answer.answer(engine.Question(model_id, accelerator_id, **settings), paths.CURATED, amdahl_bits)
