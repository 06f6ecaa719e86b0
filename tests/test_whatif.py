"""The what-if engine: parameter counts of every shape, FLOPs counted by hand, the bound against every published
measurement, Amdahl's law, training, the grid table and the `memwall whatif` command."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pipeline import paths
from pipeline.cli import main as cli
from pipeline.costmodel import engine as E
from pipeline.costmodel import shapes as S
from pipeline.costmodel import validation

SHAPES, ACCELERATORS, MODELS = E.load(paths.CURATED)
H100 = "nvidia-h100-sxm5-80gb"


def one_case(model_id, accelerator_id=H100, fmt="bf16", **extra) -> pd.DataFrame:
    base = {
        "model_id": model_id,
        "accelerator_id": accelerator_id,
        "weights_format": fmt,
        "activations_format": fmt,
        "kv_cache_format": fmt,
        "batch_size": 1.0,
        "prompt_tokens": 128.0,
        "generated_tokens": 1.0,
        "chips": 1.0,
        "tensor_parallel": 1.0,
        "pipeline_parallel": 1.0,
    }
    return pd.DataFrame([{**base, **extra}])


# ------------------------------------------------------------------------------------------------ shapes


def test_every_shape_matches_its_published_parameter_count_or_says_why():
    """Computed total (and active) parameters within 2% of the models table, or a parameter_check with the reason:
    the rule ingest enforces, checked again on the published table."""
    published = SHAPES["model_id"].map(MODELS.set_index("model_id")["parameters"])
    active = SHAPES["model_id"].map(MODELS.set_index("model_id")["active_parameters"])
    off_total = (SHAPES["computed_parameters"] / published - 1).abs() > 0.02
    off_active = (SHAPES["computed_active_parameters"] / active - 1).abs() > 0.02
    unexplained = SHAPES[(off_total | off_active).fillna(False) & SHAPES["parameter_check"].isna()]
    assert unexplained.empty, unexplained[["model_id", "computed_parameters"]].to_string()
    assert len(SHAPES) >= 150


@pytest.mark.parametrize(
    ("model_id", "total", "active", "source"),
    [
        # the released checkpoints' exact counts (model cards / safetensors index)
        ("llama-2-7b", 6_738_415_616, None, "Llama 2 7B checkpoint: 6,738,415,616 parameters"),
        ("llama-3-8b", 8_030_261_248, None, "Meta-Llama-3-8B checkpoint: 8,030,261,248 parameters"),
        # the developers' stated totals, as printed
        ("mixtral-8x7b", 46.7e9, 12.9e9, "Mistral AI, Mixtral of experts (2024): 46.7B total, 12.9B active"),
        ("deepseek-v3", 671e9, 37e9, "DeepSeek-V3 report: 671B total, 37B activated (MTP module excluded)"),
        ("gpt-3-175b", 175e9, None, "Brown et al. 2020, Table 2.1"),
    ],
)
def test_parameter_counts_against_published_totals(model_id, total, active, source):
    row = SHAPES[SHAPES["model_id"] == model_id]
    counts = S.parameter_counts(row).iloc[0]
    assert counts["computed_parameters"] == pytest.approx(total, rel=0.005), source
    if active:
        assert counts["computed_active_parameters"] == pytest.approx(active, rel=0.02), source


def test_bert_base_flops_counted_by_hand():
    """BERT-Base (L = 12, d = 768, 12 heads of 64, FFN 3072, GELU, biases) over 128 tokens, batch 1: one encoder
    pass. The engine counts 2 FLOPs per parameter per token (a multiply-add; biases alike), 2 per multiply-add of the
    attention products, 5 per softmax score and 8 per GELU value.

    Per layer, on paper:
      Q, K, V, O projections: 4 x 768 x 768 weights + 4 x 768 biases = 2,362,368 parameters
                              x 2 x 128 tokens                                     =   604,766,208
      QK^T and attention x V: 2 products x 2 x 12 heads x 128 x 128 x 64           =    50,331,648
      softmax:                5 x 12 heads x 128 x 128                              =       983,040
      FFN: 2 x 768 x 3072 weights + 3072 + 768 biases = 4,722,432 parameters x 2 x 128 = 1,208,942,592
           + GELU 8 x 128 x 3072                                                     =     3,145,728
    """
    row = SHAPES[SHAPES["model_id"] == "bert-base"].reset_index(drop=True)
    d = S.Dims(row)
    one = np.ones(1)
    ops = E.step_ops(d, one, 128 * one, 0 * one, 0 * one, 16 * one, 2 * one, 16 * one, np.array([True]))
    assert ops.flops["attention projections"][0] == 12 * 604_766_208
    assert ops.flops["attention (global)"][0] == 12 * (50_331_648 + 983_040)
    assert ops.flops["feed-forward"][0] == 12 * (1_208_942_592 + 3_145_728)
    assert ops.flops["output head"][0] == 0  # an encoder has no vocabulary projection
    matmuls = 12 * (4 * 2 * 128 * 768 * 768 + 2 * 2 * 12 * 128 * 128 * 64 + 2 * 2 * 128 * 768 * 3072)
    total = sum(float(np.atleast_1d(v)[0]) for v in ops.flops.values())
    assert matmuls == 22_347_251_712
    assert total == pytest.approx(matmuls, rel=0.01)  # biases, softmax, GELU and norms add under 1%


def test_decode_at_batch_1_reads_every_weight_once():
    """Llama 2 7B, 16-bit, batch 1: the memory-bound time of a decode step is its weights over the bandwidth, within
    the few percent the KV cache and activations add (6,738,415,616 x 2 bytes / 3.35 TB/s = 4.02 ms)."""
    r = E.evaluate(one_case("llama-2-7b", decode_context_tokens=128.0), SHAPES, ACCELERATORS).iloc[0]
    weights_time = 6_738_415_616 * 2 / 3.35e12
    assert r["decode_memory_time_s"] == pytest.approx(weights_time, rel=0.03)
    assert r["decode_bound_by"] == "memory"
    assert r["prefill_bound_by"] in ("compute", "memory")


def test_bigger_batches_and_contexts_cost_more_never_less():
    base = E.evaluate(one_case("llama-3-8b", decode_context_tokens=1024.0), SHAPES, ACCELERATORS).iloc[0]
    batch = E.evaluate(one_case("llama-3-8b", batch_size=64.0, decode_context_tokens=1024.0), SHAPES, ACCELERATORS)
    longer = E.evaluate(one_case("llama-3-8b", decode_context_tokens=32768.0), SHAPES, ACCELERATORS).iloc[0]
    assert batch["decode_step_s"].iat[0] > base["decode_step_s"]
    assert batch["output_tokens_per_s_per_system"].iat[0] > 10 * base["output_tokens_per_s_per_system"]
    assert longer["decode_step_s"] > base["decode_step_s"]


def test_sliding_window_caps_the_kv_cache():
    """Mistral 7B attends within 4,096 positions: at 32k tokens its KV cache is that of 4,096 positions."""
    at_4k = E.evaluate(one_case("mistral-7b", prompt_tokens=4095.0, decode_context_tokens=4096.0), SHAPES, ACCELERATORS)
    at_32k = E.evaluate(
        one_case("mistral-7b", prompt_tokens=32767.0, decode_context_tokens=32768.0), SHAPES, ACCELERATORS
    )
    # the KV cache held at the end of the generation (prompt + 1 token)
    assert at_32k["kv_cache_bytes"].iat[0] == pytest.approx(at_4k["kv_cache_bytes"].iat[0], rel=1e-3)


# ------------------------------------------------------------------------------------------------ measurements


def test_the_bound_is_never_slower_than_a_published_measurement():
    checked = validation.check(paths.CURATED)
    usable = checked[checked["checkable"]]
    beaten = usable[~usable["respects_bound"]]
    assert beaten.empty, beaten[["measurement_id", "measured", "bound"]].to_string()
    assert len(usable) >= 20
    assert usable["accelerator_id"].nunique() >= 4 and usable["model_id"].nunique() >= 6
    assert (usable["achieved_fraction"] > 0).all()
    unchecked = checked[~checked["checkable"]]
    assert unchecked["bound_taken_as"].str.startswith("not checkable: ").all()


def test_a_measurement_faster_than_physics_would_fail_the_check(tmp_path):
    """The check can fail: a throughput ten times the bound is flagged."""
    for name in ("model_shapes", "accelerators", "models", "measurements"):
        frame = pd.read_parquet(paths.CURATED / f"{name}.parquet")
        if name == "measurements":
            first = frame["metric"] == "output_tokens_per_s_per_system"
            frame.loc[first, "value"] = frame.loc[first, "value"] * 1000
        frame.to_parquet(tmp_path / f"{name}.parquet")
    checked = validation.check(tmp_path)
    assert not checked[checked["checkable"]]["respects_bound"].all()


# ------------------------------------------------------------------------------------------------ Amdahl


def test_amdahl_speedup_stays_under_its_bound_and_the_bound_falls_with_context():
    contexts = [1024.0, 8192.0, 65536.0]
    cases = pd.concat(
        [one_case("llama-3-1-70b", prompt_tokens=c - 1, decode_context_tokens=c) for c in contexts], ignore_index=True
    )
    result, before, after = E.amdahl(cases, SHAPES, ACCELERATORS, weight_bits=1.58)
    assert (result["speedup"] > 1).all()
    assert (result["speedup"] <= result["amdahl_bound"]).all()
    assert result["amdahl_bound"].is_monotonic_decreasing
    assert result["improved_fraction_before"].is_monotonic_decreasing
    for fractions in (before, after):
        assert np.allclose(sum(fractions.values()), 1.0)
    # nothing improved, nothing gained: 16-bit weights again
    same, _, _ = E.amdahl(cases, SHAPES, ACCELERATORS, weight_bits=16.0)
    assert np.allclose(same["speedup"], 1.0)


def test_amdahl_bound_falls_as_batch_grows():
    cases = pd.concat(
        [
            one_case("llama-3-1-8b", batch_size=b, prompt_tokens=8191.0, decode_context_tokens=8192.0)
            for b in (1.0, 16.0)
        ],
        ignore_index=True,
    )
    result, _, _ = E.amdahl(cases, SHAPES, ACCELERATORS, weight_bits=4.0)
    assert result["amdahl_bound"].iat[1] < result["amdahl_bound"].iat[0]


# ------------------------------------------------------------------------------------------------ training


def test_training_time_is_compute_over_chips_peak_and_utilization():
    t = E.training("llama-3-1-405b", H100, 16384, 0.4, SHAPES, ACCELERATORS, MODELS, tensor_parallel=8)
    compute = MODELS.set_index("model_id").at["llama-3-1-405b", "training_compute_flop"]
    assert t.time_s == pytest.approx(compute / (16384 * 989.4e12 * 0.4), rel=1e-9)
    assert t.model_state_bytes == 16 * MODELS.set_index("model_id").at["llama-3-1-405b", "parameters"]
    assert t.chips_replicated is None  # 6.5 TB of states on one 80 GB chip
    assert t.chips_fully_sharded >= math.ceil(t.model_state_bytes / 85.9e9)
    with pytest.raises(E.WhatIfError, match="formats with a peak"):
        E.training("llama-3-1-405b", "nvidia-tesla-v100-sxm2-32gb", 8, 0.4, SHAPES, ACCELERATORS, MODELS, "bf16")


# ------------------------------------------------------------------------------------------------ grid


def test_grid_rows_are_the_engine_on_the_fewest_chips():
    grid = pd.read_parquet(paths.CURATED / "inference_bounds.parquet")
    assert set(grid["scenario"]) == {"decode_batch1_4k", "decode_batch64_4k", "prefill_2k"}
    assert set(grid["precision"]) == {"16-bit", "8-bit"}
    assert grid["model_id"].nunique() == len(SHAPES)
    assert not grid.duplicated(["model_id", "accelerator_id", "scenario", "precision"]).any()
    row = grid[
        (grid["model_id"] == "llama-2-70b")
        & (grid["accelerator_id"] == H100)
        & (grid["scenario"] == "decode_batch1_4k")
        & (grid["precision"] == "16-bit")
    ].iloc[0]
    assert row["chips"] == 2  # 138 GB of weights on 80 GB chips
    r = E.evaluate(
        one_case("llama-2-70b", prompt_tokens=4095.0, decode_context_tokens=4096.0, chips=2.0, tensor_parallel=2.0),
        SHAPES,
        ACCELERATORS,
    ).iloc[0]
    assert row["step_time_s"] == pytest.approx(r["decode_step_s"], rel=1e-6)
    assert row["bound_by"] == "memory"


# ------------------------------------------------------------------------------------------------ CLI and API


def test_whatif_cli_prints_the_bound_and_json_matches_the_python_api(capsys):
    args = ["whatif", "--model", "llama-3-70b", "--accelerator", H100, "--weights", "int4", "--batch", "8"]
    assert cli(args) == 0
    out = capsys.readouterr().out
    assert "per output token, bound by memory" in out and "Idealized lower bound" in out
    assert cli([*args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    import memwall

    assert printed == json.loads(json.dumps(memwall.whatif("llama-3-70b", H100, weights="int4", batch=8)))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--model", "llama-3-70", "--accelerator", H100], "closest: llama-3-70b"),
        (["--model", "llama-3-70b", "--accelerator", "nvidia-h100"], "closest: nvidia-h100"),
        (
            ["--model", "llama-3-70b", "--accelerator", "nvidia-tesla-v100-sxm2-32gb", "--activations", "fp8"],
            "formats with a peak: fp32, fp16",
        ),
        (["--model", "llama-3-70b", "--accelerator", H100, "--chips", "1"], "use --chips 2"),
        (["--model", "llama-3-70b", "--accelerator", H100, "--weights", "int3"], "expected one of"),
    ],
)
def test_whatif_cli_errors_say_what_to_do(args, fragment, capsys):
    assert cli(["whatif", *args]) == 2
    assert fragment in capsys.readouterr().err


def test_whatif_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        cli(["whatif", "--help"])
    assert "memwall whatif --model llama-3-70b --accelerator nvidia-h100-sxm5-80gb" in capsys.readouterr().out


def test_measurement_links_in_the_report_cannot_break_out():
    """A source URL from raw/ becomes a Markdown link target that no character of it can end or escape."""
    from pipeline.figures import escape

    target = escape.markdown_url("https://example.org/a)b](c)<script>x\"'`")
    assert target.startswith("<") and target.endswith(">")
    assert not any(c in target[1:-1] for c in "<>()[]\"'` ")
