"""Planning at scale: random sparse economies (see ``plan_problems.py``) × 2 techniques × 1 and 5 periods.

For each size and problem (minimum labour; maximum worst-met fulfilment under a labour limit)
it prints: LP model-build time, solve time of ``solve(method="auto")``, the method used,
the objective, the solver's certified relative gap, and — where the exact solver (HiGHS dual
simplex, with a time limit) finishes — its time and the relative difference of objectives.
Targets (issue 3): build ≤ 20 % of solve; 10⁵ × 2 × 1 to 1e-6 gap in ≤ 10 s; 10⁴ × 2 × 5 in ≤ 60 s.

    .venv/bin/python benchmarks/bench_plan_scale.py                  # 10³, 10⁴, 10⁵
    .venv/bin/python benchmarks/bench_plan_scale.py --sizes 1000     # quick
"""

from __future__ import annotations

import argparse
import time

from plan_problems import problems

from commonplan.errors import SolverError
from commonplan.planning import solve
from commonplan.planning.model import build_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="comma-separated numbers of products"
    )
    parser.add_argument("--periods", default="1,5", help="comma-separated numbers of periods")
    parser.add_argument(
        "--exact-max", type=int, default=10000, help="largest size given to the exact LP solver"
    )
    parser.add_argument(
        "--exact-time-limit", type=float, default=120.0, help="seconds for the exact LP solver"
    )
    args = parser.parse_args()
    header = f"{'problem':<32} {'build s':>8} {'solve s':>8} {'build/solve':>11} {'method':<11} {'objective':>16} {'cert. gap':>9} {'exact s':>8} {'rel. diff':>9}"
    print(header)
    print("-" * len(header))
    for n in (int(s) for s in args.sizes.split(",")):
        for T in (int(s) for s in args.periods.split(",")):
            for problem in problems(n, T).values():
                start = time.perf_counter()
                build_model(problem)
                build = time.perf_counter() - start
                start = time.perf_counter()
                plan = solve(problem)
                seconds = time.perf_counter() - start
                method = (
                    "structured"
                    if plan.report.method.startswith("structured")
                    else plan.report.method
                )
                exact_s, diff = "-", "-"
                if n <= args.exact_max:
                    try:
                        start = time.perf_counter()
                        exact = solve(problem, method="simplex", time_limit=args.exact_time_limit)
                        exact_s = f"{time.perf_counter() - start:8.2f}"
                        diff = f"{abs(exact.objective - plan.objective) / max(1.0, abs(exact.objective)):9.1e}"
                    except SolverError:
                        exact_s, diff = "timeout", "-"
                print(
                    f"{problem.name:<32} {build:8.3f} {seconds:8.3f} {build / seconds:11.2f} {method:<11} {plan.objective:16.8g} "
                    f"{plan.report.relative_gap:9.1e} {exact_s:>8} {diff:>9}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
