"""Reading the pages' forms: raw text in, service arguments out, and the typed text kept.

A refused form comes back exactly as the person typed it, with the reason next to the
field it concerns: :class:`TypedForm` keeps every submitted field as text, and
:func:`field_errors` places a refusal on the field its ``where`` names. Nothing here
decides whether a value is acceptable beyond its shape (a number, a date): the services
decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from commonplan.errors import CommonplanError, ParticipationInputError

MAX_FIELD = 2000
GROUP_ROWS = 6
"""How many target-group rows the round form offers (empty rows are ignored)."""


@dataclass(frozen=True)
class TypedForm:
    """The fields of a submitted form as typed (text, cut at :data:`MAX_FIELD` characters).

    ``values`` holds single fields, ``lists`` every field submitted several times
    (multi-selects), so a page re-rendered after a refusal shows what was submitted.
    """

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, form: Any) -> TypedForm:
        values: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if not isinstance(key, str) or key == "csrf_token" or not isinstance(value, str):
                continue
            text = value[:MAX_FIELD]
            values.setdefault(key, text)
            lists.setdefault(key, []).append(text)
        return cls(values, lists)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    def all(self, key: str) -> list[str]:
        return self.lists.get(key, [])


def field_errors(error: CommonplanError, fields: list[str]) -> dict[str, str]:
    """Which field a refusal concerns: ``{field: message}``.

    A field is named by the refusal's ``where`` either exactly, or quoted inside it
    (``"ballot, group 'food'"`` → ``food``); a ``where`` that mentions a total goes to the
    ``total`` field. Anything else goes to ``form`` (shown above the form's button).
    """
    where = str(error.where or "")
    message = str(error)
    if where in fields:
        return {where: message}
    for name in fields:
        if f"'{name}'" in where or f'"{name}"' in where:
            return {name: message}
    if "total" in where:
        return {"total": message}
    return {"form": message}


def optional_id(text: str, what: str) -> int | None:
    """A database id typed into a form (None when empty)."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise ParticipationInputError(
            f"{what} is not a valid id: {text[:20]!r}", where=what, expected="a whole number"
        )
    return int(text)


def local_deadline(text: str, zone: ZoneInfo, where: str) -> datetime | None:
    """A ``datetime-local`` field (``2026-05-01T18:00``) read as a wall-clock time in ``zone``.

    Returned in UTC (the instant is the same; the store keeps UTC). Empty means no
    deadline. A time that a daylight-saving change skips or repeats is
    read as the earlier of its two readings (``fold=0``).
    """
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ParticipationInputError(
            f"{text[:40]!r} is not a date and time",
            where=where,
            expected="a date and time such as 2026-05-01T18:00",
        ) from None
    if moment.tzinfo is not None:
        raise ParticipationInputError(
            f"{text[:40]!r} carries its own offset",
            where=where,
            expected="a wall-clock time, read in the assembly's time zone",
        )
    return moment.replace(tzinfo=zone).astimezone(UTC)


def target_groups(typed: TypedForm, rows: int = GROUP_ROWS) -> list[dict[str, Any]]:
    """The round form's target-group rows as ``{name, description, sectors, kind}`` (empty rows left out)."""
    groups = []
    for k in range(rows):
        name = typed.get(f"group-{k}-name").strip()
        if not name:
            continue
        groups.append(
            {
                "name": name,
                "description": typed.get(f"group-{k}-description").strip(),
                "sectors": [s for s in typed.all(f"group-{k}-sectors") if s],
                "kind": typed.get(f"group-{k}-kind") or "products",
            }
        )
    return groups
