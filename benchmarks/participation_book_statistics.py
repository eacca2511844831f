"""The book's round statistics on generated economies of the book's size, 40 seeds.

Hahnel, *Democratic Economic Planning* (2021), Tables 9.1, 9.2 and 9.5, over its 40
experiments of 30,000 worker + 30,000 consumer councils and 500 commodities: first round
with every imbalance below 5 %: mean 11.850, range [11, 13]; below 3 %: mean 19.225,
range [18, 22]; from below 10 % to below 5 %: mean 3.775, range [3, 5]. This script runs
year one on 40 generated economies of that size (seeds 0–39) and prints the same statistics
next to the book's.

    .venv/bin/python benchmarks/participation_book_statistics.py [--seeds 40]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from commonplan.participation import generate_economy, run_procedure

BOOK = {
    "first round below 5 %": (11.850, 11, 13),
    "first round below 3 %": (19.225, 18, 22),
    "rounds from 10 % to 5 %": (3.775, 3, 5),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    args = parser.parse_args()
    started = time.perf_counter()
    values: dict[str, list[int]] = {name: [] for name in BOOK}
    for seed in range(args.seeds):
        run = run_procedure(generate_economy(30_000, 30_000, 100, seed=seed), years=1).year(1)
        t10, t5, t3 = (run.first_round_below(x) for x in (0.10, 0.05, 0.03))
        values["first round below 5 %"].append(t5)
        values["first round below 3 %"].append(t3)
        values["rounds from 10 % to 5 %"].append(t5 - t10)
    print(
        f"{args.seeds} generated economies, 30,000 + 30,000 councils x 500 commodities ({time.perf_counter() - started:.1f} s)"
    )
    print(f"{'statistic':<26} {'book mean [min, max]':>22} {'generated mean [min, max]':>27}")
    for name, (mean, low, high) in BOOK.items():
        ours = np.array(values[name])
        print(
            f"{name:<26} {mean:>10.3f} [{low}, {high}]{'':>5} {ours.mean():>13.3f} [{ours.min()}, {ours.max()}]"
        )


if __name__ == "__main__":
    main()
