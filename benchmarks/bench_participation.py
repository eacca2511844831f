"""Benchmark: the Hahnel–Szczepanczyk procedure, commonplan against demplan.

Both implementations run year one of the procedure from prices of 700 to the 5 % threshold
on the same economy, each in its own child process (so that peak RSS is each one's own),
with the same Python, NumPy and BLAS. Sizes: ``small`` is the shipped experiment dep1ex01
(3,000 + 3,000 councils, 50 commodities), ``medium`` a generated economy of 30,000 +
30,000 councils × 500 commodities (the book's size), ``large`` 300,000 + 300,000 councils
× 500 commodities.

What is timed is one whole procedure (set-up, every round, the final plan), repeated after
one untimed warm-up run until at least ``--min-repeats`` runs and ``--min-seconds`` of
timed work; printed are the median time of a procedure, its spread (min–max over the
runs), the median per round (procedure ÷ rounds), the ratio of the medians
demplan / commonplan with the range of ratios between the quartiles, whether the plans
agree (same rounds, final prices within 1e-12 relative, worker outputs within 1e-10), and
peak RSS. The machine's BLAS libraries, their kernels and threads (threadpoolctl) are
printed first; the figures are wall times on whatever else the machine is running.

What each side computes, per round:

* **commonplan** (:func:`commonplan.participation.run_procedure`) computes only what the
  board needs: total supply and demand per commodity. The worker councils' closed-form
  outputs come from one sparse product of the exponent matrix with the log prices; their
  demand for inputs from one sparse product of its transpose with their revenues; the
  consumer councils' Cobb–Douglas demand, ``K_j / p_j``, from the credits ``K_j`` they
  spend on each good, summed once per year. It also records the round's prices, steps,
  rule state, supply, demand, surplus and imbalance (the trajectory). Every council's own
  proposal is computed once, for the final plan, not in this timing.
* **demplan** (``demplan.run(HahnelBook2021(...), differences=False)``, the trajectory
  not recorded: its fastest configuration) materialises every council's proposal in every
  round — each worker council's output, effort and use of each input, each consumer
  council's demand for each good and its expenditure — and sums them. It runs in NumPy:
  its Rust core (``demplan._core``) only reads and checks data files, which this benchmark
  does not use (the economy is handed over as arrays, outside the timing).

The ratio is therefore mostly the aggregation above (work per round that does not grow
with the number of consumer councils × goods), not a faster language.

    .venv/bin/python benchmarks/bench_participation.py [--sizes small,medium]
        [--min-repeats 5] [--min-seconds 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe_machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT.parent / "shared" / "data" / "planning" / "pequod_dep1ex_3000" / "dep1ex01.clj.gz"
SIZES = {
    "small": ("dep1ex01 (3,000 + 3,000 councils, 50 commodities)", None),
    "medium": ("generated 30,000 + 30,000 councils × 500 commodities", (30_000, 30_000, 100)),
    "large": ("generated 300,000 + 300,000 councils × 500 commodities", (300_000, 300_000, 100)),
}
SEED = 2021
MAX_REPEATS = 1000
"""Upper bound on the timed runs of one implementation at one size."""


def _economy(size: str):
    from commonplan.participation import generate_economy, read_experiment

    shape = SIZES[size][1]
    return read_experiment(EXPERIMENT) if shape is None else generate_economy(*shape, seed=SEED)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _procedure(implementation: str, economy):
    """A function running one whole procedure, and one reading (rounds, prices, outputs) of its result."""
    if implementation == "commonplan":
        from commonplan.participation import run_procedure
        from commonplan.participation.procedure import Councils

        def ours():
            return run_procedure(economy, years=1, stop_threshold=0.05).year(1)

        def read(run):
            output = Councils(run.economy).proposals(run.proposal_price).worker_output
            return run.rounds, run.final_price, output

        return ours, read
    sys.path.insert(0, str(ROOT / "tests"))
    from demplan import run as run_demplan
    from demplan.prefabs import HahnelBook2021

    from participation.oracle import demplan_order, to_demplan

    theirs = to_demplan(economy)
    procedure = HahnelBook2021(threshold_pct=5.0, max_rounds=200)
    perm = demplan_order(economy.goods_per_class)

    def peer():
        return run_demplan(procedure, theirs, seed=0, differences=False)

    def read(result):
        price = np.asarray(result.plan.valuation["next_indicative_price"])[perm]
        return result.summary.rounds, price, np.asarray(result.plan.output)

    return peer, read


def child(implementation: str, size: str, min_repeats: int, min_seconds: float, out: Path) -> None:
    """Run one implementation on one size; write rounds, timings, final prices and outputs."""
    run, read = _procedure(implementation, _economy(size))
    rounds, price, output = read(run())  # warm-up, untimed
    times: list[float] = []
    while len(times) < MAX_REPEATS and (len(times) < min_repeats or sum(times) < min_seconds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    np.savez(out, price=price, output=output)
    print(json.dumps({"rounds": int(rounds), "runs": times, "peak_rss_mib": _peak_rss_mib()}))


def _spawn(
    implementation: str, size: str, args: argparse.Namespace, folder: Path
) -> tuple[dict, dict]:
    out = folder / f"{implementation}-{size}.npz"
    command = [sys.executable, __file__, "--child", implementation, size]
    command += [str(args.min_repeats), str(args.min_seconds), str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures, dict(np.load(out))


def _ms(seconds: float) -> str:
    return f"{1e3 * seconds:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium", help="of small, medium, large")
    parser.add_argument("--min-repeats", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=3.0)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        implementation, size, min_repeats, min_seconds, out = args.child
        child(implementation, size, int(min_repeats), float(min_seconds), Path(out))
        return
    print(describe_machine())
    print(
        f"{'size':<54} {'impl':<11} {'rounds':>6} {'runs':>5} {'median':>10} "
        f"{'min–max':>21} {'per round':>10} {'peak RSS':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            ours, our_arrays = _spawn("commonplan", size, args, Path(tmp))
            theirs, their_arrays = _spawn("demplan", size, args, Path(tmp))
            for name, figures in (("commonplan", ours), ("demplan", theirs)):
                runs = np.asarray(figures["runs"])
                median = float(np.median(runs))
                print(
                    f"{SIZES[size][0]:<54} {name:<11} {figures['rounds']:>6} {runs.size:>5} "
                    f"{_ms(median):>10} {_ms(runs.min()) + ' – ' + _ms(runs.max()):>21} "
                    f"{_ms(median / figures['rounds']):>10} {figures['peak_rss_mib']:>5.0f} MiB"
                )
            a, b = np.asarray(ours["runs"]), np.asarray(theirs["runs"])
            ratio = np.median(b) / np.median(a)
            low = np.quantile(b, 0.25) / np.quantile(a, 0.75)
            high = np.quantile(b, 0.75) / np.quantile(a, 0.25)
            price_gap = float(np.max(np.abs(our_arrays["price"] / their_arrays["price"] - 1)))
            output_gap = float(np.max(np.abs(our_arrays["output"] / their_arrays["output"] - 1)))
            agree = ours["rounds"] == theirs["rounds"] and price_gap < 1e-12 and output_gap < 1e-10
            print(
                f"  -> demplan / commonplan, whole procedure: {ratio:.1f}x (quartile range "
                f"{low:.1f}–{high:.1f}x; target ≥ 2x: {'met' if ratio >= 2 else 'NOT met'}); "
                f"rounds to 5 %: {ours['rounds']} vs {theirs['rounds']}; plans agree: {agree} "
                f"(max price gap {price_gap:.1e}, max output gap {output_gap:.1e})"
            )
            if size == "large":
                gib = ours["peak_rss_mib"] / 1024
                print(f"  -> commonplan peak RSS {gib:.2f} GiB (target < 8 GB)")


if __name__ == "__main__":
    main()
