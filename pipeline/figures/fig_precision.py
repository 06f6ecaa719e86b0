"""Peak FLOP/s by number format: FP32 vector, 16-bit matrix, 8-bit and 4-bit, each series setting records within
its own format, so the share of the headline growth that comes from changing formats is visible."""

from __future__ import annotations

from pipeline import fits as fitting
from pipeline.figures import growth, theme

SERIES = (
    ("precision/peak_fp32_vector", "format_fp32"),
    ("precision/peak_16bit_matrix", "format_16bit"),
    ("precision/peak_8bit", "format_8bit"),
    ("precision/peak_4bit", "format_4bit"),
)


def build(con, fits, version: str, variant: theme.Variant) -> growth.Drawn:
    declared = {s.key: s for s in fitting.load_series()}
    series = [growth.plotted(con, fits, declared[name], role) for name, role in SERIES]
    return growth.chart(
        series,
        variant,
        version=version,
        y_title="Peak dense FLOP/s (OP/s for INT8)",
        x_domain=(2006.5, 2026.9),
        title="Peak throughput by number format",
        subtitle="Data-center GPUs (and TPUs for 16, 8 and 4 bits) that set a record within each format; lines: OLS "
        "fits with their 95% bands.",
        data_note="series preset 'precision' (curated/fits.parquet)",
    )
