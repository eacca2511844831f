"""Participatory planning: councils propose, a facilitation board adjusts prices until proposals balance.

The Hahnel–Szczepanczyk annual planning procedure (Hahnel, *Democratic Economic Planning*,
2021, ch. 9; the program ``pequod-cljs``), reproduced exactly and vectorised over councils:

* :mod:`~commonplan.participation.model` — the data model (councils, Cobb-Douglas
  parameters, goods by class) and its linearisation to the core ``Economy``;
* :mod:`~commonplan.participation.experiments` — reader (and writer) of the program's
  experiment files;
* :mod:`~commonplan.participation.generator` — seeded economies of any size;
* :mod:`~commonplan.participation.procedure` — the rounds, the price rule, year two;
* :mod:`~commonplan.participation.result` — labelled results, Parquet and run configuration;
* :mod:`~commonplan.participation.compare` — labour against the minimum-labour plan.

The rules by which councils decide on plans (ballots, votes, alternatives) are in
:mod:`commonplan.councils`.
"""

from commonplan.participation.compare import LabourComparison, compare_with_minimum_labour
from commonplan.participation.experiments import read_experiment, write_experiment
from commonplan.participation.generator import GeneratorSpec, generate_economy
from commonplan.participation.model import (
    ConsumerCouncils,
    GoodClass,
    ParticipatoryEconomy,
    WorkerCouncils,
)
from commonplan.participation.procedure import (
    HahnelSzczepanczykRule,
    PriceRule,
    PriceUpdate,
    RoundReport,
    hahnel_szczepanczyk_rule,
    perturb_exponents,
    run_procedure,
    run_year,
    stateless,
)
from commonplan.participation.result import ParticipationResult, YearPlan

__all__ = [
    "ConsumerCouncils",
    "GeneratorSpec",
    "GoodClass",
    "HahnelSzczepanczykRule",
    "LabourComparison",
    "ParticipationResult",
    "ParticipatoryEconomy",
    "PriceRule",
    "PriceUpdate",
    "RoundReport",
    "WorkerCouncils",
    "YearPlan",
    "compare_with_minimum_labour",
    "generate_economy",
    "hahnel_szczepanczyk_rule",
    "perturb_exponents",
    "read_experiment",
    "run_procedure",
    "run_year",
    "stateless",
    "write_experiment",
]
