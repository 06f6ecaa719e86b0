"""Coverage: row counts and completeness of the curated tables against the dataset's targets (make coverage).

Every measure is one SQL query over the curated tables; `make coverage` prints each with its value, its target, and
the query itself, so a reader can rerun it (`memwall sql "<query>"`). For a share below its target, the rows that miss
it are listed. `make coverage` always exits 0 (the report is the result); `memwall coverage --check` exits 1 when a
target is unmet.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from pipeline import paths
from pipeline.fits import connect_curated

KEYS = {"accelerators": "accelerator_id", "models": "model_id"}
PEAKS = (
    "peak_fp64_flops, peak_fp32_flops, peak_tf32_flops, peak_fp16_flops, peak_bf16_flops, peak_fp8_flops, "
    "peak_int8_ops, peak_fp4_flops"
)
DATACENTER_2012 = "segment = 'datacenter' AND release_date >= DATE '2012-01-01'"
FOUR_KEY_FIELDS = f"""release_date IS NOT NULL AND coalesce({PEAKS}) IS NOT NULL
    AND memory_bytes IS NOT NULL AND memory_bandwidth_bytes_per_s IS NOT NULL"""
INTERCONNECT = (
    "interconnect_bandwidth_per_direction_bytes_per_s IS NOT NULL "
    "AND (interconnect_bandwidth_quoted_direction IS NOT NULL OR interconnect_bandwidth_source <> 'row')"
)


def _listed(column: str, token: str) -> str:
    return f"list_contains(string_split(coalesce({column}, ''), ';'), '{token}')"


def _explained(token: str) -> str:
    return f"({_listed('fields_not_published', token)} OR {_listed('fields_not_applicable', token)})"


EXPLAINED = " AND ".join(
    f"({filled} OR {_explained(token)})"
    for filled, token in (
        (f"coalesce({PEAKS}) IS NOT NULL", "peak"),
        ("memory_bytes IS NOT NULL", "memory_capacity"),
        ("memory_bandwidth_bytes_per_s IS NOT NULL", "memory_bandwidth"),
        ("interconnect_bandwidth_per_direction_bytes_per_s IS NOT NULL", "interconnect_bandwidth"),
    )
)

# A share measure: (label, table, rows it is measured over, condition a complete row meets, target).
SHARES: list[tuple[str, str, str, str, float]] = [
    (
        "accelerators: every key cell filled or explained (not_published / not_applicable)",
        "accelerators",
        "TRUE",
        EXPLAINED,
        1.0,
    ),
    (
        "accelerators, data-center 2012+: date + headline peak + memory capacity + memory bandwidth filled",
        "accelerators",
        DATACENTER_2012,
        FOUR_KEY_FIELDS,
        0.97,
    ),
    (
        "accelerators, data-center 2012+: interconnect bandwidth filled, with its direction",
        "accelerators",
        DATACENTER_2012,
        INTERCONNECT,
        0.90,
    ),
    (
        "accelerators, all rows: date + headline peak + memory capacity + memory bandwidth filled",
        "accelerators",
        "TRUE",
        FOUR_KEY_FIELDS,
        0.95,
    ),
    ("accelerators: share with a source URL", "accelerators", "TRUE", "source_url IS NOT NULL", 1.0),
    (
        "models 2012-2026: share with parameters",
        "models",
        "year(release_date) BETWEEN 2012 AND 2026",
        "parameters IS NOT NULL",
        0.90,
    ),
    (
        "models 2012-2026: share with training compute",
        "models",
        "year(release_date) BETWEEN 2012 AND 2026",
        "training_compute_flop IS NOT NULL",
        0.80,
    ),
    (
        "models: every training compute has its method",
        "models",
        "training_compute_flop IS NOT NULL",
        "training_compute_method IS NOT NULL",
        1.0,
    ),
    ("models: share with a source URL", "models", "TRUE", "source_url IS NOT NULL", 1.0),
]


def _share_sql(table: str, over: str, condition: str) -> str:
    return f"SELECT avg(({condition})::INT) FROM {table} WHERE {over}"


# (label, SQL returning one number, target, comparison)
MEASURES: list[tuple[str, str, float, str]] = [
    ("accelerators: rows", "SELECT count(*) FROM accelerators", 320, ">="),
    *[(label, _share_sql(t, over, c), target, ">=") for label, t, over, c, target in SHARES[:5]],
    ("memory technologies: rows", "SELECT count(*) FROM memory_technologies", 20, ">="),
    ("interconnects: rows", "SELECT count(*) FROM interconnects", 30, ">="),
    (
        "models 2012-2026: rows",
        "SELECT count(*) FROM models WHERE year(release_date) BETWEEN 2012 AND 2026",
        1000,
        ">=",
    ),
    *[(label, _share_sql(t, over, c), target, ">=") for label, t, over, c, target in SHARES[5:]],
    (
        "models: rows missing parameters or compute without a reason in notes",
        "SELECT count(*) FROM models WHERE (parameters IS NULL OR training_compute_flop IS NULL) "
        "AND coalesce(notes, '') = ''",
        0,
        "<=",
    ),
]

SHORTFALLS: dict[str, str] = {
    label: f"SELECT {KEYS[table]} FROM {table} WHERE ({over}) AND NOT ({condition}) ORDER BY 1"
    for label, table, over, condition, _ in SHARES
}


def shortfalls(curated_dir: Path, results: list[dict]) -> dict[str, list[str]]:
    """The ids of the rows missing from each unmet share measure."""
    con = connect_curated(curated_dir)
    return {
        r["measure"]: [row[0] for row in con.execute(SHORTFALLS[r["measure"]]).fetchall()]
        for r in results
        if not r["met"] and r["measure"] in SHORTFALLS
    }


def measure(curated_dir: Path) -> list[dict]:
    con = connect_curated(curated_dir)
    results = []
    for label, sql, target, comparison in MEASURES:
        value = con.execute(sql).fetchone()[0] or 0
        ok = value >= target if comparison == ">=" else value <= target
        results.append(
            {"measure": label, "value": value, "target": target, "comparison": comparison, "met": ok, "sql": sql}
        )
    return results


def _is_share(r: dict) -> bool:
    return r["target"] <= 1 and r["comparison"] == ">=" and "rows" not in r["measure"].split(":")[-1]


def format_table(results: list[dict]) -> str:
    lines = [f"{'measure':<100} {'value':>7}  target   met"]
    for r in results:
        value = f"{r['value']:.1%}" if _is_share(r) else f"{r['value']:.0f}"
        target = f"{r['target']:.0%}" if _is_share(r) else f"{r['target']:.0f}"
        lines.append(f"{r['measure']:<100} {value:>7}  {r['comparison']}{target:<5}  {'yes' if r['met'] else 'NO'}")
    return "\n".join(lines)


def report(curated_dir: Path) -> tuple[str, bool]:
    results = measure(curated_dir)
    out = [format_table(results)]
    for label, ids in shortfalls(curated_dir, results).items():
        out.append(f"\n{label}: {len(ids)} rows short:")
        out.append(
            textwrap.fill(
                ", ".join(ids), width=118, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
            )
        )
    out.append('\nDefinitions (each runs as is: memwall sql "<query>"):')
    for r in results:
        out.append(f"- {r['measure']}:\n    {' '.join(r['sql'].split())}")
    met = all(r["met"] for r in results)
    unmet = [r["measure"] for r in results if not r["met"]]
    out.append("\nAll targets met." if met else f"\n{len(unmet)} target(s) not met (listed above).")
    return "\n".join(out), met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.coverage", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args(argv)
    text, met = report(paths.CURATED)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
