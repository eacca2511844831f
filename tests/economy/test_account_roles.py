"""Account and final-demand roles: recorded by readers, guessed from names only as a fallback."""

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.economy import Metadata
from commonplan.economy.roles import guess_account_role, guess_final_demand_role
from commonplan.errors import InvalidValueError


def _economy(accounts: dict[str, list[float]], metadata: Metadata | None = None) -> Economy:
    Z = np.array([[150.0, 500.0], [200.0, 100.0]])
    x = np.array([1000.0, 2000.0])
    Y = pd.DataFrame(
        np.column_stack([x - Z.sum(axis=1) - 10.0, np.full(2, 10.0)]),
        index=["agri", "manu"],
        columns=["Household final consumption", "Exports"],
    )
    return Economy.from_flows(
        Z,
        Y,
        x,
        accounts=accounts,
        products=["agri", "manu"],
        metadata=metadata,
    )


def test_guess_never_takes_money_paid_to_labour_for_labour():
    assert guess_account_role("labour hours") == "labour"
    assert guess_account_role("Compensation of employees") == "compensation"
    assert guess_account_role("labour income") == "compensation"
    assert guess_account_role("GVA") == "value_added"
    assert guess_account_role("imports_cif") == "imports"
    assert guess_account_role("CO2") is None
    assert guess_final_demand_role("F010") == "household_consumption"
    assert guess_final_demand_role("Exports") is None


def test_recorded_role_wins_over_the_name():
    accounts = {"employment": [1.0, 2.0], "wrk": [3.0, 4.0], "gva": [5.0, 6.0]}
    guessed = _economy(accounts)
    assert guessed.account_for("labour") == "employment"
    assert guessed.account_for("value_added") == "gva"
    recorded = _economy(
        accounts, Metadata(account_roles={"employment": "compensation", "wrk": "labour"})
    )
    assert recorded.account_for("labour") == "wrk"
    assert recorded.accounts_for("compensation") == ("employment",)
    assert recorded.account_for("imports") is None


def test_final_demand_role_and_unknown_role():
    e = _economy({"labour": [1.0, 1.0]})
    assert e.final_demand_for("household_consumption") == "Household final consumption"
    relabelled = e.replace(
        metadata=Metadata(final_demand_roles={"Exports": "household_consumption"})
    )
    # a recorded role for one category does not stop the name of another from being used
    assert relabelled.final_demand_for("household_consumption") == "Household final consumption"
    with pytest.raises(InvalidValueError, match="unknown role"):
        e.account_for("land")


def test_roles_survive_the_metadata_round_trip():
    m = Metadata(account_roles={"a": "labour"}, final_demand_roles={"HH": "household_consumption"})
    assert Metadata.from_dict(m.to_dict()) == m
