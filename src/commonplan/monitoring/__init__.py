"""Plans meeting reality: production reports, a multi-state Bayesian filter, alarms, re-plans.

The core of Cybersyn's Cyberstride, renewed (see ``docs/monitoring.md``):

* :mod:`~commonplan.monitoring.reports` — production reports checked against the plan;
* :mod:`~commonplan.monitoring.filter` — Harrison & Stevens' four-state filter (steady,
  step, slope, outlier), vectorised over series, online;
* :mod:`~commonplan.monitoring.detect` — the posterior probability that a series has left
  its plan, accumulated over time (Shiryaev), robust to outliers;
* :mod:`~commonplan.monitoring.alarms` — when alarms are raised and how they escalate;
* :mod:`~commonplan.monitoring.watch` — :class:`Monitor`, all of it for one plan;
* :mod:`~commonplan.monitoring.replan` — re-solving the remaining periods from where the
  economy stands;
* :mod:`~commonplan.monitoring.simulate` — seeded executions with known changes.
"""

from commonplan.monitoring.alarms import AlarmRule, EscalationPolicy, escalation_level
from commonplan.monitoring.detect import ChangeDetector, DetectorSettings
from commonplan.monitoring.filter import STATES, FilterPriors, MultiStateFilter
from commonplan.monitoring.reports import PlanTargets, read_reports, validate_reports
from commonplan.monitoring.watch import Monitor, MonitorStep, monitor_reports

__all__ = [
    "STATES",
    "AlarmRule",
    "ChangeDetector",
    "DetectorSettings",
    "EscalationPolicy",
    "FilterPriors",
    "Monitor",
    "MonitorStep",
    "MultiStateFilter",
    "PlanTargets",
    "escalation_level",
    "monitor_reports",
    "read_reports",
    "validate_reports",
]
