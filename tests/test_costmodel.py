"""Cost models: FLOPs and bytes of one transformer layer against hand arithmetic, arithmetic intensity of encoders
and decoders, published parameter counts, the paper's memory table, the roofline latency rule, and `measure`."""

from __future__ import annotations

import json

import pytest

from pipeline.costmodel import cnn, measure, report
from pipeline.costmodel import training_memory as M
from pipeline.costmodel import transformer as T

CONFIGS = T.configs()
FP32 = T.Precision(4, 4)
FP16 = T.Precision(2, 2)


def ops_by_name(ops: list[T.Op]) -> dict[str, T.Op]:
    return {o.name: o for o in ops}


def test_bert_base_layer_flops_and_bytes_by_hand():
    """One BERT-Base block (d = 768, FFN 3072, 12 heads of 64) over 128 tokens, batch 1, FP32, no KV cache."""
    ops = T.layer_ops(CONFIGS["bert-base"], batch=1, tokens=128, context=128, p=FP32, cache=False)
    assert all(o.count == 12 for o in ops), "one entry per operation, repeated over the 12 layers"
    by = ops_by_name(ops)
    s, d, f, h = 128, 768, 3072, 12
    # QKV: a (128 x 768) @ (768 x 2304) product plus the bias; reads x, writes Q, K and V.
    qkv = by["QKV projection"]
    assert qkv.flops == 2 * 128 * 768 * 2304 + 128 * 2304 == 453_279_744
    assert qkv.weight_bytes == (768 * 2304 + 2304) * 4 == 7_087_104
    assert qkv.activation_bytes == (128 * 768 + 3 * 128 * 768) * 4 == 1_572_864
    assert qkv.kv_bytes == 0
    # QK^T: 12 heads of (128 x 64) @ (64 x 128); reads Q and K, writes 12 x 128 x 128 scores.
    scores = by["attention scores (QK^T)"]
    assert scores.flops == 2 * 12 * 128 * 128 * 64 == 25_165_824
    assert scores.activation_bytes == (2 * 128 * 768 + 12 * 128 * 128) * 4 == 1_572_864
    # Attention x V: same FLOPs; reads probabilities and V, writes the 128 x 768 context.
    assert by["attention x V"].flops == 25_165_824
    assert by["attention x V"].activation_bytes == (12 * 128 * 128 + 2 * 128 * 768) * 4
    # FFN: (128 x 768) @ (768 x 3072) and back, with biases.
    assert by["FFN up"].flops == 2 * 128 * 768 * 3072 + 128 * 3072 == 604_372_992
    assert by["FFN up"].weight_bytes == (768 * 3072 + 3072) * 4
    assert by["FFN down"].flops == 2 * 128 * 3072 * 768 + 128 * 768 == 604_078_080
    assert by["FFN down"].activation_bytes == (128 * 3072 + 128 * 768) * 4
    assert by["output projection"].flops == 2 * 128 * 768 * 768 + 128 * 768
    # Every weight of the block is read exactly once: 4 bytes per parameter of one BERT-Base layer.
    layer_params = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 2 * 2 * d
    assert sum(o.weight_bytes for o in ops) == 4 * layer_params == 28_351_488
    assert by["softmax"].activation_bytes == 2 * h * s * s * 4


def test_decode_step_reads_the_gqa_kv_cache():
    """Llama 3 8B (8 KV heads of 128): a decode step at context 2048 reads 2048 cached K and V rows of 1024 values
    per layer and writes one new row of each, 16-bit."""
    step = T.decode_step(CONFIGS["llama-3-8b"], context=2048, batch=1, p=FP16)
    kv = sum(o.kv_bytes * o.count for o in step)
    assert kv == 32 * (2 * 2048 * 1024 * 2 + 2 * 1 * 1024 * 2) == 268_566_528


def test_decoder_batch_1_is_memory_bound_and_encoder_is_not():
    for key in ("gpt-2-117m", "gpt-2-1-5b", "llama-2-7b", "llama-3-70b"):
        step = T.totals(T.decode_step(CONFIGS[key], context=1024, batch=1, p=FP16))
        assert step["intensity_flop_per_byte"] < 2, f"{key}: one token at batch 1 must be a matrix-vector workload"
    for key in ("bert-base", "bert-large"):
        encoder = T.totals(T.encoder(CONFIGS[key], 512, batch=1, p=FP16))
        assert encoder["intensity_flop_per_byte"] > 50, f"{key} at 512 tokens is matrix-matrix work"
    generation = T.totals(T.generation(CONFIGS["gpt-2-117m"], prompt=0, generate=128, p=FP32))
    assert generation["intensity_flop_per_byte"] < 1  # FP32: at most 2 FLOPs per 4-byte weight


def test_batching_raises_decode_intensity():
    one = T.totals(T.decode_step(CONFIGS["llama-3-8b"], 2048, batch=1))["intensity_flop_per_byte"]
    many = T.totals(T.decode_step(CONFIGS["llama-3-8b"], 2048, batch=64))["intensity_flop_per_byte"]
    assert many > 20 * one


@pytest.mark.parametrize(
    ("key", "published", "tolerance"),
    [("bert-base", 110e6, 0.02), ("bert-large", 340e6, 0.02), ("gpt-2-1-5b", 1.5e9, 0.05), ("gpt-2-1-5b", 1542e6, 0.02),
     ("transformer-big", 213e6, 0.02), ("llama-2-7b", 6.74e9, 0.01), ("llama-3-8b", 8.03e9, 0.01)],
)  # fmt: skip
def test_parameter_counts_match_published(key, published, tolerance):
    assert T.parameter_count(CONFIGS[key]) == pytest.approx(published, rel=tolerance)


def test_bert_base_parameter_count_by_hand():
    d, f, v = 768, 3072, 30522
    embeddings = (v + 512 + 2) * d + 2 * d
    layer = 4 * (d * d + d) + d * f + f + f * d + d + 2 * 2 * d
    pooler = d * d + d
    assert T.parameter_count(CONFIGS["bert-base"]) == embeddings + 12 * layer + pooler == 109_482_240


def test_cnn_parameter_counts_match_reference_implementations():
    """torchvision's documented counts; AlexNet with Krizhevsky's two-group convolutions (Caffe bvlc_alexnet)."""
    expected = {
        "alexnet": 60_965_224,
        "vgg19": 143_667_240,
        "resnet152": 60_192_808,
        "densenet201": 20_013_928,
        "resnext101-64x4d": 83_455_272,
    }
    assert {k: f().params for k, f in cnn.NETWORKS.items()} == expected


def test_alexnet_shapes_at_227():
    net = cnn.Net("tiny", (3, 227, 227))
    net.conv(96, 11, 4)
    assert net.x[1] == (96, 55, 55)
    net.relu()
    net.maxpool(3, 2)
    assert net.x[1] == (96, 27, 27)
    # kept: conv output (ReLU in place keeps it, max-pool keeps it as input) + int64 indices of the pooled output
    assert net.activation_bytes() == 96 * 55 * 55 * 4 + 96 * 27 * 27 * 8


def test_paper_parameter_and_optimizer_memory_exact_for_cnns():
    """FP32 parameters in GiB, SGD momentum = one more copy: the paper's CV cells, to the printed 2 decimals."""
    for row, model in zip(M.table(), M.PAPER_TABLE, strict=True):
        if model.family == "cnn":
            assert f"{row['parameters_gib']:.2f}" == f"{model.paper_gb[0]:.2f}", model.name
            assert f"{row['optimizer_gib']:.2f}" == f"{model.paper_gb[1]:.2f}", model.name


def test_optimizer_state_multiples():
    for row, model in zip(M.table(), M.PAPER_TABLE, strict=True):
        ratio = row["optimizer_gib"] / row["parameters_gib"]
        assert ratio == (2 if model.optimizer == "adam" else 1), model.name
        assert row["gradients_gib"] == row["parameters_gib"]


def test_gpt2_optimizer_cell_with_2014_positions():
    """The report's claim: GPT-2 1.5B with a 2014-row position table gives the paper's 11.62 GiB of Adam state."""
    params = T.parameter_count(CONFIGS["gpt-2-1-5b"], max_positions=2014)
    assert params == 1_557_611_200 + (2014 - 1024) * 1600
    assert f"{params * 8 / 2**30:.2f}" == "11.62"


def test_cnn_activations_close_to_paper_and_checkpointing_helps():
    for row, model in zip(M.table(), M.PAPER_TABLE, strict=True):
        if model.family == "cnn":
            assert row["activations_gib"] == pytest.approx(model.paper_gb[2], rel=0.02), model.name
    plain = {r["key"]: r["activations_gib"] for r in M.table()}
    for r in M.table(checkpoint=True):
        assert r["activations_gib"] < plain[r["key"]], r["key"]


def test_transformer_activations_match_korthikanti_formula():
    """Per block, 16-bit with dropout: s*b*h*(34 + 5*a*s/h) bytes (Korthikanti et al. 2022, eq. 1)."""
    c = CONFIGS["bert-large"]
    s, b, h, a = 512, 16, 1024, 16
    per_layer = s * b * h * (34 + 5 * a * s / h)
    embedding = s * b * h * (1 + 2)  # dropout mask (1 byte) + the embedding norm's input (2 bytes)
    head = 2 * s * b * h + 4 * s * b * 30522  # the LM head's input + the loss's FP32 log-softmax over the vocabulary
    assert M.transformer_activation_bytes(c, s, b, 2) == 24 * per_layer + embedding + head


def test_report_explains_every_difference():
    text = report.report_markdown()
    for model in M.PAPER_TABLE:
        assert f"| {model.name} |" in text
    assert "UNEXPLAINED" not in text
    assert "**AlexNet, total**" in text  # the paper's 1.71 is not the sum of its parts


def test_roofline_latency_is_max_per_operation():
    compute_bound = T.Op("gemm", flops=1e12, weight_bytes=1e6)
    memory_bound = T.Op("gemv", flops=1e6, activation_bytes=1e9, count=3)
    peak, bandwidth = 1e12, 1e9
    assert compute_bound.seconds(peak, bandwidth) == pytest.approx(1.0)
    assert memory_bound.seconds(peak, bandwidth) == pytest.approx(3.0)
    assert T.latency_s([compute_bound, memory_bound], peak, bandwidth) == pytest.approx(4.0)
    # not max(total compute, total memory), which would be 3.001 s
    assert T.latency_s([compute_bound, memory_bound], peak, bandwidth) > 3.01


def test_configs_are_the_shape_table():
    """configs.toml is gone: every cost model reads curated/model_shapes.parquet, one row per shape."""
    import pandas as pd

    from pipeline import paths

    shapes = pd.read_parquet(paths.CURATED / "model_shapes.parquet")
    assert set(CONFIGS) == set(shapes["model_id"])
    llama = CONFIGS["llama-3-8b"]
    assert (llama.layers, llama.hidden, llama.heads, llama.kv_heads, llama.ffn) == (32, 4096, 32, 8, 14336)


def test_measure_quick_json(capsys):
    assert measure.main(["--quick", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["matmul_fp32_flops"] > 1e8 and result["triad_bytes_per_s"] > 1e8
    assert result["ridge_fp32_flop_per_byte"] == pytest.approx(
        result["matmul_fp32_flops"] / max(result["copy_bytes_per_s"], result["triad_bytes_per_s"])
    )


def test_measure_rejects_bad_arguments(capsys):
    assert measure.main(["--repeats", "0"]) == 2
    assert measure.main(["--figure", "out.gif"]) == 2
