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
CODE_INGEST := pipeline/ingest.py pipeline/units.py pipeline/fields.py pipeline/outputs.py VERSION
TABLES := curated/accelerators.parquet curated/memory_technologies.parquet curated/interconnects.parquet \
          curated/models.parquet curated/model_shapes.parquet curated/measurements.parquet
FITS := curated/fits.parquet
# The what-if grid: every shaped model on every data-center accelerator from 2012 (pipeline/costmodel/grid.py)
BOUNDS := curated/inference_bounds.parquet
# The paper's plotted points beside memwall's rows (pipeline/paper_compare.py)
PAPER := curated/paper_points.parquet
DATABASE := curated/memwall.duckdb
FIGURE_CODE := $(wildcard pipeline/figures/*.py) $(wildcard pipeline/fonts/*.ttf) \
               $(wildcard pipeline/costmodel/*.py)
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

$(TABLES) &: $(RAW) $(RAW_LIST) $(CODE_INGEST) $(SETUP)
	$(BIN)/python -m pipeline.build ingest

$(FITS): $(TABLES) pipeline/fits.py pipeline/series.toml
	$(BIN)/python -m pipeline.build fits

$(BOUNDS): $(TABLES) pipeline/costmodel/engine.py pipeline/costmodel/shapes.py pipeline/costmodel/grid.py
	$(BIN)/python -m pipeline.build bounds

REPORT := curated/REPORT.md
$(PAPER): $(TABLES) raw/reference/paper_points.csv pipeline/paper_compare.py pipeline/series.toml
	$(BIN)/python -m pipeline.build paper

$(REPORT): $(TABLES) $(FITS) $(BOUNDS) $(PAPER) pipeline/report.py pipeline/paper_compare.py pipeline/series.toml $(wildcard pipeline/costmodel/*.py)
	$(BIN)/python -m pipeline.build report

$(DATABASE): $(TABLES) $(FITS) $(BOUNDS) $(PAPER) pipeline/database.py
	$(BIN)/python -m pipeline.build database

$(MANIFEST): $(TABLES) $(FITS) $(BOUNDS) $(PAPER) $(FIGURE_CODE)
	$(BIN)/python -m pipeline.build figures

# The citable package: datapackage.json and the data dictionary, from the registry and the curated files. The same
# stage rewrites the generated parts of docs/QUERIES.md (query outputs) and CHANGELOG-DATA.md (row counts); those
# files are also edited by hand, so they are not targets here (tests/test_cli.py catches a stale QUERIES.md).
PACKAGE := datapackage.json docs/DATA_DICTIONARY.md
# Committed outputs: make must never delete them when a recipe is killed or interrupted (GNU make deletes the targets of
# an interrupted recipe, every target of a grouped rule, unless they are precious). A half-done stage has written
# nothing (pipeline/outputs.py), and the next make rebuilds whatever is older than its inputs.
.PRECIOUS: $(TABLES) $(FITS) $(BOUNDS) $(PAPER) $(REPORT) $(DATABASE) $(MANIFEST) $(PACKAGE) $(RAW_LIST)
PACKAGE_CODE := pipeline/package.py pipeline/docs.py pipeline/query.py pipeline/database.py pipeline/fields.py VERSION
$(PACKAGE) &: $(TABLES) $(FITS) $(BOUNDS) $(PAPER) $(PACKAGE_CODE)
	$(BIN)/python -m pipeline.build package

package: $(PACKAGE) ## Build datapackage.json and docs/DATA_DICTIONARY.md; refresh docs/QUERIES.md outputs

data: $(TABLES) $(FITS) $(BOUNDS) $(PAPER) $(REPORT) $(DATABASE) $(PACKAGE) ## Build curated/ (Parquet, fits, DuckDB) and the package

figures: data $(MANIFEST) ## Build the dataset and render every figure (the main job)

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
