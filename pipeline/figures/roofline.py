"""The roofline over time: each data-center GPU's and TPU's ridge point (peak FLOP/s at training precision divided
by DRAM bandwidth; above it an operation is compute-bound, below it memory-bound) against release year, with its
growth fit (series current/flop_per_byte_memory), and the arithmetic intensity of transformer inference at 16 bits
(SCENARIOS, shapes from curated/model_shapes.parquet) drawn across as horizontal lines."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline import fits as fitting
from pipeline.costmodel import transformer as T
from pipeline.figures import growth, theme

SERIES = "current/flop_per_byte_memory"
X_DOMAIN = (2006.5, 2026.9)
SIXTEEN_BIT = T.Precision(2, 2)
# Inference scenarios whose arithmetic intensity the figure draws: encoder (all tokens at once), prefill (the prompt,
# all at once, filling the KV cache) or generation (one new token attending to a KV cache of `tokens` positions).
SCENARIOS = (
    T.Scenario(
        "Encoder inference (BERT-Large, 512 tokens)", "bert-large", "encoder", 512, 1, "BERT-Large encoder, 512 tokens"
    ),
    T.Scenario(
        "Decoder prefill (Llama 3 8B, 2048-token prompt)",
        "llama-3-8b",
        "prefill",
        2048,
        1,
        "Llama 3 8B prefill, 2k prompt",
    ),
    T.Scenario(
        "Decoder generation, batch 64 (Llama 3 8B)", "llama-3-8b", "generation", 2048, 64, "Llama 3 8B decode, batch 64"
    ),
    T.Scenario(
        "Decoder generation, batch 1 (Llama 3 8B, 2048-token context)",
        "llama-3-8b",
        "generation",
        2048,
        1,
        "Llama 3 8B decode, batch 1",
    ),
)


def workloads(precision: T.Precision = SIXTEEN_BIT) -> pd.DataFrame:
    """Arithmetic intensity (FLOP per byte moved) of each inference scenario of SCENARIOS."""
    configs = T.configs()
    rows = []
    for s in SCENARIOS:
        intensity = T.totals(T.scenario_ops(s, configs[s.model], precision))["intensity_flop_per_byte"]
        rows.append(
            {
                "label": f"{s.label}: {intensity:.3g} FLOP/B",
                "short": f"{s.short or s.label}: {intensity:.3g} FLOP/B",
                "intensity": intensity,
            }
        )
    return pd.DataFrame(rows)


def build(con: duckdb.DuckDBPyConnection, fits: pd.DataFrame, version: str, variant: theme.Variant) -> growth.Drawn:
    series = {s.key: s for s in fitting.load_series()}[SERIES]
    ridge = growth.plotted(con, fits, series, "ratio_memory", legend="Ridge point of each data-center GPU and TPU")
    lines = workloads()
    references = [
        growth.Reference(
            X_DOMAIN[0],
            X_DOMAIN[1],
            float(r.intensity),
            float(r.intensity),
            "Dashed: arithmetic intensity of one inference pass, 16-bit weights and activations (pipeline/costmodel); "
            "a workload below a chip's ridge point is memory-bound on it",
            direct=r.short,
            tag=chr(ord("a") + i),
        )
        for i, r in enumerate(lines.itertuples())
    ]
    return growth.chart(
        [ridge],
        variant,
        version=version,
        y_title="FLOP per byte",
        x_domain=X_DOMAIN,
        title="The roofline over time: ridge points vs. transformer inference",
        subtitle="Ridge point: peak FLOP/s at training precision ÷ DRAM bandwidth; line: OLS fit with its 95% band.",
        data_note=f"series '{SERIES}', costmodel scenarios",
        references=references,
    )
