"""The what-if section of curated/REPORT.md: numbers from the engine (pipeline/costmodel/engine.py) on the curated
tables, and every published measurement against its bound (validation.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.costmodel import engine as E
from pipeline.costmodel import validation
from pipeline.figures import escape

# The data-center flagships of each vendor line from the V100 on, in release order (ids of curated/accelerators).
FLAGSHIPS = (
    "nvidia-tesla-v100-sxm2-32gb",
    "nvidia-a100-sxm4-80gb",
    "nvidia-h100-sxm5-80gb",
    "nvidia-h200-sxm-141gb",
    "nvidia-b200",
    "nvidia-b300",
    "amd-instinct-mi250x",
    "amd-instinct-mi300x",
    "amd-instinct-mi325x",
    "amd-instinct-mi355x",
    "google-tpu-v4",
    "google-tpu-v5p",
    "google-tpu-v6e",
    "google-tpu-v7",
)
REFERENCE_70B = "llama-2-70b"
HOLD_MODELS = ("llama-3-1-70b", "llama-3-1-405b", "deepseek-v3", "kimi-k2")
AMDAHL_MODELS = ("llama-3-1-8b", "llama-3-1-70b", "llama-3-1-405b")


def _md(text: object) -> str:
    return escape.markdown(str(text))


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}"


def _flagships(accelerators: pd.DataFrame) -> pd.DataFrame:
    rows = accelerators.set_index("accelerator_id").reindex(
        [a for a in FLAGSHIPS if a in set(accelerators["accelerator_id"])]
    )
    return rows.reset_index()


def _sixteen_bit(chip: pd.Series) -> str | None:
    for fmt in ("bf16", "fp16"):
        if pd.notna(chip[E.PEAK_COLUMN[fmt]]):
            return fmt
    return None


def _case(model_id: str, chip: pd.Series, fmt: str, batch: float, context: float) -> dict:
    return {
        "model_id": model_id,
        "accelerator_id": chip["accelerator_id"],
        "weights_format": fmt,
        "activations_format": fmt,
        "kv_cache_format": fmt,
        "batch_size": batch,
        "prompt_tokens": context - 1,
        "generated_tokens": 1.0,
        "decode_context_tokens": context,
        "chips": 1.0,
        "tensor_parallel": 1.0,
        "pipeline_parallel": 1.0,
    }


def decode_70b(shapes, accelerators, models) -> str:
    chips = _flagships(accelerators)
    cases = [_case(REFERENCE_70B, c, _sixteen_bit(c), 1.0, 4096.0) for _, c in chips.iterrows() if _sixteen_bit(c)]
    frame = pd.DataFrame(cases)
    need = E.evaluate(frame, shapes, accelerators)["chips_to_hold"].to_numpy()
    frame["chips"] = frame["tensor_parallel"] = np.maximum(need, 1.0)
    r = E.evaluate(frame, shapes, accelerators)
    name = models.set_index("model_id").at[REFERENCE_70B, "name"]
    lines = [
        f"**How much slower than its compute bound is batch-1 decoding of a 70B-class model?** {name}, 16-bit weights "
        "and KV cache (BF16, else FP16), one token at a 4,096-token context, batch 1, on the fewest chips of each "
        "flagship that hold it (tensor parallel, interconnect time included where the link is in the dataset):",
        "",
        "| Accelerator | Year | Chips | Compute-bound ms | Memory-bound ms | Bound ms per token | × its compute bound "
        "| Tokens/s | Bound by |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    years = accelerators.set_index("accelerator_id")["release_date"]
    for row in r.itertuples():
        chip_name = accelerators.set_index("accelerator_id").at[row.accelerator_id, "name"]
        slowdown = row.time_per_output_token_s / row.decode_compute_time_s
        lines.append(
            f"| {_md(chip_name)} | {pd.Timestamp(years[row.accelerator_id]).year} | {int(row.chips)} "
            f"| {_ms(row.decode_compute_time_s)} | {_ms(row.decode_memory_time_s)} "
            f"| {_ms(row.time_per_output_token_s)} "
            f"| {slowdown:.0f}× | {row.output_tokens_per_s_per_system:.3g} | {row.decode_bound_by} |"
        )
    return "\n".join(lines)


def chips_to_hold(shapes, accelerators, models) -> str:
    chips = _flagships(accelerators)
    present = [m for m in HOLD_MODELS if m in set(shapes["model_id"])]
    names = models.set_index("model_id")["name"]
    lines = [
        "**How many chips just to hold the weights and a 32k-token KV cache?** Batch 1, 32,768 positions, 16-bit "
        "(BF16, else FP16) and 8-bit (FP8, else INT8) weights and KV cache; the fewest chips whose memory holds "
        "weights, KV cache and working activations:",
        "",
        "| Accelerator | Memory GB | " + " | ".join(f"{_md(names[m])} 16-bit / 8-bit" for m in present) + " |",
        "|---|---:|" + "---:|" * len(present),
    ]
    cases, where = [], []
    for c, (_, chip) in enumerate(chips.iterrows()):
        for m, model in enumerate(present):
            for p, formats in enumerate((("bf16", "fp16"), ("fp8", "int8"))):
                fmt = next((f for f in formats if pd.notna(chip[E.PEAK_COLUMN[f]])), None)
                if fmt is not None:
                    cases.append(_case(model, chip, fmt, 1.0, 32768.0))
                    where.append((c, m, p))
    need = E.chips_to_hold(pd.DataFrame(cases), shapes, accelerators)
    counts = {key: str(int(n)) for key, n in zip(where, need, strict=True)}
    for c, (_, chip) in enumerate(chips.iterrows()):
        cells = [" / ".join(counts.get((c, m, p), "–") for p in (0, 1)) for m in range(len(present))]
        lines.append(f"| {_md(chip['name'])} | {chip['memory_bytes'] / 1e9:.0f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("–: the chip has no published peak in that format.")
    return "\n".join(lines)


def low_bit(shapes, accelerators, models) -> str:
    chip = accelerators.set_index("accelerator_id").loc["nvidia-h100-sxm5-80gb"].copy()
    chip["accelerator_id"] = "nvidia-h100-sxm5-80gb"
    names = models.set_index("model_id")["name"]
    lines = [
        "**What can 1.58-bit weights buy?** Only the projection weights (attention and feed-forward matrices) go from "
        "16 to 1.58 bits; activations, the KV cache, embeddings and head stay 16-bit. Decode step on one H100's peak "
        "and bandwidth. Speed-up over 16-bit weights, and the Amdahl bound (the projections taking no time):",
        "",
        "| Model | Batch | Context | Projections' share of the step | Speed-up | Amdahl bound |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for model in AMDAHL_MODELS:
        for batch in (1.0, 16.0):
            cases = pd.DataFrame([_case(model, chip, "bf16", batch, c) for c in (2048.0, 32768.0)])
            result, _, _ = E.amdahl(cases, shapes, accelerators, weight_bits=1.58)
            for row in result.itertuples():
                lines.append(
                    f"| {_md(names[model])} | {int(batch)} | {int(row.decode_context_tokens):,} "
                    f"| {row.improved_fraction_before:.0%} | {row.speedup:.2f}× | {row.amdahl_bound:.2f}× |"
                )
    return "\n".join(lines)


def measurements_table(curated: Path) -> str:
    checked = validation.check(curated)
    usable = checked[checked["checkable"]]
    lines = [
        f"**The bound against every published measurement.** {len(checked)} measurements of "
        f"{checked['model_id'].nunique()} models on {checked['accelerator_id'].nunique()} accelerators "
        "(curated/measurements.parquet). A rate is bounded above and a time below by the engine; the achieved "
        "fraction is measured rate ÷ bound, or bound ÷ measured time. "
        f"{int((~usable['respects_bound']).sum())} of {len(usable)} checkable measurements beat their bound "
        f"(a test fails if one does); median achieved fraction {usable['achieved_fraction'].median():.0%}, range "
        f"{usable['achieved_fraction'].min():.1%}–{usable['achieved_fraction'].max():.0%}. "
        f"{int((~checked['checkable']).sum())} cannot be checked: their chip has no recorded peak in the format used.",
        "",
        "| Measurement | Metric | Measured | Bound | Achieved | Bound taken as |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in checked.itertuples():
        achieved = "–" if np.isnan(row.achieved_fraction) else f"{row.achieved_fraction:.0%}"
        bound = "–" if np.isnan(row.bound) else f"{row.bound:.4g}"
        lines.append(
            f"| [{_md(row.measurement_id)}]({escape.markdown_url(row.source_url)}) | {_md(row.metric)} "
            f"| {row.measured:.4g} | {bound} "
            f"| {achieved} | {_md(row.bound_taken_as)} |"
        )
    return "\n".join(lines)


PAPERS = (
    "**Checked against the two papers behind the engine.** *Idealized runtime* (Narayanan et al. 2023, "
    "arXiv 2305.02440): the numbers the authors release (HELM's `inference_idealized_runtimes.json`) are runtimes "
    "profiled with Megatron-LM in FP16 at batch 1 on A100s and fitted per model (a prompt cost plus a per-token "
    "slope), not an analytic bound. They are recorded as measurements for the two models whose shapes and GPU counts "
    "are public (GPT-J 6B and GPT-NeoX 20B, one A100 each): the engine's bound holds for all four, and the profiled "
    "times run at 27–60% of it (table above), the gap a 2022 software stack leaves at batch 1. Their other models "
    "are API models of undisclosed shape or lack a stated GPU count, so they cannot be reproduced. *Amdahl's law for "
    "1-bit LLMs* (Malekar, Elbtity, Zand 2024, arXiv 2408.11939): the paper's tables could not be read in this "
    "build's environment (only its abstract is stored), so no number of theirs is checked. Their setting also "
    "differs from the engine's: projection weights at 1-2 bits with INT8 activations on a simulated TPU-like "
    "systolic array, against 16-bit activations on a GPU roofline here. The form of the law is the same "
    "(S = 1 / ((1 − f) + f / s), with f the projections' share of the time and s their speed-up), and the "
    "figure `fig_amdahl_low_bit` shows the share f falling with context, as theirs does."
)


def markdown(curated: Path) -> str:
    shapes, accelerators, models = E.load(curated)
    return "\n\n".join(
        [
            "## What-if: idealized inference on every accelerator",
            "From the what-if engine (`pipeline/costmodel/engine.py`; `memwall whatif`; the `inference_bounds` table). "
            + E.IDEALIZED,
            decode_70b(shapes, accelerators, models),
            chips_to_hold(shapes, accelerators, models),
            low_bit(shapes, accelerators, models),
            measurements_table(curated),
            PAPERS,
        ]
    )
