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
import statistics
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
from commonplan.scenarios.executors import (  # noqa: E402
    LOCAL_CLUSTER_CONFIG,
    DaskExecutor,
    SerialExecutor,
)
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


def _local_cluster(workers: int):
    """A loopback LocalCluster of single-threaded worker processes, as DaskExecutor starts."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )


def bench_sweep(count: int, workers: int, batch: int, rounds: int) -> None:
    """Serial against Dask on the same scenarios, in ``rounds`` interleaved slices.

    This machine's speed drifts by tens of per cent over minutes, so one long serial run
    followed by one long Dask run compares two different machines. Each round runs one
    slice of the scenarios serially and on Dask, in alternating order; the Dask runs share
    one LocalCluster, whose start-up is timed once and added to the Dask total, and each
    round broadcasts the economy again (part of the Dask time, as in a real sweep).
    """
    economy = read_icio_arrays(TABLE)
    chosen = scenarios(economy, count)
    n = len(chosen)
    slices = [chosen[k * n // rounds : (k + 1) * n // rounds] for k in range(rounds)]
    serial_s = dask_s = compute_s = 0.0
    ratios, failed, same = [], 0, True
    start = time.perf_counter()
    cluster = _local_cluster(workers)
    startup = time.perf_counter() - start
    try:
        with tempfile.TemporaryDirectory() as folder:
            for k, part in enumerate(slices):
                spec = SweepSpec(scenarios=part, batch_size=batch)
                runs = {}
                order = ("serial", "dask") if k % 2 == 0 else ("dask", "serial")
                for kind in order:
                    executor = (
                        SerialExecutor()
                        if kind == "serial"
                        else DaskExecutor(scheduler=cluster.scheduler_address, timeout=1800)
                    )
                    out = Path(folder) / f"{kind}-{k}"
                    runs[kind] = (run_sweep(spec, executor, out, economy=economy), out)
                serial, dask = runs["serial"][0], runs["dask"][0]
                same &= read_sweep(runs["serial"][1]).equals(read_sweep(runs["dask"][1]))
                serial_s += serial.seconds
                dask_s += dask.seconds
                compute_s += dask.compute_seconds
                failed += serial.failed
                ratios.append(serial.seconds / dask.seconds)
                print(
                    f"  round {k + 1}/{rounds}: {len(part)} scenarios, serial {serial.seconds:.1f} s, "
                    f"dask {dask.seconds:.1f} s ({ratios[-1]:.2f}×)",
                    flush=True,
                )
    finally:
        cluster.close(timeout=30)
    dask_total = dask_s + startup
    overhead = 1.0 - compute_s / (workers * dask_total)
    print(f"sweep: {n} LP cut-off scenarios on ICIO 11×50, batches of {batch}, {failed} failed")
    print(f"  serial: {serial_s:.1f} s, {serial_s / n * 1e3:.2f} ms per scenario")
    print(
        f"  dask LocalCluster {workers} workers: {dask_total:.1f} s (start-up {startup:.1f} s), "
        f"{dask_total / n * 1e3:.2f} ms per scenario, overhead {overhead:.1%} (target ≤ 5 %)"
    )
    print(
        f"  speed-up {serial_s / dask_total:.2f}× (target ≥ 1.7×; per round median "
        f"{statistics.median(ratios):.2f}×, {min(ratios):.2f}–{max(ratios):.2f}); "
        f"identical results: {same}"
    )


def bench_partitioned(n: int, parts: int, workers: int) -> None:
    from distributed import Client

    A = generate(n, "regional")
    y = np.random.default_rng(1).uniform(1.0, 10.0, n)
    start = time.perf_counter()
    expected = LeontiefSolver(A, tol=1e-13).solve(y)
    single = time.perf_counter() - start
    partitions = region_partitions(np.arange(n) // 200, parts)
    cluster = _local_cluster(workers)
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
    parser.add_argument("--rounds", type=int, default=10, help="interleaved serial/Dask slices")
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(describe_machine())
    if args.scenarios > 0:
        bench_sweep(args.scenarios, args.workers, args.batch, args.rounds)
    if args.products > 0:
        bench_partitioned(args.products, args.partitions, args.workers)


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
