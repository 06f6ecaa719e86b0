"""Figure 2b of the paper: training compute of vision, language and speech models, with the transformer fit and a
Moore's-law reference line (2x every 2 years) through AlexNet, as in the paper."""

from __future__ import annotations

from pipeline import detmath
from pipeline import fits as fitting
from pipeline.figures import growth, theme

MOORE_PER_2Y = 2.0
# The paper draws its Moore's-law reference from AlexNet, the first model of its figure. Anchoring on "the earliest
# point" instead would follow whatever small model happens to be dated first.
MOORE_ANCHOR_ID = "alexnet"


def moores_law(anchor_x: float, anchor_y: float, x_end: float, anchor_name: str) -> growth.Reference:
    """A 2x-per-2-years line through (anchor_x, anchor_y) up to x_end."""
    y_end = anchor_y * detmath.pow10(detmath.log10(MOORE_PER_2Y) * (x_end - anchor_x) / 2)
    return growth.Reference(
        round(anchor_x, 4),
        x_end,
        anchor_y,
        detmath.round_sig(y_end, 7),
        f"Moore's law: {MOORE_PER_2Y:.0f}×/2 yr through {anchor_name} (reference, not a fit)",
    )


def build(con, fits, version: str, variant: theme.Variant, preset: str = "paper") -> growth.Drawn:
    declared = {s.name: s for s in fitting.load_series() if s.preset == preset}
    paper = preset == "paper"
    context, series = [], []
    if paper:
        series.append(growth.plotted(con, fits, declared["cv_training_compute"], "cv", legend="CV models"))
        series.append(
            growth.plotted(
                con, fits, declared["other_training_compute"], "other_models", legend="RNN and speech models"
            )
        )
        series.append(
            growth.plotted(
                con,
                fits,
                declared["training_compute"],
                "transformer",
                legend="Transformer models (the paper's)",
                paper=True,
            )
        )
        title, x_domain, x_end = "Training compute of state-of-the-art models, 2012-2020", (2011.5, 2022.0), 2021.5
        subtitle = "Transformer line: OLS fit of log10(FLOP) on year with its 95% band over the paper's selection."
    else:
        context.append(
            growth.plotted(con, fits, declared["all_training_compute"], "context", legend="All models", with_line=False)
        )
        series.append(
            growth.plotted(
                con,
                fits,
                declared["training_compute"],
                "transformer",
                legend="Record-setting language models (undisclosed architectures included)",
            )
        )
        title, x_domain, x_end = "Training compute, 2012-2026", (2011.5, 2027.0), 2026.5
        subtitle = (
            "Records of frontier language models of the transformer era; line: OLS fit of log10(FLOP) on year with "
            "its 95% band (or a two-segment fit where BIC supports a break)."
        )
    everything = [p.points for p in [*context, *series]]
    anchor = next(pts[pts["id"] == MOORE_ANCHOR_ID] for pts in everything if (pts["id"] == MOORE_ANCHOR_ID).any())
    first = anchor.iloc[0]
    reference = moores_law(float(first["x"]), float(first["y"]), x_end, str(first["name"]))
    for p in [*context, *series]:  # AlexNet is labelled where the reference line starts from it
        anchored = p.points["id"] == MOORE_ANCHOR_ID
        p.points.loc[anchored, "label"] = "AlexNet"
        p.points.loc[anchored, "label_1col"] = True
        if any(p is c for c in context):
            break
    return growth.chart(
        series,
        variant,
        version=version,
        y_title="Training compute (FLOP)",
        x_domain=x_domain,
        title=title,
        subtitle=subtitle,
        data_note=f"series preset '{preset}' (curated/fits.parquet)",
        context=context,
        references=[reference],
    )
