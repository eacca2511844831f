"""Bad requests get one specific CommonplanError naming what was asked and what exists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.analysis import (
    HouseholdClosure,
    LeontiefSolver,
    account_multipliers,
    footprints,
    foreign_value_added_shares,
    input_dependence,
    intermediate_imports,
    labour_values,
    multiplier_table,
    output_multipliers,
    quantities,
    value_added_origin,
)
from commonplan.errors import (
    InvalidValueError,
    LabelError,
    MissingBlockError,
    NotProductiveError,
    ShapeError,
    UnsupportedOperationError,
)


def test_unknown_account(miller_blair):
    economy, _ = miller_blair
    for call in (
        lambda: labour_values(economy, "hours"),
        lambda: account_multipliers(economy, ["labour", "hours"]),
        lambda: multiplier_table(economy, "hours"),
    ):
        with pytest.raises(
            MissingBlockError, match=r"no account named 'hours'.*expected one of \['labour'\]"
        ):
            call()


def test_unknown_region_and_partner(icio_economy):
    with pytest.raises(LabelError, match="unknown partner 'VEN'"):
        input_dependence(icio_economy, "VEN")
    with pytest.raises(LabelError, match="unknown region 'VEN'"):
        intermediate_imports(icio_economy, "VEN")
    with pytest.raises(InvalidValueError, match="unknown breakdown"):
        intermediate_imports(icio_economy, "COL", by="colour")


def test_value_added_share_needs_final_demand_by_destination(shared_data):
    from commonplan.io.icio import read_icio_arrays

    economy = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")
    with pytest.raises(MissingBlockError, match="not split by destination region"):
        foreign_value_added_shares(economy, "COL", "value_added")
    with pytest.raises(MissingBlockError, match="not split by destination region"):
        value_added_origin(economy, "value_added")
    with pytest.raises(MissingBlockError, match="not split by destination region"):
        footprints(economy)


def test_economy_without_final_demand():
    economy = Economy.from_coefficients(
        np.array([[0.1, 0.2], [0.3, 0.1]]), accounts={"labour": [1.0, 2.0]}
    )
    with pytest.raises(MissingBlockError, match="no final demand"):
        footprints(economy)
    with pytest.raises(MissingBlockError, match="no observed activity levels"):
        output_multipliers(economy, closure=HouseholdClosure("labour", "households"))


def test_bad_final_demand_vectors(miller_blair):
    economy, _ = miller_blair
    with pytest.raises(ShapeError, match="final demand"):
        quantities(economy, np.ones(3))
    with pytest.raises(InvalidValueError, match="non-finite"):
        quantities(economy, np.array([1.0, np.nan]))
    with pytest.raises(LabelError, match="lacks products"):
        quantities(economy, pd.Series([1.0], index=pd.MultiIndex.from_tuples([("MB", "sec1")])))


def test_solver_for_another_economy(miller_blair, icio_economy):
    economy, _ = miller_blair
    with pytest.raises(InvalidValueError, match="solver was built for 550 products"):
        labour_values(economy, "labour", solver=LeontiefSolver(icio_economy.A))


def test_type_ii_closure_problems(miller_blair):
    economy, _ = miller_blair
    with pytest.raises(MissingBlockError, match="no final-demand category 'households'"):
        output_multipliers(economy, closure=HouseholdClosure("labour", "households"))
    Z = np.array([[10.0, 20.0], [15.0, 5.0]])
    Y = pd.DataFrame({"households": [300.0, 400.0]}, index=["a", "b"])
    x = Z.sum(axis=1) + Y.sum(axis=1).to_numpy()
    spendthrift = Economy.from_flows(Z, Y, x, accounts={"wages": 0.01 * x}, products=["a", "b"])
    with pytest.raises(NotProductiveError, match="households endogenous is not productive"):
        output_multipliers(spendthrift, closure=HouseholdClosure("wages", "households"))
    with pytest.raises(InvalidValueError, match="household income"):
        output_multipliers(
            spendthrift, closure=HouseholdClosure("wages", "households", household_income=0.0)
        )


def test_non_symmetric_economy_is_unsupported():
    import scipy.sparse as sp

    products = pd.MultiIndex.from_tuples([("R", "a"), ("R", "b")])
    activities = pd.MultiIndex.from_tuples([("R", "t1"), ("R", "t2"), ("R", "t3")])
    economy = Economy(
        products=products,
        activities=activities,
        use=sp.csr_array(np.array([[0.1, 0.2, 0.1], [0.2, 0.1, 0.3]])),
        make=sp.csr_array(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])),
        account_coefficients=np.ones((1, 3)),
        account_names=("labour",),
        account_units={"labour": "hours"},
        final_demand_values=np.ones((2, 1)),
        final_demand_columns=pd.Index(["fd"]),
    )
    with pytest.raises(UnsupportedOperationError, match="no single A matrix"):
        labour_values(economy, "labour")
