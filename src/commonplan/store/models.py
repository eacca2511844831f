"""The database schema: SQLAlchemy 2 declarative models of everything people do.

Large arrays (an economy, a plan's activity levels) live in :class:`Blob` rows as
Parquet bytes addressed by their SHA-256 content hash; everything people do (ballots,
rankings, publications) is a row. The schema is created and changed only by the
Alembic migrations in ``store/migrations`` (see :func:`commonplan.store.upgrade`);
these classes must match the latest migration, which a test checks.

Times are timezone-aware UTC on both databases (:class:`~commonplan.store.types.UTCDateTime`,
the type of every ``Mapped[datetime]`` column). Ballot points are stored as a JSON object
``{group: points}`` with at most two decimals per value (see
:mod:`commonplan.councils.ballots`).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from commonplan.errors import ConflictError
from commonplan.store.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class Role(enum.StrEnum):
    """What an account may do. One role per account.

    * ``administrator`` — creates accounts, assemblies, councils, memberships; may also
      facilitate rounds.
    * ``facilitator`` — opens planning rounds, advances phases, computes alternatives,
      tallies and publishes, in the assemblies it is charged with
      (:class:`AssemblyFacilitator`) only.
    * ``member`` — a council member: submits their own priority ballot and ranking.
    * ``observer`` — reads only (dashboards, results, the audit log).
    """

    ADMINISTRATOR = "administrator"
    FACILITATOR = "facilitator"
    MEMBER = "member"
    OBSERVER = "observer"


class CouncilKind(enum.StrEnum):
    """Kinds of council: workers' (per sector or enterprise), peasants' (agricultural
    sectors), consumers' (per region)."""

    WORKERS = "workers"
    PEASANTS = "peasants"
    CONSUMERS = "consumers"


class Phase(enum.StrEnum):
    """Phases of a planning round, in order.

    ``ballot`` (members submit priority ballots) → ``alternatives`` (ballots closed;
    weights aggregated; alternatives computed) → ``vote`` (members rank the
    alternatives) → ``tallied`` (Schulze result computed) → ``published`` (the winning
    plan is published and immutable).
    """

    BALLOT = "ballot"
    ALTERNATIVES = "alternatives"
    VOTE = "vote"
    TALLIED = "tallied"
    PUBLISHED = "published"


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)


class User(Base):
    """An account. ``password_hash`` is an argon2id hash (never the password)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A pending one-time password reset: the SHA-256 of its code and when it lapses.
    reset_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reset_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class WebSession(Base):
    """A sign-in session of the web pages. The cookie carries a random id; only its SHA-256
    is stored, so a copy of the table signs nobody in. Sign-out sets ``revoked_at``."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PageNotice(Base):
    """A notice waiting for one browser session's next page ("Your ballot is stored…").

    Keyed by the SHA-256 of the session id the cookie carries (signed-in or anonymous), and
    sealed with a key derived from that id (AES-GCM, see :mod:`commonplan.services.sessions`):
    the table alone neither tells whose notice it is nor what it says, though a notice can
    hold a ballot's receipt. Deleted when shown; unread ones lapse after a day.
    """

    __tablename__ = "page_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInThrottle(Base):
    """Failed sign-ins counted against one key (an account, a client address or a device),
    and until when that key must wait (see :mod:`commonplan.server.limits`)."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AssemblyFacilitator(Base):
    """A facilitator account's charge of one assembly: it may run that assembly's rounds only."""

    __tablename__ = "assembly_facilitators"
    __table_args__ = (UniqueConstraint("assembly_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A bearer token for programs. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()


class Blob(Base):
    """Content-addressed bytes (Parquet files): ``sha256`` is the hex SHA-256 of ``data``."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    media_type: Mapped[str] = mapped_column(String(64), default="application/vnd.apache.parquet")
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EconomyRecord(Base):
    """A stored :class:`~commonplan.economy.Economy` (its Parquet blob and a summary)."""

    __tablename__ = "economies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    n_products: Mapped[int] = mapped_column(Integer)
    n_activities: Mapped[int] = mapped_column(Integer)
    units: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Assembly(Base):
    """A planning body for one economy, made of councils.

    ``time_zone`` is the IANA name (``Europe/Madrid``) in which its people read and write
    deadlines; times are still stored in UTC.
    """

    __tablename__ = "assemblies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    economy_id: Mapped[int | None] = mapped_column(ForeignKey("economies.id"), nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    councils: Mapped[list[Council]] = relationship(back_populates="assembly")


class Council(Base):
    """A council of an assembly: workers' (sector or enterprise), peasants' or consumers' (region)."""

    __tablename__ = "councils"
    __table_args__ = (UniqueConstraint("assembly_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sector: Mapped[str | None] = mapped_column(String(200), nullable=True)
    enterprise: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assembly: Mapped[Assembly] = relationship(back_populates="councils")
    memberships: Mapped[list[Membership]] = relationship(back_populates="council")


class Membership(Base):
    """A user's membership in a council (a user may belong to several councils)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("council_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    council: Mapped[Council] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class PlanningRound(Base):
    """A planning round of an assembly.

    ``target_groups`` is a JSON list of ``{"name", "description", "sectors"}``;
    ``base_problem`` the JSON parameters of the base plan problem (see
    :mod:`commonplan.councils.alternatives`); ``weights`` the aggregated target
    weights (``{group: weight}``, summing to 1) once the ballot phase is over.
    """

    __tablename__ = "planning_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(20), default=Phase.BALLOT.value)
    target_groups: Mapped[list[Any]] = mapped_column(default=list)
    base_problem: Mapped[dict[str, Any]] = mapped_column(default=dict)
    aggregation_rule: Mapped[str] = mapped_column(String(20), default="mean")
    weights: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ballot_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    vote_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assembly: Mapped[Assembly] = relationship()


class RoundSecret(Base):
    """The key of a round's voter keys while its ballot phase (``kind`` ``ballot``) or its
    vote (``ranking``) lasts.

    Never stored with the ballots, not in the audit chain, not exported, and deleted when
    the phase closes: from then on no stored key links a ballot to its voter (see
    :class:`Ballot`).
    """

    __tablename__ = "round_secrets"

    round_id: Mapped[int] = mapped_column(ForeignKey("planning_rounds.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))


class Turnout(Base):
    """Who took part: one row per member, round and ``kind`` (``ballot``, ``ranking``), public.

    Turnout is counted from here, not from the ballots, which name no voter."""

    __tablename__ = "turnout"
    __table_args__ = (UniqueConstraint("round_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("planning_rounds.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ballot(Base):
    """A priority ballot: ``points`` maps target group → points (sum 100). It names no voter.

    During the ballot phase ``voter_key`` is ``HMAC-SHA256(round secret, user id)``
    (:class:`RoundSecret`), so that a member's resubmission finds and supersedes their
    current ballot, and ``request_id`` is the client's idempotency key, unique per voter
    key: a retried request returns the ballot already stored instead of storing it twice.
    Resubmission marks the earlier row ``is_current = False`` and inserts a new one; a
    partial unique index allows one current ballot per voter key and round.

    When the phase closes the ballots are **sealed** (:func:`commonplan.services.rounds.advance_phase`):
    the current ones are inserted again in random order with fresh ids and salts, no voter
    key, no request id, ``submitted_at`` the close; the phase's rows and the round secret
    are deleted. ``tracker`` is the SHA-256 of the voter's receipt (see
    :mod:`commonplan.services.ballots`), kept through the seal: the published ballots carry
    it, so the voter alone can find theirs. ``salt`` (random, never published) makes the
    row's hash in the public audit log unguessable.
    """

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("voter_key", "request_id"),
        Index(
            "uq_ballots_current",
            "round_id",
            "voter_key",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("planning_rounds.id"), index=True)
    voter_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    points: Mapped[dict[str, Any]] = mapped_column()
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    tracker: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Alternative(Base):
    """A plan alternative computed for a round, with its key figures and its plan blob."""

    __tablename__ = "alternatives"
    __table_args__ = (UniqueConstraint("round_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("planning_rounds.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    weights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    plan_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ranking(Base):
    """A member's ranking of a round's alternatives (labels, best first). It names no voter.

    As for :class:`Ballot`: during the vote ``voter_key`` is the HMAC of the member's id
    under the round's ``ranking`` secret (one ranking per voter key and round; the
    idempotency key unique per voter key); at the tally the rankings are sealed — inserted
    again in random order with fresh ids and salts, no voter key, no request id — and the
    secret deleted. ``tracker`` and ``salt`` as for :class:`Ballot`."""

    __tablename__ = "rankings"
    __table_args__ = (
        UniqueConstraint("round_id", "voter_key"),
        UniqueConstraint("voter_key", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("planning_rounds.id"), index=True)
    voter_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    order: Mapped[list[Any]] = mapped_column()
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    salt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    tracker: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoundResult(Base):
    """The Schulze tally of a round: winner, full order, pairwise and strongest-path matrices."""

    __tablename__ = "round_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("planning_rounds.id"), unique=True)
    winner_label: Mapped[str] = mapped_column(String(100))
    order: Mapped[list[Any]] = mapped_column()
    labels: Mapped[list[Any]] = mapped_column()
    pairwise: Mapped[list[Any]] = mapped_column()
    strongest: Mapped[list[Any]] = mapped_column()
    tie_break: Mapped[str] = mapped_column(Text, default="")
    n_rankings: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublishedPlan(Base):
    """The published plan of a round. Immutable: the ORM refuses updates and deletes."""

    __tablename__ = "published_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("planning_rounds.id"), unique=True)
    alternative_id: Mapped[int] = mapped_column(ForeignKey("alternatives.id"))
    plan_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    figures: Mapped[dict[str, Any]] = mapped_column(default=dict)
    published_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlarmLevel(enum.StrEnum):
    """Who an alarm is with, in escalation order: the responsible council, the assembly's
    facilitators, the whole assembly (see :mod:`commonplan.services.monitoring`)."""

    COUNCIL = "council"
    FACILITATORS = "facilitators"
    ASSEMBLY = "assembly"


class AlarmStatus(enum.StrEnum):
    """``open`` (nobody has acted), ``acknowledged`` (an action is recorded; no more
    escalation), ``closed`` (dealt with)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class PlanMonitor(Base):
    """The monitoring of one published plan: its sub-periods per period, the escalation
    times, and the Bayesian monitor's state after the latest observed sub-period (a blob:
    :meth:`commonplan.monitoring.watch.Monitor.to_bytes`)."""

    __tablename__ = "plan_monitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("published_plans.id"), unique=True)
    sub_periods: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200), default="")
    council_hours: Mapped[float] = mapped_column(Float)
    facilitator_hours: Mapped[float] = mapped_column(Float)
    state_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    period: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sub_period: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProductionReport(Base):
    """One filed production report: output (and optionally labour used, stock) of one
    product in one sub-period of one period of a published plan, in the plan's unit.
    At most one per plan, product, period and sub-period; never changed once filed."""

    __tablename__ = "production_reports"
    __table_args__ = (UniqueConstraint("plan_id", "product", "period", "sub_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("published_plans.id"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(40))
    sub_period: Mapped[int] = mapped_column(Integer)
    output: Mapped[float] = mapped_column(Float)
    labour: Mapped[float | None] = mapped_column(Float, nullable=True)
    stock: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(200), default="")
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitorStep(Base):
    """The monitor's table for one observed sub-period (one row per product: plan, actual,
    state probabilities, forecast band, alarm), as a Parquet blob."""

    __tablename__ = "monitor_steps"
    __table_args__ = (UniqueConstraint("plan_id", "period", "sub_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("published_plans.id"), index=True)
    period: Mapped[str] = mapped_column(String(40))
    sub_period: Mapped[int] = mapped_column(Integer)
    table_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    n_alarms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alarm(Base):
    """An alarm on one product of a published plan: a change the monitor found (``kind``),
    with the council responsible (None: the assembly's councils as a whole), its escalation
    ``level`` and ``status``. ``details`` holds the monitor's figures when it was raised."""

    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("published_plans.id"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(40))
    sub_period: Mapped[int] = mapped_column(Integer)
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"), nullable=True)
    level: Mapped[str] = mapped_column(String(20), default=AlarmLevel.COUNCIL.value)
    status: Mapped[str] = mapped_column(String(20), default=AlarmStatus.OPEN.value)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class AlarmEvent(Base):
    """What happened to an alarm: ``raise``, ``escalate`` (to ``level``), ``acknowledge``
    (with a note and the action taken) or ``close``."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class LiveRoundStatus(enum.StrEnum):
    """``open`` (an iteration is open), ``converged`` (no imbalance above the threshold),
    ``capped`` (the iteration cap was reached first), ``diverged`` (a sum or price was not
    finite and positive)."""

    OPEN = "open"
    CONVERGED = "converged"
    CAPPED = "capped"
    DIVERGED = "diverged"


class LiveRound(Base):
    """An iterative round of the participatory procedure on an assembly (see
    :mod:`commonplan.services.participation`): its economy (a blob,
    :func:`commonplan.participation.live.pack_economy`), the stopping threshold (fraction),
    the iteration cap, how long each iteration stays open (seconds; None: until every
    council has proposed or the board closes it), the price rule's parameters, and where it
    stands (``iteration``: the open or the last iteration)."""

    __tablename__ = "live_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    economy_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    n_commodities: Mapped[int] = mapped_column(Integer)
    n_workers: Mapped[int] = mapped_column(Integer)
    n_consumers: Mapped[int] = mapped_column(Integer)
    stop_threshold: Mapped[float] = mapped_column(Float)
    max_iterations: Mapped[int] = mapped_column(Integer)
    iteration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    initial_price: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default=LiveRoundStatus.OPEN.value)
    iteration: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LiveCouncil(Base):
    """Which council of the assembly is which council of a live round's economy: ``kind``
    ``worker`` or ``consumer`` and its 0-based ``position`` in the economy."""

    __tablename__ = "live_councils"
    __table_args__ = (
        UniqueConstraint("round_id", "council_id", name="uq_live_councils_round_council"),
        UniqueConstraint("round_id", "kind", "position", name="uq_live_councils_round_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("live_rounds.id"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer)


class LiveIteration(Base):
    """One iteration of a live round: the prices it was opened at (``price``, credits per
    unit, and the rule's ``state``), its deadline, and once closed what the board found
    (``supply``, ``demand``, ``imbalance`` per commodity, the ``step`` taken), the worst
    imbalance, and how many councils proposed, had their last proposal stand (``n_carried``)
    or had none (``n_missing``). Lists are in the economy's commodity order."""

    __tablename__ = "live_iterations"
    __table_args__ = (UniqueConstraint("round_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("live_rounds.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    price: Mapped[list[Any]] = mapped_column()
    state: Mapped[list[Any]] = mapped_column()
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    supply: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    demand: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    imbalance: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    step: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    worst_imbalance: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_proposed: Mapped[int] = mapped_column(Integer, default=0)
    n_carried: Mapped[int] = mapped_column(Integer, default=0)
    n_missing: Mapped[int] = mapped_column(Integer, default=0)
    closed_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # Bookkeeping, not in the audit record: councils that have proposed so far (incremented by
    # each submission under the row's lock, so the one that completes the iteration knows it).
    received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LiveProposal(Base):
    """One council's proposal in one iteration: a worker council's ``output`` (units of its
    good) and ``quantities`` (commodity index → units: its inputs, or a consumer council's
    requests). A council revising within the iteration replaces its row. ``carried_from``: the
    iteration whose proposal stood for a council that did not propose in time. Rows name the
    council, never the person who sent them; ``salt`` (random, never shown) makes the row's
    hash in the public audit log unguessable."""

    __tablename__ = "live_proposals"
    __table_args__ = (UniqueConstraint("round_id", "iteration", "council_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("live_rounds.id"), index=True)
    iteration: Mapped[int] = mapped_column(Integer)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"))
    output: Mapped[float | None] = mapped_column(Float, nullable=True)
    quantities: Mapped[dict[str, Any]] = mapped_column()
    salt: Mapped[str] = mapped_column(String(32))
    carried_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """One entry of the append-only audit log.

    ``hash = SHA-256(prev_hash ‖ canonical JSON of (created_at, actor, action, subject,
    payload))``; ``seq`` numbers the entries 1, 2, 3, … without gaps. See
    :mod:`commonplan.store.audit`.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row that records the chain's last ``seq`` and ``hash``.

    Writers lock it (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers)
    to append, so the chain never forks; verification compares it with the last entry,
    which detects a deleted or appended tail.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(Session, "before_flush")
def _refuse_published_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Published plans are immutable: refuse any update or delete of one through the ORM."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, PublishedPlan) and (obj in session.deleted or session.is_modified(obj)):
            raise ConflictError(
                "a published plan cannot be changed or deleted",
                where=f"published plan of round {obj.round_id}",
                expected="no changes after publication",
                fix="open a new planning round to make a new plan",
            )
