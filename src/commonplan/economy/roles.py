"""What an account or a final-demand category *is*: labour, compensation, value added, imports.

Readers know what each row of a table means and record it in
:attr:`Metadata.account_roles <commonplan.economy.Metadata.account_roles>` (and
:attr:`~commonplan.economy.Metadata.final_demand_roles` for final-demand categories).
Everything that needs "the labour account" asks
:meth:`Economy.account_for <commonplan.economy.Economy.account_for>`, which uses the
recorded role and falls back to the keyword guess below only for accounts that no
reader labelled (an economy built by hand from arrays).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

LABOUR = "labour"
"""Hours worked or persons employed per unit of activity (a physical count, not money)."""
COMPENSATION = "compensation"
"""Compensation of employees, wages and salaries: money paid to labour, never labour itself."""
VALUE_ADDED = "value_added"
"""Gross value added (or its total) per unit of activity, in money."""
IMPORTS = "imports"
"""Imported intermediate inputs per unit of activity, in money."""
HOUSEHOLD_CONSUMPTION = "household_consumption"
"""Final-demand category of household (private, personal) consumption expenditure."""

NO_ROLE = ""
"""Recorded for an account or category the reader knows plays none of the roles (taxes,
operating surplus, government consumption…), so that its name is never guessed at:
``"taxes_on_production_and_imports"`` is not the imports account."""

ACCOUNT_ROLES = (LABOUR, COMPENSATION, VALUE_ADDED, IMPORTS)
FINAL_DEMAND_ROLES = (HOUSEHOLD_CONSUMPTION,)

_LABOUR_WORDS = ("labour", "labor", "hours", "employment", "employed", "persons", "workers", "jobs")
_INCOME_WORDS = ("compensation", "wage", "salar", "labour income", "labor income")
_VALUE_ADDED_WORDS = ("value_added", "value added", "gva", "va_plus")
_IMPORT_WORDS = ("import",)
_CONSUMPTION_WORDS = (
    "household",
    "hfce",
    "cons_h",
    "private consumption",
    "personal consumption",
    "f010",
)
"""F010: BEA personal consumption expenditures."""


def guess_account_role(name: str) -> str | None:
    """The role an account's name suggests, or ``None``; the fallback when no reader recorded one.

    Money paid to labour (compensation, wages, "labour income") is ``compensation``, checked
    before ``labour`` so that it is never taken for hours.
    """
    lowered = str(name).lower()
    if any(word in lowered for word in _INCOME_WORDS):
        return COMPENSATION
    if any(word in lowered for word in _LABOUR_WORDS):
        return LABOUR
    if any(word in lowered for word in _VALUE_ADDED_WORDS):
        return VALUE_ADDED
    if any(word in lowered for word in _IMPORT_WORDS):
        return IMPORTS
    return None


def guess_final_demand_role(category: str) -> str | None:
    """The role a final-demand category's name suggests, or ``None``."""
    lowered = str(category).lower()
    if any(word in lowered for word in _CONSUMPTION_WORDS):
        return HOUSEHOLD_CONSUMPTION
    return None


def check_role(role: str, known: Iterable[str]) -> str:
    """``role`` if it is one of ``known``; else :class:`~commonplan.errors.InvalidValueError`."""
    from commonplan.errors import InvalidValueError

    known = tuple(known)
    if role not in known:
        raise InvalidValueError(
            f"unknown role {role!r}",
            where="role",
            expected="one of " + ", ".join(repr(k) for k in known),
        )
    return role


def known_roles(names: Iterable[str], layout: Mapping[str, str]) -> dict[str, str]:
    """The role of each of ``names`` (the accounts or categories a reader created) as the
    table's ``layout`` gives it, :data:`NO_ROLE` for the others: name → role, in order."""
    return {str(name): layout.get(str(name), NO_ROLE) for name in names}


def stated_roles(
    stated: Mapping[str, str] | None,
    accounts: Sequence[str],
    categories: Sequence[str],
    *,
    where: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """Roles a user states (``{"hours": "labour", "HH": "household_consumption"}``), split
    into account roles and final-demand roles.

    Raises :class:`~commonplan.errors.LabelError` for a name that is neither an account nor
    a final-demand category, and :class:`~commonplan.errors.InvalidValueError` for a role
    that does not fit it (an account role for a category, or an unknown role).
    """
    from commonplan.errors import InvalidValueError, LabelError

    account_roles: dict[str, str] = {}
    category_roles: dict[str, str] = {}
    for name, role in (stated or {}).items():
        name, role = str(name), str(role)
        if name in accounts:
            known, into = ACCOUNT_ROLES, account_roles
        elif name in categories:
            known, into = FINAL_DEMAND_ROLES, category_roles
        else:
            raise LabelError(
                f"a role is given for {name!r}, which is neither an account nor a final-demand category",
                where=where,
                expected=f"one of the accounts {list(accounts)} or categories {list(categories)}",
                fix="spell the name as in the table",
            )
        if role not in known:
            raise InvalidValueError(
                f"role {role!r} does not apply to {name!r}",
                where=where,
                expected="one of " + ", ".join(repr(k) for k in known),
            )
        into[name] = role
    return account_roles, category_roles
