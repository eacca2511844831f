"""When an alarm is raised, and how it rises to the next level when nobody acts on it.

An alarm goes first to the **council** responsible for the product. If nobody there
acknowledges it and records an action within ``council_hours``, it rises to the assembly's
**facilitators**; after ``facilitator_hours`` more, to the whole **assembly** (Beer's
"algedonic" signal: a deviation that the level below did not absorb goes up). The rule is a
pure function of times, so the server, the command line and the tests agree on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from commonplan.errors import InvalidValueError

LEVELS: tuple[str, ...] = ("council", "facilitators", "assembly")
KINDS: tuple[str, ...] = ("change", "shortfall")


@dataclass(frozen=True)
class AlarmRule:
    """When the monitor raises an alarm.

    ``shortfall_margin``: a period's forecast total below ``(1 − margin) ×`` its plan raises a
    *shortfall* alarm, once at least ``min_observations`` sub-periods of it are reported;
    the *change* alarm is the detector's (:class:`~commonplan.monitoring.detect.DetectorSettings`).
    ``outlier_probability``: an observation whose outlier probability, one step later, is at
    least this is marked as a transient outlier (shown, never an alarm).
    """

    shortfall_margin: float = 0.05
    min_observations: int = 2
    outlier_probability: float = 0.5

    def __post_init__(self) -> None:
        if (
            not 0 <= self.shortfall_margin < 1
            or self.min_observations < 1
            or not 0 < self.outlier_probability < 1
        ):
            raise InvalidValueError(
                "shortfall_margin must be in [0, 1), min_observations ≥ 1, outlier_probability in (0, 1)",
                where="AlarmRule",
            )


@dataclass(frozen=True)
class EscalationPolicy:
    """Hours an alarm waits at each level before it rises (``inf``: never)."""

    council_hours: float = 48.0
    facilitator_hours: float = 48.0

    def __post_init__(self) -> None:
        for name in ("council_hours", "facilitator_hours"):
            value = getattr(self, name)
            if not (value > 0) or math.isnan(value):
                raise InvalidValueError(
                    f"{name} must be a positive number of hours", where=f"EscalationPolicy.{name}"
                )


def escalation_level(
    raised_at: datetime,
    now: datetime,
    acknowledged_at: datetime | None = None,
    policy: EscalationPolicy | None = None,
) -> str:
    """The level an alarm has reached at ``now``: ``"council"``, ``"facilitators"`` or ``"assembly"``.

    An acknowledged alarm stays at the level it had when it was acknowledged. Times must be
    comparable (all aware, or all naive in the same zone).
    """
    policy = policy or EscalationPolicy()
    until = now if acknowledged_at is None else min(now, acknowledged_at)
    hours = (until - raised_at) / timedelta(hours=1)
    if hours < policy.council_hours:
        return LEVELS[0]
    if hours < policy.council_hours + policy.facilitator_hours:
        return LEVELS[1]
    return LEVELS[2]


def next_escalation(
    raised_at: datetime, policy: EscalationPolicy | None = None, level: str = "council"
) -> datetime | None:
    """When an unacknowledged alarm at ``level`` rises next; ``None`` at the top (or never)."""
    policy = policy or EscalationPolicy()
    if level not in LEVELS:
        raise InvalidValueError(
            f"unknown alarm level {level!r}", where="level", expected=", ".join(LEVELS)
        )
    if level == LEVELS[0]:
        hours = policy.council_hours
    elif level == LEVELS[1]:
        hours = policy.council_hours + policy.facilitator_hours
    else:
        return None
    if math.isinf(hours):
        return None
    return raised_at + timedelta(hours=hours)


__all__ = [
    "KINDS",
    "LEVELS",
    "AlarmRule",
    "EscalationPolicy",
    "escalation_level",
    "next_escalation",
]
