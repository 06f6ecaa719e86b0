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
NUMBER_FORMATS = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4", "fp4")
# What a measurement's value measures, and the kind of quantity its unit must be (pipeline/units.py).
METRIC_DIMENSIONS = {
    "output_tokens_per_s_per_system": "token_rate",
    "output_tokens_per_s_per_chip": "token_rate",
    "total_tokens_per_s_per_system": "token_rate",
    "time_per_output_token": "duration",
    "time_to_first_token": "duration",
    "request_latency": "duration",
    "training_tokens_per_s_per_chip": "token_rate",
    "model_flops_utilization": "fraction",
    "training_flops_per_s_per_chip": "flop_rate",
}
MEASUREMENT_METRICS = tuple(METRIC_DIMENSIONS)
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
            "training_compute_6nd_flop",
            "float64",
            "FLOP",
            "6 x parameters (the active ones for mixture-of-experts) x training_tokens, computed for every model "
            "with both, whatever training_compute_method is: beside a reported, hardware or third-party "
            "training_compute_flop it shows the spread between methods. For a model trained from another one, "
            "training_tokens may count its own stage only (see notes), and this value the stage only.",
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


def _int(
    name: str,
    raw: str,
    what: str,
    unit: str | None = "count",
    required: bool = False,
    bounds: tuple[float, float] = (1, 1e7),
) -> Field:
    return Field(name, "int64", unit, what, raw, "integer", required, bounds=bounds)


MODEL_SHAPES = Table(
    "model_shapes",
    "One row per transformer model whose shape (layers, widths, heads, FFN, mixture-of-experts, attention) was "
    "published, keyed by the model's model_id: the input of the cost models and of the what-if engine.",
    "model_id",
    "model_shapes.csv",
    (
        Field(
            "model_id",
            "string",
            None,
            "The model, a model_id of the models table.",
            "model_id",
            "ref",
            True,
            ref="models.model_id",
        ),
        Field(
            "architecture",
            "string",
            None,
            "decoder, encoder or encoder_decoder.",
            "architecture",
            "enum",
            True,
            ("decoder", "encoder", "encoder_decoder"),
        ),
        _int(
            "layers",
            "layers",
            "Transformer blocks: the decoder's (an encoder-only model's encoder blocks).",
            required=True,
            bounds=(1, 1000),
        ),
        _int("encoder_layers", "encoder_layers", "Encoder blocks of an encoder-decoder model.", bounds=(1, 1000)),
        _int("d_model", "d_model", "Hidden size (model width).", required=True, bounds=(16, 1_000_000)),
        _int("heads", "heads", "Attention (query) heads.", required=True, bounds=(1, 10_000)),
        _int(
            "kv_heads",
            "kv_heads",
            "Key/value heads: heads for MHA, 1 for MQA, fewer than heads for GQA; empty means heads.",
            bounds=(1, 10_000),
        ),
        _int(
            "head_dim",
            "head_dim",
            "Width of one head where the configuration gives it; empty means d_model / heads.",
            bounds=(1, 10_000),
        ),
        Field(
            "attention",
            "string",
            None,
            "mha, gqa, mqa or mla (multi-head latent attention).",
            "attention",
            "enum",
            True,
            ("mha", "gqa", "mqa", "mla"),
        ),
        _int(
            "sliding_window_tokens",
            "sliding_window",
            "Attention window of the layers with local attention.",
            bounds=(1, 100_000_000),
        ),
        _int(
            "global_every",
            "global_every",
            "Every N-th layer attends globally, the others within the sliding window; empty with a window: every "
            "layer local. Without a published window (GPT-3's banded layers) the cost models count every layer as "
            "global.",
            bounds=(1, 1000),
        ),
        _int(
            "ffn_dim",
            "ffn_dim",
            "Inner size of a dense feed-forward block; empty when every layer is a mixture of experts.",
            bounds=(1, 10_000_000),
        ),
        Field(
            "ffn_kind",
            "string",
            None,
            "gelu or relu (two matrices), swiglu or geglu (three), other.",
            "ffn_kind",
            "enum",
            True,
            ("gelu", "relu", "swiglu", "geglu", "other"),
        ),
        _int("vocab_size", "vocab_size", "Vocabulary size.", bounds=(1, 10_000_000)),
        _int(
            "context_length_tokens",
            "context_length",
            "Trained (or configured) context length.",
            bounds=(1, 100_000_000),
        ),
        Field(
            "tied_embeddings",
            "bool",
            None,
            "The output projection reuses the input embedding; empty when the source does not say.",
            "tied_embeddings",
            "bool",
        ),
        Field(
            "tied_embeddings_assumed",
            "bool",
            None,
            "Where tied_embeddings is empty: whether the cost models count the output projection as tied, the "
            "assumption under which the computed total lies closer to the models table's published count.",
        ),
        Field(
            "norm",
            "string",
            None,
            "layernorm or rmsnorm; empty when not published (counted as rmsnorm: d_model weights).",
            "norm",
            "enum",
            choices=("layernorm", "rmsnorm"),
        ),
        Field(
            "bias",
            "bool",
            None,
            "The linear layers carry biases; empty when not published (counted as none).",
            "bias",
            "bool",
        ),
        Field(
            "position",
            "string",
            None,
            "Positions: learned, sinusoidal, rope, alibi, relative (bucketed biases, T5) or xl_relative "
            "(Transformer-XL encodings, with a d_model x d_model position projection per layer: Gopher, Chinchilla).",
            "position",
            "enum",
            True,
            ("learned", "sinusoidal", "rope", "alibi", "relative", "xl_relative"),
        ),
        _int("moe_experts", "moe_experts", "Routed experts per mixture-of-experts layer.", bounds=(1, 100_000)),
        _int("moe_experts_per_token", "moe_experts_per_token", "Routed experts active per token.", bounds=(1, 100_000)),
        _int(
            "moe_shared_experts",
            "moe_shared_experts",
            "Shared experts every token passes through.",
            bounds=(0, 100_000),
        ),
        _int(
            "moe_dense_layers", "moe_dense_layers", "Leading layers with a dense feed-forward block.", bounds=(0, 1000)
        ),
        _int("moe_ffn_dim", "moe_ffn_dim", "Inner size of one expert.", bounds=(1, 10_000_000)),
        _int(
            "moe_shared_ffn_dim",
            "moe_shared_ffn_dim",
            "Inner size of one shared expert where it differs from moe_ffn_dim; empty means moe_ffn_dim.",
            bounds=(1, 10_000_000),
        ),
        _int(
            "moe_layer_every",
            "moe_layer_every",
            "After the dense layers, every N-th layer is a mixture of experts and the others dense; empty means 1.",
            bounds=(1, 1000),
        ),
        _int(
            "kv_lora_rank", "kv_lora_rank", "Latent attention: rank of the compressed key/value.", bounds=(1, 100_000)
        ),
        _int("q_lora_rank", "q_lora_rank", "Latent attention: rank of the compressed query.", bounds=(1, 100_000)),
        _int(
            "qk_rope_head_dim",
            "qk_rope_head_dim",
            "Latent attention: rotary part of a query/key head.",
            bounds=(1, 10_000),
        ),
        _int(
            "qk_nope_head_dim",
            "qk_nope_head_dim",
            "Latent attention: non-rotary part of a query/key head.",
            bounds=(1, 10_000),
        ),
        _int("v_head_dim", "v_head_dim", "Latent attention: width of a value head.", bounds=(1, 10_000)),
        Field(
            "computed_parameters",
            "float64",
            "count",
            "Total parameters computed from the shape (pipeline/costmodel/shapes.py).",
        ),
        Field(
            "computed_active_parameters",
            "float64",
            "count",
            "Parameters active per token computed from the "
            "shape (mixture-of-experts: the routed experts a token uses).",
        ),
        Field(
            "parameter_check",
            "string",
            None,
            "Why the computed count differs from the models table by more than 2% (empty when it agrees).",
            "parameter_check",
        ),
        *_provenance(),
    ),
)

MEASUREMENTS = Table(
    "measurements",
    "One row per published measurement of a real inference or training run (throughput, latency or utilization of a "
    "model on a named accelerator with its settings), checked against the what-if engine's idealized bound.",
    "measurement_id",
    "measurements.csv",
    (
        _id("measurement_id", "measurement"),
        Field(
            "model_id",
            "string",
            None,
            "The model, a model_id of the models table.",
            "model_id",
            "ref",
            True,
            ref="models.model_id",
        ),
        Field(
            "accelerator_id",
            "string",
            None,
            "The accelerator, an accelerator_id of the accelerators table.",
            "accelerator_id",
            "ref",
            True,
            ref="accelerators.accelerator_id",
        ),
        _int("chip_count", "chip_count", "Accelerators in the measured system.", required=True),
        _int("tensor_parallel", "tensor_parallel", "Tensor-parallel degree, where stated.", bounds=(1, 100_000)),
        _int("pipeline_parallel", "pipeline_parallel", "Pipeline-parallel degree, where stated.", bounds=(1, 100_000)),
        Field(
            "phase",
            "string",
            None,
            "decode, prefill, end_to_end (a whole request) or training.",
            "phase",
            "enum",
            True,
            ("decode", "prefill", "end_to_end", "training"),
        ),
        Field(
            "weights_format",
            "string",
            None,
            "Number format of the weights, as stated.",
            "weights_format",
            "enum",
            choices=NUMBER_FORMATS,
        ),
        Field(
            "activations_format",
            "string",
            None,
            "Number format of the activations, as stated.",
            "activations_format",
            "enum",
            choices=NUMBER_FORMATS,
        ),
        Field(
            "kv_cache_format",
            "string",
            None,
            "Number format of the KV cache, as stated.",
            "kv_cache_format",
            "enum",
            choices=NUMBER_FORMATS,
        ),
        _int(
            "batch_size",
            "batch_size",
            "Concurrent sequences; empty when the source does not state it (a maximum-throughput result).",
            bounds=(1, 10_000_000),
        ),
        _int(
            "input_tokens",
            "input_tokens",
            "Prompt tokens per request (training: sequence length).",
            bounds=(1, 100_000_000),
        ),
        _int("output_tokens", "output_tokens", "Generated tokens per request.", bounds=(1, 100_000_000)),
        Field("metric", "string", None, "What value measures.", "metric", "enum", True, MEASUREMENT_METRICS),
        Field(
            "value",
            "float64",
            None,
            "The measurement in the base unit of its metric: tokens/s, s, ratio or FLOP/s (value_unit says which).",
            "value",
            "quantity:by_metric",
            True,
            bounds=(1e-12, 1e20),
        ),
        Field("value_unit", "string", None, "Base unit of value: tokens/s, s, ratio or FLOP/s."),
        Field("engine", "string", None, "The software that ran it (TensorRT-LLM, vLLM, Megatron-LM ...).", "engine"),
        *_provenance(),
    ),
)

INFERENCE_BOUNDS = Table(
    "inference_bounds",
    "The what-if grid (pipeline/costmodel/grid.py): the idealized bound of every shaped model on every data-center "
    "accelerator released from 2012 (CPUs and cancelled chips left out), in three scenarios (decode_batch1_4k, "
    "decode_batch64_4k: one generated token per sequence at a 4,096-token context; prefill_2k: a 2,048-token prompt) "
    "at 16 bits (BF16, else FP16) and at the chip's best 8-bit format (FP8, else INT8) for weights, activations and "
    "KV cache, on the fewest chips that hold weights, KV cache and activations (tensor parallel). A lower bound on "
    "time: no overheads, datasheet peaks (pipeline/costmodel/engine.py).",
    "model_id",
    "",
    (
        Field("model_id", "string", None, "The model (model_shapes.model_id)."),
        Field("accelerator_id", "string", None, "The accelerator (accelerators.accelerator_id)."),
        Field("scenario", "string", None, "decode_batch1_4k, decode_batch64_4k or prefill_2k."),
        Field("precision", "string", None, "16-bit or 8-bit."),
        Field("weights_format", "string", None, "Number format of the weights (and activations and KV cache)."),
        Field("batch_size", "int64", "count", "Sequences processed together."),
        Field("context_tokens", "int64", "count", "Decode: positions attended (cache + new token); prefill: prompt."),
        Field("model_release_fractional_year", "float64", "year", "The model's release date as a fractional year."),
        Field(
            "accelerator_release_fractional_year",
            "float64",
            "year",
            "The accelerator's release date as a fractional year.",
        ),
        Field("chips", "int64", "count", "Chips used: the fewest whose memory holds the footprint."),
        Field("weights_bytes", "float64", "B", "Weights in this format (embeddings and head in the same)."),
        Field("kv_cache_bytes", "float64", "B", "KV cache of the batch at this context."),
        Field("memory_footprint_bytes", "float64", "B", "Weights, KV cache and working activations."),
        Field("step_flop", "float64", "FLOP", "FLOPs of one step of the whole batch."),
        Field("moved_bytes", "float64", "B", "Bytes moved to and from DRAM in one step."),
        Field("compute_time_s", "float64", "s", "The step's FLOPs at the chips' peak: the compute-only time."),
        Field("memory_time_s", "float64", "s", "The step's bytes at the chips' DRAM bandwidth: the memory-only time."),
        Field(
            "interconnect_time_s",
            "float64",
            "s",
            "Tensor-parallel all-reduces at the chip's interconnect bandwidth per direction (0 on one chip).",
        ),
        Field(
            "step_time_s",
            "float64",
            "s",
            "The bound: per operation the larger of its compute and memory time, summed, plus interconnect time.",
        ),
        Field("bound_by", "string", None, "compute, memory or interconnect: what takes most of step_time_s."),
        Field(
            "tokens_per_s_per_system",
            "float64",
            "tokens/s",
            "Tokens per second of the chips together: generated tokens (decode) or prompt tokens (prefill).",
        ),
        Field("tokens_per_s_per_chip", "float64", "tokens/s", "tokens_per_s_per_system divided by chips."),
        Field(
            "energy_per_token_joules",
            "float64",
            "J",
            "Chips x TDP x step time per token: an upper bound on energy at the idealized speed.",
        ),
        Field(
            "interconnect_known",
            "bool",
            None,
            "False where the chips' interconnect bandwidth is not in the dataset (its time is then left out).",
        ),
    ),
)

PAPER_POINTS = Table(
    "paper_points",
    "Every marker of the paper's Figures 1, 2a and 2b, recovered from the authors' vector PDFs "
    "(raw/reference/paper_points.csv, pipeline/paper_points.py), beside the memwall row it shows "
    "(pipeline/paper_compare.py): matched by its label, or unlabelled by an optimal assignment on date and value; a "
    "marker with no plausible row is listed as unmatched with what it would have to be. The data behind the paper's "
    "figures, with the provenance of every number.",
    "point_id",
    "",
    (
        Field("point_id", "string", None, "figure/series/index of the marker, in the PDF's drawing order."),
        Field("figure", "string", None, "fig1, fig2a or fig2b."),
        Field("series", "string", None, "The plotted series (flops, dram, interconnect, transformer, cv ...)."),
        Field("label", "string", None, "The text the paper prints beside the marker, if any."),
        Field("hidden", "bool", None, "Drawn exactly under another marker of the same series (a duplicate)."),
        Field("date_as_plotted", "string", None, "The marker's x position as a date (YYYY-MM-DD)."),
        Field("plotted_x_year", "float64", "year", "The marker's x position as a fractional year."),
        Field("y_as_plotted", "float64", None, "The marker's y position in the figure's unit (y_unit)."),
        Field("y_unit", "string", None, "What the figure's y axis shows."),
        Field("base_unit", "string", None, "The base unit the plotted value converts to."),
        Field("base_units_per_plotted_unit", "float64", None, "Factor from y_as_plotted to base_unit."),
        Field("plotted_unit_note", "string", None, "How the factor was obtained (a normalization's base point ...)."),
        Field("paper_value_base_units", "float64", None, "The marker's value in base_unit."),
        Field("matched_table", "string", None, "accelerators, interconnects, memory_technologies or models."),
        Field("matched_id", "string", None, "The memwall row's id (empty when unmatched)."),
        Field("memwall_name", "string", None, "The memwall row's name."),
        Field("memwall_release_date", "string", None, "memwall's release date of the row."),
        Field("memwall_release_date_precision", "string", None, "day, month or year."),
        Field("memwall_x_year", "float64", "year", "memwall's release date as a fractional year."),
        Field("memwall_value_base_units", "float64", None, "memwall's value of the plotted quantity, in base_unit."),
        Field("memwall_value_as_plotted", "float64", None, "memwall's value in the figure's unit."),
        Field(
            "value_ratio_memwall_to_paper", "float64", None, "memwall's value divided by the paper's (dimensionless)."
        ),
        Field("date_shift_years", "float64", "year", "memwall's date minus the plotted date."),
        Field("memwall_source_url", "string", None, "The source of memwall's row."),
        Field("match_method", "string", None, "label, alias, assignment or unmatched."),
        Field("note", "string", None, "Why this row (or why none), in words."),
        Field("source_file", "string", None, "The PDF of the authors' repository the marker comes from."),
        Field("source_commit", "string", None, "The commit of amirgholami/ai_and_memory_wall read."),
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

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        ACCELERATORS,
        MEMORY_TECHNOLOGIES,
        INTERCONNECTS,
        MODELS,
        MODEL_SHAPES,
        MEASUREMENTS,
        INFERENCE_BOUNDS,
        PAPER_POINTS,
        FITS,
    )
}
RAW_TABLES = ("accelerators", "memory_technologies", "interconnects", "models", "model_shapes", "measurements")
