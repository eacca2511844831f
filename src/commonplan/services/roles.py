"""Who may do what: the actor of a service call and the role rules.

Every write service calls :func:`require` first, with the name of its action; the
table :data:`PERMISSIONS` is the whole policy, so a test can check every write service
against every role. Reads are public (observers and anonymous visitors see dashboards,
results, published plans and the audit log), except a member's own ballot history.

Running a round (the actions in :data:`FACILITATION`) is scoped to an assembly: a
facilitator may act only on the assemblies an administrator has charged them with
(:func:`commonplan.services.accounts.add_facilitator`), checked by
:func:`commonplan.services._common.require_in_assembly`; administrators act on every
assembly.
"""

from __future__ import annotations

from dataclasses import dataclass

from commonplan.errors import PermissionDeniedError
from commonplan.store.models import Role

ADMIN, FACILITATOR, MEMBER, OBSERVER = (
    Role.ADMINISTRATOR,
    Role.FACILITATOR,
    Role.MEMBER,
    Role.OBSERVER,
)

PERMISSIONS: dict[str, frozenset[Role]] = {
    # accounts and structure: administrators
    "create_user": frozenset({ADMIN}),
    "set_user_active": frozenset({ADMIN}),
    "store_economy": frozenset({ADMIN}),
    "create_assembly": frozenset({ADMIN}),
    "create_council": frozenset({ADMIN}),
    "add_membership": frozenset({ADMIN}),
    "remove_membership": frozenset({ADMIN}),
    "add_facilitator": frozenset({ADMIN}),
    "remove_facilitator": frozenset({ADMIN}),
    "reset_password": frozenset({ADMIN}),
    # running a round: facilitators (and administrators)
    "open_round": frozenset({ADMIN, FACILITATOR}),
    "advance_phase": frozenset({ADMIN, FACILITATOR}),
    "aggregate_weights": frozenset({ADMIN, FACILITATOR}),
    "compute_alternatives": frozenset({ADMIN, FACILITATOR}),
    "tally_round": frozenset({ADMIN, FACILITATOR}),
    "publish_plan": frozenset({ADMIN, FACILITATOR}),
    # deciding: council members, for themselves only
    "submit_ballot": frozenset({MEMBER}),
    "submit_ranking": frozenset({MEMBER}),
    # live participatory rounds: facilitators open them and close iterations; council
    # members (people or bot accounts) propose for their own councils
    "open_live_round": frozenset({ADMIN, FACILITATOR}),
    "close_iteration": frozenset({ADMIN, FACILITATOR}),
    "submit_proposals": frozenset({MEMBER}),
    # monitoring a published plan (scoped to the plan's assembly in services.monitoring:
    # facilitators of that assembly; members for their councils' products)
    "start_monitoring": frozenset({ADMIN, FACILITATOR}),
    "file_reports": frozenset({ADMIN, FACILITATOR, MEMBER}),
    "acknowledge_alarm": frozenset({ADMIN, FACILITATOR, MEMBER}),
    "close_alarm": frozenset({ADMIN, FACILITATOR, MEMBER}),
    "escalate_alarms": frozenset({ADMIN, FACILITATOR}),
}
"""Action name → roles allowed to perform it."""

FACILITATION: frozenset[str] = frozenset(
    {
        "open_round",
        "advance_phase",
        "aggregate_weights",
        "compute_alternatives",
        "tally_round",
        "publish_plan",
        "open_live_round",
        "close_iteration",
    }
)
"""Actions a facilitator may perform only in the assemblies they are charged with."""


@dataclass(frozen=True)
class Actor:
    """Who calls a service: an authenticated account (or the local system, for the CLI)."""

    user_id: int | None
    username: str
    role: Role
    display_name: str = ""

    @classmethod
    def system(cls) -> Actor:
        """The local operator (``commonplan admin …`` on the server's own machine): an administrator
        without an account, recorded as ``system`` in the audit log."""
        return cls(
            user_id=None,
            username="system",
            role=Role.ADMINISTRATOR,
            display_name="local administrator",
        )


def allowed_roles(action: str) -> frozenset[Role]:
    """The roles that may perform ``action`` (a key of :data:`PERMISSIONS`)."""
    return PERMISSIONS[action]


def require(actor: Actor | None, action: str) -> Actor:
    """Return ``actor`` if its role may perform ``action``; else raise :class:`PermissionDeniedError`."""
    roles = PERMISSIONS[action]
    if actor is None:
        raise PermissionDeniedError(
            f"signing in is required to {action.replace('_', ' ')}",
            where=action,
            expected="an authenticated account with role "
            + " or ".join(sorted(r.value for r in roles)),
            fix="sign in or use an API token",
        )
    if Role(actor.role) not in roles:
        raise PermissionDeniedError(
            f"a {Role(actor.role).value} may not {action.replace('_', ' ')}",
            where=f"user {actor.username!r}",
            expected="role " + " or ".join(sorted(r.value for r in roles)),
            fix="ask an administrator to act, or to give the account the needed role",
        )
    return actor
