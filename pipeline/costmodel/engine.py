"""What-if: the idealized cost of running any shaped model (curated/model_shapes.parquet) on any accelerator
(curated/accelerators.parquet), vectorized over as many cases as asked at once.

Idealized means a lower bound on time: no kernel launch or framework overhead, perfect overlap of compute and memory
traffic within an operation (each operation takes max(FLOPs / peak FLOP/s, bytes / memory bandwidth)), operations one
after another, every weight read once per forward step, fused attention (scores never leave the chip: K and V are read
once per step, written once), perfect tensor-parallel splitting, ring all-reduces over the accelerator's interconnect
(per direction) that do not overlap compute, peak figures from the datasheet. A measured run is slower: the
`measurements` table records how much (tests/test_whatif.py asserts no measurement beats its bound).

Number formats. Weights of the blocks' linear layers are stored in `weights_format` (a format below the activations'
is weight-only quantization: dequantized on the fly, multiplied in the activations' format); embeddings, the output
head and norms stay in the activations' format; the KV cache is stored in `kv_cache_format`. Matrix products run at the
accelerator's peak for the activations' format: a chip without that peak is an error naming the formats it has.
Element-wise work is charged at the same peak (it is memory-bound in every case that matters).

A step processes `new` tokens for each of `batch` sequences whose cache already holds `ctx0` positions:
prefill is new = prompt, ctx0 = 0; a decode step is new = 1 at context ctx0 + 1. The time per output token of a
generation of G tokens is the decode step at the mean context prompt + (G + 1) / 2: every cost of a step is linear in
the context (sliding windows aside), so this equals the mean over the G steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline import detmath
from pipeline.costmodel.shapes import Dims

# Bits per value of each format a weight can be stored in. Compute formats are those with a peak column.
FORMAT_BITS = {
    "fp32": 32.0,
    "tf32": 32.0,  # stored as FP32, multiplied at TF32 rate
    "bf16": 16.0,
    "fp16": 16.0,
    "fp8": 8.0,
    "int8": 8.0,
    "int4": 4.0,
    "fp4": 4.0,
    "int2": 2.0,
    "ternary": math.log2(3),  # 1.58 bits: BitNet b1.58
}
PEAK_COLUMN = {
    "fp32": "peak_fp32_flops",
    "tf32": "peak_tf32_flops",
    "bf16": "peak_bf16_flops",
    "fp16": "peak_fp16_flops",
    "fp8": "peak_fp8_flops",
    "int8": "peak_int8_ops",
    "fp4": "peak_fp4_flops",
}
COMPUTE_FORMATS = tuple(PEAK_COLUMN)
# Element-wise FLOPs per value: a norm, the softmax, the FFN's activation, a residual add.
NORM_FLOPS = 5.0
SOFTMAX_FLOPS = 5.0
ACTIVATION_FLOPS = 8.0
# Bytes per parameter to train with Adam in mixed precision (ZeRO, Rajbhandari et al. 2020, section 3.1): 16-bit
# weights and gradients (2 + 2) and FP32 master weights, momentum and variance (4 + 4 + 4).
WEIGHT_GRADIENT_BYTES = 4.0
OPTIMIZER_BYTES = 12.0
IDEALIZED = (
    "Idealized lower bound: no kernel or framework overheads, compute and memory traffic overlap perfectly within "
    "each operation, weights read once per step, fused attention, perfect tensor-parallel split, datasheet peaks."
)
OPERATIONS = (
    "embedding",
    "attention projections",
    "attention (global)",
    "attention (local)",
    "cross-attention",
    "feed-forward",
    "experts",
    "norms and residuals",
    "output head",
)
# The operations a partial improvement of "the projection weights" touches (Amdahl's law).
PROJECTIONS = ("attention projections", "feed-forward", "experts")


class WhatIfError(ValueError):
    """A question the engine cannot answer as asked (unknown id, format the chip lacks, does not fit)."""


@dataclass
class Ops:
    """FLOPs and bytes of each operation, one array entry per case (whole system, one step)."""

    flops: dict[str, np.ndarray] = field(default_factory=dict)
    weight_bytes: dict[str, np.ndarray] = field(default_factory=dict)
    activation_bytes: dict[str, np.ndarray] = field(default_factory=dict)
    kv_bytes: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, name: str, flops, weight_bytes=0.0, activation_bytes=0.0, kv_bytes=0.0, count=1.0) -> None:
        for store, value in (
            (self.flops, flops),
            (self.weight_bytes, weight_bytes),
            (self.activation_bytes, activation_bytes),
            (self.kv_bytes, kv_bytes),
        ):
            store[name] = store.get(name, 0.0) + np.asarray(value, dtype="float64") * count

    def bytes(self, name: str) -> np.ndarray:
        return self.weight_bytes[name] + self.activation_bytes[name] + self.kv_bytes[name]

    @property
    def names(self) -> list[str]:
        return list(self.flops)


def _attended(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Sum over positions j = 1..x of min(j, window): query-key pairs of x causal positions (window NaN: none)."""
    w = np.where(np.isnan(window), x, np.minimum(window, x))  # no window, or a window wider than x: all pairs
    return w * (w + 1) / 2 + (x - w) * w


def step_ops(
    d: Dims,
    batch: np.ndarray,
    new: np.ndarray,
    ctx0: np.ndarray,
    cross: np.ndarray,
    weight_bits: np.ndarray,
    activation_bytes: np.ndarray,
    kv_bits: np.ndarray,
    encoder_pass: np.ndarray,
) -> Ops:
    """The operations of one step of every case: `new` tokens for each of `batch` sequences after `ctx0` cached
    positions. `encoder_pass`: run the encoder stack over `new` tokens (an encoder-only model, or the prefill of an
    encoder-decoder model) instead of (encoder-only) or before (encoder-decoder) the decoder. `cross`: positions the
    decoder's cross-attention reads (encoder-decoder models)."""
    ops = Ops()
    e, wb, kb = activation_bytes, weight_bits / 8.0, kv_bits / 8.0
    n = batch * new
    dm, h = d.d, d.heads
    kv_width = np.where(d.mla, d.kv_lora + d.rope_dim, 2 * d.kv_heads * d.head_dim)
    qk_dim = np.where(d.mla, d.kv_lora + d.rope_dim, d.head_dim)  # MLA decodes with the up-projections absorbed
    v_dim = np.where(d.mla, d.kv_lora, d.head_dim)
    attention_params = d.attention_weights()
    decoder_runs = d.decoder | ~encoder_pass  # an encoder-only model runs only its encoder
    dec_layers = np.where(d.architecture == "encoder", 0.0, d.layers)
    enc_layers = np.where(d.architecture == "encoder", d.layers, d.encoder_layers) * encoder_pass

    def block(tokens, layers, global_layers, local_layers, seqs, fresh, before, bidirectional):
        """Self-attention and feed-forward blocks of one stack: `tokens` processed, `seqs` sequences of `fresh` new
        positions after `before` cached ones."""
        proj_act = tokens * (dm + d.q_out() + kv_width + h * d.v_dim + dm) * e
        ops.add("attention projections", 2 * tokens * attention_params, attention_params * wb, proj_act, 0.0, layers)
        total = before + fresh
        for name, count, window in (
            ("attention (global)", global_layers, np.full(d.n, np.nan)),
            ("attention (local)", local_layers, d.window),
        ):
            causal_pairs = _attended(total, window) - _attended(before, window)
            span = np.where(np.isnan(window), total, np.minimum(total, window))
            pairs = fresh * span if bidirectional else causal_pairs
            held = np.where(np.isnan(window), before, np.minimum(before, window))  # cached positions read
            flops = seqs * h * pairs * (2 * qk_dim + 2 * v_dim + SOFTMAX_FLOPS)
            kv = seqs * (held + fresh) * kv_width * kb  # new K/V written, cache read once
            act = tokens * (d.q_out() + h * d.v_dim) * e
            ops.add(name, flops, 0.0, act, kv, count)
        dense = d.dense_ffn_weights()
        ffn_act = tokens * (2 * dm + d.ffn * (d.ffn_matrices - 1) + d.ffn) * e
        ops.add(
            "feed-forward",
            2 * tokens * dense + ACTIVATION_FLOPS * tokens * d.ffn,
            dense * wb,
            ffn_act,
            0.0,
            layers - np.where(layers > 0, d.moe_layers, 0.0),
        )
        ops.add("norms and residuals", (2 * NORM_FLOPS + 2) * tokens * dm, 0.0, 10 * tokens * dm * e, 0.0, layers)

    # encoder stack (bidirectional over the new tokens)
    enc_tokens = n * encoder_pass
    block(enc_tokens, enc_layers, enc_layers, 0.0, batch * encoder_pass, new * encoder_pass, 0.0, True)
    # decoder stack (causal); an encoder-decoder model's prefill leaves it (its first decode step starts it)
    runs_decoder = decoder_runs & ~((d.encoder_layers > 0) & encoder_pass)
    dec_tokens = n * runs_decoder
    self_new = np.where(d.encoder_layers > 0, np.minimum(new, 1.0), new) * runs_decoder
    self_before = np.where(d.encoder_layers > 0, np.maximum(ctx0 - cross, 0.0), ctx0) * runs_decoder
    windowed = ~np.isnan(d.window)
    global_layers = np.where(windowed, np.floor(dec_layers / d.global_every), dec_layers) * runs_decoder
    local_layers = dec_layers * runs_decoder - global_layers
    block(
        dec_tokens,
        dec_layers * runs_decoder,
        global_layers,
        local_layers,
        batch * runs_decoder,
        self_new,
        self_before,
        False,
    )
    # mixture-of-experts layers of the decoder (or of the encoder-only stack)
    moe_layers = d.moe_layers * np.where(d.architecture == "encoder", encoder_pass, runs_decoder)
    moe_tokens = np.where(d.architecture == "encoder", enc_tokens, dec_tokens)
    # (1 - k/E)^n through detmath (the C library's pow may differ in its last bit from one CPU to another)
    untouched = np.clip(1 - d.experts_per_token / np.maximum(d.experts, 1), 1e-300, 1)
    touched_fraction = 1 - detmath.exp(moe_tokens * detmath.ln(untouched))
    touched = d.experts * touched_fraction  # expected distinct experts that n tokens route to
    expert, shared, router = d.expert_weights(), d.shared_weights(), d.router_weights()
    routed_act = moe_tokens * d.experts_per_token * (2 * dm + d.expert_ffn * d.ffn_matrices)
    shared_act = moe_tokens * d.shared_experts * (2 * dm + d.shared_ffn * d.ffn_matrices)
    ops.add(
        "experts",
        2 * moe_tokens * (d.experts_per_token * expert + shared + router)
        + ACTIVATION_FLOPS * moe_tokens * (d.experts_per_token * d.expert_ffn + d.shared_experts * d.shared_ffn),
        (touched * expert + shared + router) * wb,
        (routed_act + shared_act) * e,
        0.0,
        moe_layers,
    )
    # cross-attention of an encoder-decoder decoder: its projections (K and V of the encoder's output are computed
    # at prefill and cached, so a decode step projects only its query and output) and the reads of the cached K/V
    has_cross = (d.encoder_layers > 0) & runs_decoder
    cross_layers = np.where(has_cross, d.layers, 0.0)
    ops.add(
        "cross-attention",
        2 * dec_tokens * attention_params / 2 + batch * h * np.minimum(new, 1) * cross * (2 * qk_dim + 2 * v_dim),
        attention_params * wb,
        dec_tokens * 2 * dm * e,
        batch * cross * kv_width * kb,
        cross_layers,
    )
    # K and V of the encoder's output, projected once at an encoder-decoder prefill
    ops.add(
        "cross-attention",
        2 * enc_tokens * attention_params / 2,
        0.0,
        0.0,
        enc_tokens * kv_width * kb,
        np.where((d.encoder_layers > 0) & encoder_pass, d.layers, 0.0),
    )
    # embedding rows gathered, output head over the last position of each sequence (decoders only)
    tokens = np.where(encoder_pass, n, dec_tokens)
    ops.add("embedding", 0.0, tokens * dm * e, tokens * dm * e)
    head_rows = batch * decoder_runs * np.where(d.architecture == "encoder", 0.0, 1.0)
    head_rows = np.where((d.encoder_layers > 0) & encoder_pass, 0.0, head_rows)
    ops.add(
        "output head", 2 * head_rows * dm * d.vocab, dm * d.vocab * e * (head_rows > 0), head_rows * (dm + d.vocab) * e
    )
    return ops


# ------------------------------------------------------------------------------------------------ cases


def memory_footprint(
    d: Dims, batch, context, cross, weight_bits, activation_bytes, kv_bits, prompt
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weights, KV cache, activations) in bytes for `batch` sequences holding `context` positions; activations: the
    inputs and outputs of the widest layer for the larger of one sequence's prompt and one token per sequence."""
    linear = d.parameters() - d.embedding_weights() - d.head_weights()
    weights = linear * weight_bits / 8 + (d.embedding_weights() + d.head_weights()) * activation_bytes
    windowed = ~np.isnan(d.window)
    dec_layers = np.where(d.architecture == "encoder", 0.0, d.layers)
    global_layers = np.where(windowed, np.floor(dec_layers / d.global_every), dec_layers)
    local_layers = dec_layers - global_layers
    held_local = np.where(windowed, np.minimum(context, d.window), context)
    self_context = np.where(d.encoder_layers > 0, np.maximum(context - cross, 0.0), context)
    kv_width = d.kv_cache_values()
    kv = (
        batch
        * kv_width
        * kv_bits
        / 8
        * (global_layers * self_context + local_layers * np.minimum(held_local, self_context) + dec_layers * 0.0)
    )
    kv += batch * cross * kv_width * kv_bits / 8 * np.where(d.encoder_layers > 0, d.layers, 0.0)
    width = np.maximum(d.ffn * d.ffn_matrices, d.expert_ffn * d.ffn_matrices * np.maximum(d.experts_per_token, 1))
    # the working set of the largest single step: one sequence's prompt at once (serving engines prefill a sequence
    # at a time) or one token of every sequence of the batch
    activations = 2 * np.maximum(prompt, batch) * np.maximum(width, d.q_out() + kv_width) * activation_bytes
    return weights, kv, activations


def chips_to_hold(cases: pd.DataFrame, shapes: pd.DataFrame, accelerators: pd.DataFrame) -> np.ndarray:
    """The fewest chips of each case's accelerator whose memory holds its footprint (what `evaluate` reports as
    chips_to_hold, without evaluating the steps)."""
    s = shapes.set_index("model_id").loc[cases["model_id"]].reset_index()
    capacity = (
        accelerators.set_index("accelerator_id")
        .loc[cases["accelerator_id"], "memory_bytes"]
        .to_numpy(dtype="float64", na_value=np.nan)
    )
    d = Dims(s)
    batch = cases["batch_size"].to_numpy(dtype="float64")
    prompt = cases["prompt_tokens"].to_numpy(dtype="float64")
    generate = cases["generated_tokens"].to_numpy(dtype="float64")
    context = prompt + (generate + 1) / 2
    if "decode_context_tokens" in cases:
        given = cases["decode_context_tokens"].to_numpy(dtype="float64", na_value=np.nan)
        context = np.where(np.isnan(given), context, given)
    bits = cases["weights_format"].map(FORMAT_BITS).to_numpy(dtype="float64")
    if "weight_bits" in cases:
        own = cases["weight_bits"].to_numpy(dtype="float64", na_value=np.nan)
        bits = np.where(np.isnan(own), bits, own)
    act = cases["activations_format"].map(FORMAT_BITS).to_numpy(dtype="float64") / 8
    kv = cases["kv_cache_format"].map(FORMAT_BITS).to_numpy(dtype="float64")
    cross = np.where(d.encoder_layers > 0, prompt, 0.0)
    parts = memory_footprint(d, batch, np.maximum(prompt + generate, context), cross, bits, act, kv, prompt)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.ceil(sum(parts) / capacity)


def default_activations(accelerators: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Activations' format when none is asked: the weights' format if it is a compute format the chip has (FP8
    weights run FP8 matrix products), otherwise BF16, FP16 or FP32, the first the chip has (weight-only
    quantization)."""
    chosen = pd.Series(pd.NA, index=accelerators.index, dtype="string")
    for fmt in ("bf16", "fp16", "fp32"):
        chosen = chosen.fillna(pd.Series(fmt, index=accelerators.index).where(accelerators[PEAK_COLUMN[fmt]].notna()))
    own = weights.where(weights.isin(COMPUTE_FORMATS))
    has_own = pd.Series(
        [bool(pd.notna(f) and pd.notna(accelerators[PEAK_COLUMN[f]].iat[i])) for i, f in enumerate(own)],
        index=accelerators.index,
    )
    return own.where(has_own, chosen).astype("string")


def formats_of(accelerator: pd.Series) -> list[str]:
    return [f for f, column in PEAK_COLUMN.items() if pd.notna(accelerator.get(column))]


def evaluate(cases: pd.DataFrame, shapes: pd.DataFrame, accelerators: pd.DataFrame, with_ops: bool = False):
    """Prefill and decode bounds of every case. `cases` columns: model_id, accelerator_id, weights_format,
    activations_format, kv_cache_format, batch_size, prompt_tokens, generated_tokens, chips, tensor_parallel,
    pipeline_parallel; optional weight_bits (overrides the weights format's bits: 1.58 ...), decode_context_tokens
    (the decode step at that context instead of the mean of the generation), matmul_speedup (divides the FLOP time of
    the projections) and improved (Amdahl: which operations matmul_speedup applies to). Returns one row per case; with
    with_ops also the per-operation times of both phases."""
    s = shapes.set_index("model_id").loc[cases["model_id"]].reset_index()
    a = accelerators.set_index("accelerator_id").loc[cases["accelerator_id"]].reset_index()
    d = Dims(s)
    act_fmt = cases["activations_format"].astype("string").to_numpy(dtype=object)
    peak = np.array([a[PEAK_COLUMN[f]].iat[i] for i, f in enumerate(act_fmt)], dtype="float64")
    bw = a["memory_bandwidth_bytes_per_s"].to_numpy(dtype="float64", na_value=np.nan)
    link = a["interconnect_bandwidth_per_direction_bytes_per_s"].to_numpy(dtype="float64", na_value=np.nan)
    capacity = a["memory_bytes"].to_numpy(dtype="float64", na_value=np.nan)
    tdp = a["tdp_watts"].to_numpy(dtype="float64", na_value=np.nan)
    num = {
        c: cases[c].to_numpy(dtype="float64", na_value=np.nan)
        for c in ("batch_size", "prompt_tokens", "generated_tokens", "chips", "tensor_parallel", "pipeline_parallel")
    }
    weight_bits = (
        cases["weight_bits"].to_numpy(dtype="float64", na_value=np.nan)
        if "weight_bits" in cases
        else np.full(len(cases), np.nan)
    )
    weight_bits = np.where(
        np.isnan(weight_bits), cases["weights_format"].map(FORMAT_BITS).to_numpy(dtype="float64"), weight_bits
    )
    act_bytes = cases["activations_format"].map(FORMAT_BITS).to_numpy(dtype="float64") / 8
    kv_bits = cases["kv_cache_format"].map(FORMAT_BITS).to_numpy(dtype="float64")
    batch, prompt, generate = num["batch_size"], num["prompt_tokens"], num["generated_tokens"]
    tp, pp = num["tensor_parallel"], num["pipeline_parallel"]
    chips = tp * pp
    speedup = cases["matmul_speedup"].to_numpy(dtype="float64") if "matmul_speedup" in cases else np.ones(len(cases))
    encoder_only = d.architecture == "encoder"
    encdec = d.encoder_layers > 0
    cross = np.where(encdec, prompt, 0.0)

    if "decode_context_tokens" in cases:
        context = cases["decode_context_tokens"].to_numpy(dtype="float64", na_value=np.nan)
        context = np.where(np.isnan(context), prompt + (generate + 1) / 2, context)
    else:
        context = prompt + (generate + 1) / 2
    final_context = np.maximum(prompt + generate, context)
    weights, kv, activations = memory_footprint(d, batch, final_context, cross, weight_bits, act_bytes, kv_bits, prompt)
    footprint = weights + kv + activations
    with np.errstate(invalid="ignore", divide="ignore"):
        chips_to_hold = np.ceil(footprint / capacity)

    def phase(new, ctx0, encoder_pass):
        m = np.minimum(pp, batch)  # micro-batches filling the pipeline
        micro = batch / m
        ops = step_ops(d, micro, new, ctx0, cross, weight_bits, act_bytes, kv_bits, encoder_pass)
        per_op = {}
        compute_t = memory_t = 0.0
        by_compute = by_memory = 0.0
        for name in ops.names:
            f = ops.flops[name] / (tp * peak)
            if name in PROJECTIONS:
                f = f / speedup
            b = ops.bytes(name) / (tp * bw)
            t = np.maximum(f, b)
            per_op[name] = t
            compute_t = compute_t + f
            memory_t = memory_t + b
            by_compute = by_compute + np.where(f >= b, t, 0.0)
            by_memory = by_memory + np.where(f >= b, 0.0, t)
        op_time = sum(per_op.values())
        # two all-reduces of the hidden state per block (ring: 2 (tp - 1) / tp of it each way per chip)
        blocks = np.where(encoder_pass, np.where(encoder_only, d.layers, d.encoder_layers), 0.0) + np.where(
            encoder_pass & (encoder_only | encdec), 0.0, d.layers
        )
        volume = 2 * blocks * micro * new * d.d * act_bytes * 2 * (tp - 1) / tp
        with np.errstate(invalid="ignore"):
            comm = np.where(tp > 1, volume / link, 0.0) + np.where(
                pp > 1, (pp - 1) * micro * new * d.d * act_bytes / link, 0.0
            )
        comm_known = ~np.isnan(comm)
        comm = np.nan_to_num(comm)
        latency = op_time + comm
        period = m * op_time / pp + comm  # a step of the whole batch once the pipeline is full
        flops = sum(ops.flops.values()) * m
        moved = sum(ops.bytes(n) for n in ops.names) * m
        kinds = np.stack([by_compute, by_memory, comm])
        bound = np.array(["compute", "memory", "interconnect"], dtype=object)[np.argmax(kinds, axis=0)]
        return {
            "flop": flops,
            "moved_bytes": moved,
            "compute_time_s": compute_t * m / pp,
            "memory_time_s": memory_t * m / pp,
            "interconnect_time_s": comm,
            "latency_s": latency,
            "period_s": period,
            "bound_by": bound,
            "interconnect_known": comm_known,
            "ops": per_op,
            "op_count": m,
        }

    prefill = phase(prompt, np.zeros(len(cases)), encoder_only | encdec)
    decode = phase(np.ones(len(cases)), context - 1, np.zeros(len(cases), dtype=bool))
    decodes = ~encoder_only
    tokens_per_s_system = np.where(decodes, batch / decode["period_s"], np.nan)
    out = pd.DataFrame(
        {
            "model_id": cases["model_id"].to_numpy(),
            "accelerator_id": cases["accelerator_id"].to_numpy(),
            "weights_format": cases["weights_format"].to_numpy(),
            "weight_bits": weight_bits,
            "activations_format": cases["activations_format"].to_numpy(),
            "kv_cache_format": cases["kv_cache_format"].to_numpy(),
            "batch_size": batch,
            "prompt_tokens": prompt,
            "generated_tokens": generate,
            "decode_context_tokens": np.where(decodes, context, np.nan),
            "chips": chips,
            "tensor_parallel": tp,
            "pipeline_parallel": pp,
            "peak_flops": peak,
            "memory_bandwidth_bytes_per_s": bw,
            "weights_bytes": weights,
            "kv_cache_bytes": kv,
            "activations_bytes": activations,
            "memory_footprint_bytes": footprint,
            "chip_memory_bytes": capacity,
            "chips_to_hold": chips_to_hold,
            "prefill_flop": prefill["flop"],
            "prefill_moved_bytes": prefill["moved_bytes"],
            "prefill_compute_time_s": prefill["compute_time_s"],
            "prefill_memory_time_s": prefill["memory_time_s"],
            "prefill_interconnect_time_s": prefill["interconnect_time_s"],
            "prefill_time_s": prefill["period_s"],
            "prefill_bound_by": prefill["bound_by"],
            "decode_flop": np.where(decodes, decode["flop"], np.nan),
            "decode_moved_bytes": np.where(decodes, decode["moved_bytes"], np.nan),
            "decode_compute_time_s": np.where(decodes, decode["compute_time_s"], np.nan),
            "decode_memory_time_s": np.where(decodes, decode["memory_time_s"], np.nan),
            "decode_interconnect_time_s": np.where(decodes, decode["interconnect_time_s"], np.nan),
            "time_per_output_token_s": np.where(decodes, decode["latency_s"], np.nan),
            "decode_step_s": np.where(decodes, decode["period_s"], np.nan),
            "decode_bound_by": np.where(decodes, decode["bound_by"], None),
            "output_tokens_per_s_per_system": tokens_per_s_system,
            "output_tokens_per_s_per_chip": tokens_per_s_system / chips,
            "request_latency_s": prefill["latency_s"] + np.where(decodes, generate * decode["latency_s"], 0.0),
            "energy_per_output_token_j": np.where(decodes, chips * tdp * decode["period_s"] / batch, np.nan),
            "interconnect_known": prefill["interconnect_known"] & decode["interconnect_known"],
        }
    )
    if with_ops:
        return out, prefill["ops"], decode["ops"]
    return out


# ------------------------------------------------------------------------------------------------ one question


@dataclass(frozen=True)
class Question:
    model_id: str
    accelerator_id: str
    weights: str = "bf16"
    activations: str | None = None
    kv_cache: str | None = None
    batch: int = 1
    prompt: int = 2048
    generate: int = 256
    chips: int | None = None
    tensor_parallel: int | None = None
    pipeline_parallel: int = 1
    weight_bits: float | None = None


def _closest(word: str, known: list[str]) -> str:
    import difflib

    # ids that start with or contain what was typed first (shortest first: 'nvidia-h100' -> nvidia-h100-pcie ...),
    # then spelling neighbours
    starts = sorted((k for k in known if k.startswith(word)), key=lambda k: (len(k), k))
    inside = sorted((k for k in known if word in k and k not in starts), key=lambda k: (len(k), k))
    close = list(dict.fromkeys([*starts, *inside, *difflib.get_close_matches(word, known, n=3, cutoff=0.5)]))[:3]
    return f" (closest: {', '.join(close)})" if close else ""


def resolve(q: Question, shapes: pd.DataFrame, accelerators: pd.DataFrame) -> pd.DataFrame:
    """One case row for `evaluate`, with every default made explicit, or WhatIfError saying what is wrong."""
    if q.model_id not in set(shapes["model_id"]):
        raise WhatIfError(
            f"no shape for model '{q.model_id}'{_closest(q.model_id, sorted(shapes['model_id']))}; "
            'models with a shape are listed by `memwall sql "select model_id from model_shapes"`'
        )
    if q.accelerator_id not in set(accelerators["accelerator_id"]):
        raise WhatIfError(
            f"unknown accelerator '{q.accelerator_id}'"
            f"{_closest(q.accelerator_id, sorted(accelerators['accelerator_id']))}"
        )
    chip = accelerators.set_index("accelerator_id").loc[q.accelerator_id]
    has = formats_of(chip)
    for name, fmt in (("weights", q.weights), ("activations", q.activations), ("KV cache", q.kv_cache)):
        if fmt is not None and fmt not in FORMAT_BITS:
            raise WhatIfError(f"unknown {name} format '{fmt}'; expected one of {', '.join(FORMAT_BITS)}")
    activations = q.activations
    if activations is None:
        activations = default_activations(chip.to_frame().T.reset_index(drop=True), pd.Series([q.weights])).iat[0]
    if pd.isna(activations) or activations not in has:
        raise WhatIfError(
            f"{chip['name']} has no published peak for {activations if pd.notna(activations) else 'BF16, FP16 or FP32'}"
            f" arithmetic; formats with a peak: {', '.join(has) or 'none'}"
        )
    bits = q.weight_bits or FORMAT_BITS[q.weights]
    if bits > FORMAT_BITS[activations]:
        raise WhatIfError(
            f"weights in {q.weights} are wider than activations in {activations}; choose activations at least as wide"
        )
    for column, what in (("memory_bandwidth_bytes_per_s", "memory bandwidth"), ("memory_bytes", "memory capacity")):
        if pd.isna(chip[column]):
            raise WhatIfError(f"{chip['name']} has no published {what}; the bound needs it")
    kv_cache = q.kv_cache or activations
    pp = q.pipeline_parallel
    tp = q.tensor_parallel or (max(1, (q.chips or 1) // pp))
    case = pd.DataFrame(
        {
            "model_id": [q.model_id],
            "accelerator_id": [q.accelerator_id],
            "weights_format": [q.weights],
            "activations_format": [activations],
            "kv_cache_format": [kv_cache],
            "batch_size": [q.batch],
            "prompt_tokens": [q.prompt],
            "generated_tokens": [q.generate],
            "chips": [tp * pp],
            "tensor_parallel": [tp],
            "pipeline_parallel": [pp],
            "weight_bits": [bits],
        }
    )
    if q.chips is not None and q.chips != tp * pp:
        raise WhatIfError(f"--chips {q.chips} is not tensor_parallel x pipeline_parallel = {tp} x {pp}")
    if q.chips is None and q.tensor_parallel is None:  # the fewest chips that hold it, all tensor parallel
        need = evaluate(case, shapes, accelerators)["chips_to_hold"].iat[0]
        tp = max(1, math.ceil(need / pp))
        case["tensor_parallel"], case["chips"] = tp, tp * pp
    return case


def ask(q: Question, shapes: pd.DataFrame, accelerators: pd.DataFrame):
    """The answer to one question: (summary row, per-operation prefill times, per-operation decode times). Raises
    WhatIfError if the model does not fit on the chips asked for."""
    case = resolve(q, shapes, accelerators)
    row, prefill_ops, decode_ops = evaluate(case, shapes, accelerators, with_ops=True)
    r = row.iloc[0]
    if r["chips_to_hold"] > r["chips"]:
        raise WhatIfError(
            f"does not fit: weights {r['weights_bytes'] / 1e9:.1f} GB + KV cache {r['kv_cache_bytes'] / 1e9:.1f} GB "
            f"+ activations {r['activations_bytes'] / 1e9:.1f} GB need {int(r['chips_to_hold'])} chips of "
            f"{r['chip_memory_bytes'] / 1e9:.0f} GB; asked for {int(r['chips'])} "
            f"(use --chips {int(r['chips_to_hold'])})"
        )
    return r, {k: float(v[0]) for k, v in prefill_ops.items()}, {k: float(v[0]) for k, v in decode_ops.items()}


# ------------------------------------------------------------------------------------------------ Amdahl's law

# What each kind of partial improvement touches.
IMPROVED_BY = {
    "weights": PROJECTIONS,  # fewer bits for the projection weights
    "matmul": PROJECTIONS,  # a faster matrix multiply of the projections
    "kv_cache": ("attention (global)", "attention (local)", "cross-attention"),  # a smaller KV cache
}


def amdahl(
    cases: pd.DataFrame,
    shapes: pd.DataFrame,
    accelerators: pd.DataFrame,
    weight_bits: float | None = None,
    matmul_speedup: float | None = None,
    kv_cache_format: str | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Amdahl's law for a partial improvement of the decode step of every case: the projection weights stored in
    `weight_bits` bits, or their matrix multiplies `matmul_speedup` times faster, or the KV cache in another format.
    Returns (one row per case: time before and after, overall speed-up, the fraction of the time the improved
    operations took before, and the Amdahl bound, the speed-up if they took no time at all; per-operation time
    fractions before; after)."""
    touched: set[str] = set()
    after = cases.copy()
    if weight_bits is not None:
        after["weight_bits"] = weight_bits
        touched |= set(IMPROVED_BY["weights"])
    if matmul_speedup is not None:
        after["matmul_speedup"] = matmul_speedup
        touched |= set(IMPROVED_BY["matmul"])
    if kv_cache_format is not None:
        after["kv_cache_format"] = kv_cache_format
        touched |= set(IMPROVED_BY["kv_cache"])
    if not touched:
        raise WhatIfError("no improvement given: weight_bits, matmul_speedup or kv_cache_format")
    before_rows, _, before_ops = evaluate(cases, shapes, accelerators, with_ops=True)
    after_rows, _, after_ops = evaluate(after, shapes, accelerators, with_ops=True)
    t0 = sum(before_ops.values())
    t1 = sum(after_ops.values())
    improved = sum(v for k, v in before_ops.items() if k in touched)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(t0 - improved > 0, t0 / (t0 - improved), np.inf)
    out = pd.DataFrame(
        {
            "model_id": cases["model_id"].to_numpy(),
            "accelerator_id": cases["accelerator_id"].to_numpy(),
            "batch_size": before_rows["batch_size"],
            "decode_context_tokens": before_rows["decode_context_tokens"],
            "time_before_s": t0,
            "time_after_s": t1,
            "speedup": t0 / t1,
            "improved_fraction_before": improved / t0,
            "amdahl_bound": bound,
        }
    )
    return out, {k: v / t0 for k, v in before_ops.items()}, {k: v / t1 for k, v in after_ops.items()}


# ------------------------------------------------------------------------------------------------ training


@dataclass(frozen=True)
class Training:
    compute_flop: float
    compute_method: str  # the models table's training_compute_method, or 6ND computed here
    time_s: float
    model_state_bytes: float  # 16-bit weights and gradients, FP32 master weights and Adam moments
    activation_bytes_per_sequence: float  # with activation checkpointing, 16-bit
    chips_replicated: int | None  # every chip holds every state (plain data parallel); None: never fits
    chips_optimizer_sharded: int | None  # ZeRO stage 1: Adam's FP32 state divided over the chips
    chips_fully_sharded: int | None  # ZeRO stage 3 / FSDP: every state divided over the chips


def training(
    model_id: str,
    accelerator_id: str,
    chips: int,
    utilization: float,
    shapes: pd.DataFrame,
    accelerators: pd.DataFrame,
    models: pd.DataFrame,
    fmt: str = "bf16",
    sequence_tokens: int = 4096,
    tensor_parallel: int = 1,
) -> Training:
    """Time to train a model of `models` on `chips` accelerators at `utilization` of the chip's peak in `fmt`: its
    recorded training compute, or 6 x (active) parameters x training tokens; and the memory to train it (16 bytes per
    parameter for mixed-precision Adam, activations of one sequence kept at each block's input) against the chip's
    capacity."""
    if model_id not in set(models["model_id"]):
        raise WhatIfError(f"unknown model '{model_id}'{_closest(model_id, sorted(models['model_id']))}")
    if accelerator_id not in set(accelerators["accelerator_id"]):
        raise WhatIfError(
            f"unknown accelerator '{accelerator_id}'{_closest(accelerator_id, sorted(accelerators['accelerator_id']))}"
        )
    if not 0 < utilization <= 1:
        raise WhatIfError(f"utilization {utilization} is not in (0, 1]")
    model = models.set_index("model_id").loc[model_id]
    chip = accelerators.set_index("accelerator_id").loc[accelerator_id]
    if fmt not in PEAK_COLUMN or pd.isna(chip[PEAK_COLUMN[fmt]]):
        raise WhatIfError(
            f"{chip['name']} has no published {fmt} peak; formats with a peak: {', '.join(formats_of(chip))}"
        )
    parameters = model["parameters"]
    active = model["active_parameters"] if pd.notna(model["active_parameters"]) else parameters
    if pd.notna(model["training_compute_flop"]):
        compute, method = float(model["training_compute_flop"]), str(model["training_compute_method"])
    elif pd.notna(active) and pd.notna(model["training_tokens"]):
        compute, method = 6.0 * float(active) * float(model["training_tokens"]), "6ND"
    else:
        raise WhatIfError(f"{model['name']} has neither a recorded training compute nor parameters and tokens")
    time_s = compute / (chips * float(chip[PEAK_COLUMN[fmt]]) * utilization)
    if pd.isna(parameters):
        raise WhatIfError(f"{model['name']} has no published parameter count; its training memory is unknown")
    states = (WEIGHT_GRADIENT_BYTES + OPTIMIZER_BYTES) * float(parameters)
    activations = np.nan
    if model_id in set(shapes["model_id"]):
        d = Dims(shapes[shapes["model_id"] == model_id])
        seq = sequence_tokens
        layers = d.layers[0] + d.encoder_layers[0]
        activations = float(2 * seq * d.d[0] * layers + seq * d.d[0] * (34 + 5 * d.heads[0] * seq / d.d[0]))
    capacity = float(chip["memory_bytes"])
    per_chip_extra = 0.0 if np.isnan(activations) else activations / tensor_parallel
    weights_gradients = WEIGHT_GRADIENT_BYTES * float(parameters)

    def count(need: float, room: float) -> int | None:
        return int(math.ceil(need / room)) if room > 0 else None

    return Training(
        compute_flop=compute,
        compute_method=method,
        time_s=time_s,
        model_state_bytes=states,
        activation_bytes_per_sequence=activations,
        chips_replicated=1 if states + per_chip_extra <= capacity else None,
        chips_optimizer_sharded=count(
            OPTIMIZER_BYTES * float(parameters), capacity - weights_gradients - per_chip_extra
        ),
        chips_fully_sharded=count(states, capacity - per_chip_extra),
    )


def load(curated) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(shapes, accelerators, models) from a curated/ folder."""
    return (
        pd.read_parquet(curated / "model_shapes.parquet"),
        pd.read_parquet(curated / "accelerators.parquet"),
        pd.read_parquet(curated / "models.parquet"),
    )
