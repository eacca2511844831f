"""Participatory planning: councils propose, a facilitation board adjusts prices until proposals balance.

The Hahnel–Szczepanczyk annual planning procedure (Hahnel, *Democratic Economic Planning*,
2021, ch. 9; the program ``pequod-cljs``), reproduced exactly and vectorised over councils:

* :mod:`~commonplan.participation.economy` — the data model (councils, Cobb-Douglas
  parameters, goods by class) and its linearisation to the core ``Economy``;
* :mod:`~commonplan.participation.experiments` — reader (and writer) of the program's
  experiment files;
* :mod:`~commonplan.participation.generator` — seeded economies of any size;
* :mod:`~commonplan.participation.procedure` — the rounds, the price rule, year two;
* :mod:`~commonplan.participation.result` — labelled results, Parquet and run configuration;
* :mod:`~commonplan.participation.compare` — labour against the minimum-labour plan.

and the rules by which councils decide (see ``docs/councils.md``):

* :mod:`~commonplan.participation.ballots` — priority ballots and their aggregation;
* :mod:`~commonplan.participation.voting` — the Schulze method;
* :mod:`~commonplan.participation.alternatives` — plan alternatives from weights and trade-offs.
"""

from commonplan.participation.alternatives import (
    ComputedAlternative,
    TradeOff,
    compute_alternatives,
)
from commonplan.participation.ballots import (
    TargetGroup,
    aggregate,
    assembly_allocation,
    council_allocations,
    target_weights,
    validate_ballot,
)
from commonplan.participation.compare import LabourComparison, compare_with_minimum_labour
from commonplan.participation.economy import (
    ConsumerCouncils,
    GoodClass,
    ParticipatoryEconomy,
    WorkerCouncils,
)
from commonplan.participation.experiments import read_experiment, write_experiment
from commonplan.participation.generator import GeneratorSpec, generate_economy
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
from commonplan.participation.voting import (
    SchulzeResult,
    pairwise_matrix,
    schulze,
    validate_ranking,
)

__all__ = [
    "ComputedAlternative",
    "SchulzeResult",
    "TargetGroup",
    "TradeOff",
    "aggregate",
    "assembly_allocation",
    "compute_alternatives",
    "council_allocations",
    "pairwise_matrix",
    "schulze",
    "target_weights",
    "validate_ballot",
    "validate_ranking",
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
