"""Memory needed to train a model on one device: parameters + gradients + optimizer state + activations, with and
without activation checkpointing, for the models of the paper's memory table (Figure 4).

Conventions (those that reproduce the paper's table, see report.py): parameters, gradients and optimizer state in
FP32 (4 bytes each); SGD with momentum keeps one more FP32 copy of the parameters (the CV models), Adam two (first
and second moments; the NLP models); "GB" in the paper's table is 2^30 bytes (GiB). The paper's table has no
gradient column and its totals are parameters + optimizer + activations; memwall reports gradients separately.

Activations are what autograd keeps for the backward pass (the input batch itself is data, not counted). CNNs:
counted layer by layer from their shapes (cnn.py), FP32. Transformers: per block as in Korthikanti et al. 2022
(arXiv 2205.05198, section 4.1: s*b*h*(34 + 5*a*s/h) bytes for 16-bit activations with dropout), generalised to
any element size, grouped-query attention, gated FFNs and cross-attention, plus the embedding and the loss's FP32
log-softmax. The NLP rows use 16-bit activations (mixed-precision training), which reproduces the paper's
BERT-Large and GPT-2 activations within 4%; FP32 would double them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.costmodel import cnn
from pipeline.costmodel import transformer as T

GIB = 2**30
PARAM_BYTES = 4
OPTIMIZER_COPIES = {"sgd-momentum": 1, "adam": 2}
MASK_BYTES = 1


@dataclass(frozen=True)
class Model:
    """A row of the paper's memory table: what is trained, at which input size and batch, with which optimizer,
    and the numbers the authors print (GB as printed: parameters, optimizer, activations, total)."""

    key: str
    name: str
    family: str  # cnn | transformer
    network: str  # key in cnn.NETWORKS or a model_id of curated/model_shapes.parquet
    input_text: str
    batch: int
    optimizer: str
    paper_gb: tuple[float, float, float, float]
    model_id: str  # curated/models.parquet row giving the release date
    seq: int = 0
    activation_bytes: int = 4  # bytes per activation element


# The memory table of the authors' repository README (github.com/amirgholami/ai_and_memory_wall), in its order.
# fmt: off
_SGD, _ADAM = "sgd-momentum", "adam"
PAPER_TABLE = (
    Model("alexnet", "AlexNet", "cnn", "alexnet", "227 x 227", 128, _SGD, (0.23, 0.23, 0.71, 1.71), "alexnet"),
    Model("vgg19", "VGG19", "cnn", "vgg19", "224 x 224", 64, _SGD, (0.54, 0.54, 4.64, 5.72), "vgg-19"),
    Model("resnet152", "ResNet152", "cnn", "resnet152", "224 x 224", 32, _SGD, (0.22, 0.22, 5.14, 5.58),
          "resnet-152"),
    Model("densenet201", "DenseNet201", "cnn", "densenet201", "224 x 224", 32, _SGD, (0.07, 0.07, 6.04, 6.18),
          "densenet-201"),
    Model("resnext101", "ResNeXt101 (64x4d)", "cnn", "resnext101-64x4d", "224 x 224", 32, _SGD,
          (0.31, 0.31, 7.34, 7.96), "resnext-101-64x4d"),
    Model("transformer-big", "Transformer Big (WMT)", "transformer", "transformer-big", "512 tokens", 6, _ADAM,
          (1.02, 2.04, 11.78, 14.84), "transformer-big", seq=512, activation_bytes=2),
    Model("bert-large", "BERT Large", "transformer", "bert-large", "512 tokens", 16, _ADAM,
          (1.32, 2.64, 14.38, 18.34), "bert-large", seq=512, activation_bytes=2),
    # The table prints a length of 2014; GPT-2's context is 1024 tokens (its position table has 1024 rows).
    Model("gpt2", "GPT-2", "transformer", "gpt-2-1-5b", "1024 tokens (printed 2014)", 1, _ADAM,
          (5.86, 11.62, 8.63, 26.21), "gpt-2-1-5b", seq=1024, activation_bytes=2),
)
# fmt: on


def transformer_activation_bytes(
    c: T.Config, seq: int, batch: int, element_bytes: int = 2, dropout: bool = True, checkpoint: bool = False
) -> float:
    """Bytes kept for the backward pass by a transformer at `seq` tokens (source and target alike for an
    encoder-decoder) and `batch` sequences. With `checkpoint`, only each block's input is kept and one block is
    recomputed at a time."""
    e, m = element_bytes, (MASK_BYTES if dropout else 0)
    sbh, kv, att = seq * batch * c.hidden, seq * batch * c.kv_dim, c.heads * seq * seq * batch
    sbf = seq * batch * c.ffn
    softmax = e * att + (m * att + e * att if dropout else 0)  # output, then dropout mask and dropped output
    attention = 3 * e * sbh + 2 * e * kv + softmax + m * sbh  # input, Q, projection input; K, V; output mask
    gated = 2 if c.ffn_kind == "swiglu" else 1
    mlp = e * sbh + gated * e * sbf + e * sbf + m * sbh  # input, activation input(s), down input, mask
    block = attention + mlp + 2 * e * sbh  # + the two norms' inputs
    cross = attention  # Q input, Q, projection input; K, V projected from the encoder output (kept once below)
    blocks = [block] * c.layers + [block + cross + e * sbh] * c.decoder_layers
    stacks = 2 if c.architecture == "encoder-decoder" else 1
    embedding = stacks * (m * sbh + (e * sbh if c.embedding_norm else 0)) + (e * sbh if stacks == 2 else 0)
    head = e * sbh * (2 if c.final_norm else 1) + 4 * seq * batch * c.vocab  # FP32 log-softmax output
    if checkpoint:
        return len(blocks) * e * sbh + max(blocks) + embedding + head
    return sum(blocks) + embedding + head


def breakdown(model: Model, checkpoint: bool = False) -> dict[str, float]:
    """Bytes of parameters, gradients, optimizer state and activations; `paper_total` leaves gradients out as the
    paper's table does, `total` counts them."""
    if model.family == "cnn":
        net = cnn.NETWORKS[model.network]()
        params = net.params
        per_sample = net.checkpointed_activation_bytes() if checkpoint else net.activation_bytes()
        activations = per_sample * model.batch
    else:
        config = T.configs()[model.network]
        params = T.parameter_count(config)
        activations = transformer_activation_bytes(
            config, model.seq, model.batch, model.activation_bytes, checkpoint=checkpoint
        )
    out = {
        "parameter_count": float(params),
        "parameters": params * PARAM_BYTES,
        "gradients": params * PARAM_BYTES,
        "optimizer": params * PARAM_BYTES * OPTIMIZER_COPIES[model.optimizer],
        "activations": float(activations),
    }
    out["paper_total"] = out["parameters"] + out["optimizer"] + out["activations"]
    out["total"] = out["paper_total"] + out["gradients"]
    return out


def table(checkpoint: bool = False) -> list[dict]:
    """One row per model of the paper's table, values in GiB, beside the paper's."""
    rows = []
    for model in PAPER_TABLE:
        b = breakdown(model, checkpoint)
        row = {"key": model.key, "name": model.name, "parameter_count": b.pop("parameter_count")}
        row |= {f"{k}_gib": v / GIB for k, v in b.items()}
        row |= dict(
            zip(
                ("paper_parameters_gb", "paper_optimizer_gb", "paper_activations_gb", "paper_total_gb"),
                model.paper_gb,
                strict=True,
            )
        )
        rows.append(row)
    return rows
