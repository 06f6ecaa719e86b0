"""The memory wall as one number per chip: peak training FLOP/s divided by memory bandwidth (the roofline ridge
point) and by interconnect bandwidth, for every data-center GPU and TPU, with fitted growth rates."""

from __future__ import annotations

from pipeline import fits as fitting
from pipeline.figures import growth, theme


def build(con, fits, version: str):
    declared = {s.key: s for s in fitting.load_series()}
    layers = [
        growth.series_layer(
            con, fits, declared["current/flop_per_byte_memory"], total=False, legend="Peak FLOP/s ÷ memory bandwidth"
        ),
        growth.series_layer(
            con,
            fits,
            declared["current/flop_per_byte_interconnect"],
            total=False,
            legend="Peak FLOP/s ÷ interconnect bandwidth (per direction)",
        ),
    ]
    return growth.chart(
        layers,
        width=theme.DOUBLE_COLUMN - 60,
        height=250,
        y_title="FLOP per byte moved",
        x_domain=(2006.5, 2026.5),
        version=version,
        title="The gap: FLOPs a chip can do per byte it can fetch",
        subtitle="Every data-center GPU and TPU; peak at training precision (max of FP32, FP16, BF16); lines: OLS fits",
        data_note="series 'current/flop_per_byte_*' (curated/fits.parquet)",
    )
