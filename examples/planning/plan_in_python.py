"""Plan from Python: Cockshott's toy five-year plan, then a minimum-labour plan with a choice of techniques.

Run:  .venv/bin/python examples/planning/plan_in_python.py
"""

from pathlib import Path

import pandas as pd

from commonplan.planning import Objective, PlanProblem, read_cockshott, solve

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "planning" / "cockshott_5yearplan"

# 1. Cockshott's model read from his CSV format: maximise the worst-met target, summed over years.
problem = read_cockshott(DATA / "toy")
plan = solve(problem)
print(plan.summary())
print(plan.worst_fulfilment)  # z_t per year: 0.159, 1.750, 1.753, 1.715, 1.959

# 2. The same economy, one year, least labour to deliver 2 bread and 3 coal.
economy = problem.economy
targets = pd.Series([0.0, 3.0, 0.0, 2.0], index=economy.products)
least = PlanProblem.build(
    economy, targets=targets, objective=Objective("min_resource", resource="labour")
)
plan = solve(least)  # structured: labour values by policy iteration, verified as LP optimum
print(plan.summary())
print("labour values (hours per unit):", plan.product_prices.iloc[:, 0].round(4).to_dict())
