"""memwall: a cited dataset and pipeline for the historical scaling of AI hardware and models."""

from pipeline.paths import dataset_version

__all__ = ["dataset_version"]
