"""The what-if grid: every shaped model on every data-center accelerator released from 2012, in three named scenarios
and two precisions -> curated/inference_bounds.parquet (fields.INFERENCE_BOUNDS). One vectorized call of
engine.evaluate over a few hundred thousand cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import detmath
from pipeline import fields as F
from pipeline.costmodel import engine as E

FIRST_YEAR = 2012
# scenario -> (batch, prompt tokens, decode context tokens or None for a prefill)
SCENARIOS = {
    "decode_batch1_4k": (1, 4095, 4096),
    "decode_batch64_4k": (64, 4095, 4096),
    "prefill_2k": (1, 2048, None),
}
# precision -> the formats tried, first available on the chip wins
PRECISIONS = {"16-bit": ("bf16", "fp16"), "8-bit": ("fp8", "int8")}


def accelerators_of_grid(accelerators: pd.DataFrame) -> pd.DataFrame:
    """Data-center accelerators (no CPUs, nothing cancelled) from FIRST_YEAR with a memory size and bandwidth."""
    a = accelerators
    keep = (
        (a["segment"] == "datacenter")
        & (a["kind"] != "cpu")
        & (a["status"] != "cancelled")
        & (a["release_fractional_year"] >= FIRST_YEAR)
        & a["memory_bytes"].notna()
        & a["memory_bandwidth_bytes_per_s"].notna()
    )
    return a[keep.fillna(False)].reset_index(drop=True)


def cases(shapes: pd.DataFrame, accelerators: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, accelerator, scenario, precision) the chip has a format for."""
    chips = accelerators_of_grid(accelerators)
    per_chip = []
    for precision, formats in PRECISIONS.items():
        fmt = pd.Series(pd.NA, index=chips.index, dtype="string")
        for f in formats:
            fmt = fmt.fillna(pd.Series(f, index=chips.index, dtype="string").where(chips[E.PEAK_COLUMN[f]].notna()))
        per_chip.append(pd.DataFrame({"accelerator_id": chips["accelerator_id"], "precision": precision, "fmt": fmt}))
    chip_formats = pd.concat(per_chip).dropna(subset=["fmt"])
    scenarios = pd.DataFrame(
        [(name, b, p, c) for name, (b, p, c) in SCENARIOS.items()],
        columns=["scenario", "batch_size", "prompt_tokens", "decode_context_tokens"],
    )
    grid = shapes[["model_id", "architecture"]].merge(chip_formats, how="cross").merge(scenarios, how="cross")
    # an encoder-only model does not decode
    grid = grid[~((grid["architecture"] == "encoder") & grid["scenario"].str.startswith("decode"))]
    grid = grid.sort_values(["model_id", "accelerator_id", "scenario", "precision"], kind="stable")
    return pd.DataFrame(
        {
            "model_id": grid["model_id"].to_numpy(),
            "accelerator_id": grid["accelerator_id"].to_numpy(),
            "scenario": grid["scenario"].to_numpy(),
            "precision": grid["precision"].to_numpy(),
            "weights_format": grid["fmt"].astype(str).to_numpy(),
            "activations_format": grid["fmt"].astype(str).to_numpy(),
            "kv_cache_format": grid["fmt"].astype(str).to_numpy(),
            "batch_size": grid["batch_size"].to_numpy(dtype="float64"),
            "prompt_tokens": grid["prompt_tokens"].to_numpy(dtype="float64"),
            "generated_tokens": np.where(grid["decode_context_tokens"].isna(), 0.0, 1.0),
            "decode_context_tokens": grid["decode_context_tokens"].to_numpy(dtype="float64"),
            "chips": 1.0,
            "tensor_parallel": 1.0,
            "pipeline_parallel": 1.0,
        }
    )


def build_grid(curated: Path) -> pd.DataFrame:
    shapes = pd.read_parquet(curated / "model_shapes.parquet")
    accelerators = pd.read_parquet(curated / "accelerators.parquet")
    models = pd.read_parquet(curated / "models.parquet", columns=["model_id", "release_fractional_year"])
    c = cases(shapes, accelerators)
    # the fewest chips that hold the footprint, then the bound on that many (all tensor parallel)
    need = E.chips_to_hold(c, shapes, accelerators)
    c["chips"] = c["tensor_parallel"] = np.maximum(need, 1.0)
    r = E.evaluate(c, shapes, accelerators)
    decode = c["scenario"].str.startswith("decode").to_numpy()
    step = np.where(decode, r["decode_step_s"], r["prefill_time_s"])
    tokens = np.where(decode, c["batch_size"], c["batch_size"] * c["prompt_tokens"])
    per_system = tokens / step
    accelerator_year = accelerators.set_index("accelerator_id")["release_fractional_year"]
    model_year = models.set_index("model_id")["release_fractional_year"]
    tdp = accelerators.set_index("accelerator_id")["tdp_watts"].reindex(c["accelerator_id"]).to_numpy()
    out = pd.DataFrame(
        {
            "model_id": c["model_id"],
            "accelerator_id": c["accelerator_id"],
            "scenario": c["scenario"],
            "precision": c["precision"],
            "weights_format": c["weights_format"],
            "batch_size": c["batch_size"].astype("int64"),
            "context_tokens": np.where(decode, c["decode_context_tokens"], c["prompt_tokens"]).astype("int64"),
            "model_release_fractional_year": c["model_id"].map(model_year).to_numpy(dtype="float64"),
            "accelerator_release_fractional_year": c["accelerator_id"].map(accelerator_year).to_numpy(dtype="float64"),
            "chips": r["chips"].astype("int64"),
            "weights_bytes": r["weights_bytes"],
            "kv_cache_bytes": np.where(decode, r["kv_cache_bytes"], np.nan),
            "memory_footprint_bytes": r["memory_footprint_bytes"],
            "step_flop": np.where(decode, r["decode_flop"], r["prefill_flop"]),
            "moved_bytes": np.where(decode, r["decode_moved_bytes"], r["prefill_moved_bytes"]),
            "compute_time_s": np.where(decode, r["decode_compute_time_s"], r["prefill_compute_time_s"]),
            "memory_time_s": np.where(decode, r["decode_memory_time_s"], r["prefill_memory_time_s"]),
            "interconnect_time_s": np.where(decode, r["decode_interconnect_time_s"], r["prefill_interconnect_time_s"]),
            "step_time_s": step,
            "bound_by": np.where(decode, r["decode_bound_by"], r["prefill_bound_by"]),
            "tokens_per_s_per_system": per_system,
            "tokens_per_s_per_chip": per_system / r["chips"],
            "energy_per_token_joules": r["chips"] * tdp * step / tokens,
            "interconnect_known": r["interconnect_known"],
        }
    ).reset_index(drop=True)
    assert list(out.columns) == F.INFERENCE_BOUNDS.columns
    for f in F.INFERENCE_BOUNDS.fields:
        if f.dtype == "float64":
            out[f.name] = detmath.round_bits(out[f.name].to_numpy(dtype="float64"))
    return out
