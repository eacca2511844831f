"""The JSON HTTP API, version 1: every use case of :mod:`commonplan.services` over HTTP.

Programs authenticate with ``Authorization: Bearer <token>`` (``POST /api/v1/tokens``
exchanges a user name and password for one). Reads are public; every write names the
service it calls, and the service checks the caller's role. Refusals are JSON
``{"error", "message", "where", "expected", "fix"}`` with a 4xx status (see
:mod:`commonplan.server.problems`).

Writes that members repeat over an unreliable network (ballots, rankings) take an
idempotency key — ``request_id`` in the body or an ``Idempotency-Key`` header — so a
retry after a timeout or a server restart returns the stored receipt instead of storing
the ballot twice.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, Response, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from commonplan.server import schemas, views
from commonplan.server.context import (
    api_actor_required,
    remember_device,
    run_long_write,
    run_read,
    run_short_write,
    run_write,
    sign_in,
    state_of,
)
from commonplan.server.problems import Problem
from commonplan.services import (
    accounts,
    assemblies,
    ballots,
    monitoring,
    participation,
    publication,
    queries,
    replanning,
    rounds,
    votes,
)
from commonplan.services.roles import Actor

_bearer = HTTPBearer(auto_error=False, description="an API token from POST /api/v1/tokens")

RoundId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="planning round id")]
AssemblyId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="assembly id")]
CouncilId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="council id")]
UserId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="user id")]
PlanId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="published plan id")]
AlarmId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="alarm id")]
TokenId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="API token id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="idempotency key (used when the body has no request_id)",
    ),
]


async def _auth(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    return await api_actor_required(request)


Authenticated = Annotated[Actor, Depends(_auth)]

_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text}
    for status, text in (
        (401, "no or invalid bearer token"),
        (403, "the caller's role may not do this"),
        (404, "a referenced object does not exist"),
        (409, "not allowed in the round's phase, or conflicts with the stored state"),
        (413, "request body too large"),
        (422, "malformed input (ballot, ranking, fields)"),
    )
}
_READ_REFUSALS = {k: v for k, v in _REFUSALS.items() if k in (401, 404, 422)}

router = APIRouter(prefix="/api/v1", tags=["api"])


def _plain(value: Any) -> dict[str, Any]:
    data = dataclasses.asdict(value)
    return {
        k: (v.value if hasattr(v, "value") and not isinstance(v, int | float) else v)
        for k, v in data.items()
    }


# --- accounts ----------------------------------------------------------------------------


@router.post(
    "/tokens",
    response_model=schemas.TokenOut,
    status_code=201,
    responses={**_REFUSALS, 429: {"model": Problem, "description": "too many failed sign-ins"}},
)
async def create_token(request: Request, response: Response, body: schemas.TokenRequest) -> Any:
    """Exchange a user name and password for a bearer token (sign-ins are throttled per
    account and address). The token expires after ``expires_in_s`` seconds, at most the
    server's limit (30 days by default)."""
    actor = await sign_in(request, body.username, body.password)
    limit = state_of(request).settings.token_max_age_s
    lifetime = timedelta(seconds=min(body.expires_in_s or limit, limit))
    token = await run_write(
        request, accounts.create_token, actor, name=body.name, expires_in=lifetime
    )
    remember_device(request, response, actor)
    return schemas.TokenOut(
        id=token.id, name=token.name, token=token.token, expires_at=token.expires_at
    )


@router.get("/tokens", response_model=list[schemas.TokenInfoOut], responses=_READ_REFUSALS)
async def list_tokens(request: Request, actor: Authenticated) -> Any:
    """The caller's API tokens (never their secrets)."""
    return [dataclasses.asdict(t) for t in await run_read(request, accounts.list_tokens, actor)]


@router.delete("/tokens/{token_id}", status_code=204, responses=_REFUSALS)
async def revoke_token(request: Request, actor: Authenticated, token_id: TokenId) -> Response:
    """Revoke an API token: one's own, or any (administrators)."""
    await run_write(request, accounts.revoke_token, actor, token_id)
    state_of(request).token_cache.clear()
    return Response(status_code=204)


@router.post("/me/password", status_code=204, responses=_REFUSALS)
async def change_password(
    request: Request, actor: Authenticated, body: schemas.PasswordChangeIn
) -> Response:
    """Change one's own password (the current one is checked); ends one's web sessions."""
    await run_write(request, accounts.change_password, actor, body.old_password, body.new_password)
    return Response(status_code=204)


@router.post("/password-reset", status_code=204, responses=_REFUSALS)
async def redeem_password_reset(request: Request, body: schemas.PasswordRedeemIn) -> Response:
    """Set a new password with a one-time reset code from an administrator."""
    await run_write(
        request, accounts.redeem_password_reset, body.username, body.code, body.new_password
    )
    return Response(status_code=204)


@router.get("/me", response_model=schemas.UserOut, responses=_READ_REFUSALS)
async def me(request: Request, actor: Authenticated) -> Any:
    """The account the bearer token belongs to."""
    return {
        "id": actor.user_id,
        "username": actor.username,
        "display_name": actor.display_name,
        "role": actor.role.value,
        "active": True,
    }


@router.post("/users", response_model=schemas.UserOut, status_code=201, responses=_REFUSALS)
async def create_user(request: Request, actor: Authenticated, body: schemas.UserIn) -> Any:
    """Create an account (administrators)."""
    info = await run_write(
        request,
        accounts.create_user,
        actor,
        body.username,
        body.password,
        body.role,
        display_name=body.display_name,
    )
    return _plain(info)


@router.post("/users/{user_id}/active", response_model=schemas.UserOut, responses=_REFUSALS)
async def set_user_active(
    request: Request, actor: Authenticated, user_id: UserId, body: schemas.ActiveIn
) -> Any:
    """Enable or disable an account (administrators); disabling ends its sessions."""
    info = await run_write(request, accounts.set_user_active, actor, user_id, body.active)
    state_of(request).token_cache.clear()
    return _plain(info)


@router.post("/users/{user_id}/password", response_model=schemas.UserOut, responses=_REFUSALS)
async def set_password(
    request: Request, actor: Authenticated, user_id: UserId, body: schemas.PasswordIn
) -> Any:
    """Set another account's password (administrators); ends its sessions, revokes its tokens."""
    info = await run_write(request, accounts.set_password, actor, user_id, body.password)
    state_of(request).token_cache.clear()
    return _plain(info)


@router.post(
    "/users/{user_id}/password-reset",
    response_model=schemas.PasswordResetOut,
    status_code=201,
    responses=_REFUSALS,
)
async def issue_password_reset(request: Request, actor: Authenticated, user_id: UserId) -> Any:
    """Issue a one-time reset code (administrators): the old password, sessions and tokens stop
    working; the owner sets a new password on the ``/password-reset`` page or with
    ``POST /password-reset`` within 24 hours."""
    reset = await run_write(request, accounts.issue_password_reset, actor, user_id)
    state_of(request).token_cache.clear()
    return dataclasses.asdict(reset)


# --- structure ---------------------------------------------------------------------------


@router.get("/assemblies", response_model=list[schemas.AssemblyOut])
async def list_assemblies(request: Request) -> Any:
    """All assemblies."""
    return [_plain(a) for a in await run_read(request, assemblies.list_assemblies)]


@router.post(
    "/assemblies", response_model=schemas.AssemblyOut, status_code=201, responses=_REFUSALS
)
async def create_assembly(request: Request, actor: Authenticated, body: schemas.AssemblyIn) -> Any:
    """Create an assembly for a stored economy (administrators)."""
    info = await run_write(
        request,
        assemblies.create_assembly,
        actor,
        body.name,
        economy_id=body.economy_id,
        description=body.description,
        time_zone=body.time_zone,
    )
    return _plain(info)


@router.get(
    "/assemblies/{assembly_id}", response_model=schemas.AssemblyOut, responses=_READ_REFUSALS
)
async def get_assembly(request: Request, assembly_id: AssemblyId) -> Any:
    """One assembly."""
    return _plain(await run_read(request, assemblies.get_assembly, assembly_id))


@router.get(
    "/assemblies/{assembly_id}/councils",
    response_model=list[schemas.CouncilOut],
    responses=_READ_REFUSALS,
)
async def list_councils(request: Request, assembly_id: AssemblyId) -> Any:
    """The assembly's councils with their numbers of members."""
    return [_plain(c) for c in await run_read(request, views.councils_of, assembly_id)]


@router.post(
    "/assemblies/{assembly_id}/councils",
    response_model=schemas.CouncilOut,
    status_code=201,
    responses=_REFUSALS,
)
async def create_council(
    request: Request, actor: Authenticated, assembly_id: AssemblyId, body: schemas.CouncilIn
) -> Any:
    """Create a council: workers' (sector/enterprise), peasants' (agricultural sector) or consumers' (region)."""
    info = await run_write(
        request,
        assemblies.create_council,
        actor,
        assembly_id,
        body.name,
        body.kind,
        region=body.region,
        sector=body.sector,
        enterprise=body.enterprise,
    )
    return _plain(info)


@router.post(
    "/councils/{council_id}/members",
    response_model=schemas.MembershipOut,
    status_code=201,
    responses=_REFUSALS,
)
async def add_member(
    request: Request, actor: Authenticated, council_id: CouncilId, body: schemas.MembershipIn
) -> Any:
    """Make a user a member of a council (administrators)."""
    return _plain(
        await run_write(request, assemblies.add_membership, actor, council_id, body.user_id)
    )


@router.delete("/councils/{council_id}/members/{user_id}", status_code=204, responses=_REFUSALS)
async def remove_member(
    request: Request,
    actor: Authenticated,
    council_id: CouncilId,
    user_id: Annotated[int, Path(ge=1, le=schemas.MAX_ID)],
) -> Response:
    """End a membership (administrators)."""
    await run_write(request, assemblies.remove_membership, actor, council_id, user_id)
    return Response(status_code=204)


@router.post("/assemblies/{assembly_id}/facilitators", status_code=204, responses=_REFUSALS)
async def add_facilitator(
    request: Request, actor: Authenticated, assembly_id: AssemblyId, body: schemas.FacilitatorIn
) -> Response:
    """Charge a facilitator account with this assembly (administrators)."""
    await run_write(request, accounts.add_facilitator, actor, assembly_id, body.user_id)
    return Response(status_code=204)


@router.delete(
    "/assemblies/{assembly_id}/facilitators/{user_id}", status_code=204, responses=_REFUSALS
)
async def remove_facilitator(
    request: Request, actor: Authenticated, assembly_id: AssemblyId, user_id: UserId
) -> Response:
    """End a facilitator's charge of this assembly (administrators)."""
    await run_write(request, accounts.remove_facilitator, actor, assembly_id, user_id)
    return Response(status_code=204)


# --- rounds ------------------------------------------------------------------------------


@router.get(
    "/assemblies/{assembly_id}/rounds",
    response_model=list[schemas.RoundOut],
    responses=_READ_REFUSALS,
)
async def list_rounds(request: Request, assembly_id: AssemblyId) -> Any:
    """The assembly's planning rounds, newest first."""
    return [views.round_json(r) for r in await run_read(request, views.rounds_of, assembly_id)]


@router.post(
    "/assemblies/{assembly_id}/rounds",
    response_model=schemas.RoundOut,
    status_code=201,
    responses=_REFUSALS,
)
async def open_round(
    request: Request, actor: Authenticated, assembly_id: AssemblyId, body: schemas.RoundIn
) -> Any:
    """Open a planning round in the ballot phase (facilitators)."""
    info = await run_write(
        request,
        rounds.open_round,
        actor,
        assembly_id,
        body.title,
        [g.model_dump() for g in body.target_groups],
        base_problem=body.base_problem,
        ballot_deadline=body.ballot_deadline,
        vote_deadline=body.vote_deadline,
        aggregation_rule=body.aggregation_rule,
    )
    return views.round_json(info)


@router.get("/rounds/{round_id}", response_model=schemas.RoundOut, responses=_READ_REFUSALS)
async def get_round(request: Request, round_id: RoundId) -> Any:
    """One planning round: phase, target groups, deadlines, aggregated weights."""
    return views.round_json(await run_read(request, queries.get_round_info, round_id))


@router.get(
    "/rounds/{round_id}/turnout", response_model=schemas.TurnoutOut, responses=_READ_REFUSALS
)
async def get_turnout(request: Request, round_id: RoundId) -> Any:
    """How many members have cast a ballot and a ranking."""
    return await run_read(request, views.turnout_json, round_id)


@router.post("/rounds/{round_id}/advance", response_model=schemas.RoundOut, responses=_REFUSALS)
async def advance(
    request: Request,
    actor: Authenticated,
    round_id: RoundId,
    body: schemas.AdvanceIn | None = None,
) -> Any:
    """Move the round to its next phase (aggregates, checks alternatives, tallies or publishes)."""
    expected = body.expected if body is not None else None
    return views.round_json(
        await run_write(request, rounds.advance_phase, actor, round_id, expected=expected)
    )


@router.post(
    "/rounds/{round_id}/aggregate", response_model=schemas.AggregatedOut, responses=_REFUSALS
)
async def aggregate(
    request: Request,
    actor: Authenticated,
    round_id: RoundId,
    body: schemas.AggregateIn | None = None,
) -> Any:
    """Re-aggregate the closed ballots with the mean or median rule (alternatives phase)."""
    rule = body.rule if body is not None else None
    return dataclasses.asdict(
        await run_write(request, rounds.aggregate_weights, actor, round_id, rule=rule)
    )


@router.get(
    "/rounds/{round_id}/alternatives",
    response_model=list[schemas.AlternativeOut],
    responses=_READ_REFUSALS,
)
async def list_alternatives(request: Request, round_id: RoundId) -> Any:
    """The round's plan alternatives with their key figures."""
    return [
        dataclasses.asdict(a) for a in await run_read(request, views.round_alternatives, round_id)
    ]


@router.post(
    "/rounds/{round_id}/alternatives",
    response_model=schemas.AlternativeOut,
    status_code=201,
    responses=_REFUSALS,
)
async def add_alternative(
    request: Request, actor: Authenticated, round_id: RoundId, body: schemas.AlternativeIn
) -> Any:
    """Add one alternative by hand, with its weights and key figures (facilitators, alternatives phase)."""
    info = await run_write(
        request,
        rounds.add_alternative,
        actor,
        round_id,
        body.title,
        description=body.description,
        weights=body.weights,
        figures=body.figures,
    )
    return dataclasses.asdict(info)


@router.post(
    "/rounds/{round_id}/alternatives/compute",
    response_model=list[schemas.AlternativeOut],
    status_code=201,
    responses=_REFUSALS,
)
async def compute_alternatives(
    request: Request,
    actor: Authenticated,
    round_id: RoundId,
    body: schemas.ComputeAlternativesIn | None = None,
) -> Any:
    """Compute the plan alternatives from the aggregated weights (facilitators, alternatives phase)."""
    options: dict[str, Any] = {}
    if body is not None and body.trade_offs is not None:
        from commonplan.councils.alternatives import TradeOff

        options["trade_offs"] = [
            TradeOff(
                t.title,
                t.description,
                investment_factor=t.investment_factor,
                import_factor=t.import_factor,
                import_weight_factor=t.import_weight_factor,
                needs_imports=t.import_factor is not None,
            )
            for t in body.trade_offs
        ]
    computed = await run_long_write(
        request, rounds.compute_alternatives, actor, round_id, **options
    )
    return [dataclasses.asdict(a) for a in computed]


@router.post("/rounds/{round_id}/tally", response_model=schemas.ResultOut, responses=_REFUSALS)
async def tally(request: Request, actor: Authenticated, round_id: RoundId) -> Any:
    """Count the rankings with the Schulze method (facilitators, vote phase)."""
    return views.result_json(await run_write(request, rounds.tally_round, actor, round_id))


@router.get("/rounds/{round_id}/result", response_model=schemas.ResultOut, responses=_READ_REFUSALS)
async def get_result(request: Request, round_id: RoundId) -> Any:
    """The Schulze result with the full pairwise matrix (after the tally)."""
    return views.result_json(await run_read(request, views.round_result, round_id))


@router.post(
    "/rounds/{round_id}/publish",
    response_model=schemas.PlanOut,
    status_code=201,
    responses=_REFUSALS,
)
async def publish(request: Request, actor: Authenticated, round_id: RoundId) -> Any:
    """Publish the winning plan (facilitators); afterwards it is immutable."""
    return dataclasses.asdict(await run_write(request, rounds.publish_plan, actor, round_id))


@router.get("/rounds/{round_id}/plan", response_model=schemas.PlanOut, responses=_READ_REFUSALS)
async def get_plan(request: Request, round_id: RoundId) -> Any:
    """The round's published plan."""
    return dataclasses.asdict(await run_read(request, views.round_plan, round_id))


# --- deciding ----------------------------------------------------------------------------


@router.post(
    "/rounds/{round_id}/ballots",
    response_model=schemas.BallotOut,
    status_code=201,
    responses={
        **_REFUSALS,
        200: {"model": schemas.BallotOut, "description": "a retried request: the stored ballot"},
    },
)
async def submit_ballot(
    request: Request,
    response: Response,
    actor: Authenticated,
    round_id: RoundId,
    body: schemas.BallotIn,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Submit the caller's priority ballot: 100 points over the target groups (members, ballot phase).

    Resubmission replaces the earlier ballot; the history is kept.
    """
    from commonplan.errors import CommonplanError

    submission = ballots.BallotSubmission(
        actor, round_id, body.points, body.request_id or idempotency_key
    )
    receipt = await state_of(request).ballots.submit(submission)  # group commit
    if isinstance(receipt, CommonplanError):
        raise receipt
    if receipt.replayed:
        response.status_code = 200
    return dataclasses.asdict(receipt)


@router.get(
    "/rounds/{round_id}/ballots/me",
    response_model=list[schemas.BallotOut],
    responses=_READ_REFUSALS,
)
async def my_ballots(request: Request, actor: Authenticated, round_id: RoundId) -> Any:
    """The caller's ballots for the round, oldest first (the last is current)."""
    await run_read(request, queries.get_round_info, round_id)
    return [
        dataclasses.asdict(b)
        for b in await run_read(request, ballots.my_ballot_history, actor, round_id)
    ]


@router.post(
    "/rounds/{round_id}/rankings",
    response_model=schemas.RankingOut,
    status_code=201,
    responses={
        **_REFUSALS,
        200: {"model": schemas.RankingOut, "description": "a retried request: the stored ranking"},
    },
)
async def submit_ranking(
    request: Request,
    response: Response,
    actor: Authenticated,
    round_id: RoundId,
    body: schemas.RankingIn,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Rank the round's alternatives, best first, once (members, vote phase)."""
    receipt = await run_short_write(
        request,
        votes.submit_ranking,
        actor,
        round_id,
        body.order,
        request_id=body.request_id or idempotency_key,
    )
    if receipt.replayed:
        response.status_code = 200
    return dataclasses.asdict(receipt)


@router.get(
    "/rounds/{round_id}/rankings/me",
    response_model=schemas.RankingOut | None,
    responses=_READ_REFUSALS,
)
async def my_ranking(request: Request, actor: Authenticated, round_id: RoundId) -> Any:
    """The caller's ranking for the round (null if none)."""
    await run_read(request, queries.get_round_info, round_id)
    receipt = await run_read(request, votes.my_ranking, actor, round_id)
    return dataclasses.asdict(receipt) if receipt is not None else None


@router.get(
    "/rounds/{round_id}/publication",
    response_model=schemas.PublicationOut,
    responses={**_READ_REFUSALS, 409: _REFUSALS[409]},
)
async def get_publication(request: Request, round_id: RoundId) -> Any:
    """The round's anonymous ballots (after the ballot phase) and rankings (after the tally).

    Each carries its tracker (a hash of its voter's receipt) and no voter identity, so
    anyone can recount the weights and the Schulze result, and a voter can find their own."""
    return dataclasses.asdict(await run_read(request, publication.publication, round_id))


# --- monitoring --------------------------------------------------------------------------


def _filed_json(filed: monitoring.FiledReports) -> dict[str, Any]:
    return {
        "plan_id": filed.plan_id,
        "n_reports": filed.n_reports,
        "observed": [list(key) for key in filed.observed],
        "alarms": [dataclasses.asdict(a) for a in filed.alarms],
    }


@router.get(
    "/rounds/{round_id}/plan/id",
    response_model=int | None,
    responses=_READ_REFUSALS,
)
async def published_plan_id(request: Request, round_id: RoundId) -> Any:
    """The id of the round's published plan (null before publication): the ``plan_id`` of the
    monitoring endpoints."""
    await run_read(request, queries.get_round_info, round_id)
    return await run_read(request, monitoring.plan_id_of_round, round_id)


@router.post(
    "/plans/{plan_id}/monitor",
    response_model=monitoring.MonitorInfo,
    status_code=201,
    responses=_REFUSALS,
)
async def start_monitoring(
    request: Request,
    actor: Authenticated,
    plan_id: PlanId,
    body: schemas.MonitorIn | None = None,
) -> Any:
    """Start monitoring a published plan (facilitators of its assembly)."""
    body = body or schemas.MonitorIn()
    info = await run_write(
        request,
        monitoring.start_monitoring,
        actor,
        plan_id,
        sub_periods=body.sub_periods,
        council_hours=body.council_hours,
        facilitator_hours=body.facilitator_hours,
    )
    return dataclasses.asdict(info)


@router.get(
    "/plans/{plan_id}/monitor", response_model=monitoring.MonitorInfo, responses=_READ_REFUSALS
)
async def monitor_info(request: Request, plan_id: PlanId) -> Any:
    """The monitoring of a published plan: sub-periods, escalation times, latest observed."""
    return dataclasses.asdict(await run_read(request, monitoring.monitor_info, plan_id))


@router.post(
    "/plans/{plan_id}/reports",
    response_model=schemas.FiledReportsOut,
    status_code=201,
    responses=_REFUSALS,
)
async def file_reports(
    request: Request, actor: Authenticated, plan_id: PlanId, body: schemas.ReportsIn
) -> Any:
    """File production reports as JSON rows (members for their council's products,
    facilitators for all). One bad row refuses them all (422, naming the row); nothing is
    stored then. The monitor observes each sub-period that became complete and raises alarms."""
    import pandas as pd

    frame = pd.DataFrame([row.model_dump(exclude_none=True) for row in body.rows])
    filed = await run_write(
        request, monitoring.file_reports, actor, plan_id, frame, now=state_of(request).clock()
    )
    return _filed_json(filed)


@router.post(
    "/plans/{plan_id}/reports/upload",
    response_model=schemas.FiledReportsOut,
    status_code=201,
    responses=_REFUSALS,
)
async def upload_reports(
    request: Request,
    actor: Authenticated,
    plan_id: PlanId,
    file: Annotated[
        UploadFile | None, File(description="CSV (UTF-8, header row) or Parquet")
    ] = None,
) -> Any:
    """File production reports as a CSV or Parquet file with the columns ``product``,
    ``period``, ``sub_period``, ``output`` and optionally ``labour``, ``stock``, ``unit``."""
    from commonplan.errors import ReportError
    from commonplan.services.roles import require

    require(actor, "file_reports")  # before the file is looked at
    if file is None:
        raise ReportError(
            "no file uploaded",
            where="file",
            fix="send the reports as the multipart field 'file' (CSV or Parquet)",
        )
    data = await file.read()
    frame = monitoring.read_report_file(data, file.filename or "")
    filed = await run_write(
        request, monitoring.file_reports, actor, plan_id, frame, now=state_of(request).clock()
    )
    return _filed_json(filed)


@router.get(
    "/plans/{plan_id}/reports", response_model=list[dict[str, Any]], responses=_READ_REFUSALS
)
async def list_reports(request: Request, plan_id: PlanId) -> Any:
    """The reports filed for the plan (product, period, sub_period, output, labour, stock)."""
    frame = await run_read(request, monitoring.reports, plan_id)
    return json.loads(frame.to_json(orient="records"))


@router.get(
    "/plans/{plan_id}/series", response_model=list[dict[str, Any]], responses=_READ_REFUSALS
)
async def series(request: Request, plan_id: PlanId) -> Any:
    """The monitor's output for every observed sub-period and product: planned, actual, ratio,
    state probabilities, forecast with its interval, total forecast against the plan, alarm."""
    frame = await run_read(request, monitoring.series, plan_id)
    return json.loads(frame.to_json(orient="records"))


@router.get(
    "/plans/{plan_id}/alarms", response_model=list[monitoring.AlarmInfo], responses=_READ_REFUSALS
)
async def list_alarms(
    request: Request,
    plan_id: PlanId,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|closed)$")] = None,
) -> Any:
    """The plan's alarms, highest escalation level first, with their history."""
    alarms = await run_read(request, monitoring.list_alarms, plan_id, status=status)
    return [dataclasses.asdict(a) for a in alarms]


@router.post(
    "/alarms/{alarm_id}/acknowledge", response_model=monitoring.AlarmInfo, responses=_REFUSALS
)
async def acknowledge_alarm(
    request: Request, actor: Authenticated, alarm_id: AlarmId, body: schemas.AcknowledgeIn
) -> Any:
    """Acknowledge an open alarm with a note and the action taken (the responsible council's
    members, facilitators); it escalates no further."""
    info = await run_write(
        request,
        monitoring.acknowledge_alarm,
        actor,
        alarm_id,
        body.note,
        body.action,
        now=state_of(request).clock(),
    )
    return dataclasses.asdict(info)


@router.post("/alarms/{alarm_id}/close", response_model=monitoring.AlarmInfo, responses=_REFUSALS)
async def close_alarm(
    request: Request, actor: Authenticated, alarm_id: AlarmId, body: schemas.CloseIn
) -> Any:
    """Close an acknowledged alarm once the deviation is dealt with (those who may acknowledge it)."""
    info = await run_write(
        request, monitoring.close_alarm, actor, alarm_id, body.note, now=state_of(request).clock()
    )
    return dataclasses.asdict(info)


@router.post(
    "/plans/{plan_id}/alarms/escalate",
    response_model=list[monitoring.AlarmInfo],
    responses=_REFUSALS,
)
async def escalate_alarms(request: Request, actor: Authenticated, plan_id: PlanId) -> Any:
    """Escalate the plan's open alarms that are past their time (facilitators); idempotent."""
    moved = await run_write(
        request, monitoring.escalate_due, actor, state_of(request).clock(), plan_id=plan_id
    )
    return [dataclasses.asdict(a) for a in moved]


def _replan_json(view: replanning.ReplanView) -> dict[str, Any]:
    result = view.replan

    def records(frame: Any) -> list[dict[str, Any]]:
        return json.loads(frame.to_json(orient="records"))

    return {
        "plan_id": view.plan_id,
        "period": view.period,
        "sub_period": view.sub_period,
        "levels": {str(k): float(v) for k, v in view.levels.items()},
        "capacity_limits": view.capacity,
        "method": result.report.method,
        "status": result.report.status,
        "targets": records(result.targets),
        "capacity": records(result.capacity),
        "prices": records(result.prices),
    }


@router.get("/plans/{plan_id}/replan", response_model=dict[str, Any], responses=_READ_REFUSALS)
async def replan(request: Request, plan_id: PlanId) -> Any:
    """The re-plan of the plan's period from the monitor's forecast: the state (``levels``:
    forecast share of plan of the products the shortfall rule flags; ``capacity_limits``),
    the targets with published and revised deliveries (``falls``), the binding capacity
    (``gap``: capacity to add) and the shadow prices, published and revised."""
    return _replan_json(await run_read(request, replanning.replan_plan, plan_id))


@router.post(
    "/plans/{plan_id}/replan/round",
    response_model=schemas.RoundOut,
    status_code=201,
    responses=_REFUSALS,
)
async def open_replan_round(request: Request, actor: Authenticated, plan_id: PlanId) -> Any:
    """Open a new planning round from the re-plan (facilitators of the plan's assembly): the
    same target groups and base problem, with the re-plan's capacity limits."""
    info = await run_write(request, replanning.open_replan_round, actor, plan_id)
    return views.round_json(info)


# --- audit -------------------------------------------------------------------------------


@router.get("/audit", response_model=list[schemas.AuditEntryOut])
async def audit_log(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None,
) -> Any:
    """Audit entries, newest first; ``before`` pages backwards."""
    entries = await run_read(request, queries.audit_log, limit=limit, before_seq=before)
    return [dict(dataclasses.asdict(e), payload=json.loads(e.payload)) for e in entries]


@router.get("/audit/verify", response_model=schemas.AuditVerifyOut)
async def audit_verify(request: Request) -> Any:
    """Walk the hash chain and the vote records; report every edited, deleted or inserted one.

    The report may be up to a few seconds old: callers looping on this endpoint share one
    verification at a time (which takes no lock, so ballots are never held up by it)."""
    report = await run_read(
        request, queries.verify_audit_log, max_age_s=queries.PUBLIC_VERIFY_MAX_AGE_S
    )
    return {
        "ok": report.ok,
        "n_entries": report.n_entries,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "problems": [dataclasses.asdict(p) for p in report.problems],
    }


# --- live participatory rounds -------------------------------------------------------------

LiveRoundId = Annotated[int, Path(ge=1, le=schemas.MAX_ID, description="live round id")]


def _live_economy(body: schemas.LiveRoundIn) -> Any:
    from commonplan.errors import ParticipationInputError
    from commonplan.participation import generate_economy

    if (body.experiment is None) == (body.generated is None):
        raise ParticipationInputError(
            "give the economy as exactly one of experiment or generated",
            where="economy",
            expected="experiment (the text of a .clj file) or generated {worker_councils, …}",
        )
    if body.experiment is not None:
        return participation.read_economy_text(body.experiment, body.experiment_name)
    spec = body.generated
    assert spec is not None
    return generate_economy(
        spec.worker_councils, spec.consumer_councils, spec.goods_per_class, seed=spec.seed
    )


def _open_live(db: Any, actor: Actor, assembly_id: int, body: schemas.LiveRoundIn) -> Any:
    from commonplan.services.roles import require

    require(actor, "open_live_round")
    economy = _live_economy(body)
    if body.provision:
        participation.provision_councils(db, actor, assembly_id, economy)
    return participation.open_live_round(
        db,
        actor,
        assembly_id,
        economy,
        title=body.title,
        stop_threshold=body.stop_threshold,
        max_iterations=body.max_iterations,
        iteration_seconds=body.iteration_seconds,
        initial_price=body.initial_price,
    )


def _live_json(info: participation.LiveRoundInfo) -> dict[str, Any]:
    return dict(dataclasses.asdict(info), n_councils=info.n_councils)


@router.post("/assemblies/{assembly_id}/live", status_code=201, responses=_REFUSALS)
async def open_live_round(
    request: Request, actor: Authenticated, assembly_id: AssemblyId, body: schemas.LiveRoundIn
) -> Any:
    """Open a live participatory round on the assembly (its facilitators): iteration 1 opens at
    the initial prices. With ``provision`` (administrators) the assembly first gets one council
    per council of the economy (``WC 1`` …, ``CC 1`` …)."""
    info = await run_long_write(request, _open_live, actor, assembly_id, body)
    return _live_json(info)


@router.post("/users/{user_id}/memberships", responses=_REFUSALS)
async def add_members(
    request: Request, actor: Authenticated, user_id: UserId, body: schemas.MembersIn
) -> Any:
    """Make a user a member of many councils at once (administrators), e.g. a bot account."""
    added = await run_write(request, participation.add_members, actor, user_id, body.councils)
    return {"user_id": user_id, "added": added}


@router.get("/live", responses=_READ_REFUSALS)
async def list_live_rounds(
    request: Request, assembly_id: Annotated[int | None, Query(ge=1, le=schemas.MAX_ID)] = None
) -> Any:
    """Live rounds, newest first (public)."""
    rounds_ = await run_read(request, participation.list_live_rounds, assembly_id)
    return [_live_json(r) for r in rounds_]


@router.get("/live/{round_id}", responses=_READ_REFUSALS)
async def live_round(request: Request, round_id: LiveRoundId) -> Any:
    """A live round: settings, status, the open iteration, its prices (credits per unit, in the
    order of ``goods``) and how many councils have proposed (public)."""
    return _live_json(await run_read(request, participation.live_round_info, round_id))


@router.get("/live/{round_id}/iterations", responses=_READ_REFUSALS)
async def live_iterations(request: Request, round_id: LiveRoundId) -> Any:
    """Every iteration: prices, and once closed supply, demand and imbalance per good and the
    worst imbalance per good class (public: totals, never one council's proposal)."""
    history = await run_read(request, participation.iteration_history, round_id)
    return [dataclasses.asdict(it) for it in history]


@router.get("/live/{round_id}/councils/me", responses=_READ_REFUSALS)
async def my_live_councils(request: Request, actor: Authenticated, round_id: LiveRoundId) -> Any:
    """The round's councils the caller is a member of (and may propose for)."""
    mine = await run_read(request, participation.round_councils, actor, round_id)
    return [dataclasses.asdict(c) for c in mine]


@router.get("/live/{round_id}/councils/{council_id}", responses=_READ_REFUSALS)
async def live_council(
    request: Request, actor: Authenticated, round_id: LiveRoundId, council_id: CouncilId
) -> Any:
    """One council's view: prices of the goods it makes and uses, its last proposal, and the
    last iteration's imbalance of those goods (its members and the board)."""
    view = await run_read(request, participation.council_view, actor, round_id, council_id)
    return dataclasses.asdict(view)


@router.post("/live/{round_id}/proposals", status_code=201, responses=_REFUSALS)
async def submit_proposals(
    request: Request, actor: Authenticated, round_id: LiveRoundId, body: schemas.ProposalsIn
) -> Any:
    """Send the proposals of one or many of the caller's councils for the open iteration
    (1–5000 per request). One bad proposal refuses them all (422 naming it; 403 for a
    council the caller is not a member of; 409 outside the open iteration) and nothing is
    stored. A council proposing again in the same iteration revises its proposal."""
    from commonplan.errors import CommonplanError

    items = [p.model_dump(exclude_none=True) for p in body.proposals]
    state = state_of(request)
    submission = participation.Submission(actor, round_id, body.iteration, items, state.clock())
    done = await state.proposals.submit(submission)  # group commit with concurrent requests
    if isinstance(done, CommonplanError):
        raise done
    return dataclasses.asdict(done)


@router.get("/live/{round_id}/iterations/{number}/proposals", responses=_READ_REFUSALS)
async def board_proposals(
    request: Request,
    actor: Authenticated,
    round_id: LiveRoundId,
    number: Annotated[int, Path(ge=1, le=schemas.MAX_ID)],
) -> Any:
    """Every council's proposal in one iteration, one row per council and good (the board:
    the assembly's facilitators and administrators)."""
    frame = await run_read(request, participation.board_proposals, actor, round_id, number)
    return json.loads(frame.to_json(orient="records"))


@router.post("/live/{round_id}/close", responses=_REFUSALS)
async def close_iteration(request: Request, actor: Authenticated, round_id: LiveRoundId) -> Any:
    """Close the open iteration now (the board): late councils' last proposals stand; the
    prices move and the next iteration opens, or the round ends."""
    closed = await run_write(
        request, participation.close_iteration, actor, round_id, now=state_of(request).clock()
    )
    return dataclasses.asdict(closed)


@router.get("/live/{round_id}/plan", responses=_READ_REFUSALS)
async def live_plan(request: Request, round_id: LiveRoundId) -> Any:
    """The plan of a finished live round: per good, the prices of the last proposals (credits
    per unit), supply, demand, surplus (units) and imbalance (fraction)."""
    frame = await run_read(request, participation.final_plan, round_id)
    return json.loads(frame.reset_index().to_json(orient="records", double_precision=15))


@router.post("/live/{round_id}/alternative", status_code=201, responses=_REFUSALS)
async def live_alternative(
    request: Request,
    actor: Authenticated,
    round_id: LiveRoundId,
    body: schemas.LiveAlternativeIn,
) -> Any:
    """Add the finished round's plan as an alternative of a planning round in its
    alternatives phase (facilitators); it is then voted on and published as usual."""
    info = await run_write(
        request, participation.add_as_alternative, actor, round_id, body.planning_round_id
    )
    return dataclasses.asdict(info)


# A request is matched against the routes in order: the paths that take thousands of writes per
# minute (proposals, ballots, rankings) come first.
_HOT_PATHS = (
    "/api/v1/live/{round_id}/proposals",
    "/api/v1/rounds/{round_id}/ballots",
    "/api/v1/rounds/{round_id}/rankings",
)
router.routes.sort(key=lambda route: getattr(route, "path", "") not in _HOT_PATHS)
