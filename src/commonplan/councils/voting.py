"""Choosing between plan alternatives: the Schulze method.

Source: Markus Schulze, "A new monotonic, clone-independent, reversal symmetric, and
Condorcet-consistent single-winner election method", *Social Choice and Welfare* 36
(2011) 267–303.

Definitions (alternatives ``a_1 … a_n``, each voter's ranking best first):

* **pairwise matrix** ``d[i, j]`` — the number of voters who rank ``a_i`` strictly above
  ``a_j``. A ranking may leave alternatives out; those rank below every listed one and
  tie with each other.
* **link strength** (winning votes) — ``d[i, j]`` if ``d[i, j] > d[j, i]``, else 0.
* **strongest path matrix** ``p[i, j]`` — the largest, over all paths from ``a_i`` to
  ``a_j``, of the weakest link on the path (a widest-path problem, computed by the
  Floyd–Warshall recurrence ``p[i, j] = max(p[i, j], min(p[i, k], p[k, j]))``).
* ``a_i`` **beats** ``a_j`` when ``p[i, j] > p[j, i]``; this relation is transitive
  (Schulze 2011, §4.1). The **Schulze winners** are the alternatives no one beats.

**Tie-break rule** (deterministic, documented here because Schulze's own proposal —
a random tie-breaking ballot — is not reproducible): the final order is built by
repeatedly taking, among the remaining alternatives that no remaining alternative
beats, the one with (1) the largest total pairwise support ``Σ_j d[i, j]`` (its Borda
score), then (2) the earliest position in the list of alternatives. The order so built
always respects the Schulze relation; the tie-break only orders alternatives the
method itself leaves tied, and :attr:`SchulzeResult.tie_broken` says when it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from commonplan.errors import BallotError

TIE_BREAK_RULE = (
    "Among alternatives the Schulze method leaves tied, the one with the larger Borda score "
    "(total pairwise support, the row sum of the pairwise matrix) ranks first; if still tied, the one "
    "listed first among the alternatives."
)


@dataclass(frozen=True)
class SchulzeResult:
    """The outcome of a Schulze count.

    ``pairwise`` and ``strongest`` are labelled alternatives × alternatives DataFrames
    (counts of voters; diagonal 0). ``winners`` are all Schulze winners before the
    tie-break; ``winner`` and ``order`` (best first) after it.
    """

    alternatives: tuple[str, ...]
    pairwise: pd.DataFrame
    strongest: pd.DataFrame
    winners: tuple[str, ...]
    winner: str
    order: tuple[str, ...]
    tie_broken: bool
    n_ballots: int
    tie_break_rule: str = TIE_BREAK_RULE


def validate_ranking(order: Sequence[str], alternatives: Sequence[str]) -> tuple[str, ...]:
    """Check one ranking (labels, best first); raise :class:`BallotError` for duplicates or unknown labels.

    A ranking must list at least one alternative; unlisted ones rank last, tied.
    """
    if isinstance(order, str) or not isinstance(order, Sequence):
        raise BallotError(
            "a ranking must be a list of alternatives, best first",
            where="ranking",
            expected="a list such as ['B', 'A', 'C']",
        )
    if len(order) == 0:
        raise BallotError(
            "a ranking must list at least one alternative",
            where="ranking",
            expected="a non-empty list of alternatives, best first",
        )
    known = set(alternatives)
    seen: set[str] = set()
    for position, label in enumerate(order, start=1):
        if not isinstance(label, str) or label not in known:
            raise BallotError(
                f"unknown alternative {label!r}",
                where=f"ranking, position {position}",
                expected="one of " + ", ".join(repr(a) for a in alternatives),
                fix="rank only the round's alternatives",
            )
        if label in seen:
            raise BallotError(
                f"alternative {label!r} is ranked twice",
                where=f"ranking, position {position}",
                expected="each alternative at most once",
                fix="remove the duplicate",
            )
        seen.add(label)
    return tuple(order)


def rank_positions(rankings: Sequence[Sequence[str]], alternatives: Sequence[str]) -> np.ndarray:
    """Voters × alternatives matrix of rank positions (0 = best; unlisted = n, i.e. last)."""
    alternatives = list(alternatives)
    n = len(alternatives)
    index = {a: k for k, a in enumerate(alternatives)}
    positions = np.full((len(rankings), n), n, dtype=np.int64)
    for v, order in enumerate(rankings):
        validate_ranking(order, alternatives)
        positions[v, [index[a] for a in order]] = np.arange(len(order))
    return positions


def pairwise_matrix(
    rankings: Sequence[Sequence[str]],
    alternatives: Sequence[str],
    counts: Sequence[int] | None = None,
) -> np.ndarray:
    """``d[i, j]``: number of voters ranking alternative i strictly above j.

    ``counts[v]`` (default 1) is how many voters cast ranking ``v``.
    """
    positions = rank_positions(rankings, alternatives)
    weights = (
        np.ones(len(rankings), dtype=np.int64)
        if counts is None
        else np.asarray(counts, dtype=np.int64)
    )
    if weights.shape != (len(rankings),) or (weights < 0).any():
        raise BallotError("counts must be one non-negative integer per ranking", where="counts")
    prefers = positions[:, :, None] < positions[:, None, :]
    return np.einsum("v,vij->ij", weights, prefers.astype(np.int64))


def strongest_paths(d: np.ndarray) -> np.ndarray:
    """Strongest path strengths ``p`` from a pairwise matrix ``d`` (winning-votes links; Floyd–Warshall)."""
    d = np.asarray(d)
    p = np.where(d > d.T, d, 0)
    np.fill_diagonal(p, 0)
    n = p.shape[0]
    for k in range(n):
        through_k = np.minimum(p[:, [k]], p[[k], :])
        through_k[k, :] = 0
        through_k[:, k] = 0
        np.fill_diagonal(through_k, 0)
        p = np.maximum(p, through_k)
    return p


def schulze(
    rankings: Sequence[Sequence[str]],
    alternatives: Sequence[str],
    counts: Sequence[int] | None = None,
) -> SchulzeResult:
    """Count rankings with the Schulze method (see the module doc for every definition and the tie-break).

    Raises :class:`BallotError` for a malformed ranking, fewer than two alternatives, or
    duplicated alternative labels.
    """
    alternatives = tuple(alternatives)
    if len(alternatives) < 2:
        raise BallotError(
            "a vote needs at least two alternatives",
            where="alternatives",
            expected="two or more alternatives",
        )
    if len(set(alternatives)) != len(alternatives):
        raise BallotError("alternative labels must be unique", where="alternatives")
    if len(rankings) == 0:
        raise BallotError(
            "no rankings were cast",
            where="vote",
            expected="at least one ranking",
            fix="wait for members to rank the alternatives",
        )
    d = pairwise_matrix(rankings, alternatives, counts)
    p = strongest_paths(d)
    beats = p > p.T
    borda = d.sum(axis=1)
    winners = tuple(
        a for a, beaten in zip(alternatives, beats.any(axis=0), strict=True) if not beaten
    )

    remaining = list(range(len(alternatives)))
    order: list[int] = []
    tie_broken = False
    while remaining:
        sub = beats[np.ix_(remaining, remaining)]
        candidates = [remaining[k] for k in np.flatnonzero(~sub.any(axis=0))]
        if len(candidates) > 1:
            tie_broken = True
        best = min(candidates, key=lambda i: (-borda[i], i))
        order.append(best)
        remaining.remove(best)

    labels = pd.Index(alternatives, name="alternative")
    n_ballots = int(len(rankings) if counts is None else np.sum(counts))
    return SchulzeResult(
        alternatives=alternatives,
        pairwise=pd.DataFrame(d, index=labels, columns=labels),
        strongest=pd.DataFrame(p, index=labels, columns=labels),
        winners=winners,
        winner=alternatives[order[0]],
        order=tuple(alternatives[i] for i in order),
        tie_broken=tie_broken,
        n_ballots=n_ballots,
    )
