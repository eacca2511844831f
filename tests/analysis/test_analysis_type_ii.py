"""The Type II closure's default household income: total value added (M&B §2.5's x_{n+1}
is total household income; compensation alone is only part of it), on US WIOD 2014,
against a dense numpy bordered inverse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from commonplan.analysis import HouseholdClosure, analyse, closed_model, output_multipliers
from commonplan.io import read_table


@pytest.fixture(scope="module")
def us2014(shared_data: Path):
    return read_table(shared_data / "us_wiod_niot_2000_2014" / "usaiot.csv", year=2014)


def bordered_multipliers(economy, income: float) -> np.ndarray:
    A = economy.A.toarray()
    x = economy.activity_levels
    h = economy.account("compensation").to_numpy()
    c = economy.final_demand["CONS_h"].to_numpy() / income
    n = len(x)
    closed = np.zeros((n + 1, n + 1))
    closed[:n, :n], closed[n, :n], closed[:n, n] = A, h, c
    return np.linalg.inv(np.eye(n + 1) - closed)[:n, :n].sum(axis=0)


def test_default_income_is_total_value_added(us2014):
    x = us2014.activity_levels
    value_added = float(us2014.account("value_added").to_numpy() @ x)
    compensation = float(us2014.account("compensation").to_numpy() @ x)
    assert us2014.final_demand["CONS_h"].sum() > compensation  # why compensation alone fails
    closure = HouseholdClosure("compensation", "CONS_h")
    table = output_multipliers(us2014, closure=closure)
    np.testing.assert_allclose(
        table["type_II"].to_numpy(), bordered_multipliers(us2014, value_added), rtol=1e-9
    )
    closed, _ = closed_model(us2014, closure)
    column = closed.toarray()[:-1, -1]
    assert column.sum() == pytest.approx(us2014.final_demand["CONS_h"].sum() / value_added)
    # the former convention stays available and is what the issue measured (mean 3.88)
    old = output_multipliers(
        us2014,
        closure=HouseholdClosure("compensation", "CONS_h", income_total_account="compensation"),
    )
    np.testing.assert_allclose(
        old["type_II"].to_numpy(), bordered_multipliers(us2014, compensation), rtol=1e-9
    )
    assert old["type_II"].mean() == pytest.approx(3.88, abs=0.005)
    active = us2014.activity_levels > 0  # U (households as employers) is empty: both are 1
    assert (table["type_II"][active] < old["type_II"][active]).all()
    assert (table["type_II"] >= table["type_I"] - 1e-12).all()
    # analyse's automatic closure uses the same default
    results = analyse(us2014)
    assert any("the total of 'value_added'" in note for note in results.notes)
    auto = results.output_multipliers["type_II"]
    np.testing.assert_allclose(auto.to_numpy(), table["type_II"].to_numpy(), rtol=1e-12)
