"""A published plan to monitor, made through the services on a real economy (BEA 2021, 15
sectors): a round with ballots, computed alternatives (HiGHS), a Schulze vote, publication.

Councils: workers of manufacturing (``31G``: members ``ana``, ``ben``), peasants of
agriculture (``11``: ``cai``), consumers of the USA (``dan``: covers no product's sector).
Accounts: ``admin``, ``fac`` (facilitator of the assembly), ``fac2`` (facilitator of
another assembly), ``obs`` (observer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from commonplan import services as S
from commonplan.datasets import load_dataset
from commonplan.services import Actor
from commonplan.services.demo import demo_target_groups

PASSWORD = "correct horse battery"
MANUFACTURING = "USA/31G"
AGRICULTURE = "USA/11"


@dataclass
class PlanWorld:
    db: object
    actors: dict[str, Actor]
    assembly_id: int
    councils: dict[str, int]
    round_id: int
    plan_id: int
    planned: pd.Series = field(repr=False)
    unit: str = ""

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]


def product_label(region: str, sector: str) -> str:
    return f"{region}/{sector}"


def publish_world(db) -> PlanWorld:
    """Everything up to a published plan (not yet monitored)."""
    system = Actor.system()
    roles = {
        "admin": "administrator",
        "fac": "facilitator",
        "fac2": "facilitator",
        "obs": "observer",
        "ana": "member",
        "ben": "member",
        "cai": "member",
        "dan": "member",
    }
    actors = {n: S.create_user(db, system, n, PASSWORD, r).actor() for n, r in roles.items()}
    economy = load_dataset("bea2021_15")
    stored = S.store_economy(db, system, economy)
    assembly = S.create_assembly(db, system, "Monitored assembly", economy_id=stored.id)
    other = S.create_assembly(db, system, "Another assembly")
    S.add_facilitator(db, system, assembly.id, actors["fac"].user_id)
    S.add_facilitator(db, system, other.id, actors["fac2"].user_id)
    councils = {
        "manufacturing": S.create_council(
            db, system, assembly.id, "Workers: manufacturing", "workers", sector="31G"
        ).id,
        "agriculture": S.create_council(
            db, system, assembly.id, "Peasants: agriculture", "peasants", sector="11"
        ).id,
        "consumers": S.create_council(
            db, system, assembly.id, "Consumers: USA", "consumers", region="USA"
        ).id,
    }
    for name, council in (
        ("ana", "manufacturing"),
        ("ben", "manufacturing"),
        ("cai", "agriculture"),
        ("dan", "consumers"),
    ):
        S.add_membership(db, system, councils[council], actors[name].user_id)
    groups = demo_target_groups(economy)
    fac = actors["fac"]
    opened = S.open_round(db, fac, assembly.id, "Plan 2026", groups)
    names = [g.name for g in groups]
    for k, member in enumerate(("ana", "ben", "cai", "dan")):
        points = np.full(len(names), 100 // len(names), dtype=float)
        points[k % len(names)] += 100 - points.sum()
        S.submit_ballot(db, actors[member], opened.id, dict(zip(names, points, strict=True)))
    S.advance_phase(db, fac, opened.id)
    S.compute_alternatives(db, fac, opened.id)
    S.advance_phase(db, fac, opened.id)
    labels = [a.label for a in S.list_alternatives(db, opened.id)]
    for member in ("ana", "ben", "cai", "dan"):
        S.submit_ranking(db, actors[member], opened.id, labels)
    S.advance_phase(db, fac, opened.id)
    published = S.publish_plan(db, fac, opened.id)
    frame = S.plan_frame(db, published.plan_sha256)
    planned = pd.Series(
        frame["output"].to_numpy(),
        index=[product_label(r, s) for r, s in frame.index],
        name="output",
    )
    from commonplan.services.monitoring import plan_id_of_round

    return PlanWorld(
        db,
        actors,
        assembly.id,
        councils,
        opened.id,
        plan_id_of_round(db, opened.id),
        planned,
        str(published.figures.get("units", "")),
    )


def report_frame(
    world: PlanWorld,
    sub_period: int,
    *,
    sub_periods: int,
    factors: dict[str, float] | None = None,
    products: list[str] | None = None,
    noise: float = 0.01,
    seed: int = 0,
    period: int = 1,
) -> pd.DataFrame:
    """Reports for one sub-period: each product's planned output spread evenly over the
    sub-periods, times ``factors[product]`` (default 1), times seeded noise of ``noise``."""
    rng = np.random.default_rng([seed, period, sub_period])
    chosen = products if products is not None else list(world.planned.index)
    base = world.planned.loc[chosen].to_numpy() / sub_periods
    shock = np.array([(factors or {}).get(p, 1.0) for p in chosen])
    output = base * shock * (1.0 + noise * rng.standard_normal(len(chosen)))
    return pd.DataFrame(
        {
            "product": chosen,
            "period": period,
            "sub_period": sub_period,
            "output": np.clip(output, 0.0, None),
            "unit": world.unit,
        }
    )
