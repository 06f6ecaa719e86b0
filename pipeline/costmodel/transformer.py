"""Transformer inference, operation by operation: FLOPs and bytes moved (weights, activations, KV cache), totals,
arithmetic intensity and a roofline latency on a chosen accelerator.

The memory model is the one behind the paper's "MOPs": every operation reads its inputs from DRAM and writes its
output back (no fusion, no reuse through caches); weights are read once per forward pass; in decoding, K and V are
written to and read back from a KV cache. A multiply-add is 2 FLOPs. Element-wise costs (FLOPS_PER_ELEMENT) are
approximate and matter little next to the matrix multiplies.

Phases: `encoder` (all tokens at once), `prefill` (a prompt, all at once, writing the KV cache, logits of the last
token only) and `decode_step` (one new token per sequence attending to `context` cached positions, logits of that
token); `generation` is a prefill followed by one decode step per generated token. Latency is summed per operation:
max(FLOPs / peak FLOP/s, bytes / memory bandwidth).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FLOPS_PER_ELEMENT = {"layernorm": 8, "rmsnorm": 4, "softmax": 5, "gelu": 8, "relu": 1, "swiglu": 6, "add": 1}
ARCHITECTURES = ("encoder", "decoder", "encoder-decoder")


@dataclass(frozen=True)
class Config:
    key: str
    name: str
    source_url: str
    architecture: str
    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int
    positions: str
    ffn_kind: str
    norm: str
    biases: bool
    tied_embeddings: bool
    kv_heads: int = 0  # 0: one K/V head per query head
    decoder_layers: int = 0
    max_positions: int = 0
    token_types: int = 0
    shared_embeddings: bool = False
    embedding_norm: bool = False
    final_norm: bool = False
    pooler: bool = False
    published_parameters: float = 0.0

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_dim(self) -> int:
        return (self.kv_heads or self.heads) * self.head_dim


@dataclass(frozen=True)
class Scenario:
    label: str
    model: str  # a model_id of curated/model_shapes.parquet
    phase: str  # encoder | prefill | generation
    tokens: int
    batch: int
    short: str = ""  # a short label, written on the figure's line


def _config(shape: dict, name: str, published: float) -> Config:
    """A shape row of curated/model_shapes.parquet as this module's Config. Encoder-only rows are BERT checkpoints:
    their token-type table, embedding norm and pooler (small groups the shape table does not hold) are added as
    released; pre-norm decoders end with a final norm."""
    architecture = {"encoder_decoder": "encoder-decoder"}.get(shape["architecture"], shape["architecture"])
    encdec = architecture == "encoder-decoder"
    encoder = architecture == "encoder"

    def integer(key: str) -> int:
        value = shape.get(key)
        return 0 if value is None or value != value else int(value)

    return Config(
        key=shape["model_id"],
        name=name,
        source_url=shape["source_url"],
        architecture=architecture,
        layers=integer("encoder_layers") if encdec else integer("layers"),
        decoder_layers=integer("layers") if encdec else 0,
        hidden=integer("d_model"),
        heads=integer("heads"),
        kv_heads=integer("kv_heads"),
        ffn=integer("ffn_dim"),
        vocab=integer("vocab_size"),
        positions=shape["position"],
        max_positions=integer("context_length_tokens") if shape["position"] == "learned" else 0,
        ffn_kind={"geglu": "swiglu", "other": "gelu"}.get(shape["ffn_kind"], shape["ffn_kind"]),
        norm=shape.get("norm") or "rmsnorm",
        biases=bool(shape.get("bias")),
        tied_embeddings=bool(shape.get("tied_embeddings") or shape.get("tied_embeddings_assumed")),
        shared_embeddings=encdec and bool(shape.get("tied_embeddings")),
        token_types=2 if encoder else 0,
        embedding_norm=encoder,
        pooler=encoder,
        final_norm=architecture == "decoder",
        published_parameters=published,
    )


def configs(curated: Path | None = None) -> dict[str, Config]:
    """Every shape of curated/model_shapes.parquet as a Config, keyed by model_id (name and published parameters
    from curated/models.parquet)."""
    import pyarrow.parquet as pq

    from pipeline import paths

    curated = curated or paths.CURATED
    shapes = pq.read_table(curated / "model_shapes.parquet").to_pylist()
    models = {
        r["model_id"]: r
        for r in pq.read_table(curated / "models.parquet", columns=["model_id", "name", "parameters"]).to_pylist()
    }
    return {
        s["model_id"]: _config(s, models[s["model_id"]]["name"], models[s["model_id"]]["parameters"] or 0.0)
        for s in shapes
    }


# ------------------------------------------------------------------------------------------------ parameters


def _norm_params(c: Config) -> int:
    return 2 * c.hidden if c.norm == "layernorm" else c.hidden


def _attention_params(c: Config) -> int:
    weights = 2 * c.hidden * c.hidden + 2 * c.hidden * c.kv_dim  # Q, O and K, V
    return weights + (2 * c.hidden + 2 * c.kv_dim if c.biases else 0)


def _ffn_params(c: Config) -> int:
    matrices = 3 if c.ffn_kind == "swiglu" else 2
    bias = ((matrices - 1) * c.ffn + c.hidden) if c.biases else 0
    return matrices * c.hidden * c.ffn + bias


def parameter_count(c: Config, max_positions: int | None = None) -> int:
    """Parameters of the model as configured (`max_positions` resizes a learned position table)."""
    positions = max_positions or c.max_positions
    stacks = 2 if c.architecture == "encoder-decoder" else 1
    embeddings = c.vocab * c.hidden * (1 if c.shared_embeddings or stacks == 1 else 2)
    embeddings += (positions * c.hidden if c.positions == "learned" else 0) * stacks
    embeddings += c.token_types * c.hidden + (_norm_params(c) if c.embedding_norm else 0)
    layer = _attention_params(c) + _ffn_params(c) + 2 * _norm_params(c)
    cross = _attention_params(c) + _norm_params(c)
    blocks = c.layers * layer + c.decoder_layers * (layer + cross)
    head = 0 if c.tied_embeddings or c.architecture == "encoder" else c.vocab * c.hidden
    extra = (_norm_params(c) if c.final_norm else 0) + (c.hidden * c.hidden + c.hidden if c.pooler else 0)
    return embeddings + blocks + head + extra


# ------------------------------------------------------------------------------------------------ operations


@dataclass(frozen=True)
class Op:
    """One operation; `count` identical instances (the layers of a stack)."""

    name: str
    flops: float
    weight_bytes: float = 0.0
    activation_bytes: float = 0.0
    kv_bytes: float = 0.0
    count: int = 1

    @property
    def bytes(self) -> float:
        return self.weight_bytes + self.activation_bytes + self.kv_bytes

    def seconds(self, peak_flops: float, bandwidth: float) -> float:
        """Roofline time of all `count` instances: each is bound by compute or by memory, whichever is slower."""
        return self.count * max(self.flops / peak_flops, self.bytes / bandwidth)


@dataclass(frozen=True)
class Precision:
    weight: int = 2  # bytes per weight
    activation: int = 2  # bytes per activation and per KV-cache element


def layer_ops(c: Config, batch: int, tokens: int, context: int, p: Precision, cache: bool) -> list[Op]:
    """The operations of one transformer block for `tokens` new tokens per sequence attending to `context` keys
    (context includes the new tokens). With `cache`, K and V are written to and read from the KV cache."""
    n, d, f, kv = batch * tokens, c.hidden, c.ffn, c.kv_dim
    a, w, e = c.heads, p.weight, p.activation
    scores = batch * a * tokens * context
    norm = FLOPS_PER_ELEMENT[c.norm]
    norm_weights = _norm_params(c) * w
    bias = 1 if c.biases else 0
    kv_write, kv_read = 2 * n * kv * e, batch * context * kv * e  # K and V written; K (or V) read back
    cached = (kv_write, kv_read) if cache else (0, 0)  # bytes to and from the KV cache ...
    plain = (0, 0) if cache else (kv_write, kv_read)  # ... or, without a cache, ordinary activations
    up = 2 if c.ffn_kind == "swiglu" else 1
    qkv_flops = 2 * n * d * (d + 2 * kv) + bias * n * (d + 2 * kv)
    qkv_weights = (d * (d + 2 * kv) + bias * (d + 2 * kv)) * w
    ops = [
        Op("attention norm", norm * n * d, norm_weights, 2 * n * d * e),
        Op("QKV projection", qkv_flops, qkv_weights, 2 * n * d * e + plain[0], cached[0]),
        Op("attention scores (QK^T)", 2 * scores * c.head_dim, 0, n * d * e + scores * e + plain[1], cached[1]),
        Op("softmax", FLOPS_PER_ELEMENT["softmax"] * scores, 0, 2 * scores * e),
        Op("attention x V", 2 * scores * c.head_dim, 0, scores * e + n * d * e + plain[1], cached[1]),
        Op("output projection", 2 * n * d * d + bias * n * d, (d * d + bias * d) * w, 2 * n * d * e),
        Op("residual add", n * d, 0, 3 * n * d * e),
        Op("FFN norm", norm * n * d, norm_weights, 2 * n * d * e),
        Op("FFN up", 2 * n * d * f * up + bias * n * f * up, (d * f + bias * f) * up * w, n * d * e + up * n * f * e),
        Op(f"FFN activation ({c.ffn_kind})", FLOPS_PER_ELEMENT[c.ffn_kind] * n * f, 0, (up + 1) * n * f * e),
        Op("FFN down", 2 * n * f * d + bias * n * d, (f * d + bias * d) * w, n * f * e + n * d * e),
        Op("residual add", n * d, 0, 3 * n * d * e),
    ]
    return [Op(o.name, o.flops, o.weight_bytes, o.activation_bytes, o.kv_bytes, c.layers) for o in ops]


def _embedding(c: Config, n: int, p: Precision) -> list[Op]:
    """Gather n rows of the token table (plus position and token-type rows), add them, optional norm."""
    tables = 1 + (c.positions == "learned") + (c.token_types > 0)
    ops = [Op("embedding", (tables - 1) * n * c.hidden, tables * n * c.hidden * p.weight, n * c.hidden * p.activation)]
    if c.embedding_norm:
        ops.append(
            Op(
                "embedding norm",
                FLOPS_PER_ELEMENT[c.norm] * n * c.hidden,
                _norm_params(c) * p.weight,
                2 * n * c.hidden * p.activation,
            )
        )
    return ops


def _head(c: Config, batch: int, rows: int, p: Precision) -> list[Op]:
    """Final norm over `rows` tokens per sequence and the vocabulary projection of the last token of each."""
    d, v = c.hidden, c.vocab
    ops = []
    if c.final_norm:
        n = batch * rows
        ops.append(
            Op("final norm", FLOPS_PER_ELEMENT[c.norm] * n * d, _norm_params(c) * p.weight, 2 * n * d * p.activation)
        )
    ops.append(Op("LM head (logits)", 2 * batch * d * v, d * v * p.weight, batch * (d + v) * p.activation))
    return ops


def encoder(c: Config, seq: int, batch: int = 1, p: Precision = Precision()) -> list[Op]:
    """Encoder inference: all `seq` tokens at once, bidirectional attention, no output head (the encoder's
    hidden states are the result)."""
    return _embedding(c, batch * seq, p) + layer_ops(c, batch, seq, seq, p, cache=False)


def prefill(c: Config, prompt: int, batch: int = 1, p: Precision = Precision()) -> list[Op]:
    """Decoder prefill: the prompt at once (causal attention computed densely, as masked matrix products are),
    K and V written to the cache, logits of the last position only."""
    _require_decoder(c)
    return (
        _embedding(c, batch * prompt, p)
        + layer_ops(c, batch, prompt, prompt, p, cache=True)
        + _head(c, batch, prompt, p)
    )


def decode_step(c: Config, context: int, batch: int = 1, p: Precision = Precision()) -> list[Op]:
    """One generated token per sequence, attending to `context` positions (the cache plus itself)."""
    _require_decoder(c)
    return _embedding(c, batch, p) + layer_ops(c, batch, 1, context, p, cache=True) + _head(c, batch, 1, p)


def generation(c: Config, prompt: int, generate: int, batch: int = 1, p: Precision = Precision()) -> list[Op]:
    """Prefill of `prompt` tokens (none if 0), then `generate` decode steps, one token at a time."""
    ops = prefill(c, prompt, batch, p) if prompt else []
    for step in range(generate):
        ops += decode_step(c, prompt + step + 1, batch, p)
    return ops


def _require_decoder(c: Config) -> None:
    if c.architecture != "decoder":
        raise ValueError(f"{c.name} is an {c.architecture} model; prefill and decoding need a decoder-only model")


# ------------------------------------------------------------------------------------------------ totals


def totals(ops: list[Op]) -> dict[str, float]:
    flops = sum(o.flops * o.count for o in ops)
    parts = {k: sum(getattr(o, k) * o.count for o in ops) for k in ("weight_bytes", "activation_bytes", "kv_bytes")}
    moved = sum(parts.values())
    return {"flops": flops, "bytes": moved, **parts, "intensity_flop_per_byte": flops / moved}


def by_operation(ops: list[Op]) -> list[dict[str, float | str]]:
    """Totals per operation name, in first-seen order: FLOPs, bytes and arithmetic intensity of each."""
    out: dict[str, dict] = {}
    for o in ops:
        row = out.setdefault(o.name, {"operation": o.name, "flops": 0.0, "bytes": 0.0})
        row["flops"] += o.flops * o.count
        row["bytes"] += o.bytes * o.count
    for row in out.values():
        row["intensity_flop_per_byte"] = row["flops"] / row["bytes"]
    return list(out.values())


def latency_s(ops: list[Op], peak_flops: float, bandwidth_bytes_per_s: float) -> float:
    """Roofline latency: the sum over operations of max(compute time, memory time)."""
    return sum(o.seconds(peak_flops, bandwidth_bytes_per_s) for o in ops)


def scenario_ops(s: Scenario, c: Config, p: Precision = Precision()) -> list[Op]:
    if s.phase == "encoder":
        return encoder(c, s.tokens, s.batch, p)
    if s.phase == "prefill":
        return prefill(c, s.tokens, s.batch, p)
    return decode_step(c, s.tokens, s.batch, p)


def accelerator_roofline(con, accelerator_id: str, p: Precision = Precision()) -> tuple[str, float, float]:
    """(name, peak FLOP/s, memory bandwidth in B/s) of a curated accelerator: its FP32 peak for 4-byte values,
    otherwise its training peak (16-bit on matrix units where it has them)."""
    row = con.execute(
        "SELECT name, peak_fp32_flops, peak_training_flops, memory_bandwidth_bytes_per_s FROM accelerators "
        "WHERE accelerator_id = ?",
        [accelerator_id],
    ).fetchone()
    if row is None:
        raise LookupError(f"accelerator {accelerator_id!r} is not in curated/accelerators.parquet")
    name, fp32, training, bandwidth = row
    peak = fp32 if p.activation >= 4 and fp32 else training
    if not peak or not bandwidth:
        raise LookupError(f"accelerator {accelerator_id!r} lacks a peak FLOP/s or a memory bandwidth")
    return name, float(peak), float(bandwidth)
