"""Cut-off scenarios under several models side by side.

A :class:`Shock` (a partner's supplies to a region cut to a share, per sector or in all,
over periods) runs through any model of :data:`MODELS` with the one signature
``run(economy, shock, assumptions) -> ScenarioOutcome``; :func:`compare` runs several and
sets their losses side by side. See ``docs/scenarios.md``.
"""

from commonplan.scenarios.ario import ARIOAssumptions
from commonplan.scenarios.compare import ModelComparison, compare
from commonplan.scenarios.models import (
    DEFAULT_CLASSES,
    MODELS,
    CriticalInputsAssumptions,
    GhoshPriceAssumptions,
    InoperabilityAssumptions,
    LPAssumptions,
    Model,
    model,
    run,
)
from commonplan.scenarios.outcome import OutcomeReport, ScenarioOutcome
from commonplan.scenarios.shock import Shock

__all__ = [
    "ARIOAssumptions",
    "CriticalInputsAssumptions",
    "DEFAULT_CLASSES",
    "GhoshPriceAssumptions",
    "InoperabilityAssumptions",
    "LPAssumptions",
    "MODELS",
    "Model",
    "ModelComparison",
    "OutcomeReport",
    "ScenarioOutcome",
    "Shock",
    "compare",
    "model",
    "run",
]
