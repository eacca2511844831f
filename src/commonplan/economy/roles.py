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

from collections.abc import Iterable

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
