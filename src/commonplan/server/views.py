"""Read helpers for the API and pages: combine service queries, and turn results into JSON.

Thin glue over :mod:`commonplan.services.queries`: a missing object becomes a
:class:`~commonplan.errors.NotFoundError` (HTTP 404) instead of ``None``, and service
dataclasses become the plain dicts of :mod:`commonplan.server.schemas`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from commonplan.errors import NotFoundError
from commonplan.services import queries
from commonplan.services.rounds import (
    AlternativeInfo,
    PublishedPlanInfo,
    ResultInfo,
    RoundInfo,
)
from commonplan.store.database import Database


def round_json(info: RoundInfo) -> dict[str, Any]:
    """A round as :class:`~commonplan.server.schemas.RoundOut`."""
    return {
        "id": info.id,
        "assembly_id": info.assembly_id,
        "title": info.title,
        "phase": info.phase.value,
        "target_groups": [
            {"name": g.name, "description": g.description, "sectors": list(g.sectors)}
            for g in info.target_groups
        ],
        "aggregation_rule": info.aggregation_rule,
        "weights": info.weights,
        "ballot_deadline": info.ballot_deadline,
        "vote_deadline": info.vote_deadline,
    }


def result_json(info: ResultInfo) -> dict[str, Any]:
    """A Schulze result as :class:`~commonplan.server.schemas.ResultOut` (matrices as nested lists)."""
    return {
        "round_id": info.round_id,
        "winner": info.winner,
        "order": list(info.order),
        "labels": list(info.labels),
        "pairwise": info.pairwise.to_numpy().astype(int).tolist(),
        "strongest": info.strongest.to_numpy().astype(int).tolist(),
        "tie_break": info.tie_break,
        "n_rankings": info.n_rankings,
    }


def turnout_json(db: Database, round_id: int) -> dict[str, Any]:
    """Turnout of a round as :class:`~commonplan.server.schemas.TurnoutOut`."""
    return dataclasses.asdict(queries.turnout(db, round_id))


def round_alternatives(db: Database, round_id: int) -> list[AlternativeInfo]:
    """The round's alternatives; 404 when the round does not exist."""
    queries.get_round_info(db, round_id)
    return queries.list_alternatives(db, round_id)


def round_result(db: Database, round_id: int) -> ResultInfo:
    """The round's Schulze result; 404 when the round does not exist or is not tallied yet."""
    queries.get_round_info(db, round_id)
    result = queries.get_result(db, round_id)
    if result is None:
        raise NotFoundError(
            f"round {round_id} has not been tallied yet",
            where=f"round {round_id}",
            fix="wait until the facilitator has counted the vote",
        )
    return result


def round_plan(db: Database, round_id: int) -> PublishedPlanInfo:
    """The round's published plan; 404 when the round does not exist or nothing is published."""
    queries.get_round_info(db, round_id)
    plan = queries.get_published_plan(db, round_id)
    if plan is None:
        raise NotFoundError(
            f"round {round_id} has no published plan yet",
            where=f"round {round_id}",
            fix="wait until the facilitator publishes the plan",
        )
    return plan


def rounds_of(db: Database, assembly_id: int) -> list[RoundInfo]:
    """The assembly's rounds, newest first; 404 when the assembly does not exist."""
    from commonplan.services.assemblies import get_assembly

    get_assembly(db, assembly_id)
    return queries.list_rounds(db, assembly_id)


def councils_of(db: Database, assembly_id: int) -> list[Any]:
    """The assembly's councils; 404 when the assembly does not exist."""
    from commonplan.services.assemblies import get_assembly, list_councils

    get_assembly(db, assembly_id)
    return list_councils(db, assembly_id)
