"""Assemblies carry an IANA time zone: checked on creation, stored, read back on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from services_world import GROUPS

from commonplan import services as S
from commonplan.errors import ParticipationInputError


def _head(db) -> int:
    return len(S.audit_log(db))


def test_an_assembly_keeps_its_time_zone(db):
    system = S.Actor.system()
    bogota = S.create_assembly(db, system, "South", time_zone="America/Bogota")
    plain = S.create_assembly(db, system, "North")
    assert (bogota.time_zone, plain.time_zone) == ("America/Bogota", "UTC")
    assert S.get_assembly(db, bogota.id).time_zone == "America/Bogota"
    assert [a.time_zone for a in S.list_assemblies(db)] == ["America/Bogota", "UTC"]
    created = {e.subject: e.payload for e in S.audit_log(db) if e.action == "assembly.create"}
    assert '"time_zone":"America/Bogota"' in created[f"assembly {bogota.id}"]
    assert S.verify_audit_log(db).ok


def test_a_wall_clock_deadline_in_the_assembly_zone_is_stored_as_its_instant(db):
    system = S.Actor.system()
    assembly = S.create_assembly(db, system, "South", time_zone="America/Bogota")
    # 18:00 in Bogotá is 23:00 UTC: Colombia is UTC−05:00 all year (no summer time since 1993)
    local = datetime(2031, 5, 1, 18, 0, tzinfo=assembly.zone)
    opened = S.open_round(db, system, assembly.id, "Round", GROUPS, ballot_deadline=local)
    stored = S.get_round_info(db, opened.id).ballot_deadline
    assert stored == datetime(2031, 5, 1, 23, 0, tzinfo=UTC)
    assert stored.astimezone(ZoneInfo("America/Bogota")).hour == 18
    assert stored.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "  ", "../../etc/passwd", "/UTC", "Europe/" + "x" * 70, "UTC\x00"]
)
def test_an_unknown_time_zone_is_refused_and_nothing_is_stored(db, name):
    before = _head(db)
    with pytest.raises(ParticipationInputError, match="unknown time zone") as error:
        S.create_assembly(db, S.Actor.system(), "Nowhere", time_zone=name)
    assert error.value.where == "time_zone"
    assert "IANA" in error.value.expected
    assert S.list_assemblies(db) == [] and _head(db) == before


def test_check_time_zone_accepts_what_zoneinfo_knows():
    assert S.check_time_zone(" Asia/Karachi ") == "Asia/Karachi"
    assert S.check_time_zone("UTC") == "UTC"
    with pytest.raises(ParticipationInputError):
        S.check_time_zone("Asia/Nowhere")
