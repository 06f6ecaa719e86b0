"""memwall: build, query and export the memwall dataset.

    memwall build                      raw/ -> curated/ -> fits -> report -> database -> package -> figures
    memwall sql "select ..."           read-only SQL over the dataset (DuckDB)
    memwall describe accelerators      columns with types, units and descriptions
    memwall export out/ --format csv   the curated tables as CSV, Parquet or JSON, with units

Run `memwall <command> --help` for each command's options and an example.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from pipeline import paths

EXAMPLES = {
    "build": """examples:
  memwall build                 every stage: ingest, fits, report, database, package, figures
  memwall build ingest fits     only these stages, in this order
  memwall build --quiet         no progress lines, errors only""",
    "fit": """examples:
  memwall fit                   refit every series and print the paper preset's rates with 95% intervals
  memwall fit --preset current  print the rates fitted on all data through 2026""",
    "figures": """examples:
  memwall figures               render every figure from curated/ into figures/<version>/
                                (after editing raw/, run `memwall build` instead: it rebuilds curated/ first)""",
    "sql": """examples:
  memwall sql "select name, peak_training_flops from accelerators order by peak_training_flops desc limit 5"
  memwall sql "select * from frontier_models" --format csv > frontier.csv
  memwall sql "select * from accelerator_ratios" --format parquet --output ratios.parquet
  echo "select count(*) from models" | memwall sql -

Only reads run: SELECT (WITH, FROM, DESCRIBE, SHOW, SUMMARIZE), PIVOT, EXPLAIN and read-only PRAGMAs. Statements
that write or reach outside the dataset (INSERT, CREATE, DROP, COPY, ATTACH, INSTALL, LOAD, SET, CALL ...) are
refused before anything runs. Queries may read files inside the repository only. Tables: accelerators,
memory_technologies, interconnects, models, model_shapes, measurements, inference_bounds, paper_points, fits; views:
accelerator_ratios, frontier_models,
models_exceeding_accelerator_memory; macros: fractional_year(d), growth_per_2y(d, v). More in docs/QUERIES.md.""",
    "describe": """examples:
  memwall describe                 every table and view with its row count and description
  memwall describe accelerators    its columns: type, unit and description""",
    "coverage": """examples:
  memwall coverage              row counts and completeness against the dataset's targets, each measure's SQL
  memwall coverage --check      the same, and exit 1 when a target is not met (for CI)""",
    "export": """examples:
  memwall export out/ --format csv                 every table as CSV + datapackage.json (units, descriptions)
  memwall export out/ --format csv --units-in-header   header cells like "memory_bytes [B]"
  memwall export out/ --format json --tables models,fits""",
    "whatif": """examples:
  memwall whatif --model llama-3-70b --accelerator nvidia-h100-sxm5-80gb --weights int4 --batch 8 \
                 --prompt 2048 --generate 256
  memwall whatif --model llama-2-70b --accelerator nvidia-a100-sxm4-80gb --chips 4 --json
  memwall whatif --model llama-3-1-8b --accelerator nvidia-h100-sxm5-80gb --prompt 32768 --amdahl-bits 1.58
  memwall whatif --train --model llama-3-1-405b --accelerator nvidia-h100-sxm5-80gb --chips 16384 \
                 --utilization 0.4

An idealized lower bound on time from datasheet peaks (pipeline/costmodel/engine.py): no kernel or framework
overheads. Without --chips, the fewest chips whose memory holds weights, KV cache and activations (all tensor
parallel). Weight formats: fp32 tf32 bf16 fp16 fp8 int8 int4 fp4 int2 ternary; a weight format narrower than the
activations' is weight-only quantization. The same grid for every model and chip: the inference_bounds table.""",
    "measure": """examples:
  memwall measure --quick       time this machine (small sizes) and print its roofline
  memwall measure --help        every option (pipeline.costmodel.measure)""",
}


def _progress(quiet: bool, message: str) -> None:
    if not quiet:
        print(f"memwall: {message}", file=sys.stderr)


def _fail(command: str, message: str, code: int = 1) -> int:
    print(f"memwall {command}: {message}", file=sys.stderr)
    return code


# ---------------------------------------------------------------------------------------------------------------
# Commands


def cmd_build(args: argparse.Namespace) -> int:
    from pipeline import build
    from pipeline.package import PackageError
    from pipeline.query import closest

    names = args.stages or list(build.STAGES)
    for name in names:
        if name not in build.STAGES:
            hint = closest(name, list(build.STAGES))
            did = f"; did you mean {' or '.join(hint)}?" if hint else ""
            return _fail("build", f"unknown stage {name!r}{did} (stages: {', '.join(build.STAGES)})", 2)
    try:
        return build.run(names, quiet=args.quiet)
    except PackageError as err:
        return _fail("build", f"package: {err}; nothing was written")


def cmd_fit(args: argparse.Namespace) -> int:
    from pipeline import build, query

    code = build.run(["fits"], quiet=args.quiet)
    if code:
        return code
    sql = f"""
        SELECT series, selection, n, round(start_year, 1) AS from_year, round(end_year, 1) AS to_year,
               round(growth_per_2y, 2) AS growth_per_2y, round(growth_per_2y_ci_low, 2) AS ci_low,
               round(growth_per_2y_ci_high, 2) AS ci_high, paper_growth_per_2y AS paper
        FROM fits WHERE preset = {query._quote(args.preset)} AND method = 'ols' ORDER BY series, selection
    """
    con, _ = query.connect("parquet")
    try:
        (result,) = query.run(sql, con)
    finally:
        con.close()
    if not result.rows:
        return _fail("fit", f"no fits with preset {args.preset!r}; presets are paper, current, precision")
    print(query.format_table(result))
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from pipeline import build

    return build.run(["figures"], quiet=args.quiet)


def _read_query(text: str) -> str:
    """The query: the argument, or standard input for "-" (as UTF-8; anything else is a one-line error)."""
    if text != "-":
        return text
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"standard input is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "save the query as UTF-8"
        ) from None


def cmd_sql(args: argparse.Namespace) -> int:
    from pipeline import query

    if args.format == "parquet" and not args.output:
        return _fail("sql", "--format parquet writes a file: add --output FILE.parquet", 2)
    timeout = args.timeout if args.timeout and args.timeout > 0 else None
    try:
        sql = _read_query(args.query)
        output = paths.check_user_output(Path(args.output), args.force) if args.output else None
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
        statements = query.parse(sql)  # refuse writes before connecting at all
        if args.format != "table" and len(statements) != 1:
            raise query.QueryError(f"--format {args.format} takes exactly one statement; got {len(statements)}")
        con, source = query.connect(args.source, memory_limit=args.memory_limit)
    except (query.QueryError, ValueError) as err:
        return _fail("sql", str(err))
    if source == "parquet" and args.source == "auto" and paths.DATABASE.exists():
        _progress(args.quiet, "curated/memwall.duckdb is older than curated/*.parquet: querying the Parquet files")
    try:
        if args.format == "parquet":
            tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
            try:
                rows = query.write_parquet(sql, con, tmp, timeout)
                os.replace(tmp, output)
            finally:
                tmp.unlink(missing_ok=True)
            _progress(args.quiet, f"wrote {rows} rows to {args.output}")
            return 0
        if args.format == "table":
            texts = []
            for statement in statements:
                texts.append(query.stream(con, statement, _table_consumer(args, statement), timeout))
            _emit("\n\n".join(texts) + "\n", output)
            return 0
        writer = query.csv_writer if args.format == "csv" else query.json_writer
        if output is None:
            rows = query.stream(con, statements[0], writer(sys.stdout), timeout)
        else:
            tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
            try:
                with tmp.open("w", encoding="utf-8", newline="") as handle:
                    rows = query.stream(con, statements[0], writer(handle), timeout)
                os.replace(tmp, output)
            finally:
                tmp.unlink(missing_ok=True)
            _progress(args.quiet, f"wrote {rows} rows to {args.output}")
        return 0
    except query.QueryError as err:
        return _fail("sql", str(err))
    finally:
        con.close()


def _table_consumer(args: argparse.Namespace, statement):
    """Keep at most --max-rows rows (plus one, to know there are more) and format them as an aligned table."""
    from pipeline import query

    limit = args.max_rows if args.max_rows > 0 else query.TABLE_HARD_LIMIT

    def consume(columns, types, batches) -> str:
        rows: list[tuple] = []
        more = False
        for batch in batches:
            rows.extend(batch)
            if len(rows) > limit:
                more = True
                rows = rows[:limit]
                break
        result = query.Result(columns, rows, types, statement.type)
        return query.format_table(result, 0, args.max_width, more=more, limit=limit)

    return consume


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, output)


def cmd_describe(args: argparse.Namespace) -> int:
    from pipeline import database, package, query
    from pipeline import fields as F

    try:
        con, _ = query.connect(args.source)
    except query.QueryError as err:
        return _fail("describe", str(err))
    try:
        names = list(F.TABLES) + list(database.VIEWS)
        if not args.table:
            rows = []
            for name in names:
                kind = "table" if name in F.TABLES else "view"
                description = F.TABLES[name].description if kind == "table" else database.VIEWS[name][0]
                count = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
                rows.append((name, kind, count, description))
            print(query.format_table(query.Result(["name", "kind", "rows", "description"], rows, []), 0, 100))
            return 0
        if args.table not in names:
            hint = query.closest(args.table, names)
            did = f"; did you mean {' or '.join(hint)}?" if hint else f"; tables and views: {', '.join(names)}"
            return _fail("describe", f"unknown table or view {args.table!r}{did}")
        columns = con.execute(f"DESCRIBE {args.table}").fetchall()
        hint = args.table if args.table in F.TABLES else ("models" if "model" in args.table else "accelerators")
        rows = []
        for column in columns:
            _, unit, description = package.describe_column(column[0], hint)
            rows.append((column[0], column[1].lower(), unit or "", description))
        description = F.TABLES[args.table].description if args.table in F.TABLES else database.VIEWS[args.table][0]
        print(f"{args.table}: {description}\n")
        print(query.format_table(query.Result(["column", "type", "unit", "description"], rows, []), 0, 0))
        return 0
    finally:
        con.close()


def cmd_coverage(args: argparse.Namespace) -> int:
    from pipeline import coverage

    return coverage.main(["--check"] if args.check else [])


def cmd_export(args: argparse.Namespace) -> int:
    from pipeline import export

    tables = [t.strip() for t in args.tables.split(",") if t.strip()] if args.tables else None
    started = time.perf_counter()
    try:
        written = export.export(
            Path(args.folder), args.format, tables, args.units_in_header, args.quiet, force=args.force
        )
    except export.ExportError as err:
        return _fail("export", str(err))
    _progress(
        args.quiet, f"exported {len(written) - 1} tables to {args.folder} in {time.perf_counter() - started:.2f} s"
    )
    return 0


def cmd_whatif(args: argparse.Namespace) -> int:
    import json

    from pipeline.costmodel import engine, whatif

    args.prompt_given = args.prompt is not None
    args.prompt = args.prompt or 2048
    try:
        if args.train:
            if args.chips is None:
                return _fail("whatif", "--train needs --chips (how many accelerators train the model)", 2)
            result = whatif.answer_training(
                args.model,
                args.accelerator,
                args.chips,
                args.utilization,
                paths.CURATED,
                args.activations or "bf16",
                args.prompt if args.prompt_given else 4096,
                args.tensor_parallel or 1,
            )
            print(
                json.dumps(result, indent=1) if args.json else whatif.training_text(result),
                end="\n" if args.json else "",
            )
            return 0
        question = engine.Question(
            model_id=args.model,
            accelerator_id=args.accelerator,
            weights=args.weights,
            activations=args.activations,
            kv_cache=args.kv_cache,
            batch=args.batch,
            prompt=args.prompt,
            generate=args.generate,
            chips=args.chips,
            tensor_parallel=args.tensor_parallel,
            pipeline_parallel=args.pipeline_parallel,
        )
        result = whatif.answer(question, paths.CURATED, args.amdahl_bits)
    except engine.WhatIfError as err:
        return _fail("whatif", str(err), 2)
    except FileNotFoundError as err:
        return _fail("whatif", f"{err.filename} is missing: run `make data` (or `memwall build`) first")
    print(json.dumps(result, indent=1) if args.json else whatif.text(result), end="\n" if args.json else "")
    return 0


def cmd_measure(argv: list[str]) -> int:
    try:
        from pipeline.costmodel import measure
    except ModuleNotFoundError as err:
        if err.name in ("pipeline.costmodel", "pipeline.costmodel.measure"):
            return _fail(
                "measure",
                "the cost model (pipeline.costmodel.measure) is not in this checkout yet; "
                "update the repository once it has landed",
                2,
            )
        raise
    return measure.main(argv) or 0


# ---------------------------------------------------------------------------------------------------------------
# Arguments


def parser() -> argparse.ArgumentParser:
    from pipeline import build

    top = argparse.ArgumentParser(
        prog="memwall", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--version", action="version", version=f"memwall {paths.dataset_version()}")
    commands = top.add_subparsers(dest="command", metavar="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def quiet(p: argparse.ArgumentParser) -> None:
        p.add_argument("-q", "--quiet", action="store_true", help="print no progress lines, only results and errors")

    p = command("build", "Run the pipeline's stages (all by default), one progress line per stage.")
    p.add_argument(
        "stages", nargs="*", metavar="stage", help=f"stages to run, in order (default: all: {', '.join(build.STAGES)})"
    )
    quiet(p)
    p.set_defaults(run=cmd_build)

    p = command("fit", "Refit every growth series (curated/fits.parquet) and print one preset's rates.")
    p.add_argument("--preset", default="paper", help="which rates to print: paper (default), current or precision")
    quiet(p)
    p.set_defaults(run=cmd_fit)

    p = command("figures", "Render every figure from curated/ into figures/<version>/.")
    quiet(p)
    p.set_defaults(run=cmd_figures)

    p = command("sql", "Run read-only SQL on the dataset and print the result.")
    p.add_argument("query", help='the SQL, or "-" to read it from standard input')
    p.add_argument(
        "--format",
        choices=("table", "csv", "json", "parquet"),
        default="table",
        help="table (aligned, default), csv, json, or parquet (needs --output)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of standard output (outside the repository, or in a folder of your own in it "
        "that git does not track; an existing file only with --force)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing --output file")
    from pipeline.query import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT_S

    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop a query that runs longer (default {DEFAULT_TIMEOUT_S:g}; 0 = no limit); Ctrl-C stops it at once",
    )
    p.add_argument(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        metavar="SIZE",
        help=f"DuckDB's memory limit for the query, nothing spilled to disk (default {DEFAULT_MEMORY_LIMIT})",
    )
    p.add_argument(
        "--source",
        choices=("auto", "database", "parquet"),
        default="auto",
        help="curated/memwall.duckdb, or views over curated/*.parquet; auto (default) uses the "
        "database when it is at least as new as the Parquet files",
    )
    from pipeline.query import TABLE_MAX_ROWS, TABLE_MAX_WIDTH

    p.add_argument(
        "--max-rows",
        type=int,
        default=TABLE_MAX_ROWS,
        metavar="N",
        help=f"table format: print at most N rows (default {TABLE_MAX_ROWS}; 0 = all)",
    )
    p.add_argument(
        "--max-width",
        type=int,
        default=TABLE_MAX_WIDTH,
        metavar="N",
        help=f"table format: cut cells longer than N characters (default {TABLE_MAX_WIDTH}; 0 = never)",
    )
    quiet(p)
    p.set_defaults(run=cmd_sql)

    p = command("describe", "List the tables and views, or one table's columns with type, unit and description.")
    p.add_argument("table", nargs="?", help="a table or view name")
    p.add_argument("--source", choices=("auto", "database", "parquet"), default="auto", help=argparse.SUPPRESS)
    p.set_defaults(run=cmd_describe)

    p = command("coverage", "Print row counts and completeness against the dataset's targets.")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    p.set_defaults(run=cmd_coverage)

    p = command("export", "Write the curated tables to a folder as CSV, Parquet or JSON, with a datapackage.json.")
    p.add_argument(
        "folder",
        help="folder to write into (created if missing); outside the repository, or a folder of your own in it that "
        "git does not track",
    )
    p.add_argument("--format", choices=("csv", "parquet", "json"), default="csv", help="file format (default csv)")
    p.add_argument("--tables", help="comma-separated table names (default: all)")
    p.add_argument("--units-in-header", action="store_true", help='CSV header cells like "memory_bytes [B]"')
    p.add_argument("--force", action="store_true", help="write into a folder that already holds files")
    quiet(p)
    p.set_defaults(run=cmd_export)

    p = command("whatif", "Idealized time, memory and energy of a model on an accelerator (or of training it).")
    p.add_argument("--model", required=True, help="a model_id of model_shapes (training: of models)")
    p.add_argument("--accelerator", required=True, help="an accelerator_id of accelerators")

    def positive(text: str) -> int:
        value = int(text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
        return value

    p.add_argument("--weights", default="bf16", help="number format of the weights (default bf16)")
    p.add_argument(
        "--activations",
        help="format of activations and matrix products (default: the weights' if the "
        "chip has a peak for it, else bf16, fp16 or fp32); with --train, the training format",
    )
    p.add_argument("--kv-cache", help="format of the KV cache (default: the activations')")
    p.add_argument("--batch", type=positive, default=1, help="sequences decoded together (default 1)")
    p.add_argument(
        "--prompt", type=positive, help="prompt tokens (default 2048); with --train, the training sequence (4096)"
    )
    p.add_argument("--generate", type=int, default=256, help="generated tokens (default 256)")
    p.add_argument("--chips", type=positive, help="accelerators (default: the fewest that hold the model)")
    p.add_argument("--tensor-parallel", type=positive, help="tensor-parallel degree (default: chips / pipeline)")
    p.add_argument("--pipeline-parallel", type=positive, default=1, help="pipeline stages (default 1)")
    p.add_argument("--amdahl-bits", type=float, metavar="B", help="also: Amdahl's law for projection weights in B bits")
    p.add_argument("--train", action="store_true", help="training time and memory instead of inference")
    p.add_argument("--utilization", type=float, default=0.4, help="--train: fraction of the peak achieved (0.4)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=cmd_whatif)

    command(
        "measure",
        "Time this machine: NumPy matrix-multiply FLOP/s and STREAM-style memory bandwidth, the ridge point they imply "
        "and where transformer inference falls on it.",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "measure":
        if argv[1:2] in (["-h"], ["--help"]):
            try:
                import pipeline.costmodel.measure  # noqa: F401
            except ModuleNotFoundError:
                parser().parse_args(argv)  # prints this command's help, exits 0
        return cmd_measure(argv[1:])
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
