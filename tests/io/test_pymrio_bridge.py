"""Both ways between pymrio and Commonplan, checked against pymrio's own calculations."""

from __future__ import annotations

import numpy as np
import pymrio
import pytest

from commonplan.analysis import footprints
from commonplan.errors import MissingBlockError
from commonplan.io.pymrio_bridge import final_demand_stressors, from_pymrio, to_pymrio


@pytest.fixture()
def test_system() -> pymrio.IOSystem:
    return pymrio.load_test()


def test_from_pymrio_maps_flows_extensions_and_units(test_system):
    economy = from_pymrio(test_system)
    reference = pymrio.load_test().calc_all()
    np.testing.assert_allclose(economy.A.toarray(), reference.A.to_numpy(), rtol=1e-14)
    np.testing.assert_allclose(
        economy.gross_output.to_numpy(), reference.x["indout"].to_numpy(), rtol=1e-14
    )
    assert economy.account_names == (
        "Value Added",
        "emission_type1 / air",
        "emission_type2 / water",
    )
    assert economy.account_units == {
        "Value Added": "Mill USD",
        "emission_type1 / air": "kg",
        "emission_type2 / water": "kg",
    }
    assert economy.metadata.units == "Mill USD" and economy.metadata.name == "testmrio"
    assert economy.final_demand_columns.names == ["region", "category"]
    np.testing.assert_allclose(
        economy.account("emission_type1 / air").to_numpy(),
        reference.emissions.S.loc[("emission_type1", "air")].to_numpy(),
        rtol=1e-14,
    )
    assert test_system.A is None  # the input system was not changed


def test_footprints_through_the_bridge_equal_pymrio(test_system):
    economy = from_pymrio(test_system)
    result = footprints(economy, final_demand_stressors=final_demand_stressors(test_system))
    reference = pymrio.load_test().calc_all()
    for name in ("M", "D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"):
        ours = getattr(result, name).loc[["emission_type1 / air", "emission_type2 / water"]]
        np.testing.assert_allclose(
            ours.to_numpy(), getattr(reference.emissions, name).to_numpy(), rtol=1e-10
        )


def test_round_trip_through_pymrio(test_system):
    economy = from_pymrio(test_system)
    stressors = final_demand_stressors(test_system)
    system = to_pymrio(economy, final_demand_stressors=stressors)
    assert sorted(system.get_extensions()) == ["emissions", "factor_inputs"]
    assert system.emissions.F.index.names == ["stressor", "compartment"]
    assert system.emissions.unit.loc[("emission_type1", "air"), "unit"] == "kg"
    back = from_pymrio(system)
    np.testing.assert_allclose(back.A.toarray(), economy.A.toarray(), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(back.account_coefficients, economy.account_coefficients, rtol=1e-12)
    assert back.account_names == economy.account_names
    system.calc_all()
    reference = pymrio.load_test().calc_all()
    np.testing.assert_allclose(
        system.emissions.D_cba_reg.to_numpy(), reference.emissions.D_cba_reg.to_numpy(), rtol=1e-10
    )


def test_coefficient_only_system_and_chosen_extensions(test_system):
    reference = pymrio.load_test().calc_all()
    system = pymrio.IOSystem(A=reference.A, Y=reference.Y, x=reference.x)
    system.emissions = pymrio.Extension(
        name="Emissions", S=reference.emissions.S, unit=reference.emissions.unit
    )
    economy = from_pymrio(system, extensions=["Emissions"])
    np.testing.assert_allclose(economy.A.toarray(), reference.A.to_numpy())
    assert economy.account_names == ("emission_type1 / air", "emission_type2 / water")
    with pytest.raises(MissingBlockError, match="no extension 'land'"):
        from_pymrio(test_system, extensions=["land"])


def test_accounts_without_pymrio_origin_form_one_extension(miller_blair_like):
    system = to_pymrio(miller_blair_like)
    assert list(system.get_extensions()) == ["accounts"]
    assert system.accounts.F.index.tolist() == ["labour"]
    assert system.Y.columns.names == ["region", "category"]


@pytest.fixture()
def miller_blair_like():
    from commonplan import Economy

    Z = np.array([[150.0, 500.0], [200.0, 100.0]])
    x = np.array([1000.0, 2000.0])
    return Economy.from_flows(
        Z, x - Z.sum(axis=1), x, accounts={"labour": 0.3 * x}, products=["a", "b"]
    )
