"""Random sparse economies with cycles for the planning benchmarks (shared by both scripts).

Each of ``n`` products has two techniques with on average 8 inputs drawn at random (so the
input graph has cycles); every technique's inputs sum to 0.9 per unit of output, so every
choice of techniques has spectral radius exactly 0.9. Labour per unit is uniform in
[0.5, 1.5]; the second technique uses 30 % more inputs for 30 % less labour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy
from commonplan.planning import Objective, PlanProblem


def random_economy(n: int, seed: int = 0, inputs: int = 8) -> Economy:
    rng = np.random.default_rng(seed)
    m = 2 * n
    counts = rng.poisson(inputs - 1, m) + 1
    cols = np.repeat(np.arange(m), counts)
    rows = rng.integers(0, n, cols.size)
    vals = rng.random(cols.size) + 0.1
    use = sp.csc_array((vals, (rows, cols)), shape=(n, m))
    use.sum_duplicates()
    sums = np.asarray(use.sum(axis=0)).ravel()
    use = sp.csr_array(use @ sp.diags_array(0.9 / sums))
    labour = rng.uniform(0.5, 1.5, m)
    labour[n:] = labour[:n] * 0.7
    make = sp.hstack([sp.identity(n), sp.identity(n)], format="csr")
    products = pd.MultiIndex.from_arrays([["R"] * n, [f"p{i}" for i in range(n)]])
    activities = pd.MultiIndex.from_arrays(
        [["R"] * m, [f"p{i}-a" for i in range(n)] + [f"p{i}-b" for i in range(n)]]
    )
    return Economy(
        products=products,
        activities=activities,
        use=use,
        make=make,
        account_coefficients=labour[None, :],
        account_names=("labour",),
        account_units={"labour": "hours"},
        final_demand_values=rng.uniform(0.5, 1.5, (n, 1)),
        final_demand_columns=pd.Index(["final_demand"]),
        check_productive=False,
    )


def problems(n: int, periods: int, seed: int = 0) -> dict[str, PlanProblem]:
    """The minimum-labour and the max-fulfilment problem on one random economy."""
    eco = random_economy(n, seed)
    growth = 1.0 + 0.02 * np.arange(periods)
    y = eco.final_demand_values[:, :1] * growth[None, :]
    frame = pd.DataFrame(y, index=eco.products, columns=range(1, periods + 1))
    min_labour = PlanProblem.build(
        eco,
        periods=periods,
        targets=frame,
        objective=Objective("min_resource", resource="labour"),
        name=f"min-labour n={n} T={periods}",
    )
    # 80 % of the labour the targets would need with the cheapest techniques (from a first solve)
    from commonplan.planning import solve

    need = solve(min_labour).resource_use("labour").to_numpy()
    max_fulfil = PlanProblem.build(
        eco,
        periods=periods,
        targets=frame,
        limits={"labour": 0.8 * need},
        objective=Objective("max_min_fulfilment", lexicographic=False),
        name=f"max-fulfilment n={n} T={periods}",
    )
    return {"min-labour": min_labour, "max-fulfilment": max_fulfil}
