"""The rules by which councils decide: priority ballots, plan alternatives and votes between them.

Pure functions on plain data (see ``docs/councils.md``); who may see what, and how a
ballot is stored, is enforced above them in :mod:`commonplan.services` and
:mod:`commonplan.store`.

* :mod:`~commonplan.councils.ballots` — priority ballots and their aggregation into a
  problem's target weights;
* :mod:`~commonplan.councils.voting` — the Schulze method over ranked alternatives;
* :mod:`~commonplan.councils.alternatives` — plan alternatives from weights and trade-offs.
"""

from commonplan.councils.alternatives import (
    ComputedAlternative,
    TradeOff,
    compute_alternatives,
)
from commonplan.councils.ballots import (
    TargetGroup,
    aggregate,
    assembly_allocation,
    council_allocations,
    target_weights,
    validate_ballot,
)
from commonplan.councils.voting import (
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
]
