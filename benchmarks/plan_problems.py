"""Random sparse economies with cycles for the planning benchmarks (shared by the scripts).

Each of ``n`` products has one or two techniques with on average 8 inputs drawn at random
(so the input graph has cycles); every technique's inputs sum to 0.9 per unit of output, so
every choice of techniques has spectral radius exactly 0.9. Labour per unit is uniform in
[0.5, 1.5]; the second technique uses 30 % more inputs for 30 % less labour. Further
resources (``energy``, ``land``) have coefficients uniform in [0.5, 1.5].

:func:`problems` builds the structured special case (labour alone limited, no capital);
:func:`general_problem` the general one of issue 13: several limited resources, capacities
and capital stocks per (good, activity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy
from commonplan.planning import CapitalStocks, Objective, PlanProblem, solve

RESOURCES = ("labour", "energy", "land")


def random_economy(
    n: int, seed: int = 0, inputs: int = 8, *, techniques: int = 2, resources: int = 1
) -> Economy:
    """``n`` products, ``techniques`` (1 or 2) each, the first ``resources`` accounts of :data:`RESOURCES`."""
    rng = np.random.default_rng(seed)
    m = techniques * n
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
    others = np.random.default_rng(seed + 1).uniform(0.5, 1.5, (resources - 1, m))
    make = sp.hstack([sp.identity(n)] * techniques, format="csr")
    products = pd.MultiIndex.from_arrays([["R"] * n, [f"p{i}" for i in range(n)]])
    names = [f"p{i}-{tech}" for tech in "ab"[:techniques] for i in range(n)]
    activities = pd.MultiIndex.from_arrays([["R"] * m, names])
    return Economy(
        products=products,
        activities=activities,
        use=use,
        make=make,
        account_coefficients=np.vstack([labour[None, :], others]),
        account_names=RESOURCES[:resources],
        account_units={r: "hours" if r == "labour" else "units" for r in RESOURCES[:resources]},
        final_demand_values=rng.uniform(0.5, 1.5, (n, 1)),
        final_demand_columns=pd.Index(["final_demand"]),
        check_productive=False,
    )


def problems(n: int, periods: int, seed: int = 0) -> dict[str, PlanProblem]:
    """The minimum-labour and the max-fulfilment problem on one random economy."""
    eco = random_economy(n, seed)
    frame = _targets(eco, periods)
    min_labour = PlanProblem.build(
        eco,
        periods=periods,
        targets=frame,
        objective=Objective("min_resource", resource="labour"),
        name=f"min-labour n={n} T={periods}",
    )
    # 80 % of the labour the targets would need with the cheapest techniques (from a first solve)
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


def _targets(eco: Economy, periods: int) -> pd.DataFrame:
    """Base-year final demand growing 2 % a period (products × periods)."""
    growth = 1.0 + 0.02 * np.arange(periods)
    y = eco.final_demand_values[:, :1] * growth[None, :]
    return pd.DataFrame(y, index=eco.products, columns=range(1, periods + 1))


def general_problem(
    n: int,
    periods: int,
    *,
    techniques: int = 2,
    resources: int = 2,
    capital: bool = True,
    seed: int = 0,
) -> PlanProblem:
    """Max-fulfilment with ``resources`` limited accounts, capacities and (optionally) capital stocks.

    The cheapest plan that meets the targets in full (minimum labour, no other limit) sets
    the scale: each resource is limited to 90 % of its use there, each activity's capacity
    to 75 % (one technique per product: 90 %) of its product's output there in the last
    period, so a product needs both techniques. With ``capital`` each activity needs 0.3
    units per unit of activity of one capital good drawn at random, starts with 90 % of the
    stock its capacity would need, loses 5 % a period, and grows by investment (lag 1).
    """
    eco = random_economy(n, seed, techniques=techniques, resources=resources)
    frame = _targets(eco, periods)
    cheapest = solve(
        PlanProblem.build(
            eco,
            periods=periods,
            targets=frame,
            objective=Objective("min_resource", resource="labour"),
        )
    )
    x = cheapest.activity_levels.to_numpy()  # activities × periods
    use = eco.account_coefficients @ x  # resources × periods
    output = eco.make @ x[:, -1]  # products
    share = 0.75 if techniques == 2 else 0.9
    capacity = share * np.tile(output, techniques)
    stocks = None
    if capital:
        m = eco.n_activities
        rng = np.random.default_rng(seed + 2)
        coefficient = 0.3
        stocks = CapitalStocks(
            goods=rng.integers(0, n, m),
            activities=np.arange(m),
            coefficients=np.full(m, coefficient),
            initial=0.9 * coefficient * capacity,
            depreciation=np.full(m, 0.05),
            lag=1,
        )
    features = f"{resources} resources, capacities" + (", capital" if capital else "")
    return PlanProblem.build(
        eco,
        periods=periods,
        targets=frame,
        limits={r: 0.9 * use[k] for k, r in enumerate(eco.account_names)},
        capacity=pd.Series(capacity, index=eco.activities),
        capital=stocks,
        objective=Objective("max_min_fulfilment", lexicographic=False),
        name=f"n={n}×{techniques} T={periods}, {features}",
    )
