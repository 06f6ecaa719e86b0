"""Figure 2a of the paper: parameter counts of state-of-the-art models against accelerator memory / 6 (the largest
model whose weights, gradients and optimizer state fit, at the paper's 6 bytes per parameter), log scale."""

from __future__ import annotations

from pipeline import fits as fitting
from pipeline.figures import growth, theme

BILLION = 1e-9


def build(con, fits, version: str, preset: str = "paper"):
    declared = {s.name: s for s in fitting.load_series() if s.preset == preset}
    layers = []
    if preset == "paper":
        layers.append(growth.series_layer(con, fits, declared["cv_model_parameters"], scale=BILLION))
    else:
        layers.append(growth.series_layer(con, fits, declared["all_language_model_parameters"], scale=BILLION))
    layers.append(growth.series_layer(con, fits, declared["model_parameters"], scale=BILLION, total=False))
    if preset == "paper":
        layers.append(growth.series_layer(con, fits, declared["recommender_parameters"], scale=BILLION))
    memory = declared["accelerator_memory"]
    layers.append(
        growth.series_layer(con, fits, memory, scale=BILLION / 6, legend="Accelerator memory / 6", total=False)
    )
    if preset == "paper":
        title = "Model size vs. accelerator memory"
        subtitle = "Lines: OLS fit of log10(value) on year over the paper's selection; memory shown as bytes / 6"
        x_domain = (2015.0, 2023.0)
    else:
        title = "Model size vs. accelerator memory, 2012-2026"
        subtitle = "Lines: OLS fit over record-setting language transformers and data-center accelerators; memory / 6"
        x_domain = (2011.5, 2027.0)
    return growth.chart(
        layers,
        width=theme.DOUBLE_COLUMN - 60,
        height=250,
        y_title="Parameters (billions)",
        x_domain=x_domain,
        version=version,
        title=title,
        subtitle=subtitle,
        data_note=f"series preset '{preset}' (curated/fits.parquet)",
        legend_position="top-left",
    )
