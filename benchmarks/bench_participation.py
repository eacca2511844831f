"""Benchmark: the Hahnel–Szczepanczyk procedure, commonplan against demplan (a Rust-core peer).

For each size — the shipped experiment dep1ex01 (3,000 + 3,000 councils, 50 commodities), a
generated economy of 30,000 + 30,000 councils × 500 commodities, and one of 300,000 +
300,000 councils × 500 commodities — both implementations run year one to the 5 % threshold
on the same economy, each in its own child process (so peak RSS is each one's own). Printed:
rounds to 5 %, time per round (wall time of the run divided by its rounds; median of
``--repeats`` runs, one run at the largest size), the ratio demplan/commonplan, whether the
plans agree (same rounds, final prices within 1e-12 relative, worker outputs within 1e-10),
and peak RSS. Target: ≥ 2× faster per round at every size, identical rounds, < 8 GB at
300,000 + 300,000.

    .venv/bin/python benchmarks/bench_participation.py [--sizes small,medium,large] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT.parent / "shared" / "data" / "planning" / "pequod_dep1ex_3000" / "dep1ex01.clj.gz"
SIZES = {
    "small": ("dep1ex01 (3,000 + 3,000 councils, 50 commodities)", None),
    "medium": ("generated 30,000 + 30,000 councils × 500 commodities", (30_000, 30_000, 100)),
    "large": ("generated 300,000 + 300,000 councils × 500 commodities", (300_000, 300_000, 100)),
}
SEED = 2021


def _economy(size: str):
    from commonplan.participation import generate_economy, read_experiment

    shape = SIZES[size][1]
    return read_experiment(EXPERIMENT) if shape is None else generate_economy(*shape, seed=SEED)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(implementation: str, size: str, repeats: int, out: Path) -> None:
    """Run one implementation on one size; write rounds, timings, final prices and outputs."""
    economy = _economy(size)
    times, rounds = [], None
    if implementation == "commonplan":
        from commonplan.participation import run_procedure

        for _ in range(repeats):
            start = time.perf_counter()
            run = run_procedure(economy, years=1, stop_threshold=0.05).year(1)
            times.append(time.perf_counter() - start)
        rounds = run.rounds
        price = run.final_price
        output = _commonplan_output(run)
        perm = None
    else:
        sys.path.insert(0, str(ROOT / "tests"))
        from demplan import run as run_demplan
        from demplan.prefabs import HahnelBook2021

        from participation.oracle import demplan_order, to_demplan

        theirs = to_demplan(economy)
        del economy
        for _ in range(repeats):
            start = time.perf_counter()
            result = run_demplan(
                HahnelBook2021(threshold_pct=5.0, max_rounds=200), theirs, seed=0, differences=False
            )
            times.append(time.perf_counter() - start)
        rounds = result.summary.rounds
        perm = demplan_order(100 if SIZES[size][1] else 10)
        price = np.asarray(result.plan.valuation["next_indicative_price"])[perm]
        output = np.asarray(result.plan.output)
    np.savez(out, price=price, output=output)
    seconds = float(np.median(times))
    print(
        json.dumps(
            {
                "rounds": int(rounds),
                "seconds": seconds,
                "per_round": seconds / rounds,
                "peak_rss_mib": _peak_rss_mib(),
            }
        )
    )


def _commonplan_output(run) -> np.ndarray:
    from commonplan.participation.procedure import Councils

    return Councils(run.economy).proposals(run.proposal_price).worker_output


def _spawn(implementation: str, size: str, repeats: int, folder: Path) -> tuple[dict, dict]:
    out = folder / f"{implementation}-{size}.npz"
    completed = subprocess.run(
        [sys.executable, __file__, "--child", implementation, size, str(repeats), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    arrays = dict(np.load(out))
    return figures, arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        implementation, size, repeats, out = args.child
        child(implementation, size, int(repeats), Path(out))
        return
    print(f"{'size':<58} {'impl':<11} {'rounds':>6} {'per round':>12} {'peak RSS':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            repeats = 1 if size == "large" else args.repeats
            ours, our_arrays = _spawn("commonplan", size, repeats, Path(tmp))
            theirs, their_arrays = _spawn("demplan", size, repeats, Path(tmp))
            label = SIZES[size][0]
            for name, figures in (("commonplan", ours), ("demplan", theirs)):
                print(
                    f"{label:<58} {name:<11} {figures['rounds']:>6} {1000 * figures['per_round']:>9.3f} ms "
                    f"{figures['peak_rss_mib']:>7.0f} MiB"
                )
            price_gap = float(np.max(np.abs(our_arrays["price"] / their_arrays["price"] - 1)))
            output_gap = float(np.max(np.abs(our_arrays["output"] / their_arrays["output"] - 1)))
            agree = ours["rounds"] == theirs["rounds"] and price_gap < 1e-12 and output_gap < 1e-10
            ratio = theirs["per_round"] / ours["per_round"]
            print(
                f"  -> per-round speed-up (demplan / commonplan): {ratio:.2f}x (target ≥ 2x: {'met' if ratio >= 2 else 'NOT met'}); "
                f"rounds to 5 %: {ours['rounds']} vs {theirs['rounds']}; plans agree: {agree} "
                f"(max price gap {price_gap:.1e}, max output gap {output_gap:.1e})"
            )
            if size == "large":
                print(
                    f"  -> commonplan peak RSS {ours['peak_rss_mib'] / 1024:.2f} GiB (target < 8 GB)"
                )


if __name__ == "__main__":
    main()
