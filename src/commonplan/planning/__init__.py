"""Computing plans: targets, resources, techniques, periods, capital, trade, federation.

Build a :class:`PlanProblem` (in Python, from a TOML spec with :func:`read_spec`, or from
Cockshott's five-year-plan files with :func:`read_cockshott`), then call :func:`solve` to get
a labelled :class:`Plan`.
"""

from commonplan.planning.cockshott import read_cockshott
from commonplan.planning.plan import Plan, SolveReport
from commonplan.planning.problem import (
    BalanceOfPayments,
    CapitalStocks,
    Objective,
    PlanProblem,
    ResourceLimit,
    Targets,
    harmony,
)
from commonplan.planning.scenarios import (
    ScenarioResult,
    TradeAssumptions,
    cutoff_scenario,
    federation_scenario,
)
from commonplan.planning.solve import solve
from commonplan.planning.spec import read_spec

__all__ = [
    "BalanceOfPayments",
    "CapitalStocks",
    "Objective",
    "Plan",
    "PlanProblem",
    "ResourceLimit",
    "ScenarioResult",
    "SolveReport",
    "Targets",
    "TradeAssumptions",
    "cutoff_scenario",
    "federation_scenario",
    "harmony",
    "read_cockshott",
    "read_spec",
    "solve",
]
