"""Priority ballots and their aggregation into target weights.

A **priority ballot** distributes exactly 100 points over a round's target groups
(cumulative voting / "budget allocation", as in participatory budgeting's point
distribution). The rules, each a named function:

* :func:`validate_ballot` — points are decimal numbers with at most two decimals
  (hundredths of a point, so three equal shares are 33.33 + 33.33 + 33.34), each in
  [0, 100]; they sum to exactly 100 (checked in exact decimal arithmetic, not floating
  point); only known groups; a group left out gets 0 points.
* **mean rule** (:func:`council_allocations` with ``rule="mean"``): a council's
  allocation is the arithmetic mean of its members' ballots,
  ``a_c = (1/|B_c|) Σ_{m∈B_c} b_m``, over the members ``B_c`` of council ``c`` who cast a
  ballot. The assembly's allocation (:func:`assembly_allocation`) is the mean over
  councils weighted by membership, ``a = Σ_c n_c a_c / Σ_c n_c``, with ``n_c`` the number of
  members of council ``c`` (councils without any ballot are left out). Both are
  convex combinations of ballots, so they sum to 100.
* **median rule** (``rule="median"``): the same with the component-wise median in place
  of the mean — the council's allocation to a group is the median of its members'
  points for it, the assembly's the membership-weighted median of the councils'
  (:func:`weighted_median`). Medians resist a few extreme ballots but need not sum to
  100, so the result is rescaled to sum to 100 (if every median is 0, the mean rule's
  allocation is used).
* :func:`target_weights` — the round's target weights are the assembly allocation
  divided by 100 (non-negative, summing to 1).

A member who belongs to several councils counts in each of them: their voice reaches
the assembly through every council they work or live in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.errors import BallotError

TOTAL_POINTS = 100
POINT_DECIMALS = 2
RULES = ("mean", "median")
"""Names of the aggregation rules."""


def _as_decimal(group: str, value: Any) -> Decimal:
    where = f"ballot, group {group!r}"
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise BallotError(
            f"points must be a number, got {type(value).__name__}",
            where=where,
            expected="a number between 0 and 100 with at most two decimals",
            fix="enter a number of points",
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise BallotError(
            f"points must be finite, got {value}",
            where=where,
            expected="a number between 0 and 100",
        )
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise BallotError(
            f"{value!r} is not a number",
            where=where,
            expected="a number between 0 and 100 with at most two decimals",
        ) from None
    if not number.is_finite():
        raise BallotError(
            f"points must be finite, got {value}",
            where=where,
            expected="a number between 0 and 100",
        )
    if number < 0:
        raise BallotError(
            f"points cannot be negative, got {value}",
            where=where,
            expected="0 or more points",
            fix="give this group 0 points or more",
        )
    if number > TOTAL_POINTS:
        raise BallotError(f"at most {TOTAL_POINTS} points per group, got {value}", where=where)
    if number.normalize().as_tuple().exponent < -POINT_DECIMALS:
        raise BallotError(
            f"points have at most {POINT_DECIMALS} decimals, got {value}",
            where=where,
            expected="hundredths of a point at the finest (e.g. 33.33)",
            fix="round the points to two decimals",
        )
    return number


def validate_ballot(points: Mapping[str, Any], groups: Sequence[str]) -> dict[str, float]:
    """Check a priority ballot and return it complete, in ``groups`` order (left-out groups: 0).

    Raises :class:`~commonplan.errors.BallotError` naming the group at fault for a
    non-number, negative, non-finite, > 100 or over-precise value, an unknown group, or
    a total other than exactly 100.
    """
    if not isinstance(points, Mapping) or not points:
        raise BallotError(
            "a ballot must give points to at least one target group",
            where="ballot",
            expected=f"a mapping of target group to points summing to {TOTAL_POINTS}",
        )
    known = list(groups)
    unknown = [g for g in points if g not in set(known)]
    if unknown:
        raise BallotError(
            f"unknown target group {unknown[0]!r}",
            where=f"ballot, group {unknown[0]!r}",
            expected="one of " + ", ".join(repr(g) for g in known),
            fix="give points only to the round's target groups",
        )
    exact = {g: _as_decimal(g, v) for g, v in points.items()}
    total = sum(exact.values(), Decimal(0))
    if total != TOTAL_POINTS:
        raise BallotError(
            f"the points sum to {total.normalize():f}, not {TOTAL_POINTS}",
            where="ballot, total",
            expected=f"exactly {TOTAL_POINTS} points in all",
            fix=f"move {abs(TOTAL_POINTS - total).normalize():f} points {'to' if total < TOTAL_POINTS else 'away from'} some group",
        )
    return {g: float(exact.get(g, Decimal(0))) for g in known}


def ballot_matrix(
    ballots: Mapping[Any, Mapping[str, float]], groups: Sequence[str]
) -> pd.DataFrame:
    """Validated ballots as a members × groups DataFrame of points."""
    rows = {member: validate_ballot(points, groups) for member, points in ballots.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(groups), dtype=float)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Column-wise weighted median of ``values`` (items × columns) with item ``weights``.

    Definition: sort a column; the median is the first value at which the cumulative
    weight reaches half the total; if it reaches exactly half there, the median is the
    midpoint of that value and the next (so equal weights give the ordinary median,
    as :func:`numpy.median`).
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if values.ndim == 1:
        return weighted_median(values[:, None], weights)[0]
    order = np.argsort(values, axis=0, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=0)
    cumulative = np.cumsum(weights[order], axis=0)
    half = cumulative[-1] / 2.0
    reached = cumulative >= half - 1e-12 * cumulative[-1]
    k = np.argmax(reached, axis=0)
    cols = np.arange(values.shape[1])
    lower = sorted_values[k, cols]
    exactly_half = np.isclose(cumulative[k, cols], half, rtol=1e-12, atol=0.0) & (
        k + 1 < values.shape[0]
    )
    upper = sorted_values[np.minimum(k + 1, values.shape[0] - 1), cols]
    return np.where(exactly_half, (lower + upper) / 2.0, lower)


def _rescale(allocation: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    totals = allocation.sum(axis=-1, keepdims=True)
    safe = np.where(totals > 0, totals, 1.0)
    return np.where(totals > 0, allocation * (TOTAL_POINTS / safe), fallback)


def council_allocations(
    ballots: pd.DataFrame, memberships: pd.DataFrame, *, rule: str = "mean"
) -> pd.DataFrame:
    """Each council's allocation (councils × groups, in points summing to 100).

    ``ballots``: members × groups (index: member id), e.g. from :func:`ballot_matrix`.
    ``memberships``: rows ``(council, member)`` (columns named so); members without a
    ballot are ignored; councils whose members cast no ballot are absent from the result.
    ``rule`` is ``"mean"`` or ``"median"`` (see module doc).
    """
    _check_rule(rule)
    pairs = memberships[memberships["member"].isin(ballots.index)]
    councils = pd.Index(pd.unique(pairs["council"]), name="council")
    if len(councils) == 0:
        return pd.DataFrame(columns=ballots.columns, index=councils, dtype=float)
    rows = councils.get_indexer(pairs["council"])
    cols = ballots.index.get_indexer(pairs["member"])
    B = ballots.to_numpy(dtype=float)
    incidence = sp.csr_array(
        (np.ones(len(pairs)), (rows, cols)), shape=(len(councils), len(ballots))
    )
    counts = incidence.sum(axis=1)
    means = (incidence @ B) / counts[:, None]
    if rule == "mean":
        return pd.DataFrame(means, index=councils, columns=ballots.columns)
    joined = ballots.reindex(pairs["member"].to_numpy()).set_axis(
        pd.Index(pairs["council"].to_numpy()), axis=0
    )
    medians = joined.groupby(level=0, sort=False).median().reindex(councils).to_numpy()
    return pd.DataFrame(_rescale(medians, means), index=councils, columns=ballots.columns)


def assembly_allocation(
    allocations: pd.DataFrame,
    membership_counts: Mapping[Any, int] | pd.Series,
    *,
    rule: str = "mean",
) -> pd.Series:
    """The assembly's allocation (points per group, summing to 100) from the councils'.

    ``membership_counts[c]`` is the number of members of council ``c`` (its weight).
    ``rule="mean"``: membership-weighted mean; ``rule="median"``: membership-weighted
    median per group, rescaled to 100.
    """
    _check_rule(rule)
    if allocations.empty:
        raise BallotError(
            "no ballots have been cast, so there is nothing to aggregate",
            where="round",
            expected="at least one ballot",
            fix="wait for members to submit ballots before closing the ballot phase",
        )
    weights = pd.Series(membership_counts, dtype=float).reindex(allocations.index).to_numpy()
    if np.isnan(weights).any() or (weights <= 0).any():
        missing = allocations.index[np.isnan(weights) | (weights <= 0)][0]
        raise BallotError(
            f"council {missing!r} has no positive membership count", where=f"council {missing!r}"
        )
    A = allocations.to_numpy(dtype=float)
    mean = weights @ A / weights.sum()
    if rule == "mean":
        result = mean
    else:
        result = _rescale(weighted_median(A, weights)[None, :], mean[None, :])[0]
    return pd.Series(result, index=allocations.columns, name="points")


def aggregate(
    ballots: pd.DataFrame,
    memberships: pd.DataFrame,
    membership_counts: Mapping[Any, int] | pd.Series,
    *,
    rule: str = "mean",
) -> tuple[pd.DataFrame, pd.Series]:
    """Council allocations and the assembly allocation in one call (see the two functions)."""
    councils = council_allocations(ballots, memberships, rule=rule)
    return councils, assembly_allocation(councils, membership_counts, rule=rule)


def target_weights(allocation: pd.Series) -> pd.Series:
    """Target weights from an assembly allocation: points / 100 (non-negative, summing to 1)."""
    weights = allocation.astype(float) / float(allocation.sum())
    return weights.rename("weight")


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise BallotError(
            f"unknown aggregation rule {rule!r}",
            where="aggregation rule",
            expected="one of " + ", ".join(RULES),
        )


@dataclass(frozen=True)
class TargetGroup:
    """A target group of a planning round (e.g. food, housing, investment).

    ``sectors`` names the economy's sectors whose final output the group's target
    covers (empty for groups that are not a set of products, such as ``investment`` or
    ``import independence``, which :mod:`commonplan.councils.alternatives` treats
    specially); ``kind`` is ``"products"``, ``"investment"`` or ``"import_independence"``.
    """

    name: str
    description: str = ""
    sectors: tuple[str, ...] = ()
    kind: str = "products"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "sectors": list(self.sectors),
            "kind": self.kind,
        }

    @classmethod
    def from_value(cls, value: TargetGroup | Mapping[str, Any] | str) -> TargetGroup:
        """Accept a TargetGroup, a mapping with its fields, or a bare name."""
        if isinstance(value, TargetGroup):
            return value
        if isinstance(value, str):
            return cls(name=value)
        if isinstance(value, Mapping) and isinstance(value.get("name"), str):
            return cls(
                name=value["name"],
                description=str(value.get("description", "")),
                sectors=tuple(str(s) for s in value.get("sectors", ()) or ()),
                kind=str(value.get("kind", "products")),
            )
        raise BallotError(
            f"a target group must have a name, got {value!r}",
            where="target groups",
            expected="a name or {'name': ..., 'description': ..., 'sectors': [...]}",
        )


GROUP_KINDS = ("products", "investment", "import_independence")


def validate_target_groups(
    groups: Sequence[TargetGroup | Mapping[str, Any] | str],
) -> tuple[TargetGroup, ...]:
    """Check a round's target groups: 2 or more, unique non-empty names, known kinds."""
    parsed = tuple(TargetGroup.from_value(g) for g in groups)
    if len(parsed) < 2:
        raise BallotError(
            "a round needs at least two target groups",
            where="target groups",
            expected="two or more groups, e.g. food, housing, health",
        )
    names = [g.name.strip() for g in parsed]
    for group, name in zip(parsed, names, strict=True):
        if not name or len(name) > 100:
            raise BallotError(
                f"target group name {group.name!r} is empty or too long",
                where="target groups",
                expected="1–100 characters",
            )
        if group.kind not in GROUP_KINDS:
            raise BallotError(
                f"unknown kind {group.kind!r}",
                where=f"target group {name!r}",
                expected="one of " + ", ".join(GROUP_KINDS),
            )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BallotError(
            f"target group {duplicates[0]!r} is listed twice",
            where="target groups",
            fix="give each group a distinct name",
        )
    return parsed
