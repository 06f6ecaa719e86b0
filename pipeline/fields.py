"""The field registry: every column of every curated table, defined once.

Each Field says what a column of ``curated/<table>.parquet`` holds: its type, its base unit, one sentence of
description, and, for columns read from ``raw/``, how the raw cell is parsed. The registry drives validation
(pipeline/ingest.py), the Parquet field metadata, the DuckDB column comments (pipeline/database.py) and the data
dictionary (docs/DATA_DICTIONARY.md). A column that is not here cannot be written; a field here that no table
writes fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How a raw cell is read. "quantity:<dimension>" uses pipeline.units.DIMENSIONS.
PARSERS = {"id", "text", "enum", "date", "bool", "url", "integer", "ref", "fieldlist"}

# Physical bounds in base units: a value outside them is a typo or a unit slip, not a record.
FLOP_RATE_BOUNDS = (1e6, 1e17)  # a MFLOP/s to 100 PFLOP/s per device
BYTES_BOUNDS = (1e5, 1e13)  # 100 kB to 10 TB per device
BANDWIDTH_BOUNDS = (1e6, 1e17)  # 1 MB/s to 100 PB/s (wafer-scale on-chip SRAM reaches 2e16)


@dataclass(frozen=True)
class Field:
    name: str
    dtype: str  # string | float64 | int64 | bool | date
    unit: str | None  # base unit of the stored value; None for text, ids, dates
    description: str
    raw: str | None = None  # raw column read into this field; None if derived in code
    parse: str = "text"  # see PARSERS, or "quantity:<dimension>"
    required: bool = False
    choices: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    ref: str | None = None  # "table.column" this field must match when it is set


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: str
    raw_glob: str  # files under raw/ that form the table
    fields: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def raw_columns(self) -> list[str]:
        return [f.raw for f in self.fields if f.raw]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


SOURCE_KINDS = ("datasheet", "whitepaper", "paper", "press", "database", "estimate")
DIRECTIONS = ("bidirectional", "per_direction")
PRECISIONS = ("day", "month", "year")
ACCELERATOR_STATUSES = ("shipping", "announced", "cancelled")
MODEL_STATUSES = ("released", "unreleased", "preview")
LINK_STATUSES = ("shipping", "announced")
# The statuses whose values are final: fits use only these rows (an announcement or a preview never sets a record).
FINAL_STATUSES = {
    "accelerators": ("shipping",),
    "memory_technologies": ("shipping",),
    "interconnects": ("shipping",),
    "models": ("released", "unreleased"),
}
# Key cells of an accelerator row: each is filled or explained in not_published / not_applicable. "peak" stands for
# every peak_* column (the headline peak: the highest dense rate in any format).
ACCELERATOR_KEY_CELLS = ("peak", "memory_capacity", "memory_bandwidth", "interconnect_bandwidth")


def _id(name: str, what: str) -> Field:
    return Field(name, "string", None, f"Stable identifier of the {what}: a lowercase slug.", name, "id", True)


def _release(what: str) -> tuple[Field, ...]:
    return (
        Field(
            "release_date",
            "date",
            None,
            f"First public availability or launch announcement with specifications of the {what}; the first day "
            "of the period when the source gives only a month or a year.",
            "release_date",
            "date",
            True,
        ),
        Field(
            "release_date_precision",
            "string",
            None,
            "Precision of release_date as the source gives it: day, month or year.",
            choices=PRECISIONS,
        ),
        Field(
            "release_fractional_year",
            "float64",
            "year",
            "Release as a fractional year at the midpoint of the date's precision (2020-05 -> 2020.37); used by fits.",
        ),
    )


def _provenance() -> tuple[Field, ...]:
    return (
        Field(
            "source_url",
            "string",
            None,
            "The primary source of the row (datasheet, whitepaper, paper), as an https URL.",
            "source_url",
            "url",
            True,
        ),
        Field(
            "source_kind",
            "string",
            None,
            "What source_url is: datasheet, whitepaper, paper, press, database or estimate.",
            "source_kind",
            "enum",
            True,
            SOURCE_KINDS,
        ),
        Field(
            "notes",
            "string",
            None,
            "Free text: clocks assumed, halved sparse figures, sources of single fields, disagreements.",
            "notes",
        ),
    )


def _rate(name: str, raw: str, what: str, dimension: str = "flop_rate", unit: str = "FLOP/s") -> Field:
    return Field(name, "float64", unit, what, raw, f"quantity:{dimension}", bounds=FLOP_RATE_BOUNDS)


ACCELERATORS = Table(
    "accelerators",
    "One row per accelerator or CPU as its vendor sells it (chip, board or package; never a system), 1996-2026.",
    "accelerator_id",
    "accelerators/*.csv",
    (
        _id("accelerator_id", "device"),
        Field("name", "string", None, "Product name as the vendor writes it.", "name", required=True),
        Field("vendor", "string", None, "Company that sells the device.", "vendor", required=True),
        Field(
            "kind",
            "string",
            None,
            "cpu, gpu, tpu, npu (other AI ASIC) or other (wafer-scale, dataflow).",
            "kind",
            "enum",
            True,
            ("cpu", "gpu", "tpu", "npu", "other"),
        ),
        Field(
            "segment",
            "string",
            None,
            "Market the device was sold for: datacenter, consumer or workstation.",
            "segment",
            "enum",
            True,
            ("datacenter", "consumer", "workstation"),
        ),
        *_release("device"),
        _rate("peak_fp64_flops", "peak_fp64", "Peak dense FP64 rate (matrix units where higher), boost clock."),
        _rate("peak_fp32_flops", "peak_fp32", "Peak dense FP32 rate on vector (non-matrix) units, boost clock."),
        _rate("peak_tf32_flops", "peak_tf32", "Peak dense TF32 rate on matrix units."),
        _rate(
            "peak_fp16_flops",
            "peak_fp16",
            "Highest dense FP16 rate, on matrix units where the device has them.",
        ),
        _rate("peak_bf16_flops", "peak_bf16", "Highest dense BF16 rate, on matrix units where present."),
        _rate("peak_fp8_flops", "peak_fp8", "Highest dense FP8 rate."),
        _rate("peak_int8_ops", "peak_int8", "Highest dense INT8 rate.", "op_rate", "OP/s"),
        _rate("peak_fp4_flops", "peak_fp4", "Highest dense FP4 rate."),
        Field(
            "peak_training_flops",
            "float64",
            "FLOP/s",
            "Peak at the precision the device offers for training: the highest of FP32, FP16 and BF16 (the "
            "paper's Figure 1 convention).",
        ),
        Field(
            "memory_bytes",
            "float64",
            "B",
            "Device memory capacity (HBM, GDDR, DDR; on-chip SRAM for SRAM-only devices).",
            "memory_capacity",
            "quantity:bytes",
            bounds=BYTES_BOUNDS,
        ),
        Field(
            "memory_type",
            "string",
            None,
            "Memory family and generation (HBM3, GDDR6X, DDR4, SRAM ...).",
            "memory_type",
        ),
        Field(
            "memory_bus_width_bits",
            "float64",
            "bit",
            "Width of the memory interface in bits.",
            "memory_bus_width",
            "quantity:bits",
            bounds=(8, 1e6),
        ),
        Field(
            "memory_bandwidth_bytes_per_s",
            "float64",
            "B/s",
            "Peak memory bandwidth of the device.",
            "memory_bandwidth",
            "quantity:byte_rate",
            bounds=BANDWIDTH_BOUNDS,
        ),
        Field(
            "interconnect_name",
            "string",
            None,
            "Fastest device-to-device path: the scale-up link (NVLink, Infinity Fabric, ICI ...), else the host link.",
            "interconnect_name",
        ),
        Field(
            "interconnect_bandwidth_per_direction_bytes_per_s",
            "float64",
            "B/s",
            "Bandwidth of that interconnect in one direction (a bidirectional figure halved).",
            "interconnect_bandwidth",
            "quantity:byte_rate",
            bounds=BANDWIDTH_BOUNDS,
        ),
        Field(
            "interconnect_bandwidth_source",
            "string",
            None,
            "Where the interconnect bandwidth comes from: 'row' (this row's source) or the interconnects row it was "
            "derived from for a PCIe host link (scaled to the link's lane count).",
        ),
        Field(
            "interconnect_bandwidth_quoted_direction",
            "string",
            None,
            "How the source quotes the interconnect bandwidth: bidirectional or per_direction.",
            "interconnect_bandwidth_direction",
            "enum",
            choices=DIRECTIONS,
        ),
        Field(
            "host_interface",
            "string",
            None,
            "Host interface or form factor (PCIe 5.0 x16, SXM5, OAM ...).",
            "host_interface",
        ),
        Field(
            "tdp_watts",
            "float64",
            "W",
            "Thermal design power of the device as the vendor states it.",
            "tdp",
            "quantity:power",
            bounds=(1, 5e4),
        ),
        Field("process_node", "string", None, "Manufacturing process as the vendor states it.", "process_node"),
        Field(
            "dies_per_device",
            "int64",
            "count",
            "Compute dies or GPUs in the device as sold (2 for K80, MI250X); empty means one.",
            "dies_per_device",
            "integer",
            bounds=(1, 64),
        ),
        Field(
            "status",
            "string",
            None,
            "shipping (generally available), announced (specifications published, not yet available) or cancelled.",
            "status",
            "enum",
            True,
            ACCELERATOR_STATUSES,
        ),
        Field(
            "fields_not_published",
            "string",
            None,
            "Raw columns left empty because no source gives them, ';'-separated ('peak' = no dense peak in any "
            "format). Every empty key cell (peak, memory capacity and bandwidth, interconnect bandwidth) is listed "
            "here or in fields_not_applicable.",
            "not_published",
            "fieldlist",
        ),
        Field(
            "fields_not_applicable",
            "string",
            None,
            "Raw columns left empty because the device does not have the feature (an INT8-only chip's FP16, an "
            "SRAM-only design's DRAM bandwidth), ';'-separated.",
            "not_applicable",
            "fieldlist",
        ),
        *_provenance(),
    ),
)

MEMORY_TECHNOLOGIES = Table(
    "memory_technologies",
    "One row per DRAM generation (SDRAM, DDR, GDDR, HBM, LPDDR) at its speed bin of introduction.",
    "memory_tech_id",
    "memory_technologies.csv",
    (
        _id("memory_tech_id", "memory generation"),
        Field("name", "string", None, "Name of the generation (HBM3, GDDR6X ...).", "name", required=True),
        Field(
            "family",
            "string",
            None,
            "SDRAM, DDR, GDDR, HBM or LPDDR.",
            "family",
            "enum",
            True,
            ("SDRAM", "DDR", "GDDR", "HBM", "LPDDR"),
        ),
        *_release("memory generation's first product"),
        Field(
            "pin_rate_bits_per_s",
            "float64",
            "bit/s",
            "Data rate per pin.",
            "pin_rate",
            "quantity:signal_rate",
            bounds=(1e7, 1e12),
        ),
        Field(
            "interface_width_bits",
            "float64",
            "bit",
            "Interface width of one device, stack or DIMM channel.",
            "interface_width",
            "quantity:bits",
            bounds=(4, 1e5),
        ),
        Field(
            "bandwidth_per_device_bytes_per_s",
            "float64",
            "B/s",
            "Peak bandwidth of one device, stack or DIMM channel.",
            "bandwidth_per_device",
            "quantity:byte_rate",
            bounds=(1e6, 1e14),
        ),
        Field(
            "device_kind",
            "string",
            None,
            "What one device is: chip, stack or dimm.",
            "device_kind",
            "enum",
            choices=("chip", "stack", "dimm"),
        ),
        Field("standard", "string", None, "The JEDEC or vendor standard (JESD235 ...).", "standard"),
        Field(
            "status",
            "string",
            None,
            "shipping (products with it are available) or announced (specified or announced, no product available "
            "yet) when recorded.",
            "status",
            "enum",
            True,
            LINK_STATUSES,
        ),
        *_provenance(),
    ),
)

INTERCONNECTS = Table(
    "interconnects",
    "One row per link generation in one device configuration (PCIe 3.0 x16, NVLink 4.0 on H100 ...).",
    "interconnect_id",
    "interconnects.csv",
    (
        _id("interconnect_id", "link configuration"),
        Field(
            "name",
            "string",
            None,
            "Name of the link and configuration (PCIe 3.0 x16).",
            "name",
            required=True,
        ),
        Field(
            "family",
            "string",
            None,
            "PCIe, NVLink, Infinity Fabric, ICI, InfiniBand, Ethernet, CXL ...",
            "family",
            required=True,
        ),
        Field("generation", "string", None, "Generation within the family (3.0, NDR ...).", "generation"),
        *_release("link generation"),
        Field(
            "scope",
            "string",
            None,
            "host (CPU to device), scale_up (device to device), scale_out (node network) or chip_to_chip.",
            "scope",
            "enum",
            True,
            ("host", "scale_up", "scale_out", "chip_to_chip"),
        ),
        Field(
            "lane_rate_bits_per_s",
            "float64",
            "bit/s",
            "Signalling rate per lane or link.",
            "lane_rate",
            "quantity:signal_rate",
            bounds=(1e8, 1e13),
        ),
        Field(
            "link_count",
            "int64",
            "count",
            "Lanes or links in this configuration.",
            "link_count",
            "integer",
            bounds=(1, 1024),
        ),
        Field(
            "bandwidth_per_direction_bytes_per_s",
            "float64",
            "B/s",
            "Bandwidth of the configuration in one direction (a bidirectional figure halved).",
            "bandwidth",
            "quantity:byte_rate",
            True,
            bounds=(1e6, 1e15),
        ),
        Field(
            "bandwidth_quoted_direction",
            "string",
            None,
            "How the source quotes the bandwidth: bidirectional or per_direction.",
            "bandwidth_direction",
            "enum",
            True,
            DIRECTIONS,
        ),
        Field(
            "status",
            "string",
            None,
            "shipping (products with it are available) or announced (specified or announced, no product available "
            "yet) when recorded.",
            "status",
            "enum",
            True,
            LINK_STATUSES,
        ),
        *_provenance(),
    ),
)

MODELS = Table(
    "models",
    "One row per notable AI model, 2012-2026, with parameters and training compute.",
    "model_id",
    "models/*.csv",
    (
        _id("model_id", "model"),
        Field("name", "string", None, "Model name as its authors write it.", "name", required=True),
        Field(
            "organization",
            "string",
            None,
            "Organization(s) that built the model.",
            "organization",
            required=True,
        ),
        *_release("model (first paper, blog or model card)"),
        Field(
            "domain",
            "string",
            None,
            "Task domain of the model.",
            "domain",
            "enum",
            True,
            (
                "language",
                "vision",
                "image_generation",
                "video",
                "speech",
                "audio",
                "multimodal",
                "recommendation",
                "games",
                "science",
                "robotics",
                "other",
            ),
        ),
        Field(
            "architecture",
            "string",
            None,
            "Architecture family; undisclosed when the developer does not say.",
            "architecture",
            "enum",
            False,
            (
                "cnn",
                "rnn",
                "transformer",
                "moe_transformer",
                "ssm",
                "hybrid",
                "mlp",
                "gan",
                "diffusion_unet",
                "other",
                "undisclosed",
            ),
        ),
        Field(
            "is_recommender",
            "bool",
            None,
            "True for recommendation models, whose embedding tables dwarf other parameter counts (excluded from fits).",
            "is_recommender",
            "bool",
            True,
        ),
        Field(
            "is_language_model",
            "bool",
            None,
            "True for language models and multimodal models that generate text (the population of 'frontier language "
            "models', whatever their disclosed architecture).",
            "is_language_model",
            "bool",
            True,
        ),
        Field(
            "parameters",
            "float64",
            "count",
            "Total parameters (all experts for mixture-of-experts).",
            "parameters",
            "quantity:count",
            bounds=(1e3, 1e15),
        ),
        Field(
            "active_parameters",
            "float64",
            "count",
            "Parameters active per token (mixture-of-experts only).",
            "active_parameters",
            "quantity:count",
            bounds=(1e3, 1e15),
        ),
        Field(
            "training_compute_flop",
            "float64",
            "FLOP",
            "Total training compute.",
            "training_compute",
            "quantity:flop",
            bounds=(1e9, 1e28),
        ),
        Field(
            "training_compute_method",
            "string",
            None,
            "How training compute was obtained: reported, 6ND, hardware or third_party.",
            "training_compute_method",
            "enum",
            choices=("reported", "6ND", "hardware", "third_party"),
        ),
        Field(
            "training_compute_source_url",
            "string",
            None,
            "Source of the training compute when it is not source_url.",
            "training_compute_source_url",
            "url",
        ),
        Field(
            "training_tokens",
            "float64",
            "count",
            "Training tokens (or samples x epochs for non-language models, see notes).",
            "training_tokens",
            "quantity:count",
            bounds=(1e3, 1e15),
        ),
        Field(
            "training_chip_count",
            "int64",
            "count",
            "Accelerators used for the final training run (hardware method), as the source states it.",
            "training_chip_count",
            "integer",
            bounds=(1, 10_000_000),
        ),
        Field(
            "training_duration_s",
            "float64",
            "s",
            "Wall-clock duration of the final training run on training_chip_count chips (hardware method).",
            "training_duration",
            "quantity:duration",
            bounds=(60, 1e9),
        ),
        Field(
            "training_utilization_fraction",
            "float64",
            "ratio",
            "Fraction of peak_training_flops achieved during training (hardware method): the reported model FLOP "
            "utilization if the source gives one, else an assumption stated in notes.",
            "training_utilization",
            "quantity:fraction",
            bounds=(0.001, 1),
        ),
        Field(
            "trained_on_accelerator_id",
            "string",
            None,
            "The accelerator the model was trained on, an accelerator_id of the accelerators table.",
            "trained_on",
            "ref",
            ref="accelerators.accelerator_id",
        ),
        Field(
            "status",
            "string",
            None,
            "released (available: open weights, API or product), unreleased (training complete and described in a "
            "paper or report, never made available) or preview (announced while training or as a preview: its "
            "figures are provisional).",
            "status",
            "enum",
            True,
            MODEL_STATUSES,
        ),
        *_provenance(),
    ),
)

FITS = Table(
    "fits",
    "One row per fitted growth series, preset, selection and method: OLS of log10(value) on fractional year.",
    "series",
    "",
    (
        Field("series", "string", None, "Name of the fitted series (peak_flops, dram_bandwidth ...)."),
        Field(
            "preset",
            "string",
            None,
            "Selection preset: paper (the paper's selection and windows) or current.",
        ),
        Field(
            "selection",
            "string",
            None,
            "all records in the window, or frontier (records that set a new maximum).",
        ),
        Field("method", "string", None, "ols (least squares of log10 value on year) or theil_sen (robust)."),
        Field("description", "string", None, "One-sentence selection rule a reader can check."),
        Field("table_name", "string", None, "Curated table the series is drawn from."),
        Field("value_column", "string", None, "Column (or expression) fitted."),
        Field("value_unit", "string", None, "Base unit of the fitted value."),
        Field("window_start_year", "float64", "year", "First year of the selection window (inclusive)."),
        Field("window_end_year", "float64", "year", "Last year of the selection window (inclusive)."),
        Field("n", "int64", "count", "Number of points fitted."),
        Field("start_year", "float64", "year", "Fractional year of the earliest point fitted."),
        Field("end_year", "float64", "year", "Fractional year of the latest point fitted."),
        Field("slope_log10_per_year", "float64", "1/year", "Fitted slope of log10(value) per year."),
        Field("intercept_log10", "float64", None, "Fitted log10(value) at year 0 (use with slope)."),
        Field("slope_stderr", "float64", "1/year", "Standard error of the slope."),
        Field("mean_year", "float64", "year", "Mean fractional year of the points (OLS rows): the fit's pivot."),
        Field(
            "residual_std_log10",
            "float64",
            None,
            "Standard deviation of the residuals of log10(value) (OLS rows), with n - 2 degrees of freedom: with "
            "mean_year and slope_stderr it gives the confidence band of the fitted line.",
        ),
        Field("growth_per_2y", "float64", "ratio", "Fitted growth factor per 2 years: 10^(2 x slope)."),
        Field(
            "growth_per_2y_ci_low",
            "float64",
            "ratio",
            "Lower end of the 95% interval of growth_per_2y (t-based).",
        ),
        Field(
            "growth_per_2y_ci_high",
            "float64",
            "ratio",
            "Upper end of the 95% interval of growth_per_2y (t-based).",
        ),
        Field(
            "growth_per_2y_boot_ci_low",
            "float64",
            "ratio",
            "Lower end of the 95% percentile-bootstrap interval of growth_per_2y (seeded).",
        ),
        Field(
            "growth_per_2y_boot_ci_high",
            "float64",
            "ratio",
            "Upper end of the 95% percentile-bootstrap interval of growth_per_2y (seeded).",
        ),
        Field("doubling_time_years", "float64", "year", "Years for the fitted value to double."),
        Field("total_growth", "float64", "ratio", "Fitted growth over total_growth_years."),
        Field(
            "total_growth_years",
            "float64",
            "year",
            "Span for total_growth: the paper's 20 years for hardware.",
        ),
        Field("r2", "float64", "ratio", "Coefficient of determination of the fit."),
        Field(
            "break_year",
            "float64",
            "year",
            "Most likely break year of a two-segment fit (NaN if too few points).",
        ),
        Field(
            "log10_at_break",
            "float64",
            None,
            "log10 of the two-segment fit's value at break_year (with the two rates it draws both segments).",
        ),
        Field("n_before_break", "int64", "count", "Points at or before break_year."),
        Field("n_after_break", "int64", "count", "Points after break_year."),
        Field("growth_per_2y_before_break", "float64", "ratio", "Growth per 2 years before break_year."),
        Field(
            "growth_per_2y_before_break_ci_low",
            "float64",
            "ratio",
            "Lower end of the 95% interval of growth_per_2y_before_break (t with n - 3 degrees of freedom; the break "
            "year taken as given).",
        ),
        Field(
            "growth_per_2y_before_break_ci_high",
            "float64",
            "ratio",
            "Upper end of the 95% interval of growth_per_2y_before_break.",
        ),
        Field("growth_per_2y_after_break", "float64", "ratio", "Growth per 2 years after break_year."),
        Field(
            "growth_per_2y_after_break_ci_low",
            "float64",
            "ratio",
            "Lower end of the 95% interval of growth_per_2y_after_break (t with n - 3 degrees of freedom; the break "
            "year taken as given).",
        ),
        Field(
            "growth_per_2y_after_break_ci_high",
            "float64",
            "ratio",
            "Upper end of the 95% interval of growth_per_2y_after_break.",
        ),
        Field(
            "break_supported",
            "bool",
            None,
            "True when the two-segment fit has a lower BIC than one line by more than 2.",
        ),
        Field(
            "paper_growth_per_2y",
            "float64",
            "ratio",
            "The paper's stated growth per 2 years for this series (NaN if none).",
        ),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ACCELERATORS, MEMORY_TECHNOLOGIES, INTERCONNECTS, MODELS, FITS)}
RAW_TABLES = ("accelerators", "memory_technologies", "interconnects", "models")
