"""Every published measurement (curated/measurements.parquet) against the engine's idealized bound for its settings.

A bound is an upper bound on a rate (tokens/s, FLOP/s, utilization) and a lower bound on a time (latency): a
measurement that beats it means the engine or a datum is wrong. Where the source leaves a setting out, the bound takes
the value that makes it loosest, so that it stays a bound:

- batch unknown (a maximum-throughput result): a rate is bounded by compute alone, every output token costing at least
  2 x active parameters FLOPs at the chips' peak; a latency by batch 1 (a larger batch only adds bytes and FLOPs);
- lengths unknown: a rate by the compute bound above; a latency by a 1-token prompt;
- parallelism unknown: no interconnect time (tensor x pipeline parallel not stated may have been pure data parallel);
- formats unknown: activations in the chip's widest-rate format the weights allow (weights' format if the chip has a
  peak for it), the KV cache as the activations.

The interconnect time of the engine (a ring all-reduce at the datasheet's per-direction bandwidth) is left out of the
check altogether: NVLink SHARP and similar in-network reductions halve that traffic, so the ring model is not a lower
bound. `achieved_fraction` is measured rate / bound rate, or bound time / measured time: 1 would be the ideal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.costmodel import engine as E
from pipeline.costmodel.shapes import Dims

RATE_METRICS = (
    "output_tokens_per_s_per_system",
    "output_tokens_per_s_per_chip",
    "total_tokens_per_s_per_system",
    "training_tokens_per_s_per_chip",
    "training_flops_per_s_per_chip",
    "model_flops_utilization",
)


def _formats(m: pd.DataFrame, accelerators: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    chips = accelerators.set_index("accelerator_id").loc[m["accelerator_id"]].reset_index()
    weights = m["weights_format"].astype("string")
    default = E.default_activations(chips, weights.fillna("bf16"))
    # weights in a compute format the chip has no recorded peak for (FP4 on a card whose tensor rates are not
    # published): the activations' format is unknown, and so is the bound
    lacking = weights.isin(E.COMPUTE_FORMATS).fillna(False) & (default != weights).fillna(True)
    activations = m["activations_format"].astype("string").fillna(default.where(~lacking.to_numpy()))
    weights = weights.fillna(activations)
    kv = m["kv_cache_format"].astype("string").fillna(activations)
    return weights, activations, kv


def check(curated: Path) -> pd.DataFrame:
    """One row per measurement: the bound, how it was taken, whether the measurement respects it, the achieved
    fraction."""
    m = pd.read_parquet(curated / "measurements.parquet")
    shapes = pd.read_parquet(curated / "model_shapes.parquet")
    accelerators = pd.read_parquet(curated / "accelerators.parquet")
    m = m[m["model_id"].isin(shapes["model_id"])].reset_index(drop=True)
    weights, activations, kv = _formats(m, accelerators)
    chips = m["chip_count"].astype("float64").to_numpy()
    pp = m["pipeline_parallel"].astype("float64").fillna(1.0).to_numpy()
    tp = m["tensor_parallel"].astype("float64").to_numpy()
    tp = np.where(np.isnan(tp), chips / pp, tp)
    replicas = chips / (tp * pp)
    batch_known = m["batch_size"].notna().to_numpy()
    prompt_known = m["input_tokens"].notna().to_numpy()
    batch = m["batch_size"].astype("float64").fillna(1.0).to_numpy()
    prompt = m["input_tokens"].astype("float64").fillna(1.0).to_numpy()
    generate = m["output_tokens"].astype("float64").fillna(1.0).to_numpy()
    cases = pd.DataFrame(
        {
            "model_id": m["model_id"],
            "accelerator_id": m["accelerator_id"],
            "weights_format": weights.astype(str),
            "activations_format": activations.astype(str),
            "kv_cache_format": kv.astype(str),
            # per replica: a data-parallel replica serves batch / replicas sequences
            "batch_size": np.maximum(batch / replicas, 1.0),
            "prompt_tokens": prompt,
            "generated_tokens": generate,
            "chips": tp * pp,
            # no interconnect time in the check: tensor parallel as one chip with tp x the peak and bandwidth
            "tensor_parallel": tp,
            "pipeline_parallel": pp,
        }
    )
    no_peak = np.array(
        [
            pd.isna(f) or pd.isna(accelerators.set_index("accelerator_id").at[a, E.PEAK_COLUMN.get(f, "name")])
            if f in E.PEAK_COLUMN or pd.isna(f)
            else True
            for f, a in zip(activations, m["accelerator_id"], strict=True)
        ]
    )
    cases["activations_format"] = activations.fillna("bf16").astype(str)
    r = E.evaluate(cases, shapes, accelerators)
    no_comm = {
        "prefill": r["prefill_time_s"] - r["prefill_interconnect_time_s"],
        "decode_latency": r["time_per_output_token_s"] - r["decode_interconnect_time_s"],
        "decode_period": r["decode_step_s"] - r["decode_interconnect_time_s"],
    }
    d = Dims(shapes.set_index("model_id").loc[m["model_id"]].reset_index())
    active = d.parameters(active=True)
    peak = r["peak_flops"].to_numpy()
    compute_rate = chips * peak / (2 * active)  # output tokens/s if every token cost only its weight FLOPs
    metric = m["metric"].to_numpy()
    phase = m["phase"].to_numpy()
    bound = np.full(len(m), np.nan)
    how = np.empty(len(m), dtype=object)
    end_to_end_period = no_comm["prefill"] + generate * no_comm["decode_period"]
    for i in range(len(m)):
        settings_known = batch_known[i] and prompt_known[i]
        if metric[i] in (
            "output_tokens_per_s_per_system",
            "output_tokens_per_s_per_chip",
            "total_tokens_per_s_per_system",
        ):
            per_chip = metric[i].endswith("per_chip")
            total = metric[i].startswith("total")
            if settings_known and phase[i] in ("end_to_end", "decode"):
                seqs = batch[i] / replicas[i]
                if phase[i] == "end_to_end":
                    tokens = seqs * (generate[i] + (prompt[i] if total else 0.0))
                    rate = replicas[i] * tokens / end_to_end_period.iat[i]
                    how[i] = "engine: prefill + generation at the stated batch and lengths"
                else:
                    rate = replicas[i] * seqs / no_comm["decode_period"].iat[i]
                    how[i] = "engine: decode at the stated batch and context"
            else:
                rate = compute_rate[i]
                how[i] = "compute only: 2 x active parameters FLOPs per token at peak (batch or lengths not stated)"
            bound[i] = rate / chips[i] if per_chip else rate
        elif metric[i] == "time_per_output_token":
            bound[i] = no_comm["decode_latency"].iat[i]
            how[i] = "engine: one decode step" + ("" if batch_known[i] else " at batch 1 (batch not stated)")
        elif metric[i] == "time_to_first_token":
            bound[i] = no_comm["prefill"].iat[i]  # batch 1 where not stated
            how[i] = "engine: prefill of the prompt" + ("" if prompt_known[i] else " of 1 token (length not stated)")
        elif metric[i] == "request_latency":
            bound[i] = no_comm["prefill"].iat[i] + generate[i] * no_comm["decode_latency"].iat[i]
            how[i] = "engine: prefill + one decode step per output token"
        elif metric[i] == "training_tokens_per_s_per_chip":
            bound[i] = peak[i] / (6 * active[i])
            how[i] = "6 x active parameters FLOPs per token at the chip's peak"
        elif metric[i] == "training_flops_per_s_per_chip":
            bound[i] = peak[i]
            how[i] = "the chip's peak"
        elif metric[i] == "model_flops_utilization":
            bound[i] = 1.0
            how[i] = "1 (the peak)"
    for i in np.flatnonzero(no_peak):
        bound[i] = np.nan
        fmt = activations.iat[i]
        how[i] = (
            f"not checkable: no peak for {fmt} arithmetic on this chip in the dataset"
            if pd.notna(fmt)
            else f"not checkable: {weights.iat[i]} weights on a chip with no recorded {weights.iat[i]} peak"
        )
    value = m["value"].to_numpy(dtype="float64")
    is_rate = np.isin(metric, RATE_METRICS)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(is_rate, value / bound, bound / value)
    out = pd.DataFrame(
        {
            "measurement_id": m["measurement_id"],
            "model_id": m["model_id"],
            "accelerator_id": m["accelerator_id"],
            "metric": m["metric"],
            "measured": value,
            "bound": bound,
            "bound_taken_as": how,
            "achieved_fraction": fraction,
            "checkable": ~np.isnan(bound),
            "respects_bound": np.where(np.isnan(bound), True, fraction <= 1.0 + 1e-9),
            "source_url": m["source_url"],
        }
    )
    return out
