"""Every reader records what its accounts and household-consumption category are.

Each test reads a real table from ../shared/data and checks that
``economy.account_for(role)`` gives the account the table's layout says plays the role,
and that the role is *recorded* in the metadata (not only guessed from the name).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from commonplan.economy import Economy, Metadata
from commonplan.errors import InvalidValueError, LabelError
from commonplan.io.abs import read_abs_make_use
from commonplan.io.bea import read_bea_summary, read_bea_supply_use
from commonplan.io.dane import read_dane
from commonplan.io.icio import read_icio_arrays
from commonplan.io.native import read_economy, write_economy
from commonplan.io.oecd_national import read_oecd_national
from commonplan.io.ons import read_ons_ioat
from commonplan.io.plain import read_flow_table
from commonplan.io.wiod import read_wiod_arrays, read_wiod_niot

HOUSEHOLDS = "household_consumption"


def assert_roles(
    economy: Economy, accounts: dict[str, str | None], household: str | None = None
) -> None:
    """``account_for`` gives each expected account, and the role is recorded by the reader."""
    for role, name in accounts.items():
        assert economy.account_for(role) == name, role
        if name is not None:
            assert economy.metadata.account_roles[name] == role
    assert economy.final_demand_for(HOUSEHOLDS) == household
    if household is not None:
        assert economy.metadata.final_demand_roles[household] == HOUSEHOLDS


def test_bea_summary(shared_data: Path) -> None:
    folder = shared_data / "us_bea_summary_2023_useeior"
    roles = {
        "compensation": "compensation_of_employees",
        "value_added": "value_added",
        "labour": None,
    }
    assert_roles(read_bea_summary(folder), {**roles, "imports": "imports"}, "F010")
    total = read_bea_summary(folder, domestic=False)
    assert_roles(total, {**roles, "imports": None}, "F010")
    assert "F050" in total.final_demand_columns  # imports: a category, never an account


def test_bea_supply_use(shared_data: Path) -> None:
    folder = shared_data / "us_bea_2021_quantecon"
    economy = read_bea_supply_use(folder / "use_71.csv", folder / "make_71.csv")
    assert_roles(
        economy,
        {
            "compensation": "compensation_of_employees",
            "value_added": "value_added",
            "imports": "imports",
        },
        "F010",
    )


def test_abs(shared_data: Path) -> None:
    folder = shared_data / "us_bea_2021_quantecon"
    economy = read_abs_make_use(folder / "use_114_aus.csv", folder / "make_114_aus.csv")
    assert_roles(economy, {"value_added": "value_added", "labour": None, "imports": None})


def test_dane(shared_data: Path) -> None:
    folder = shared_data / "colombia_dane_2019"
    assert_roles(
        read_dane(folder / "matrix_IO_2019.xlsx"),
        {
            "compensation": "compensation_of_employees",
            "value_added": "value_added",
            "labour": None,
        },
    )
    assert_roles(
        read_dane(folder / "matriz19.xlsx"),
        {"labour": "employment", "value_added": "value_added", "compensation": None},
    )


def test_ons(shared_data: Path) -> None:
    economy = read_ons_ioat(shared_data / "uk_ons_ioat_2010")
    assert_roles(
        economy,
        {
            "imports": "imports",
            "compensation": "compensation_of_employees",
            "value_added": "gross_value_added",
        },
        "households",
    )


def test_oecd_national(shared_data: Path) -> None:
    economy = read_oecd_national(shared_data / "textbook_examples" / "BEL2020ttl.csv")
    assert_roles(economy, {"value_added": "value_added", "imports": None}, "HFCE")


def test_icio_arrays(shared_data: Path) -> None:
    economy = read_icio_arrays(shared_data / "mrio/icio2025_y2022_americas11x50.npz")
    assert_roles(economy, {"value_added": "value_added", "labour": None})


def test_wiod_arrays(shared_data: Path) -> None:
    economy = read_wiod_arrays(shared_data / "mrio/wiod2013_wiot_2011.npz")
    assert_roles(economy, {"value_added": "value_added"}, "CONS_h")


def test_wiod_niot_hours_are_labour(shared_data: Path) -> None:
    economy = read_wiod_niot(shared_data / "us_wiod_niot_2000_2014/usaiot.csv", year=2014)
    assert_roles(
        economy,
        {
            "labour": "hours_worked_employees",
            "compensation": "compensation",
            "value_added": "value_added",
        },
        "CONS_h",
    )
    # persons are labour too, though their name says nothing the keyword guess knows
    assert economy.accounts_for("labour") == (
        "hours_worked_employees",
        "persons_engaged",
        "employees",
    )


def test_native_format_keeps_the_roles(shared_data: Path, tmp_path: Path) -> None:
    economy = read_ons_ioat(shared_data / "uk_ons_ioat_2010")
    write_economy(economy, tmp_path / "uk")
    again = read_economy(tmp_path / "uk")
    assert again.metadata.account_roles == economy.metadata.account_roles
    assert again.metadata.final_demand_roles == economy.metadata.final_demand_roles
    assert again.account_for("value_added") == "gross_value_added"


# ---- roles stated by the user --------------------------------------------------------------


@pytest.fixture
def plain_table(tmp_path: Path) -> Path:
    path = tmp_path / "flows.csv"
    path.write_text(
        ",a,b,HH,gov,x\na,10,20,60,10,100\nb,30,10,100,60,200\nworked,50,40,,,\npay,20,60,,,\n"
    )
    return path


def test_plain_reader_records_stated_roles(plain_table: Path) -> None:
    guessed = read_flow_table(plain_table)
    assert guessed.account_for("labour") is None and guessed.final_demand_for(HOUSEHOLDS) is None
    economy = read_flow_table(
        plain_table, roles={"worked": "labour", "pay": "compensation", "HH": HOUSEHOLDS}
    )
    assert economy.metadata.account_roles == {"worked": "labour", "pay": "compensation"}
    assert_roles(economy, {"labour": "worked", "compensation": "pay"}, "HH")
    np.testing.assert_array_equal(economy.account_coefficients, guessed.account_coefficients)


def test_plain_reader_refuses_roles_that_do_not_fit(plain_table: Path) -> None:
    with pytest.raises(LabelError, match="'hours', which is neither an account"):
        read_flow_table(plain_table, roles={"hours": "labour"})
    with pytest.raises(InvalidValueError, match="role 'labour' does not apply to 'HH'"):
        read_flow_table(plain_table, roles={"HH": "labour"})
    with pytest.raises(InvalidValueError, match="role 'wages' does not apply"):
        read_flow_table(plain_table, roles={"pay": "wages"})


# ---- pymrio ----------------------------------------------------------------------------------


def test_pymrio_round_trip_keeps_account_roles(shared_data: Path) -> None:
    pytest.importorskip("pymrio")
    from commonplan.io.pymrio_bridge import from_pymrio, to_pymrio

    economy = read_ons_ioat(shared_data / "uk_ons_ioat_2010")
    back = from_pymrio(to_pymrio(economy))
    assert back.metadata.account_roles == economy.metadata.account_roles
    for role in ("imports", "compensation", "value_added"):
        assert back.account_for(role) == economy.account_for(role)
    # final-demand roles have no place in an IOSystem: the category's name is recognised
    assert back.final_demand_for(HOUSEHOLDS) == "households"


def test_pymrio_roles_stated_by_the_user() -> None:
    pymrio = pytest.importorskip("pymrio")
    from commonplan.io.pymrio_bridge import from_pymrio

    system = pymrio.load_test()
    plain = from_pymrio(system)
    assert plain.account_for("value_added") == "Value Added"  # the name's words
    assert plain.metadata.account_roles == {}
    stated = from_pymrio(system, roles={"emission_type1 / air": "labour"})
    assert stated.account_for("labour") == "emission_type1 / air"
    with pytest.raises(LabelError, match="neither an account"):
        from_pymrio(system, roles={"Employment": "labour"})


def test_hand_built_economy_falls_back_to_the_guess() -> None:
    economy = Economy.from_coefficients(
        np.array([[0.1, 0.2], [0.3, 0.1]]),
        np.array([[1.0], [2.0]]),
        accounts={"hours": [0.5, 0.4], "other": [0.1, 0.1]},
        metadata=Metadata(account_roles={"other": "imports"}),
    )
    assert economy.account_for("labour") == "hours"  # guessed from the name
    assert economy.account_for("imports") == "other"  # recorded beats the name
