"""Consistency checks on the curated data, each with its reason and an allowlist of known, explained exceptions.
They catch unit slips, sparse figures in dense columns and mistyped compute that no single cell check can see."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline import paths


@pytest.fixture(scope="module")
def acc():
    return pd.read_parquet(paths.CURATED / "accelerators.parquet").set_index("accelerator_id")


@pytest.fixture(scope="module")
def models():
    return pd.read_parquet(paths.CURATED / "models.parquet").set_index("model_id")


# Plausible per-pin data rates (Gb/s) of each memory family across its speed bins (JEDEC and vendor ranges, with
# margin). Bandwidth / (bus width / 8) outside the range means a unit slip or a wrong bus width.
PIN_RATE_RANGES = {
    "SDRAM": (0.066, 0.2),
    "DDR": (0.2, 0.5),
    "DDR2": (0.4, 1.1),
    "DDR3": (0.8, 2.2),
    "DDR4": (1.6, 3.3),
    "DDR5": (3.2, 8.8),
    "RDRAM/DDR": (0.2, 1.1),
    "GDDR3": (0.7, 2.6),
    "GDDR4": (1.4, 3.2),
    "GDDR5": (2.5, 8.1),
    "GDDR5X": (9.0, 14.0),
    "GDDR6": (12.0, 24.0),
    "GDDR6X": (19.0, 24.0),
    "GDDR7": (24.0, 40.0),
    "HBM": (0.5, 1.2),
    "HBM2": (1.0, 2.5),
    "HBM2E": (2.4, 3.7),
    "HBM3": (4.0, 6.6),
    "HBM3E": (5.5, 10.0),
    "HBM4": (6.0, 14.0),
    "LPDDR4X": (3.0, 4.6),
    "LPDDR5": (5.0, 6.5),
    "LPDDR5X": (7.0, 10.7),
}


def test_memory_bandwidth_matches_bus_width_times_pin_rate(acc):
    rows = acc[acc["memory_bus_width_bits"].notna() & acc["memory_bandwidth_bytes_per_s"].notna()]
    bad = []
    for chip, row in rows.iterrows():
        family = str(row["memory_type"]).split(" ")[0]
        if family not in PIN_RATE_RANGES:
            continue
        pin = row["memory_bandwidth_bytes_per_s"] * 8 / row["memory_bus_width_bits"] / 1e9
        low, high = PIN_RATE_RANGES[family]
        if not low <= pin <= high:
            bad.append(f"{chip}: {family} at {pin:.2f} Gb/s per pin (expected {low}-{high})")
    assert not bad, "bandwidth inconsistent with bus width:\n" + "\n".join(bad)


def test_matrix_units_run_16_bit_at_least_as_fast_as_fp32(acc):
    matrix = acc[acc["peak_tf32_flops"].notna() | (acc["kind"] == "tpu")]
    slower = matrix[matrix["peak_fp16_flops"] < matrix["peak_fp32_flops"]]
    assert slower.empty, f"FP16 below FP32 on chips with matrix units: {slower.index.tolist()}"


# A rate more than twice the next-wider format's suggests one of them is a 2:4-sparse figure. Known exceptions:
FORMAT_RATIO_ALLOWLIST = {
    ("nvidia-geforce-rtx-3080", "peak_tf32_flops"): "GeForce tensor cores run TF32 at half rate (GA102 whitepaper)",
    ("nvidia-geforce-rtx-3090", "peak_tf32_flops"): "GeForce tensor cores run TF32 at half rate (GA102 whitepaper)",
    ("nvidia-geforce-rtx-4080", "peak_tf32_flops"): "GeForce tensor cores run TF32 at half rate (Ada whitepaper)",
    ("nvidia-geforce-rtx-4090", "peak_tf32_flops"): "GeForce tensor cores run TF32 at half rate (Ada whitepaper)",
    (
        "nvidia-geforce-rtx-4080",
        "peak_bf16_flops",
    ): "BF16 with FP32 accumulate is half rate on GeForce (Ada whitepaper)",
    (
        "nvidia-geforce-rtx-4090",
        "peak_bf16_flops",
    ): "BF16 with FP32 accumulate is half rate on GeForce (Ada whitepaper)",
    ("aws-trainium3", "peak_fp16_flops"): "AWS prints MXFP8 at 2,517 and BF16/FP16 at 671 TFLOP/s (dense)",
    ("aws-trainium3", "peak_bf16_flops"): "AWS prints MXFP8 at 2,517 and BF16/FP16 at 671 TFLOP/s (dense)",
    ("tenstorrent-wormhole-n150", "peak_fp16_flops"): "Tenstorrent's FP8 figure is block floating point",
    ("tenstorrent-wormhole-n300", "peak_fp16_flops"): "Tenstorrent's FP8 figure is block floating point",
    ("nvidia-b300", "peak_fp8_flops"): "Blackwell Ultra raised dense NVFP4 to 3x FP8 (NVIDIA technical blog)",
    ("nvidia-gb300", "peak_fp8_flops"): "Blackwell Ultra raised dense NVFP4 to 3x FP8 (NVIDIA technical blog)",
    ("groq-groqchip-1", "peak_fp16_flops"): "Groq publishes 750 INT8 TOP/s and 188 FP16 TFLOP/s",
    ("qualcomm-cloud-ai-100-pro", "peak_fp16_flops"): "Qualcomm publishes INT8 at 3x FP16",
    ("qualcomm-cloud-ai-100-standard", "peak_fp16_flops"): "Qualcomm publishes INT8 at about 3x FP16",
    ("qualcomm-cloud-ai-100-ultra", "peak_fp16_flops"): "Qualcomm publishes INT8 at 3x FP16",
    ("cambricon-mlu370-x8", "peak_fp16_flops"): "Cambricon publishes 256 INT8 TOP/s and 96 FP16 TFLOP/s",
    ("cambricon-mlu370-x4", "peak_fp16_flops"): "Cambricon publishes 256 INT8 TOP/s and 96 FP16 TFLOP/s",
    ("cambricon-mlu370-s4", "peak_fp16_flops"): "Cambricon publishes 192 INT8 TOP/s and 72 FP16 TFLOP/s (same ratio)",
    ("cambricon-mlu370-s8", "peak_fp16_flops"): "Cambricon publishes 192 INT8 TOP/s and 72 FP16 TFLOP/s (same ratio)",
}
FORMAT_PAIRS = [
    ("peak_tf32_flops", "peak_fp16_flops"),
    ("peak_fp16_flops", "peak_fp8_flops"),
    ("peak_bf16_flops", "peak_fp8_flops"),
    ("peak_fp8_flops", "peak_fp4_flops"),
    ("peak_fp16_flops", "peak_int8_ops"),
]


def test_no_format_runs_more_than_twice_the_next_wider_one(acc):
    bad = []
    for wide, narrow in FORMAT_PAIRS:
        ratio = acc[narrow] / acc[wide]
        for chip in ratio[ratio > 2.05].index:
            if (chip, wide) not in FORMAT_RATIO_ALLOWLIST:
                bad.append(f"{chip}: {narrow} is {ratio[chip]:.2f}x {wide}")
    assert not bad, "possible sparse figure in a dense column:\n" + "\n".join(bad)


def test_allowlists_name_real_rows(acc, models):
    for chip, _ in FORMAT_RATIO_ALLOWLIST:
        assert chip in acc.index, f"allowlist names {chip}, which is not in the data"
    for model in SIX_ND_ALLOWLIST:
        assert model in models.index


def test_release_dates_fall_after_their_memory_generation(acc):
    """A device cannot ship before the first product of its memory generation (one year of slack for launches)."""
    techs = pd.read_parquet(paths.CURATED / "memory_technologies.parquet")
    first_year = {}
    for _, tech in techs.iterrows():
        family = tech["name"].split(" ")[0]
        first_year[family] = min(first_year.get(family, 9999), tech["release_date"].year)
    bad = []
    for chip, row in acc[acc["memory_type"].notna()].iterrows():
        family = row["memory_type"].split(" ")[0]
        if family in first_year and row["release_date"].year < first_year[family] - 1:
            bad.append(f"{chip}: {family} in {row['release_date']} but {family} first shipped {first_year[family]}")
    assert not bad, "\n".join(bad)


def test_every_row_has_a_source_and_no_future_date(acc, models):
    today = dt.date.today()
    for frame in (acc, models):
        assert frame["source_url"].str.startswith("https://").all()
        assert (frame["release_date"] <= today).all()


# Dense language transformers: reported compute should be within 3x of 6 x parameters x tokens.
SIX_ND_ALLOWLIST = {
    "code-llama-34b": "compute includes the Llama 2 base pretraining; training_tokens counts only the code stage",
    "jais-70b": "compute (Epoch) includes the Llama 2 70B base pretraining; training_tokens counts only the 370B-token "
    "continued stage",
    "afm-on-device": "compute (Epoch) includes pretraining the 6.4B teacher it was pruned and distilled from",
}


def test_training_compute_is_within_3x_of_6nd_for_dense_language_models(models):
    dense = models[
        (models["architecture"] == "transformer")
        & (models["domain"] == "language")
        & models["parameters"].notna()
        & models["training_tokens"].notna()
        & models["training_compute_flop"].notna()
    ]
    assert len(dense) >= 30, "too few models to check"
    ratio = dense["training_compute_flop"] / (6 * dense["parameters"] * dense["training_tokens"])
    outside = ratio[((ratio > 3) | (ratio < 1 / 3)) & ~ratio.index.isin(list(SIX_ND_ALLOWLIST))]
    assert outside.empty, f"compute far from 6ND: {outside.round(2).to_dict()}"


def test_mixture_of_experts_have_active_parameters_below_total(models):
    moe = models[models["active_parameters"].notna()]
    assert (moe["active_parameters"] <= moe["parameters"]).all()
    assert len(moe) >= 10


def test_recommenders_are_flagged_and_only_recommenders(models):
    flagged = models["is_recommender"]
    assert (models.loc[flagged, "domain"] == "recommendation").all()
    assert flagged.sum() >= 4
    assert np.all(models.loc[models["domain"] == "recommendation", "is_recommender"])


def test_6nd_is_computed_beside_every_recorded_compute(models):
    """training_compute_6nd_flop = 6 N D for every model with N and D, whatever its method; hand values from the
    papers: Chinchilla 70B on 1.4T tokens (its reported 5.76e23 stays the recorded value), GPT-3 175B on 300B tokens,
    DeepSeek-V3 with 37B of 671B parameters active on 14.8T tokens (6ND is its method: both columns agree)."""
    column = models["training_compute_6nd_flop"]
    assert column["chinchilla-70b"] == pytest.approx(6 * 70e9 * 1.4e12)
    assert models.loc["chinchilla-70b", "training_compute_flop"] == pytest.approx(5.76e23)
    assert column["gpt-3-175b"] == pytest.approx(6 * 175e9 * 300e9)
    assert column["deepseek-v3"] == pytest.approx(6 * 37e9 * 14.8e12)
    assert column["deepseek-v3"] == models.loc["deepseek-v3", "training_compute_flop"]
    assert pd.isna(column["mixtral-8x7b"])  # its tokens are not published
    has_both = models["parameters"].notna() & models["training_tokens"].notna()
    assert column.notna().equals(has_both)
