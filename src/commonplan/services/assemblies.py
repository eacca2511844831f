"""Structure: economies, assemblies, councils and memberships (administrators)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from commonplan.economy import Economy
from commonplan.errors import ConflictError, ParticipationInputError
from commonplan.services._common import assembly_of, audit, get_or_404
from commonplan.services.roles import Actor, require
from commonplan.store.blobs import economy_from_parquet, economy_to_parquet, get_blob, put_blob
from commonplan.store.database import Database
from commonplan.store.models import Assembly, Council, CouncilKind, EconomyRecord, Membership, User


@dataclass(frozen=True)
class EconomyInfo:
    """A stored economy: its id, name, size and content hash."""

    id: int
    name: str
    n_products: int
    n_activities: int
    units: str
    sha256: str


@dataclass(frozen=True)
class AssemblyInfo:
    """An assembly; ``time_zone`` is the IANA zone its deadlines are read and shown in."""

    id: int
    name: str
    description: str
    economy_id: int | None
    created_at: datetime
    time_zone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        """The assembly's time zone as a :class:`~zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class CouncilInfo:
    """A council with its number of members."""

    id: int
    assembly_id: int
    name: str
    kind: CouncilKind
    region: str | None
    sector: str | None
    enterprise: str | None
    n_members: int


@dataclass(frozen=True)
class MembershipInfo:
    id: int
    council_id: int
    user_id: int


def _economy_info(row: EconomyRecord) -> EconomyInfo:
    return EconomyInfo(
        row.id, row.name, row.n_products, row.n_activities, row.units, row.blob_sha256
    )


def _assembly_info(row: Assembly) -> AssemblyInfo:
    return AssemblyInfo(
        row.id, row.name, row.description, row.economy_id, row.created_at, row.time_zone
    )


_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]{1,64}")


def check_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone this machine knows (``UTC``, ``Europe/Madrid``, …).

    Raises :class:`~commonplan.errors.ParticipationInputError` (``where="time_zone"``) otherwise.
    """
    name = (name or "").strip()
    if _ZONE_NAME.fullmatch(name) and not name.startswith("/"):
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise ParticipationInputError(
        f"unknown time zone {name[:64]!r}",
        where="time_zone",
        expected="an IANA time zone such as UTC, Europe/Madrid or America/Bogota",
        fix="pick the zone from the list, or see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones",
    )


def _council_info(row: Council, n_members: int) -> CouncilInfo:
    return CouncilInfo(
        row.id,
        row.assembly_id,
        row.name,
        CouncilKind(row.kind),
        row.region,
        row.sector,
        row.enterprise,
        n_members,
    )


def store_economy(
    db: Database, actor: Actor, economy: Economy, *, name: str | None = None
) -> EconomyInfo:
    """Store an economy as a Parquet blob (administrators). Storing the same economy twice reuses the blob."""
    require(actor, "store_economy")
    data = economy_to_parquet(economy)
    with db.transaction() as session:
        digest = put_blob(session, data, kind="economy")
        row = EconomyRecord(
            name=(name or economy.metadata.name or "economy")[:200],
            blob_sha256=digest,
            n_products=economy.n_products,
            n_activities=economy.n_activities,
            units=economy.metadata.units[:200],
            summary={
                "regions": [str(r) for r in economy.regions],
                "accounts": list(economy.account_names),
                "year": economy.metadata.year,
                "source": economy.metadata.source,
            },
        )
        session.add(row)
        session.flush()
        audit(
            session,
            actor,
            "economy.store",
            f"economy {row.id}",
            {"name": row.name, "sha256": digest},
        )
        return _economy_info(row)


def load_economy(db: Database, economy_id: int) -> Economy:
    """The stored economy, rebuilt from its blob (its hash is checked)."""
    with db.read() as session:
        row = get_or_404(session, EconomyRecord, economy_id, "economy")
        return economy_from_parquet(get_blob(session, row.blob_sha256))


@dataclass(frozen=True)
class Sector:
    """One sector of a stored economy: its code and its readable name (the code where the data names none)."""

    code: str
    name: str


@dataclass(frozen=True)
class EconomyNames:
    """What a page needs to name an economy's products: its sectors (in order) and regions."""

    sectors: tuple[Sector, ...]
    regions: tuple[str, ...]

    def sector_name(self, code: str) -> str:
        """The name of sector ``code`` (the code itself when unknown)."""
        return next((s.name for s in self.sectors if s.code == code), code)


_NAMES: OrderedDict[str, EconomyNames] = OrderedDict()
_NAMES_LOCK = threading.Lock()
_NAMES_CACHED = 16


def economy_names(db: Database, economy_id: int) -> EconomyNames:
    """The sectors of a stored economy in order, with the names its reader recorded, and its regions.

    Names come from ``metadata.extra["sector_names"]`` (code → name, as the BEA, ONS and
    DANE readers store them). Kept in a small cache keyed by the economy's content hash,
    so a page naming sectors does not rebuild the economy on every view.
    """
    info = get_economy_info(db, economy_id)
    with _NAMES_LOCK:
        if info.sha256 in _NAMES:
            _NAMES.move_to_end(info.sha256)
            return _NAMES[info.sha256]
    economy = load_economy(db, economy_id)
    names = economy.metadata.extra.get("sector_names") or {}
    if not isinstance(names, dict):
        names = {}
    found = EconomyNames(
        tuple(Sector(str(code), str(names.get(str(code)) or code)) for code in economy.sectors),
        tuple(str(r) for r in economy.regions),
    )
    with _NAMES_LOCK:
        _NAMES[info.sha256] = found
        while len(_NAMES) > _NAMES_CACHED:
            _NAMES.popitem(last=False)
    return found


def list_economies(db: Database) -> list[EconomyInfo]:
    """The stored economies, oldest first."""
    with db.read() as session:
        rows = session.execute(select(EconomyRecord).order_by(EconomyRecord.id)).scalars()
        return [_economy_info(row) for row in rows]


def get_economy_info(db: Database, economy_id: int) -> EconomyInfo:
    with db.read() as session:
        return _economy_info(get_or_404(session, EconomyRecord, economy_id, "economy"))


def create_assembly(
    db: Database,
    actor: Actor,
    name: str,
    *,
    economy_id: int | None = None,
    description: str = "",
    time_zone: str = "UTC",
) -> AssemblyInfo:
    """Create an assembly (a planning body) for a stored economy (administrators).

    ``time_zone``: the IANA zone its deadlines are read and shown in (see :func:`check_time_zone`).
    """
    require(actor, "create_assembly")
    name = _name(name, "assembly name")
    time_zone = check_time_zone(time_zone)
    try:
        with db.transaction() as session:
            if economy_id is not None:
                get_or_404(session, EconomyRecord, economy_id, "economy")
            if session.execute(select(Assembly.id).where(Assembly.name == name)).first():
                raise _duplicate("an assembly", name)
            row = Assembly(
                name=name, description=description, economy_id=economy_id, time_zone=time_zone
            )
            session.add(row)
            session.flush()
            audit(
                session,
                actor,
                "assembly.create",
                f"assembly {row.id}",
                {"name": name, "economy_id": economy_id, "time_zone": time_zone},
            )
            return _assembly_info(row)
    except IntegrityError as error:
        raise _duplicate("an assembly", name) from error


def create_council(
    db: Database,
    actor: Actor,
    assembly_id: int,
    name: str,
    kind: CouncilKind | str,
    *,
    region: str | None = None,
    sector: str | None = None,
    enterprise: str | None = None,
) -> CouncilInfo:
    """Create a council of an assembly (administrators).

    ``kind``: ``workers`` (give ``sector`` and/or ``enterprise``), ``peasants`` (an
    agricultural ``sector``) or ``consumers`` (a ``region``).
    """
    require(actor, "create_council")
    name = _name(name, "council name")
    try:
        kind = CouncilKind(kind)
    except ValueError:
        raise ParticipationInputError(
            f"unknown council kind {kind!r}",
            where="council kind",
            expected="one of " + ", ".join(k.value for k in CouncilKind),
        ) from None
    try:
        with db.transaction() as session:
            assembly_of(session, assembly_id)
            exists = select(Council.id).where(
                Council.assembly_id == assembly_id, Council.name == name
            )
            if session.execute(exists).first():
                raise _duplicate("a council", name)
            row = Council(
                assembly_id=assembly_id,
                name=name,
                kind=kind.value,
                region=region,
                sector=sector,
                enterprise=enterprise,
            )
            session.add(row)
            session.flush()
            audit(
                session,
                actor,
                "council.create",
                f"council {row.id}",
                {
                    "assembly_id": assembly_id,
                    "name": name,
                    "kind": kind.value,
                    "region": region,
                    "sector": sector,
                    "enterprise": enterprise,
                },
            )
            return _council_info(row, 0)
    except IntegrityError as error:
        raise _duplicate("a council", name) from error


def add_membership(db: Database, actor: Actor, council_id: int, user_id: int) -> MembershipInfo:
    """Make a user a member of a council (administrators). A user may belong to several councils."""
    require(actor, "add_membership")
    try:
        with db.transaction() as session:
            get_or_404(session, Council, council_id, "council")
            get_or_404(session, User, user_id, "user")
            exists = select(Membership.id).where(
                Membership.council_id == council_id, Membership.user_id == user_id
            )
            if session.execute(exists).first():
                raise ConflictError(
                    f"user {user_id} is already a member of council {council_id}",
                    where=f"council {council_id}",
                )
            row = Membership(council_id=council_id, user_id=user_id)
            session.add(row)
            session.flush()
            audit(session, actor, "membership.add", f"council {council_id}", {"user_id": user_id})
            return MembershipInfo(row.id, council_id, user_id)
    except IntegrityError as error:
        raise ConflictError(
            f"user {user_id} is already a member of council {council_id}",
            where=f"council {council_id}",
        ) from error


def remove_membership(db: Database, actor: Actor, council_id: int, user_id: int) -> None:
    """End a user's membership of a council (administrators). Ballots already cast stay recorded."""
    require(actor, "remove_membership")
    with db.transaction() as session:
        row = session.execute(
            select(Membership).where(
                Membership.council_id == council_id, Membership.user_id == user_id
            )
        ).scalar_one_or_none()
        if row is None:
            raise ConflictError(
                f"user {user_id} is not a member of council {council_id}",
                where=f"council {council_id}",
            )
        session.delete(row)
        audit(session, actor, "membership.remove", f"council {council_id}", {"user_id": user_id})


def list_assemblies(db: Database) -> list[AssemblyInfo]:
    with db.read() as session:
        return [
            _assembly_info(a)
            for a in session.execute(select(Assembly).order_by(Assembly.id)).scalars()
        ]


def get_assembly(db: Database, assembly_id: int) -> AssemblyInfo:
    with db.read() as session:
        return _assembly_info(assembly_of(session, assembly_id))


def list_councils(db: Database, assembly_id: int) -> list[CouncilInfo]:
    """The assembly's councils with their member counts."""
    with db.read() as session:
        counts = (
            select(Council, func.count(Membership.id))
            .outerjoin(Membership, Membership.council_id == Council.id)
            .where(Council.assembly_id == assembly_id)
            .group_by(Council.id)
            .order_by(Council.id)
        )
        return [_council_info(c, n) for c, n in session.execute(counts).all()]


def user_councils(db: Database, user_id: int) -> list[CouncilInfo]:
    """The councils a user belongs to."""
    with db.read() as session:
        size = (
            select(Membership.council_id, func.count(Membership.id).label("n"))
            .group_by(Membership.council_id)
            .subquery()
        )
        query = (
            select(Council, size.c.n)
            .join(Membership, Membership.council_id == Council.id)
            .join(size, size.c.council_id == Council.id)
            .where(Membership.user_id == user_id)
            .order_by(Council.id)
        )
        return [_council_info(c, n) for c, n in session.execute(query).all()]


def council_members(db: Database, council_id: int) -> list[tuple[int, str, str]]:
    """``(user id, username, display name)`` of a council's members."""
    with db.read() as session:
        query = (
            select(User.id, User.username, User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.council_id == council_id)
            .order_by(User.username)
        )
        return [tuple(r) for r in session.execute(query).all()]


def _name(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > 200:
        raise ParticipationInputError(
            f"the {what} is empty or too long", where=what, expected="1–200 characters"
        )
    return value


def _duplicate(what: str, name: str) -> ConflictError:
    return ConflictError(
        f"{what} named {name!r} already exists", where=name, fix="choose another name"
    )
