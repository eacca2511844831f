"""Server settings, read from the environment so that secrets never live in code or files.

Environment variables (all optional):

``COMMONPLAN_DATABASE_URL``
    SQLAlchemy URL of the store; by default the SQLite file that :mod:`commonplan.store` chooses
    (``$COMMONPLAN_HOME/commonplan.sqlite3`` or ``~/.local/share/commonplan/commonplan.sqlite3``).
``COMMONPLAN_SECRET_KEY``
    Key that signs session cookies. Without it a random key is drawn at start, so sign-ins do not
    survive a restart (fine for a demo, not for a deployment).
``COMMONPLAN_HOST`` / ``COMMONPLAN_PORT``
    Where ``commonplan serve`` listens; 127.0.0.1:8000 by default.
``COMMONPLAN_MAX_BODY_BYTES``
    Largest request body accepted, in bytes (64 KiB by default); larger bodies get HTTP 413.
``COMMONPLAN_LOGIN_ATTEMPTS`` / ``COMMONPLAN_LOGIN_ADDRESS_ATTEMPTS``
    Failed sign-ins allowed per account (5) and per client address across accounts (20)
    before further attempts must wait (HTTP 429 with ``Retry-After``); see
    :mod:`commonplan.server.limits`.
``COMMONPLAN_LOGIN_DELAY_S`` / ``COMMONPLAN_LOGIN_MAX_DELAY_S``
    The first wait (30 s), doubling with each further failure up to the longest (900 s).
``COMMONPLAN_LOGIN_WINDOW_S``
    Failures are forgotten after this many seconds without one (900).
``COMMONPLAN_TRUSTED_PROXIES``
    Comma-separated addresses or networks (``10.0.0.0/8, ::1``) of reverse proxies whose
    ``X-Forwarded-For`` header names the client; from any other peer the header is ignored.
``COMMONPLAN_SESSION_MAX_AGE_S``
    Lifetime of a sign-in session in seconds (8 hours by default).
``COMMONPLAN_TOKEN_MAX_AGE_S``
    Lifetime of an API token in seconds (30 days by default); a client may ask for less.
``COMMONPLAN_TOKEN_CACHE_S``
    Seconds a verified API token is remembered (5 by default; 0 turns the cache off): a
    revoked token or disabled account stops working within this time.
``COMMONPLAN_SECURE_COOKIES``
    ``1`` to mark cookies ``Secure`` (set it when the server sits behind HTTPS).
``COMMONPLAN_TELEMETRY``
    ``1`` to let FastAPI emit its OpenTelemetry spans, metrics and logs to the providers
    the deployment configures; off by default, since the check alone costs every request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from commonplan.errors import CommonplanError
from commonplan.server.limits import parse_networks


class SettingsError(CommonplanError):
    """An environment variable for the server has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Everything the web server needs to start; build it with :meth:`from_env`."""

    database_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 64 * 1024
    max_report_bytes: int = 8 * 1024 * 1024
    escalation_tick_s: float = 300.0
    login_attempts: int = 5
    login_address_attempts: int = 20
    login_delay_s: float = 30.0
    login_max_delay_s: float = 900.0
    login_window_s: float = 900.0
    trusted_proxies: tuple[str, ...] = ()
    session_max_age_s: int = 8 * 3600
    token_max_age_s: int = 30 * 24 * 3600
    secure_cookies: bool = False
    token_cache_s: float = 5.0
    telemetry: bool = False
    apply_migrations: bool = True
    secret_from_environment: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from ``environ`` (``os.environ`` by default); ``overrides`` win over both."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("COMMONPLAN_DATABASE_URL"):
            values["database_url"] = env["COMMONPLAN_DATABASE_URL"]
        if env.get("COMMONPLAN_SECRET_KEY"):
            values["secret_key"] = env["COMMONPLAN_SECRET_KEY"]
            values["secret_from_environment"] = True
        if env.get("COMMONPLAN_HOST"):
            values["host"] = env["COMMONPLAN_HOST"]
        for name, key, kind in (
            ("port", "COMMONPLAN_PORT", int),
            ("max_body_bytes", "COMMONPLAN_MAX_BODY_BYTES", int),
            ("max_report_bytes", "COMMONPLAN_MAX_REPORT_BYTES", int),
            ("login_attempts", "COMMONPLAN_LOGIN_ATTEMPTS", int),
            ("login_address_attempts", "COMMONPLAN_LOGIN_ADDRESS_ATTEMPTS", int),
            ("login_delay_s", "COMMONPLAN_LOGIN_DELAY_S", float),
            ("login_max_delay_s", "COMMONPLAN_LOGIN_MAX_DELAY_S", float),
            ("login_window_s", "COMMONPLAN_LOGIN_WINDOW_S", float),
            ("session_max_age_s", "COMMONPLAN_SESSION_MAX_AGE_S", int),
            ("token_max_age_s", "COMMONPLAN_TOKEN_MAX_AGE_S", int),
        ):
            if env.get(key):
                values[name] = _number(env[key], key, kind)
        if env.get("COMMONPLAN_TOKEN_CACHE_S"):
            text = env["COMMONPLAN_TOKEN_CACHE_S"].strip()
            values["token_cache_s"] = (
                0.0 if text in {"0", "0.0"} else _number(text, "COMMONPLAN_TOKEN_CACHE_S", float)
            )
        if env.get("COMMONPLAN_ESCALATION_TICK_S"):
            text = env["COMMONPLAN_ESCALATION_TICK_S"].strip()
            values["escalation_tick_s"] = (
                0.0
                if text in {"0", "0.0"}
                else _number(text, "COMMONPLAN_ESCALATION_TICK_S", float)
            )
        for name, key in (
            ("secure_cookies", "COMMONPLAN_SECURE_COOKIES"),
            ("telemetry", "COMMONPLAN_TELEMETRY"),
        ):
            if env.get(key):
                values[name] = env[key].strip().lower() in {"1", "true", "yes"}
        if env.get("COMMONPLAN_TRUSTED_PROXIES"):
            values["trusted_proxies"] = _networks(env["COMMONPLAN_TRUSTED_PROXIES"])
        values.update(overrides)
        if "secret_key" in overrides:
            values["secret_from_environment"] = True
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """These settings as ``COMMONPLAN_*`` environment variables (for worker processes)."""
        env = {
            "COMMONPLAN_SECRET_KEY": self.secret_key,
            "COMMONPLAN_HOST": self.host,
            "COMMONPLAN_PORT": str(self.port),
            "COMMONPLAN_MAX_BODY_BYTES": str(self.max_body_bytes),
            "COMMONPLAN_MAX_REPORT_BYTES": str(self.max_report_bytes),
            "COMMONPLAN_ESCALATION_TICK_S": str(self.escalation_tick_s),
            "COMMONPLAN_LOGIN_ATTEMPTS": str(self.login_attempts),
            "COMMONPLAN_LOGIN_ADDRESS_ATTEMPTS": str(self.login_address_attempts),
            "COMMONPLAN_LOGIN_DELAY_S": str(self.login_delay_s),
            "COMMONPLAN_LOGIN_MAX_DELAY_S": str(self.login_max_delay_s),
            "COMMONPLAN_LOGIN_WINDOW_S": str(self.login_window_s),
            "COMMONPLAN_TRUSTED_PROXIES": ",".join(self.trusted_proxies),
            "COMMONPLAN_SESSION_MAX_AGE_S": str(self.session_max_age_s),
            "COMMONPLAN_TOKEN_MAX_AGE_S": str(self.token_max_age_s),
            "COMMONPLAN_TOKEN_CACHE_S": str(self.token_cache_s),
            "COMMONPLAN_SECURE_COOKIES": "1" if self.secure_cookies else "0",
            "COMMONPLAN_TELEMETRY": "1" if self.telemetry else "0",
        }
        if self.database_url:
            env["COMMONPLAN_DATABASE_URL"] = self.database_url
        return env


def _networks(text: str) -> tuple[str, ...]:
    entries = tuple(e.strip() for e in text.split(",") if e.strip())
    try:
        parse_networks(entries)
    except ValueError as error:
        raise SettingsError(
            f"{text!r} is not a list of addresses or networks ({error})",
            where="environment variable COMMONPLAN_TRUSTED_PROXIES",
            expected="comma-separated IP addresses or CIDR networks, e.g. '10.0.0.0/8, ::1'",
            fix="correct COMMONPLAN_TRUSTED_PROXIES or unset it",
        ) from None
    return entries


def _number(text: str, key: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(
            f"{text!r} is not a number",
            where=f"environment variable {key}",
            expected=f"a positive {'integer' if kind is int else 'number'}",
            fix=f"set {key} to a positive number or unset it",
        ) from None
    if value <= 0:
        raise SettingsError(
            f"{text!r} is not positive",
            where=f"environment variable {key}",
            expected="a positive number",
            fix=f"set {key} to a positive number or unset it",
        )
    return value
