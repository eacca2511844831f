"""Benchmark: ``commonplan analyze`` against the computation it runs, and the bytes it writes.

A generated economy of ``n`` products (default 2·10⁵; column j of ``A`` has ``per_column``
inputs drawn uniformly, summing to 0.6, so the spectral radius is at most 0.6), with a
labour and a value-added account, is written in Commonplan's own format
(:func:`commonplan.io.write_economy`: COO triplets). Printed:

* compute: the wall-clock seconds of :func:`commonplan.analysis.analyse` in this process;
* CLI: the wall-clock seconds of ``commonplan analyze FOLDER -o OUT`` in a fresh process
  (reading, analysing, writing CSV and Parquet and run.json; interpreter start included);
* the ratio CLI / compute (issue 11 asks for at most 5 at 2·10⁵ products);
* the CLI's own split from its ``run.json`` (read, compute, write, report, total);
* the bytes written, and bytes per non-zero of ``A``, which stays flat as ``n`` grows when
  output grows with the non-zeros rather than with n².

With ``--report`` the CLI also writes ``report.html`` (its time is in the CLI column).

Usage: ``python benchmarks/bench_analyze_output.py [--sizes 20000 200000] [--per-column 10] [--report]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from commonplan import Economy
from commonplan.analysis import analyse
from commonplan.io import write_economy


def generated_economy(n: int, per_column: int, seed: int = 7) -> Economy:
    """An economy of ``n`` products, ``n · per_column`` coefficients, labour and value added."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=n * per_column, dtype=np.int64)
    values = rng.random(n * per_column)
    values = values / values.reshape(n, per_column).sum(axis=1).repeat(per_column) * 0.6
    indptr = np.arange(0, n * per_column + 1, per_column, dtype=np.int64)
    A = sp.csc_array((values, rows, indptr), shape=(n, n))
    return Economy.from_coefficients(
        A,
        y=rng.random(n),
        accounts={"labour": rng.random(n), "value_added": 1.0 - A.sum(axis=0)},
        account_units={"labour": "hours", "value_added": "USD"},
        products=[f"p{i}" for i in range(n)],
    )


def measure(n: int, per_column: int, folder: Path, report: bool = False) -> dict[str, float]:
    """Compute time, CLI time and bytes written for one size."""
    economy = generated_economy(n, per_column)
    table = folder / f"economy_{n}"
    write_economy(economy, table)
    start = time.perf_counter()
    analyse(economy)
    compute = time.perf_counter() - start
    out = folder / f"out_{n}"
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "commonplan.cli.main", "analyze", str(table), "-o", str(out)]
        + (["--report"] if report else []),
        capture_output=True,
        text=True,
    )
    if run.returncode:
        raise SystemExit(
            f"commonplan analyze failed (rc {run.returncode}): {run.stdout}{run.stderr}"
        )
    cli = time.perf_counter() - start
    written = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    steps = json.loads((out / "run.json").read_text(encoding="utf-8"))["timings_s"]
    return {
        "n": n,
        "nnz": economy.use.nnz,
        "compute": compute,
        "cli": cli,
        "bytes": written,
        "steps": ", ".join(f"{k} {v:.2f}" for k, v in steps.items()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--per-column", type=int, default=10)
    parser.add_argument("--report", action="store_true", help="also write report.html")
    args = parser.parse_args()
    print(
        f"{'products':>9} {'nnz(A)':>10} {'compute s':>9} {'CLI s':>7} {'ratio':>6} "
        f"{'bytes':>12} {'bytes/nnz':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            m = measure(n, args.per_column, Path(tmp), args.report)
            print(
                f"{m['n']:>9,} {m['nnz']:>10,} {m['compute']:>9.2f} {m['cli']:>7.2f} "
                f"{m['cli'] / m['compute']:>6.2f} {m['bytes']:>12,} {m['bytes'] / m['nnz']:>9.2f}"
                f"  (CLI's run.json, s: {m['steps']})"
            )


if __name__ == "__main__":
    main()
