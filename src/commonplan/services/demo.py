"""A demo assembly to try the whole process: councils, members, and an open round.

:func:`seed_demo` stores the demo economy (``commonplan.datasets.load_demo()`` unless
another is given), creates an assembly with workers' councils for its largest sectors,
a peasants' council for agriculture, a consumers' council per region, accounts with
known demo passwords (printed by ``commonplan demo --serve``; never use them for real),
and opens a planning round in the ballot phase with six target groups. Seeding twice is
harmless: the existing demo is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from commonplan.councils.ballots import TargetGroup
from commonplan.economy import Economy
from commonplan.services import accounts, assemblies, rounds
from commonplan.services.roles import Actor
from commonplan.store.database import Database
from commonplan.store.models import (
    Assembly,
    CouncilKind,
    Membership,
    PlanningRound,
    Role,
    User,
    utcnow,
)

DEMO_ASSEMBLY = "Demo assembly"
N_DEMO_MEMBERS = 6

_GROUP_KEYWORDS: dict[str, tuple[str, ...]] = {
    "food": (
        "agri",
        "food",
        "farm",
        "crop",
        "fish",
        "forestry",
        "ganader",
        "pesca",
        "café",
        "alimento",
    ),
    "housing": (
        "construct",
        "real estate",
        "housing",
        "dwelling",
        "construcci",
        "inmobiliari",
        "vivienda",
    ),
    "health": ("health", "hospital", "medical", "social work", "pharma", "salud"),
    "energy": (
        "electric",
        "energy",
        "gas",
        "power",
        "coal",
        "petroleum",
        "oil",
        "energ",
        "carb",
        "petr",
    ),
}
# BEA summary codes (the demo economy is labelled with them)
_GROUP_CODES: dict[str, tuple[str, ...]] = {
    "food": ("111CA", "113FF", "311FT"),
    "housing": ("23", "HS", "ORE"),
    "health": ("621", "622", "623", "624"),
    "energy": ("211", "22", "324"),
}
_AGRICULTURE = ("agri", "crop", "farm", "fish", "forestry", "111ca", "113ff")


@dataclass(frozen=True)
class DemoAccount:
    """A demo account; ``password`` is public (demo only)."""

    username: str
    password: str
    role: Role


@dataclass(frozen=True)
class DemoSeed:
    """What :func:`seed_demo` created (or found)."""

    assembly_id: int
    round_id: int
    economy_id: int | None
    accounts: tuple[DemoAccount, ...]
    created: bool
    plan_id: int | None = None
    """The monitored published plan of the simulated execution (None if not seeded)."""
    live_round_id: int | None = None
    """The live participatory round waiting for the demo members' proposals (None if not seeded)."""


def demo_password(username: str) -> str:
    """The demo password of a demo account (public: for trying Commonplan only)."""
    return f"demo-{username}-pass"


def _demo_accounts() -> tuple[DemoAccount, ...]:
    people = [
        ("admin", Role.ADMINISTRATOR),
        ("facilitator", Role.FACILITATOR),
        ("observer", Role.OBSERVER),
    ]
    people += [(f"member{k}", Role.MEMBER) for k in range(1, N_DEMO_MEMBERS + 1)]
    return tuple(DemoAccount(name, demo_password(name), role) for name, role in people)


def demo_target_groups(economy: Economy) -> tuple[TargetGroup, ...]:
    """Food, housing, health, energy (sectors found by keyword in the sector names), investment, import independence."""
    sectors = [str(s) for s in economy.sectors]
    groups = []
    for name, words in _GROUP_KEYWORDS.items():
        matched = tuple(
            s for s in sectors if s in _GROUP_CODES[name] or any(w in s.lower() for w in words)
        )
        groups.append(TargetGroup(name, f"final output of {name}-related sectors", matched))
    groups.append(
        TargetGroup("investment", "new productive capacity for later years", (), "investment")
    )
    groups.append(
        TargetGroup(
            "import independence", "less dependence on imported inputs", (), "import_independence"
        )
    )
    return tuple(groups)


def _existing(db: Database) -> DemoSeed | None:
    with db.read() as session:
        assembly = session.execute(
            select(Assembly).where(Assembly.name == DEMO_ASSEMBLY)
        ).scalar_one_or_none()
        if assembly is None:
            return None
        round_id = (
            session.execute(
                select(PlanningRound.id)
                .where(PlanningRound.assembly_id == assembly.id)
                .order_by(PlanningRound.id.desc())
            )
            .scalars()
            .first()
        )
        assembly_id, economy_id = assembly.id, assembly.economy_id
    from commonplan.services.monitoring import monitored_plans
    from commonplan.services.participation import list_live_rounds

    plans = monitored_plans(db, assembly_id)
    live = list_live_rounds(db)
    return DemoSeed(
        assembly_id,
        round_id or 0,
        economy_id,
        _demo_accounts(),
        created=False,
        plan_id=plans[-1] if plans else None,
        live_round_id=live[0].id if live else None,
    )


def seed_demo(
    db: Database,
    *,
    economy: Economy | None = None,
    ballot_days: int = 7,
    vote_days: int = 14,
    execution: bool = True,
    now: datetime | None = None,
) -> DemoSeed:
    """Create the demo assembly, councils, accounts and an open round (or return the existing demo).

    With ``execution`` (default) a first round is carried to publication and its plan is
    watched through a simulated execution (:mod:`commonplan.services.demo_execution`) before
    the open round is opened; ``now`` (timezone-aware, default the current time) is when the
    latest month's reports are filed and the alarms escalated. Runs as the local system administrator (:meth:`Actor.system`), so every step is in
    the audit log like any other.
    """
    found = _existing(db)
    if found is not None:
        return found
    if economy is None:
        from commonplan.datasets import load_demo

        economy = load_demo()
    system = Actor.system()
    stored = assemblies.store_economy(
        db, system, economy, name=economy.metadata.name or "demo economy"
    )
    assembly = assemblies.create_assembly(
        db,
        system,
        DEMO_ASSEMBLY,
        economy_id=stored.id,
        description="A demonstration planning body: try ballots, alternatives and the vote.",
    )
    demo_accounts = _demo_accounts()
    users: dict[str, int] = {}
    for account in demo_accounts:
        with db.read() as session:
            existing = session.execute(
                select(User.id).where(User.username == account.username)
            ).scalar_one_or_none()
        users[account.username] = (
            existing
            or accounts.create_user(
                db,
                system,
                account.username,
                account.password,
                account.role,
                display_name=account.username.capitalize(),
            ).id
        )

    councils = _demo_councils(db, system, assembly.id, economy)
    members = [a.username for a in demo_accounts if a.role is Role.MEMBER]
    # every member in one workers'/peasants' council (round robin) and in their region's consumers' council
    producers = [c for c in councils if c.kind is not CouncilKind.CONSUMERS]
    consumers = [c for c in councils if c.kind is CouncilKind.CONSUMERS]
    for k, username in enumerate(members):
        targets = [producers[k % len(producers)]] + (
            [consumers[k % len(consumers)]] if consumers else []
        )
        for council in targets:
            with db.read() as session:
                present = session.execute(
                    select(Membership.id).where(
                        Membership.council_id == council.id, Membership.user_id == users[username]
                    )
                ).first()
            if not present:
                assemblies.add_membership(db, system, council.id, users[username])

    now = utcnow() if now is None else now
    accounts.add_facilitator(db, system, assembly.id, users["facilitator"])
    facilitator = accounts.get_actor(db, users["facilitator"])
    base_problem = {"ambition": 0.1, "resource_share": 1.0, "objective": "harmony"}
    executed = None
    if execution:
        from commonplan.services.demo_execution import seed_execution

        executed = seed_execution(
            db,
            facilitator,
            [accounts.get_actor(db, users[name]) for name in members],
            assembly.id,
            economy,
            demo_target_groups(economy),
            base_problem,
            now,
        )
    opened = rounds.open_round(
        db,
        facilitator,
        assembly.id,
        "Demo planning round",
        demo_target_groups(economy),
        base_problem=base_problem,
        ballot_deadline=now + timedelta(days=ballot_days),
        vote_deadline=now + timedelta(days=vote_days),
    )
    live_round_id = _seed_live_round(
        db, system, facilitator, [accounts.get_actor(db, users[name]) for name in members], now
    )
    return DemoSeed(
        assembly.id,
        opened.id,
        stored.id,
        demo_accounts,
        created=True,
        plan_id=executed.plan_id if executed is not None else None,
        live_round_id=live_round_id,
    )


DEMO_LIVE_ASSEMBLY = "Demo participatory economy"
LIVE_ITERATIONS_DONE = 3
"""Iterations of the demo's live round already run when it is seeded."""


def _seed_live_round(
    db: Database, system: Actor, facilitator: Actor, members: list[Actor], now: datetime
) -> int:
    """A live participatory round on a small generated economy (36 worker and 24 consumer
    councils, 4 goods per class): each demo member is the member of one council, a bot account
    of the others. Three iterations are run (everybody proposing its optimum); in the fourth the
    bot has proposed and the members' councils are awaited, for a day."""
    from commonplan.participation import generate_economy
    from commonplan.services import participation

    economy = generate_economy(36, 24, 4, seed=7)
    assembly = assemblies.create_assembly(
        db,
        system,
        DEMO_LIVE_ASSEMBLY,
        description="Councils propose, the board moves the prices: try the live procedure.",
    )
    councils = participation.provision_councils(db, system, assembly.id, economy)
    bot = accounts.create_user(
        db, system, "demo-bot", demo_password("demo-bot"), "member", display_name="Demo bot"
    ).actor()
    # the members take councils of both kinds: workers' from the start, consumers' from the end
    people = {
        (councils[k // 2] if k % 2 == 0 else councils[-1 - k // 2]).council_id: member
        for k, member in enumerate(members)
    }
    for council_id, member in people.items():
        assemblies.add_membership(db, system, council_id, member.user_id)
    participation.add_members(
        db, system, bot.user_id, [c.council_id for c in councils if c.council_id not in people]
    )
    accounts.add_facilitator(db, system, assembly.id, facilitator.user_id)
    opened = participation.open_live_round(
        db,
        facilitator,
        assembly.id,
        economy,
        title="Demo live round",
        iteration_seconds=86_400,
        now=now,
    )
    for iteration in range(1, LIVE_ITERATIONS_DONE + 2):
        for council in councils:
            by = people.get(council.council_id)
            if by is not None and iteration > LIVE_ITERATIONS_DONE:
                continue  # awaited: the members propose from their council's page
            proposal = participation.suggested_proposal(
                db, opened.id, council.kind, council.position
            )
            participation.submit_proposals(
                db,
                by or bot,
                opened.id,
                iteration,
                [dict(proposal, council=council.council_id)],
                now=now,
            )
    return opened.id


def _demo_councils(
    db: Database, system: Actor, assembly_id: int, economy: Economy
) -> list[assemblies.CouncilInfo]:
    sectors = [str(s) for s in economy.sectors]
    output = np.zeros(len(sectors))
    if (
        economy.activity_levels is not None
    ):  # gross output per product = make · levels, summed by sector
        by_product = economy.make @ np.asarray(economy.activity_levels)
        codes = pd.Index(sectors).get_indexer(
            economy.products.get_level_values("sector").astype(str)
        )
        np.add.at(output, codes, by_product)
    farm = [
        s
        for s in sectors
        if s.lower() in _AGRICULTURE or any(w in s.lower() for w in _AGRICULTURE[:5])
    ]
    largest = [sectors[k] for k in np.argsort(-output, kind="stable") if sectors[k] not in farm][:3]
    created = []
    for sector in largest:
        created.append(
            assemblies.create_council(
                db,
                system,
                assembly_id,
                f"Workers' council: {sector}"[:200],
                CouncilKind.WORKERS,
                sector=sector,
            )
        )
    if farm:
        created.append(
            assemblies.create_council(
                db,
                system,
                assembly_id,
                f"Peasants' council: {farm[0]}"[:200],
                CouncilKind.PEASANTS,
                sector=farm[0],
            )
        )
    for region in [str(r) for r in economy.regions][:3]:
        created.append(
            assemblies.create_council(
                db,
                system,
                assembly_id,
                f"Consumers' council: {region}"[:200],
                CouncilKind.CONSUMERS,
                region=region,
            )
        )
    return created
