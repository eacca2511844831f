"""A small assembly for service tests: one account per role, two councils, a round in the ballot phase."""

from __future__ import annotations

from dataclasses import dataclass

from commonplan import services as S
from commonplan.services import Actor, Role

PASSWORD = "correct horse battery"
GROUPS = ["food", "housing", "health", "energy"]


@dataclass
class World:
    db: object
    admin: Actor
    facilitator: Actor
    member: Actor
    member2: Actor
    outsider: Actor
    observer: Actor
    assembly_id: int
    councils: list[int]
    round_id: int

    def actor(self, role: Role) -> Actor:
        return {
            Role.ADMINISTRATOR: self.admin,
            Role.FACILITATOR: self.facilitator,
            Role.MEMBER: self.member,
            Role.OBSERVER: self.observer,
        }[role]


def build_world(db, *, economy_id: int | None = None, n_extra_members: int = 0) -> World:
    system = Actor.system()
    people = {}
    for name, role in [
        ("admin", Role.ADMINISTRATOR),
        ("facil", Role.FACILITATOR),
        ("member", Role.MEMBER),
        ("member2", Role.MEMBER),
        ("outsider", Role.MEMBER),
        ("observer", Role.OBSERVER),
    ] + [(f"extra{k}", Role.MEMBER) for k in range(n_extra_members)]:
        people[name] = S.create_user(db, system, name, PASSWORD, role).actor()
    admin = people["admin"]
    assembly = S.create_assembly(db, admin, "Test assembly", economy_id=economy_id)
    S.add_facilitator(db, admin, assembly.id, people["facil"].user_id)
    workers = S.create_council(
        db, admin, assembly.id, "Workers: food industry", "workers", sector="C10"
    )
    consumers = S.create_council(
        db, admin, assembly.id, "Consumers: capital region", "consumers", region="COL"
    )
    S.add_membership(db, admin, workers.id, people["member"].user_id)
    S.add_membership(db, admin, consumers.id, people["member"].user_id)
    S.add_membership(db, admin, consumers.id, people["member2"].user_id)
    for k in range(n_extra_members):
        council = workers if k % 2 else consumers
        S.add_membership(db, admin, council.id, people[f"extra{k}"].user_id)
    opened = S.open_round(db, people["facil"], assembly.id, "Round 1", GROUPS)
    world = World(
        db,
        admin,
        people["facil"],
        people["member"],
        people["member2"],
        people["outsider"],
        people["observer"],
        assembly.id,
        [workers.id, consumers.id],
        opened.id,
    )
    world.extras = [people[f"extra{k}"] for k in range(n_extra_members)]  # type: ignore[attr-defined]
    return world
