"""How errors become HTTP answers: one JSON shape, one status code per kind of problem.

Every refusal has the body ``{"error", "message", "where", "expected", "fix"}`` — the same
fields as :class:`~commonplan.errors.CommonplanError` — so that programs and people read
the same explanation the CLI prints.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from commonplan import errors

#: HTTP status per error class; the first matching base class in this order wins.
STATUS_BY_ERROR: tuple[tuple[type[errors.CommonplanError], int], ...] = (
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.PhaseError, 409),
    (errors.ConflictError, 409),
    (errors.BallotError, 422),
    (errors.DatabaseError, 503),
    (errors.AuditIntegrityError, 500),
    (errors.CommonplanError, 422),
)


class Problem(BaseModel):
    """The body of every refusal: what is wrong, where, what was expected, how to fix it."""

    error: str
    message: str
    where: str | None = None
    expected: str | None = None
    fix: str | None = None
    details: list[dict[str, str]] | None = None


class CsrfError(errors.CommonplanError):
    """A form was submitted without the anti-forgery token of the session (HTTP 403)."""


class RateLimited(errors.CommonplanError):
    """Too many failed sign-ins from this address for this user (HTTP 429)."""

    def __init__(self, message: str, *, retry_after_s: float, **kwargs: str | None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, **kwargs)


def status_for(error: errors.CommonplanError) -> int:
    """The HTTP status code that answers ``error``."""
    if isinstance(error, errors.AuthenticationError):
        return 401
    if isinstance(error, CsrfError):
        return 403
    if isinstance(error, RateLimited):
        return 429
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 400


def problem_body(error: errors.CommonplanError) -> dict[str, Any]:
    """The JSON body for ``error``."""
    return Problem(
        error=type(error).__name__,
        message=error.message,
        where=error.where,
        expected=error.expected,
        fix=error.fix,
    ).model_dump(exclude_none=False, exclude={"details"})


def problem_response(error: errors.CommonplanError) -> JSONResponse:
    """A JSON response for ``error`` with its status (and ``Retry-After`` or ``WWW-Authenticate``)."""
    status = status_for(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="commonplan"'
    return JSONResponse(problem_body(error), status_code=status, headers=headers)


def validation_problem(exc: RequestValidationError) -> dict[str, Any]:
    """Turn pydantic's list of validation errors into one clear problem body."""
    details = exc.errors()
    first = details[0] if details else {"loc": (), "msg": "invalid request"}
    location = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    more = f" (and {len(details) - 1} more problems)" if len(details) > 1 else ""
    return {
        "error": "RequestValidationError",
        "message": f"{first.get('msg', 'invalid value')}{more}",
        "where": location or "request",
        "expected": "a request matching the OpenAPI schema at /openapi.json",
        "fix": "correct the named field and send the request again",
        "details": [
            {"where": ".".join(str(p) for p in d.get("loc", ())), "message": d.get("msg", "")}
            for d in details[:20]
        ],
    }


async def _commonplan_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.CommonplanError)
    return problem_response(exc)


async def _validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(validation_problem(exc), status_code=422)


async def http_error_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    body = {
        "error": "HTTPError",
        "message": str(exc.detail),
        "where": request.url.path,
        "expected": None,
        "fix": None,
    }
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    error = errors.DatabaseError(
        f"the database cannot be used right now ({reason[0][:200] if reason else 'unknown'})",
        where="database",
        expected="a reachable database",
        fix="try again shortly; if it persists, the operator should check the database",
    )
    return problem_response(error)


def install_handlers(app: Any) -> None:
    """Register the JSON error handlers on a FastAPI app (the pages add their own HTML handling)."""
    from sqlalchemy.exc import OperationalError

    app.add_exception_handler(OperationalError, _database_error_handler)
    app.add_exception_handler(errors.CommonplanError, _commonplan_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
