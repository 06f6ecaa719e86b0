"""Peak FLOP/s by number format: FP32 vector, 16-bit matrix, 8-bit and 4-bit, each series setting records within
its own format, so the share of the headline growth that comes from changing formats is visible."""

from __future__ import annotations

from pipeline import fits as fitting
from pipeline.figures import growth, theme


def build(con, fits, version: str):
    declared = {s.key: s for s in fitting.load_series()}
    names = ["precision/peak_fp32_vector", "precision/peak_16bit_matrix", "precision/peak_8bit", "precision/peak_4bit"]
    layers = [growth.series_layer(con, fits, declared[name], total=False) for name in names]
    return growth.chart(
        layers,
        width=theme.DOUBLE_COLUMN - 60,
        height=250,
        y_title="Peak dense FLOP/s (OP/s for INT8)",
        x_domain=(2006.5, 2026.5),
        version=version,
        title="Peak throughput by number format",
        subtitle="Data-center GPUs (and TPUs for 16/8/4-bit) that set a record in each format; lines: OLS fits",
        data_note="series preset 'precision' (curated/fits.parquet)",
    )
