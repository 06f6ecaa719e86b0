"""Figure 2a of the paper: parameter counts of state-of-the-art models against accelerator memory / 6 (the largest
model whose weights, gradients and optimizer state fit, at the paper's 6 bytes per parameter), log scale."""

from __future__ import annotations

from pipeline import fits as fitting
from pipeline.figures import growth, theme

BILLION = 1e-9


def build(con, fits, version: str, variant: theme.Variant, preset: str = "paper") -> growth.Drawn:
    declared = {s.name: s for s in fitting.load_series() if s.preset == preset}
    paper = preset == "paper"
    context = []
    series = []
    if paper:
        series.append(growth.plotted(con, fits, declared["cv_model_parameters"], "cv", legend="CV models", scale=1.0))
        series.append(
            growth.plotted(
                con,
                fits,
                declared["model_parameters"],
                "transformer",
                legend="Transformer models (the paper's)",
                paper=True,
            )
        )
        series.append(
            growth.plotted(
                con, fits, declared["recommender_parameters"], "recommender", legend="Recommender (excluded from fits)"
            )
        )
    else:
        context.append(
            growth.plotted(
                con,
                fits,
                declared["all_language_model_parameters"],
                "context",
                legend="All language models",
                with_line=False,
            )
        )
        series.append(
            growth.plotted(
                con, fits, declared["model_parameters"], "transformer", legend="Record-setting language models"
            )
        )
    series.append(
        growth.plotted(
            con,
            fits,
            declared["accelerator_memory"],
            "memory_capacity",
            scale=1 / 6,
            legend="Accelerator memory / 6 (bytes per parameter to train)",
            paper=paper,
        )
    )
    if paper:
        title = "Model size vs. accelerator memory, 2016-2022"
        subtitle = "Lines: OLS fits of log10(value) on year with their 95% bands over the paper's selection."
        x_domain = (2015.0, 2023.0)
    else:
        title = "Model size vs. accelerator memory, 2012-2026"
        subtitle = (
            "Lines: OLS fits (or a two-segment fit where BIC supports a break) over record-setting language models "
            "and data-center accelerators; memory shown as bytes / 6."
        )
        x_domain = (2011.5, 2027.0)
    return growth.chart(
        series,
        variant,
        version=version,
        y_title="Parameters",
        x_domain=x_domain,
        title=title,
        subtitle=subtitle,
        data_note=f"series preset '{preset}' (curated/fits.parquet)",
        context=context,
        counts=True,
    )
