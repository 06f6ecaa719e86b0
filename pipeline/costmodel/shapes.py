"""Transformer shapes (curated/model_shapes.parquet) -> per-layer sizes and parameter counts, for every row at once.

The conventions, one place for the engine (engine.py), the training-memory model and the parameter check of ingest:

- a head is `head_dim` wide (d_model / heads when empty); key/value heads are `kv_heads` (heads when empty);
- multi-head latent attention (DeepSeek-V2/V3, Kimi K2, GLM-5): queries through an optional rank-`q_lora_rank`
  bottleneck, keys and values through a rank-`kv_lora_rank` latent plus a shared `qk_rope_head_dim` rotary key;
  the KV cache holds the latent and the rotary key (kv_lora_rank + qk_rope_head_dim values per token and layer);
- a feed-forward block has two matrices (GELU, ReLU, other) or three (SwiGLU, GeGLU: gate, up, down);
- mixture of experts: the first `moe_dense_layers` layers are dense, then every `moe_layer_every`-th layer is a
  mixture of `moe_experts` routed experts (`moe_experts_per_token` active) plus `moe_shared_experts` shared ones of
  `moe_shared_ffn_dim` (moe_ffn_dim when empty), with a router of d_model x experts; the other layers are dense;
- an encoder-decoder model has `encoder_layers` encoder blocks and `layers` decoder blocks, the latter with
  cross-attention; its token embedding is shared by both stacks;
- norms: LayerNorm has a weight and a bias per channel, RMSNorm a weight only; two per block (three with
  cross-attention) and one final norm per stack;
- embeddings: vocab x d_model, plus a learned position table of context_length x d_model; an output projection of
  the same size unless tied (when the source does not say, the assumption under which the total lies closer to the
  published count: `resolve_tying`); Transformer-XL relative positions add a d_model x d_model projection per
  layer. Relative position biases, BERT's token types and pooler, attention sinks, QK norms and
  gates (a few thousand parameters) are left out: they stay well inside the 2% the check allows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GATED = ("swiglu", "geglu")  # feed-forward blocks with three matrices


def _col(shapes: pd.DataFrame, name: str, default: float | np.ndarray = np.nan) -> np.ndarray:
    values = shapes[name].to_numpy(dtype="float64", na_value=np.nan) if name in shapes else np.full(len(shapes), np.nan)
    return np.where(np.isnan(values), default, values)


def _flag(shapes: pd.DataFrame, name: str) -> np.ndarray:
    return shapes[name].fillna(False).to_numpy(dtype=bool)


class Dims:
    """The sizes the cost models need, one array entry per shape row (floats, so that products do not overflow)."""

    def __init__(self, shapes: pd.DataFrame):
        s = shapes
        self.n = len(s)
        self.architecture = s["architecture"].astype("string").fillna("decoder").to_numpy(dtype=object)
        self.decoder = self.architecture != "encoder"
        self.layers = _col(s, "layers")  # decoder blocks (encoder blocks of an encoder-only model)
        self.encoder_layers = np.where(self.architecture == "encoder_decoder", _col(s, "encoder_layers", 0.0), 0.0)
        self.d = _col(s, "d_model")
        self.heads = _col(s, "heads")
        self.kv_heads = _col(s, "kv_heads", self.heads)
        self.head_dim = _col(s, "head_dim", self.d / self.heads)
        self.mla = (s["attention"].astype("string") == "mla").fillna(False).to_numpy(dtype=bool)
        self.kv_lora = _col(s, "kv_lora_rank", 0.0)
        self.q_lora = _col(s, "q_lora_rank", 0.0)
        self.rope_dim = _col(s, "qk_rope_head_dim", 0.0)
        self.nope_dim = _col(s, "qk_nope_head_dim", self.head_dim)
        self.v_dim = np.where(self.mla, _col(s, "v_head_dim", self.head_dim), self.head_dim)
        self.window = _col(s, "sliding_window_tokens")  # NaN: no local attention
        self.global_every = _col(s, "global_every", np.inf)  # inf: every layer local when a window is set
        kinds = s["ffn_kind"].astype("string").fillna("gelu")
        self.ffn_matrices = np.where(kinds.isin(GATED).to_numpy(dtype=bool), 3.0, 2.0)
        self.ffn = _col(s, "ffn_dim", 0.0)
        self.vocab = _col(s, "vocab_size", 0.0)
        self.context = _col(s, "context_length_tokens", 0.0)
        self.learned_positions = (s["position"].astype("string") == "learned").fillna(False).to_numpy(dtype=bool)
        stated = s["tied_embeddings"].astype("boolean")
        assumed = s["tied_embeddings_assumed"].astype("boolean") if "tied_embeddings_assumed" in s else False
        self.tied = stated.fillna(assumed).fillna(False).to_numpy(dtype=bool)
        self.xl_positions = (s["position"].astype("string") == "xl_relative").fillna(False).to_numpy(dtype=bool)
        self.bias = _flag(s, "bias")
        self.norm = np.where((s["norm"].astype("string") == "layernorm").fillna(False).to_numpy(dtype=bool), 2.0, 1.0)
        # mixture of experts
        self.experts = _col(s, "moe_experts", 0.0)
        self.moe = self.experts > 0
        self.experts_per_token = _col(s, "moe_experts_per_token", 0.0)
        self.shared_experts = _col(s, "moe_shared_experts", 0.0)
        self.expert_ffn = _col(s, "moe_ffn_dim", 0.0)
        self.shared_ffn = _col(s, "moe_shared_ffn_dim", self.expert_ffn)
        dense_lead = _col(s, "moe_dense_layers", 0.0)
        every = _col(s, "moe_layer_every", 1.0)
        moe_layers = np.floor(np.maximum(self.layers - dense_lead, 0.0) / every)
        self.moe_layers = np.where(self.moe, moe_layers, 0.0)
        self.dense_layers = self.layers - self.moe_layers

    # ------------------------------------------------------------------------------------------ per-block sizes

    def q_out(self) -> np.ndarray:
        """Query width per token: heads x (query/key head width)."""
        return np.where(self.mla, self.heads * (self.nope_dim + self.rope_dim), self.heads * self.head_dim)

    def kv_cache_values(self) -> np.ndarray:
        """Values the KV cache holds per token and layer: K and V of every KV head, or MLA's latent + rotary key."""
        return np.where(self.mla, self.kv_lora + self.rope_dim, 2.0 * self.kv_heads * self.head_dim)

    def attention_weights(self) -> np.ndarray:
        """Parameters of one self-attention block's projections (with their biases and MLA's latent norms)."""
        d, h = self.d, self.heads
        plain = d * h * self.head_dim * 2 + d * self.kv_heads * self.head_dim * 2
        plain_bias = np.where(self.bias, h * self.head_dim + 2 * self.kv_heads * self.head_dim + d, 0.0)
        qk = self.nope_dim + self.rope_dim
        q = np.where(self.q_lora > 0, d * self.q_lora + self.q_lora + self.q_lora * h * qk, d * h * qk)
        kv = d * (self.kv_lora + self.rope_dim) + self.kv_lora + self.kv_lora * h * (self.nope_dim + self.v_dim)
        latent = q + kv + h * self.v_dim * d
        return np.where(self.mla, latent, plain + plain_bias)

    def attention_matmul_weights(self) -> np.ndarray:
        """Parameters of the attention projections that a token multiplies by (the same, without norms/biases)."""
        return self.attention_weights()

    def ffn_weights(self, width: np.ndarray) -> np.ndarray:
        bias = np.where(self.bias, (self.ffn_matrices - 1) * width + self.d, 0.0)
        return self.ffn_matrices * self.d * width + bias

    def dense_ffn_weights(self) -> np.ndarray:
        return self.ffn_weights(self.ffn)

    def expert_weights(self) -> np.ndarray:
        """One routed expert."""
        return self.ffn_weights(self.expert_ffn)

    def shared_weights(self) -> np.ndarray:
        """All shared experts of one layer."""
        return self.shared_experts * self.ffn_weights(self.shared_ffn)

    def router_weights(self) -> np.ndarray:
        return self.d * self.experts

    def norm_weights(self) -> np.ndarray:
        return self.norm * self.d

    def embedding_weights(self) -> np.ndarray:
        """Token embedding (shared by both stacks of an encoder-decoder model) and learned positions per stack."""
        stacks = np.where(self.encoder_layers > 0, 2.0, 1.0)
        return self.vocab * self.d + np.where(self.learned_positions, self.context * self.d * stacks, 0.0)

    def head_weights(self) -> np.ndarray:
        """Output projection to the vocabulary (none when tied to the embedding, none for an encoder)."""
        return np.where(self.tied | ~self.decoder, 0.0, self.vocab * self.d)

    # ------------------------------------------------------------------------------------------ totals

    def parameters(self, active: bool = False) -> np.ndarray:
        """Total parameters, or with active=True those one token uses (routed experts: experts_per_token)."""
        attention = self.attention_weights()
        experts = self.experts_per_token if active else self.experts
        moe_block = experts * self.expert_weights() + self.shared_weights() + self.router_weights()
        norms = self.norm_weights()
        xl = np.where(self.xl_positions, self.d * self.d, 0.0)  # Transformer-XL's position projection
        blocks = (
            self.layers * (attention + 2 * norms + xl)
            + self.dense_layers * self.dense_ffn_weights()
            + self.moe_layers * moe_block
        )
        encoder = self.encoder_layers * (attention + self.dense_ffn_weights() + 2 * norms)
        cross = np.where(self.encoder_layers > 0, self.layers * (attention + norms), 0.0)
        final_norms = norms * np.where(self.encoder_layers > 0, 2.0, 1.0)
        return self.embedding_weights() + encoder + blocks + cross + final_norms + self.head_weights()


def resolve_tying(shapes: pd.DataFrame, published_parameters: pd.Series) -> pd.Series:
    """tied_embeddings_assumed: for rows whose tying is not stated, whether the total computed with a tied output
    projection lies closer to the published count than the untied one (untied where no count is published: the
    larger memory footprint). Null where tying is stated."""
    unknown = shapes["tied_embeddings"].isna().to_numpy()
    tied = Dims(shapes.assign(tied_embeddings=True)).parameters()
    untied = Dims(shapes.assign(tied_embeddings=False)).parameters()
    published = published_parameters.to_numpy(dtype="float64", na_value=np.nan)
    closer = np.abs(np.log(tied / published)) < np.abs(np.log(untied / published))
    closer = np.where(np.isnan(published), False, closer)
    return pd.Series(closer, index=shapes.index, dtype="boolean").where(unknown)


def parameter_counts(shapes: pd.DataFrame) -> pd.DataFrame:
    """computed_parameters and computed_active_parameters of every shape row."""
    dims = Dims(shapes)
    return pd.DataFrame(
        {"computed_parameters": dims.parameters(), "computed_active_parameters": dims.parameters(active=True)},
        index=shapes.index,
    )
