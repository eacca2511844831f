"""Fixtures for the server tests: real databases (SQLite file, PostgreSQL), a populated assembly,
API clients with bearer tokens, and browser-style clients with session cookies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from server_helpers import PASSWORD, database_url

from commonplan.server import Settings, create_app
from commonplan.services import accounts, assemblies, rounds
from commonplan.services.roles import Actor
from commonplan.store.database import Database, open_database


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated, empty database on the module's backend."""
    url, pg = database_url(backend, tmp_path_factory.mktemp("db"))
    db = open_database(url, migrate=True)
    try:
        yield db
    finally:
        db.dispose()
        if pg is not None:
            pg.drop()


@dataclass
class World:
    """An assembly with two councils, one account per role, three members and an outsider."""

    database: Database
    assembly_id: int
    council_ids: tuple[int, int]
    users: dict[str, int]
    tokens: dict[str, str]

    def actor(self, username: str) -> Actor:
        return accounts.get_actor(self.database, self.users[username])

    def open_round(
        self, title: str, groups: tuple[str, ...] = ("food", "housing", "health")
    ) -> int:
        """A new round of the assembly, in its ballot phase (opened by the facilitator)."""
        return rounds.open_round(
            self.database, self.actor("fac"), self.assembly_id, title, list(groups)
        ).id


@pytest.fixture(scope="module")
def world(database: Database) -> World:
    system = Actor.system()
    users: dict[str, int] = {}
    for name, role in (
        ("admin", "administrator"),
        ("fac", "facilitator"),
        ("obs", "observer"),
        ("m1", "member"),
        ("m2", "member"),
        ("m3", "member"),
        ("outsider", "member"),
    ):
        users[name] = accounts.create_user(database, system, name, PASSWORD, role).id
    assembly = assemblies.create_assembly(database, system, "Test assembly")
    accounts.add_facilitator(database, system, assembly.id, users["fac"])
    workers = assemblies.create_council(
        database, system, assembly.id, "Workers: manufacturing", "workers", sector="C"
    )
    consumers = assemblies.create_council(
        database, system, assembly.id, "Consumers: north", "consumers", region="north"
    )
    for name in ("m1", "m2"):
        assemblies.add_membership(database, system, workers.id, users[name])
    for name in ("m2", "m3"):  # m2 belongs to two councils
        assemblies.add_membership(database, system, consumers.id, users[name])
    tokens = {
        name: accounts.create_token(database, accounts.get_actor(database, uid), name="test").token
        for name, uid in users.items()
    }
    return World(database, assembly.id, (workers.id, consumers.id), users, tokens)


@pytest.fixture(scope="module")
def app(world: World):
    return create_app(Settings(secret_key="test-secret", login_attempts=3), database=world.database)


@pytest.fixture()
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
