"""Figures: each module turns query results from the curated tables into one chart (pipeline/figures/render.py
saves it in every format). FIGURES maps a figure's file name to the function that builds it."""
