# memwall — the pipeline's graph: raw/ -> curated/*.parquet -> curated/fits.parquet -> figures/<version>/
# `make figures` and `make test` set up .venv themselves (Python 3.11 + make is all a machine needs).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SETUP := $(VENV)/.installed
VERSION := $(shell cat VERSION)
export PYTHONHASHSEED := 0

RAW := $(sort $(wildcard raw/*.csv raw/*/*.csv))
# The list of raw files, rewritten only when a file is added or removed: a deleted raw file rebuilds the tables.
RAW_LIST := curated/.raw-files
# The code every stage key hashes (pipeline/stagekeys.py _code_files; requirements.lock through $(SETUP))
CODE := $(shell find pipeline -type f \( -name '*.py' -o -name '*.toml' -o -name '*.ttf' -o -name '*.js' -o -name '*.json' \) \
          -not -path '*/__pycache__/*' | LC_ALL=C sort)
TABLES := curated/accelerators.parquet curated/memory_technologies.parquet curated/interconnects.parquet \
          curated/models.parquet curated/model_shapes.parquet curated/measurements.parquet
FITS := curated/fits.parquet
# The what-if grid: every shaped model on every data-center accelerator from 2012 (pipeline/costmodel/grid.py)
BOUNDS := curated/inference_bounds.parquet
# The paper's plotted points beside memwall's rows (pipeline/paper_compare.py)
PAPER := curated/paper_points.parquet
DATABASE := curated/memwall.duckdb
MANIFEST := figures/$(VERSION)/manifest.json

.PHONY: help setup data package figures test lint format clean check-reproducible coverage bench lock FORCE
FORCE:
.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(SETUP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

setup: $(SETUP) ## Create .venv with the pinned dependencies

# The oldest DuckDB the database file promises to open (pipeline/database.py OLDEST_READER), for the test that opens
# it: installed beside the project's own DuckDB, never imported by the pipeline.
OLD_DUCKDB := $(VENV)/duckdb-1.1.3
$(OLD_DUCKDB)/.installed: $(SETUP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --target $(OLD_DUCKDB) duckdb==1.1.3
	@touch $@

$(RAW_LIST): FORCE
	@printf '%s\n' $(RAW) | cmp -s - $@ 2>/dev/null || printf '%s\n' $(RAW) > $@

REPORT := curated/REPORT.md
# The citable package: datapackage.json and the data dictionary, from the registry and the curated files. The same
# stage rewrites the generated parts of docs/QUERIES.md (query outputs) and CHANGELOG-DATA.md (row counts); those
# files are also edited by hand, so they are not targets here (tests/test_cli.py catches a stale QUERIES.md).
PACKAGE := datapackage.json docs/DATA_DICTIONARY.md
DATA := $(TABLES) $(FITS) $(BOUNDS) $(PAPER) $(REPORT) $(DATABASE) $(PACKAGE)
DATA_STAGES := ingest fits bounds paper report database package
# Everything a stage reads: the raw files (and their list: a removed file rebuilds), the code, the version.
BUILD_INPUTS := $(RAW) $(RAW_LIST) $(CODE) VERSION $(SETUP)

# One process runs every stage, so the imports are paid once. make decides *whether* anything changed (an input newer
# than an output); the stage keys decide *what* (pipeline/stagekeys.py): a stage whose code and raw data are as when it
# last ran, and whose outputs are intact, is skipped and its outputs touched. An edited note rebuilds the tables, the
# database and the package and renders no figure.
$(DATA) $(MANIFEST) &: $(BUILD_INPUTS)
	$(BIN)/python -m pipeline.build all

# Committed outputs: make must never delete them when a recipe is killed or interrupted (GNU make deletes the targets of
# an interrupted recipe, every target of a grouped rule, unless they are precious). A half-done stage has written
# nothing (pipeline/outputs.py), and the next make rebuilds whatever is older than its inputs.
.PRECIOUS: $(DATA) $(MANIFEST) $(RAW_LIST)

package: data ## Build datapackage.json and docs/DATA_DICTIONARY.md; refresh docs/QUERIES.md outputs

data: $(SETUP) $(RAW_LIST) ## Build curated/ (Parquet, fits, DuckDB) and the package, without rendering figures
	$(BIN)/python -m pipeline.build $(DATA_STAGES)

figures: $(DATA) $(MANIFEST) ## Build the dataset and render every figure (the main job)

test: $(SETUP) $(OLD_DUCKDB)/.installed ## Run the test suite (one worker per core; a test file stays on one worker)
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(SETUP) ## Check style with ruff
	$(BIN)/ruff check pipeline tests
	$(BIN)/ruff format --check pipeline tests

format: $(SETUP) ## Format the code with ruff
	$(BIN)/ruff format pipeline tests
	$(BIN)/ruff check --fix pipeline tests

clean: ## Remove the virtual environment, caches and the database (committed outputs stay)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis $(DATABASE)

check-reproducible: $(SETUP) ## Rebuild everything from raw/ and fail if a committed output differs
	$(BIN)/python -m pipeline.build all --quiet --force
	$(BIN)/python -m pipeline.reproducible

coverage: data ## Print row counts and completeness against the dataset's targets (and the rows short of each)
	@$(BIN)/python -m pipeline.coverage

lock: ## Re-pin requirements.lock: install pyproject's dependencies (+ dev) in a fresh venv and freeze them
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check ".[dev]"
	{ echo "# Pinned, tested versions for Python 3.11 (make lock: pyproject's dependencies + dev, pip freeze)."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^memwall'; } > requirements.lock
	rm -rf .lock-venv

bench: $(SETUP) ## Benchmark the build and its scaling (~15 min; writes nothing in the checkout but BENCHMARKS.md)
	$(BIN)/python -m bench.run --write BENCHMARKS.md
