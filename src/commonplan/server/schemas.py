"""The JSON shapes of the HTTP API (they make the OpenAPI schema).

Outputs that have exactly the fields of a service's dataclass are that dataclass
(FastAPI accepts standard dataclasses as response models); the pydantic ``*Out`` models
are kept only where the API shows a different shape, each with a comment saying how.

Inputs forbid unknown fields, so a ballot that names another member (``"user_id": …``)
is refused rather than silently ignored: a member always votes as themselves. Numbers
must be finite. Ballot *content* (points sum to 100, known groups, no negatives) and
ranking content (each alternative once, known labels) are checked by the rules in
:mod:`commonplan.participation`, which answer with a :class:`~commonplan.errors.BallotError`
(HTTP 422); nothing is stored when they refuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from commonplan.services.accounts import PasswordReset, TokenInfo
from commonplan.services.assemblies import MembershipInfo
from commonplan.services.ballots import BallotReceipt
from commonplan.services.publication import Publication
from commonplan.services.queries import CouncilTurnout
from commonplan.services.rounds import AggregatedWeights, AlternativeInfo

MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
RequestId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="The client's idempotency key: resending a request with the same key "
        "returns what the first one stored instead of storing it twice.",
    ),
]
Points = Annotated[float, Field(allow_inf_nan=False, description="points, 0–100, two decimals")]
GroupName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]
Label = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


# --- accounts ----------------------------------------------------------------------------


Password = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00]*$")]
NewPassword = Annotated[str, Field(min_length=8, max_length=256, pattern=r"^[^\x00]*$")]
Username = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]


class TokenRequest(Input):
    username: Username
    password: Password
    name: Annotated[str, Field(max_length=100, pattern=r"^[^\x00]*$")] = ""
    expires_in_s: Annotated[
        int | None,
        Field(
            ge=60,
            le=MAX_ID,
            description="lifetime in seconds; at most the server's COMMONPLAN_TOKEN_MAX_AGE_S "
            "(30 days by default), which is also the default",
        ),
    ] = None


class ActiveIn(Input):
    active: bool = Field(description="false disables the account and ends its sessions")


class PasswordIn(Input):
    password: NewPassword


class PasswordChangeIn(Input):
    old_password: Password
    new_password: NewPassword


class PasswordRedeemIn(Input):
    username: Username
    code: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")]
    new_password: NewPassword


class FacilitatorIn(Input):
    user_id: Id


TokenInfoOut = TokenInfo
PasswordResetOut = PasswordReset


# Same fields as accounts.NewToken, kept to document the one-time ``token`` field.
class TokenOut(BaseModel):
    id: int
    name: str
    token: str = Field(description="the bearer token; shown once, never stored")
    expires_at: datetime | None


class UserIn(Input):
    username: Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    password: Annotated[str, Field(min_length=8, max_length=256, pattern=r"^[^\x00]*$")]
    role: Annotated[str, Field(pattern=r"^(administrator|facilitator|member|observer)$")]
    display_name: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")] = ""


# Not accounts.UserInfo: the API leaves out created_at (and /me builds it from the Actor).
class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    active: bool


# --- structure ---------------------------------------------------------------------------


class AssemblyIn(Input):
    name: Name
    description: Annotated[str, Field(max_length=5000, pattern=r"^[^\x00]*$")] = ""
    economy_id: Id | None = None
    time_zone: Annotated[
        str,
        Field(
            max_length=64,
            pattern=r"^[A-Za-z0-9_+\-/]+$",
            description="IANA time zone in which deadlines are read and shown (e.g. Europe/Madrid).",
        ),
    ] = "UTC"


# Not assemblies.AssemblyInfo: the API leaves out created_at.
class AssemblyOut(BaseModel):
    id: int
    name: str
    description: str
    economy_id: int | None
    time_zone: str


class CouncilIn(Input):
    name: Name
    kind: Annotated[str, Field(pattern=r"^(workers|peasants|consumers)$")]
    region: Annotated[str, Field(max_length=100, pattern=r"^[^\x00]*$")] | None = None
    sector: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")] | None = None
    enterprise: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")] | None = None


# Not assemblies.CouncilInfo: ``kind`` is shown as a plain string, not the CouncilKind enum.
class CouncilOut(BaseModel):
    id: int
    assembly_id: int
    name: str
    kind: str
    region: str | None
    sector: str | None
    enterprise: str | None
    n_members: int


class MembershipIn(Input):
    user_id: Id


MembershipOut = MembershipInfo


# --- rounds ------------------------------------------------------------------------------


class TargetGroupIn(Input):
    name: GroupName
    description: Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")] = ""
    sectors: list[Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")]] = Field(
        default_factory=list, max_length=1000
    )


class RoundIn(Input):
    title: Name
    target_groups: list[TargetGroupIn] = Field(min_length=1, max_length=50)
    aggregation_rule: Annotated[str, Field(pattern=r"^(mean|median)$")] = "mean"
    ballot_deadline: datetime | None = None
    vote_deadline: datetime | None = None
    base_problem: dict[str, Any] = Field(default_factory=dict)


# Not councils.ballots.TargetGroup: the API leaves out ``kind``.
class TargetGroupOut(BaseModel):
    name: str
    description: str
    sectors: list[str]


# Not rounds.RoundInfo: phase as a string, without base_problem and created_at.
class RoundOut(BaseModel):
    id: int
    assembly_id: int
    title: str
    phase: str
    target_groups: list[TargetGroupOut]
    aggregation_rule: str
    weights: dict[str, float] | None
    ballot_deadline: datetime | None
    vote_deadline: datetime | None


class AdvanceIn(Input):
    expected: (
        Annotated[str, Field(pattern=r"^(ballot|alternatives|vote|tallied|published)$")] | None
    ) = Field(
        default=None,
        description="the phase the caller believes the round is in; a different phase is refused",
    )


class AggregateIn(Input):
    rule: Annotated[str, Field(pattern=r"^(mean|median)$")] | None = None


AggregatedOut = AggregatedWeights


CouncilTurnoutOut = CouncilTurnout


# Same fields as queries.Turnout, kept for the field descriptions in the OpenAPI schema.
class TurnoutOut(BaseModel):
    round_id: int
    n_members: int = Field(description="members of the assembly's councils (each counted once)")
    n_ballots: int = Field(description="members with a current ballot")
    n_rankings: int = Field(description="members who ranked the alternatives")
    ballot_share: float = Field(description="n_ballots / n_members, in [0, 1]")
    ranking_share: float = Field(description="n_rankings / n_members, in [0, 1]")
    councils: list[CouncilTurnoutOut]


# --- deciding ----------------------------------------------------------------------------


class BallotIn(Input):
    points: dict[GroupName, Points] = Field(
        max_length=50,
        description="target group → points; the points sum to 100; groups left out get 0",
    )
    request_id: RequestId | None = None


BallotOut = BallotReceipt


class RankingIn(Input):
    order: list[Label] = Field(
        min_length=1, max_length=26, description="alternative labels, best first, each once"
    )
    request_id: RequestId | None = None


# Not votes.RankingReceipt: the API leaves out ``replayed`` (the status code says it).
class RankingOut(BaseModel):
    id: int
    round_id: int
    user_id: int
    order: list[str]
    request_id: str
    submitted_at: datetime
    tracker: str | None = Field(
        default=None, description="the ranking's tracker in the published, anonymous rankings"
    )
    receipt: str | None = Field(
        default=None,
        description="the voter's receipt: only in the answer that stored the ranking, never "
        "stored; the tracker is derived from it (commonplan.services.receipts)",
    )


PublicationOut = Publication


AlternativeOut = AlternativeInfo


class AlternativeIn(Input):
    title: Name
    description: Annotated[str, Field(max_length=5000, pattern=r"^[^\x00]*$")] = ""
    weights: dict[GroupName, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(
        default_factory=dict, max_length=50, description="target group → weight (shares of 1)"
    )
    figures: dict[
        Annotated[str, Field(max_length=100, pattern=r"^[^\x00]*$")],
        Annotated[float, Field(allow_inf_nan=False)] | Annotated[str, Field(max_length=500)],
    ] = Field(default_factory=dict, max_length=100, description="key figures, name → value")


class TradeOffIn(Input):
    """One alternative's stance on the trade-offs (see :class:`commonplan.councils.alternatives.TradeOff`)."""

    title: Name
    description: Annotated[str, Field(max_length=1000, pattern=r"^[^\x00]*$")] = ""
    investment_factor: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = Field(
        default=1.0, description="multiplies the investment group's weight"
    )
    import_factor: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] | None = Field(
        default=None,
        description="imports limited to this multiple of the base year's (none: unlimited)",
    )
    import_weight_factor: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = Field(
        default=1.0, description="multiplies the import-independence group's weight"
    )


class ComputeAlternativesIn(Input):
    trade_offs: list[TradeOffIn] | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="3–5 stances; default: as voted, more consumption now, more investment, "
        "and (with an imports account) import independence and its opposite",
    )


# Not rounds.ResultInfo: matrices as nested lists (not DataFrames), without computed_at.
class ResultOut(BaseModel):
    round_id: int
    winner: str
    order: list[str]
    labels: list[str]
    pairwise: list[list[int]] = Field(
        description="pairwise[i][j]: number of members ranking labels[i] above labels[j]"
    )
    strongest: list[list[int]] = Field(description="strengths of the strongest paths (Schulze)")
    tie_break: str
    n_rankings: int


# Not rounds.PublishedPlanInfo: the API leaves out ``extra``.
class PlanOut(BaseModel):
    round_id: int
    alternative_id: int
    label: str
    title: str
    figures: dict[str, Any]
    plan_sha256: str | None
    published_by: int
    published_at: datetime


# Not queries.AuditRecord: ``payload`` is the parsed JSON, not its text.
class AuditEntryOut(BaseModel):
    seq: int
    created_at: str
    actor: str
    action: str
    subject: str
    payload: Any
    hash: str


# Not store.audit.AuditReport: ``ok`` is a field and problems are plain objects.
class AuditVerifyOut(BaseModel):
    ok: bool
    n_entries: int
    head_seq: int
    head_hash: str
    problems: list[dict[str, Any]]


# --- monitoring --------------------------------------------------------------------------


class MonitorIn(Input):
    """Start monitoring a published plan: reports per plan period and escalation times (hours)."""

    sub_periods: int = Field(12, ge=1, le=366, description="reports per plan period (12: months)")
    council_hours: float = Field(
        48.0, gt=0, le=24 * 366, allow_inf_nan=False, description="hours the council has"
    )
    facilitator_hours: float = Field(
        72.0, gt=0, le=24 * 366, allow_inf_nan=False, description="then hours the facilitators have"
    )


class ReportRowIn(Input):
    """One production report. Quantities are checked by the monitoring rules (finite, not
    negative, the plan's unit), which name the row they refuse."""

    product: str = Field(min_length=1, max_length=200, description="REGION/SECTOR")
    period: str | int = Field(description="the plan's period label, e.g. 1")
    sub_period: int = Field(ge=0, le=MAX_ID, description="1, 2, … within the period")
    output: float = Field(description="output in the plan's unit")
    labour: float | None = None
    stock: float | None = None
    unit: str | None = Field(None, max_length=200)


class ReportsIn(Input):
    rows: list[ReportRowIn] = Field(min_length=1, max_length=100_000)


class AcknowledgeIn(Input):
    note: str = Field(min_length=1, max_length=2000, description="what was found")
    action: str = Field(min_length=1, max_length=2000, description="what is being done")


# The service's dataclass, with the observed sub-periods as [period, sub_period] pairs.
class FiledReportsOut(BaseModel):
    plan_id: int
    n_reports: int
    observed: list[tuple[str, int]]
    alarms: list[dict[str, Any]]


class CloseIn(Input):
    note: str = Field(min_length=1, max_length=2000, description="how it was dealt with")


# --- live participatory rounds -------------------------------------------------------------


class GeneratedEconomyIn(Input):
    """A seeded participatory economy (:func:`commonplan.participation.generate_economy`)."""

    worker_councils: int = Field(ge=3, le=200_000)
    consumer_councils: int = Field(ge=1, le=200_000)
    goods_per_class: int = Field(ge=1, le=200)
    seed: int = Field(0, ge=0, le=MAX_ID)


class LiveRoundIn(Input):
    """Open a live round: the economy is ``experiment`` (the text of a pequod-cljs ``.clj``
    file) or ``generated``; ``provision`` (administrators) first gives the assembly the
    economy's councils."""

    title: str = Field(min_length=1, max_length=200)
    experiment: str | None = Field(None, max_length=8 * 1024 * 1024)
    experiment_name: str = Field("experiment", max_length=100)
    generated: GeneratedEconomyIn | None = None
    stop_threshold: float = Field(0.03, gt=0, lt=2, description="fraction, e.g. 0.03 for 3 %")
    max_iterations: int = Field(200, ge=1, le=10_000)
    iteration_seconds: int | None = Field(None, ge=1, le=366 * 86_400)
    initial_price: float = Field(700.0, gt=0, description="credits per unit")
    provision: bool = False


class ProposalIn(Input):
    """One council's proposal: a worker council's ``output`` of its own good and its input
    ``quantities``; a consumer council's requested ``quantities`` (no output). Goods are named
    as in the round's ``goods`` (``intermediate-3``); quantities in units, ≥ 0."""

    council: int = Field(ge=1, le=MAX_ID, description="the council's id")
    output: float | None = None
    quantities: dict[str, float] = Field(default_factory=dict, max_length=10_000)


class ProposalsIn(Input):
    iteration: int = Field(ge=1, le=MAX_ID, description="the open iteration")
    proposals: list[ProposalIn] = Field(min_length=1, max_length=5000)


class MembersIn(Input):
    councils: list[int] = Field(min_length=1, max_length=200_000)


class LiveAlternativeIn(Input):
    planning_round_id: int = Field(ge=1, le=MAX_ID)
