"""Database fixtures shared by tests/store and tests/services: the same tests on SQLite and PostgreSQL.

* SQLite: a schema is migrated once per session into a template file; each test gets
  a fresh copy of it (a plain file copy).
* PostgreSQL (127.0.0.1:5432, user postgres, trust auth): one database with a random
  name is created per session, migrated, and dropped at the end; between tests every
  table is emptied with ``TRUNCATE … RESTART IDENTITY`` (row triggers do not fire on
  TRUNCATE) and the audit head is reset. Random names keep parallel runs apart.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from commonplan.store import Database, upgrade
from commonplan.store.audit import GENESIS
from commonplan.store.models import Base

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def create_pg_database(prefix: str = "cp_store") -> str:
    """Create an empty PostgreSQL database with a random name; return its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # name is generated here, not user input
    return name


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    name = create_pg_database()
    url = pg_url(name)
    upgrade(url)
    yield url
    drop_pg_database(name)


def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": GENESIS}
        )


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "commonplan.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_session_url")
    database = Database(url)
    _truncate_all(database)
    database.dispose()
    return url


@pytest.fixture()
def db(db_url: str) -> Iterator[Database]:
    """An open :class:`Database` on a fresh schema (SQLite and PostgreSQL)."""
    database = Database(db_url)
    database.check()
    yield database
    database.dispose()


def read_colombia_2019(shared_data: Path):
    """Colombia 2019 (DANE), 68 sectors, from the real table in ../shared/data.

    Final demand: household and government consumption and gross fixed capital formation
    (the three negative capital-formation cells, inventory draw-downs, are set to 0);
    net exports are left out. Gross output is the published total, so the economy is
    the published technology. Accounts: value added (COP billion).
    """
    import pandas as pd

    from commonplan.economy import Economy, Metadata

    folder = shared_data / "colombia_dane_2019"
    flows = pd.read_csv(folder / "col2019_Z_68.csv", index_col=0, dtype={"sector": str})
    info = pd.read_csv(folder / "col2019_sectors_fd_va_68.csv", dtype={"code": str}).set_index(
        "code"
    )
    names = [f"{code} {name}" for code, name in zip(info.index, info["Nombre"], strict=True)]
    flows.index = names
    flows.columns = names
    final = info[["Consumo_final", "FBKF"]].clip(lower=0).set_axis(names)
    final.columns = ["consumption", "investment"]
    return Economy.from_flows(
        flows,
        final,
        info["Tot_19"].to_numpy(),
        accounts={
            "value added": info["VA"].to_numpy(),
            "compensation": info["Remune_asalariados"].to_numpy(),
        },
        account_units={"value added": "COP billion", "compensation": "COP billion"},
        region="COL",
        metadata=Metadata(
            name="Colombia 2019 (DANE), 68 sectors",
            year=2019,
            units="COP billion",
            source="DANE, matriz insumo-producto 2019",
        ),
    )


@pytest.fixture(scope="session")
def colombia(shared_data: Path):
    """The Colombia 2019 economy (68 sectors)."""
    return read_colombia_2019(shared_data)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Real argon2id, with the cheapest parameters, so that creating accounts in tests is fast."""
    import os

    previous = os.environ.get("COMMONPLAN_ARGON2_PROFILE")
    os.environ["COMMONPLAN_ARGON2_PROFILE"] = "test"
    yield
    if previous is None:
        os.environ.pop("COMMONPLAN_ARGON2_PROFILE", None)
    else:
        os.environ["COMMONPLAN_ARGON2_PROFILE"] = previous
