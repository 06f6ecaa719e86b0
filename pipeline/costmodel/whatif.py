"""`memwall whatif`: one question to the engine (pipeline/costmodel/engine.py), answered as a table a person reads in
a terminal or as JSON. The Python API (memwall.whatif) and the CLI call the same `answer`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.costmodel import engine as E

GB = 1e9


def answer(question: E.Question, curated: Path, amdahl_bits: float | None = None) -> dict:
    """Everything the engine says about one question, as plain JSON-ready values."""
    shapes, accelerators, models = E.load(curated)
    row, prefill_ops, decode_ops = E.ask(question, shapes, accelerators)
    chip = accelerators.set_index("accelerator_id").loc[question.accelerator_id]
    model_name = models.set_index("model_id").at[question.model_id, "name"]
    out = {
        "model_id": question.model_id,
        "model": model_name,
        "accelerator_id": question.accelerator_id,
        "accelerator": chip["name"],
        "idealized": E.IDEALIZED,
        **{k: _plain(v) for k, v in row.items() if k not in ("model_id", "accelerator_id")},
        "tdp_watts": _plain(chip["tdp_watts"]),
        "prefill_operations_s": prefill_ops,
        "decode_operations_s": decode_ops,
    }
    if amdahl_bits is not None:
        case = E.resolve(question, shapes, accelerators)
        result, before, after = E.amdahl(case, shapes, accelerators, weight_bits=amdahl_bits)
        out["amdahl"] = {
            "projection_weight_bits": amdahl_bits,
            **{k: _plain(v) for k, v in result.iloc[0].items() if k not in ("model_id", "accelerator_id")},
            "fractions_before": {k: float(v[0]) for k, v in before.items()},
            "fractions_after": {k: float(v[0]) for k, v in after.items()},
        }
    return out


def answer_training(
    model_id: str,
    accelerator_id: str,
    chips: int,
    utilization: float,
    curated: Path,
    fmt: str = "bf16",
    sequence_tokens: int = 4096,
    tensor_parallel: int = 1,
) -> dict:
    shapes, accelerators, models = E.load(curated)
    t = E.training(
        model_id,
        accelerator_id,
        chips,
        utilization,
        shapes,
        accelerators,
        models,
        fmt,
        sequence_tokens,
        tensor_parallel,
    )
    return {
        "model_id": model_id,
        "accelerator_id": accelerator_id,
        "chips": chips,
        "utilization": utilization,
        "format": fmt,
        "sequence_tokens": sequence_tokens,
        "tensor_parallel": tensor_parallel,
        **{k: _plain(v) for k, v in t.__dict__.items()},
        "chip_memory_bytes": _plain(accelerators.set_index("accelerator_id").at[accelerator_id, "memory_bytes"]),
    }


def _plain(value):
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is pd.NA or value is None:
        return None
    return value


def _time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def text(a: dict) -> str:
    """The answer as lines for a terminal."""
    chips = int(a["chips"])
    lines = [
        f"{a['model']} on {chips} x {a['accelerator']} (tensor parallel {int(a['tensor_parallel'])}, pipeline "
        f"parallel {int(a['pipeline_parallel'])})",
        f"weights {a['weights_format']} ({a['weight_bits']:.3g} bit), activations {a['activations_format']}, KV cache "
        f"{a['kv_cache_format']}; batch {int(a['batch_size'])}, prompt {int(a['prompt_tokens'])} tokens, "
        f"{int(a['generated_tokens'])} generated",
        "",
        f"memory      weights {a['weights_bytes'] / GB:.3g} GB + KV cache {a['kv_cache_bytes'] / GB:.3g} GB + "
        f"activations {a['activations_bytes'] / GB:.3g} GB = {a['memory_footprint_bytes'] / GB:.3g} GB; "
        f"{chips} x {a['chip_memory_bytes'] / GB:.3g} GB available (the fewest chips that hold it: "
        f"{int(a['chips_to_hold'])})",
        f"prefill     {_time(a['prefill_time_s'])}, bound by {a['prefill_bound_by']} (compute "
        f"{_time(a['prefill_compute_time_s'])}, memory {_time(a['prefill_memory_time_s'])}, interconnect "
        f"{_time(a['prefill_interconnect_time_s'])})",
    ]
    if a["time_per_output_token_s"] is not None:
        lines += [
            f"decode      {_time(a['time_per_output_token_s'])} per output token, bound by {a['decode_bound_by']} "
            f"(compute {_time(a['decode_compute_time_s'])}, memory {_time(a['decode_memory_time_s'])}, interconnect "
            f"{_time(a['decode_interconnect_time_s'])}); mean context {a['decode_context_tokens']:.0f} tokens",
            f"throughput  {a['output_tokens_per_s_per_system']:.4g} output tokens/s per system, "
            f"{a['output_tokens_per_s_per_chip']:.4g} per chip; request latency {_time(a['request_latency_s'])}",
        ]
        if a["energy_per_output_token_j"] is not None:
            lines.append(
                f"energy      at most {a['energy_per_output_token_j']:.3g} J per output token ({chips} x "
                f"{a['tdp_watts']:.0f} W TDP over the decode step)"
            )
        lines += ["", "decode step by operation        time       share"]
        total = sum(a["decode_operations_s"].values())
        for name, seconds in sorted(a["decode_operations_s"].items(), key=lambda kv: -kv[1]):
            if seconds > 0:
                lines.append(f"  {name:<28} {_time(seconds):>10}  {seconds / total:6.1%}")
    if not a.get("interconnect_known", True):
        lines.append("note: the interconnect bandwidth of this chip is not in the dataset; its time is left out")
    if "amdahl" in a:
        m = a["amdahl"]
        lines += [
            "",
            f"Amdahl: projection weights in {m['projection_weight_bits']:.3g} bits (attention, KV cache, embeddings "
            "and head unchanged)",
            f"  the projections take {m['improved_fraction_before']:.1%} of the decode step; speed-up "
            f"{m['speedup']:.3g}x, at most {m['amdahl_bound']:.3g}x if they took no time",
        ]
    lines += ["", a["idealized"]]
    return "\n".join(lines) + "\n"


def training_text(t: dict) -> str:
    def chips(n):
        return "does not fit" if n is None else f"{n} chip{'s' if n != 1 else ''}"

    days = t["time_s"] / 86400
    return (
        "\n".join(
            [
                f"training {t['model_id']} on {t['chips']} x {t['accelerator_id']} at {t['utilization']:.0%} of the "
                f"{t['format']} peak",
                f"compute   {t['compute_flop']:.3g} FLOP ({t['compute_method']})",
                f"time      {days:.3g} days",
                f"memory    model states {t['model_state_bytes'] / GB:.4g} GB (16 bytes per parameter: 16-bit weights "
                "and gradients, FP32 master weights and Adam moments)"
                + (
                    f"; activations of one {t['sequence_tokens']}-token sequence, checkpointed: "
                    f"{t['activation_bytes_per_sequence'] / GB:.3g} GB, over {t['tensor_parallel']} tensor-parallel "
                    "chips"
                    if t["activation_bytes_per_sequence"] is not None
                    else ""
                ),
                f"chips     every state on every chip: {chips(t['chips_replicated'])}; optimizer state sharded "
                f"(ZeRO-1): {chips(t['chips_optimizer_sharded'])}; all states sharded (ZeRO-3): "
                f"{chips(t['chips_fully_sharded'])}",
                "",
                "Idealized: the stated utilization of the datasheet peak, no failures or restarts.",
            ]
        )
        + "\n"
    )
