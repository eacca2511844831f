"""Benchmark: a sweep of LP cut-off scenarios, serial against a 2-worker Dask LocalCluster,
and the partitioned (block Jacobi) Leontief solve at 10⁶ products on 2 Dask workers.

Sweep: every member × partner of the ICIO 2022 table (11 regions × 50 sectors, 110 pairs) ×
10 cut shares × ~9 import-flexibility values, LP model, 1 period (``--scenarios`` takes the
first N of that grid). Printed: per-scenario time of each run, the speed-up, and the Dask
run's overhead share ``1 − (seconds inside tasks) / (workers × wall)``, which counts cluster
start-up, broadcasting the economy, scheduling and writing the Parquet files. The results of
both runs are checked to be identical bit for bit.

Partitioned solve: ``bench_leontief_scale.generate(n, "regional")`` (regions of 200 products,
85 % of inputs domestic), 4 partitions of whole regions on 2 worker processes, against
``LeontiefSolver`` in this process: time, communication share (wall time off the critical
path of the partitions' solves), iterations, entries exchanged, agreement.

    PYTHONPATH=src python benchmarks/bench_sweep.py --scenarios 10000 --products 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe_machine  # noqa: E402
from bench_leontief_scale import generate  # noqa: E402

from commonplan.io.icio import read_icio_arrays  # noqa: E402
from commonplan.linalg import LeontiefSolver  # noqa: E402
from commonplan.scenarios.executors import DaskExecutor, SerialExecutor  # noqa: E402
from commonplan.scenarios.partitioned import partitioned_solve, region_partitions  # noqa: E402
from commonplan.scenarios.sweep import Scenario, SweepSpec, read_sweep, run_sweep  # noqa: E402

TABLE = Path(__file__).resolve().parents[2] / "shared/data/mrio/icio2025_y2022_americas11x50.npz"
SHARES = [round(0.1 * k, 1) for k in range(1, 11)]
FLEXIBILITY = [round(1.0 + 0.25 * k, 2) for k in range(9)]


def scenarios(economy, count: int) -> tuple[Scenario, ...]:
    regions = [str(r) for r in economy.regions]
    grid = [
        Scenario("lp", m, (p,), s, 1, None, f)
        for m in regions
        for p in regions
        if p != m
        for s in SHARES
        for f in FLEXIBILITY
    ]
    step = max(1, len(grid) // count)  # spread a smaller check over every pair
    return tuple(grid[::step][:count])


def bench_sweep(count: int, workers: int, batch: int) -> None:
    economy = read_icio_arrays(TABLE)
    spec = SweepSpec(scenarios=scenarios(economy, count), batch_size=batch)
    with tempfile.TemporaryDirectory() as folder:
        serial = run_sweep(spec, SerialExecutor(), Path(folder) / "serial", economy=economy)
        dask = run_sweep(
            spec, DaskExecutor(workers, timeout=1800), Path(folder) / "dask", economy=economy
        )
        same = read_sweep(Path(folder) / "serial").equals(read_sweep(Path(folder) / "dask"))
        failed = serial.failed
    n = len(spec.scenarios)
    print(f"sweep: {n} LP cut-off scenarios on ICIO 11×50, batches of {batch}, {failed} failed")
    print(f"  serial: {serial.seconds:.1f} s, {serial.seconds / n * 1e3:.2f} ms per scenario")
    print(
        f"  dask LocalCluster {workers} workers: {dask.seconds:.1f} s, "
        f"{dask.seconds / n * 1e3:.2f} ms per scenario, overhead {dask.overhead_share:.1%}"
    )
    print(f"  speed-up {serial.seconds / dask.seconds:.2f}×; identical results: {same}")


def bench_partitioned(n: int, parts: int, workers: int) -> None:
    from distributed import Client, LocalCluster

    A = generate(n, "regional")
    y = np.random.default_rng(1).uniform(1.0, 10.0, n)
    start = time.perf_counter()
    expected = LeontiefSolver(A, tol=1e-13).solve(y)
    single = time.perf_counter() - start
    partitions = region_partitions(np.arange(n) // 200, parts)
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        client = Client(cluster, timeout=120)
        try:
            got = partitioned_solve(A, y, partitions, client, tol=1e-13)
        finally:
            client.close(timeout=30)
    finally:
        cluster.close(timeout=30)
    error = np.max(np.abs(got.x - expected)) / np.max(np.abs(expected))
    print(
        f"partitioned Leontief solve: {n} products ({A.nnz} coefficients), {parts} partitions on {workers} workers"
    )
    print(
        f"  {got.seconds:.1f} s ({got.iterations} iterations, {got.exchanged} entries exchanged "
        f"per iteration), communication share {got.communication_share:.1%}"
    )
    print(f"  LeontiefSolver in one process: {single:.1f} s; max relative difference {error:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(describe_machine())
    if args.scenarios > 0:
        bench_sweep(args.scenarios, args.workers, args.batch)
    if args.products > 0:
        bench_partitioned(args.products, args.partitions, args.workers)


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
