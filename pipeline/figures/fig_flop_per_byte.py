"""The memory wall as one number per chip: peak training FLOP/s divided by memory bandwidth (the roofline ridge
point) and by interconnect bandwidth, for every data-center GPU and TPU, with fitted growth rates."""

from __future__ import annotations

from pipeline import fits as fitting
from pipeline.figures import growth, theme


def build(con, fits, version: str, variant: theme.Variant) -> growth.Drawn:
    declared = {s.key: s for s in fitting.load_series()}
    series = [
        growth.plotted(
            con,
            fits,
            declared["current/flop_per_byte_memory"],
            "ratio_memory",
            legend="Peak FLOP/s ÷ memory bandwidth (every data-center GPU and TPU)",
        ),
        growth.plotted(
            con,
            fits,
            declared["current/flop_per_byte_interconnect"],
            "ratio_interconnect",
            legend="Peak FLOP/s ÷ interconnect bandwidth per direction (every data-center GPU and TPU)",
        ),
    ]
    return growth.chart(
        series,
        variant,
        version=version,
        y_title="FLOP per byte",
        x_domain=(2006.5, 2026.9),
        title="The gap: FLOP a chip can do per byte it can fetch",
        subtitle="Every data-center GPU and TPU; peak at training precision (max of FP32, FP16, BF16); lines: OLS fits "
        "with their 95% bands (or a two-segment fit where BIC supports a break).",
        data_note="series 'current/flop_per_byte_*' (curated/fits.parquet)",
    )
