"""Commonplan's planner against an independent formulation solved by ``scipy.optimize.linprog(method="highs")``.

The peer gets the same random economies (``plan_problems.py``) written from scratch as
``min l·x  s.t.  (M − U) x ≥ y, x ≥ 0`` per period (minimum labour) — no Commonplan code —
and we compare objectives and times where it finishes within the time limit.

    .venv/bin/python benchmarks/bench_vs_peers.py --sizes 1000,10000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from plan_problems import problems
from scipy.optimize import linprog

from commonplan.planning import solve


def peer_min_labour(problem, time_limit: float) -> tuple[float | None, float]:
    eco = problem.economy
    T = problem.n_periods
    net = sp.csr_array(eco.make - eco.use)
    labour = eco.account_coefficients[0]
    A = sp.block_diag([net] * T, format="csr")
    c = np.tile(labour, T)
    y = problem.targets.amounts.T.ravel()
    start = time.perf_counter()
    result = linprog(
        c, A_ub=-A, b_ub=-y, bounds=(0, None), method="highs", options={"time_limit": time_limit}
    )
    seconds = time.perf_counter() - start
    return (result.fun if result.status == 0 else None), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of products")
    parser.add_argument("--periods", default="1,5")
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()
    print(
        f"{'problem':<28} {'ours s':>8} {'peer s':>8} {'ratio':>8} {'ours objective':>18} {'peer objective':>18} {'rel. diff':>9}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        for T in (int(s) for s in args.periods.split(",")):
            problem = problems(n, T)["min-labour"]
            start = time.perf_counter()
            plan = solve(problem)
            ours = time.perf_counter() - start
            peer, peer_s = peer_min_labour(problem, args.time_limit)
            if peer is None:
                print(
                    f"{problem.name:<28} {ours:8.3f} {'>' + str(int(args.time_limit)):>8} {'-':>8} {plan.objective:18.10g} {'(no answer)':>18} {'-':>9}"
                )
                continue
            diff = abs(peer - plan.objective) / max(1.0, abs(peer))
            print(
                f"{problem.name:<28} {ours:8.3f} {peer_s:8.3f} {peer_s / ours:8.1f} {plan.objective:18.10g} {peer:18.10g} {diff:9.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
