"""Aggregation, characterisation, the Ghosh model and per-capita accounts against pymrio
(Stadler 2021) on its test system, to 1e-9 relative; plus properties that could fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymrio
import pytest
from pymrio.tools import iomath

from commonplan import Economy
from commonplan.analysis import footprints
from commonplan.analysis.ghosh import (
    allocation_coefficients,
    downstream_multipliers,
    forward_multipliers,
    ghosh_matrices,
)
from commonplan.analysis.transform import aggregate, characterize, map_back, per_capita
from commonplan.errors import InvalidValueError, LabelError
from commonplan.io.pymrio_bridge import from_pymrio

REGIONS = {
    "reg1": "north",
    "reg2": "north",
    "reg3": "south",
    "reg4": "south",
    "reg5": "east",
    "reg6": "east",
}
SECTORS = {
    "food": "primary",
    "mining": "primary",
    "manufactoring": "industry",
    "electricity": "industry",
    "construction": "industry",
    "trade": "services",
    "transport": "services",
    "other": "services",
}


def close(ours, theirs, what: str) -> None:
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert a.shape == b.shape, what
    scale = np.abs(b).max()
    assert np.abs(a - b).max() <= 1e-9 * scale, f"{what}: worst {np.abs(a - b).max():.3g}"


@pytest.fixture(scope="module")
def economy() -> Economy:
    return from_pymrio(pymrio.load_test())


def test_aggregate_equals_pymrio_aggregate(economy):
    # aggregated before calc_all: on a system with computed accounts pymrio sums the old
    # D_cba etc. (the fine system's footprints, 3.23e8 for north) and calc_all keeps them,
    # while the aggregated model's own footprints are 3.14e8 (numpy agrees)
    io = pymrio.load_test()
    regions = [REGIONS[r] for r in io.get_regions()]
    sectors = [SECTORS[s] for s in io.get_sectors()]
    io.aggregate(region_agg=regions, sector_agg=sectors)
    io.calc_all()
    theirs = from_pymrio(io)
    ours = aggregate(economy, regions=REGIONS, sectors=SECTORS)
    order = ours.products.get_indexer(theirs.products)
    assert (order >= 0).all() and len(order) == ours.n_products == 9
    close(ours.A.toarray()[np.ix_(order, order)], theirs.A.toarray(), "A")
    close(ours.activity_levels[order], theirs.activity_levels, "x")
    fd = ours.final_demand.loc[theirs.products, theirs.final_demand_columns]
    close(fd, theirs.final_demand, "Y")
    accounts = ours.accounts.loc[list(theirs.account_names)].to_numpy()[:, order]
    close(accounts, theirs.account_coefficients, "S")
    stressors = ours.final_demand_stressors.loc[
        list(theirs.account_names), theirs.final_demand_columns
    ]
    close(stressors, theirs.final_demand_stressors, "F_Y")
    # footprints of the aggregated economy equal pymrio's after its aggregation
    emissions = [a for a in theirs.account_names if a.startswith("emission")]
    stressors = ours.final_demand_stressors.loc[emissions]
    fp = footprints(ours, accounts=emissions, final_demand_stressors=stressors)
    close(fp.D_cba_reg.loc[:, io.get_regions()], io.emissions.D_cba_reg, "D_cba_reg")


def test_aggregation_keeps_totals_and_maps_back(economy):
    merged = aggregate(economy, regions=REGIONS)
    assert merged.n_products == 3 * 8
    assert merged.activity_levels.sum() == pytest.approx(economy.activity_levels.sum(), rel=1e-14)
    assert merged.account_totals().sum(axis=1).to_numpy() == pytest.approx(
        economy.account_totals().sum(axis=1).to_numpy(), rel=1e-12
    )
    output = pd.Series(merged.activity_levels, index=merged.products)
    back = map_back(output, economy.products, regions=REGIONS, weights=economy.activity_levels)
    close(back.to_numpy(), economy.activity_levels, "output split back by output weights")
    repeated = map_back(output, economy.products, regions=REGIONS)
    assert repeated.loc[("reg1", "food")] == output.loc[("north", "food")]
    with pytest.raises(LabelError, match="does not map"):
        aggregate(economy, regions={"reg1": "north"})


def test_characterize_equals_pymrio(economy):
    io = pymrio.load_test().calc_all()
    long = pd.DataFrame(
        {
            "stressor": ["emission_type1", "emission_type2", "emission_type1"],
            "compartment": ["air", "water", "air"],
            "impact": ["warming", "warming", "acid"],
            "factor": [2.5, 0.5, 0.1],
            "impact_unit": ["kg eq", "kg eq", "kg eq"],
            "stressor_unit": ["kg", "kg", "kg"],
        }
    )
    result = io.emissions.characterize(long, name="impacts")
    theirs = result.extension if hasattr(result, "extension") else result
    factors = pd.DataFrame(
        {"warming": [2.5, 0.5], "acid": [0.1, 0.0]},
        index=["emission_type1 / air", "emission_type2 / water"],
    )
    ours = characterize(economy, factors, units={"warming": "kg eq", "acid": "kg eq"})
    totals = ours.account_totals()
    for impact in ("warming", "acid"):
        close(totals.loc[impact].to_numpy(), theirs.F.loc[impact].to_numpy(), f"F {impact}")
        close(
            ours.final_demand_stressors.loc[impact].to_numpy(),
            theirs.F_Y.loc[impact].to_numpy(),
            f"F_Y {impact}",
        )
    assert ours.account_units["warming"] == "kg eq"
    with pytest.raises(LabelError, match="lacks"):
        characterize(economy, pd.DataFrame({"w": [1.0]}, index=["no such account"]))


def test_ghosh_equals_pymrio_calc_b_and_calc_g(economy):
    io = pymrio.load_test().calc_all()
    B_theirs = iomath.calc_B(io.Z, io.x)
    G_theirs = iomath.calc_G(B_theirs)
    B, G = ghosh_matrices(economy)
    close(B.loc[B_theirs.index, B_theirs.columns], B_theirs, "B")
    close(G.loc[G_theirs.index, G_theirs.columns], G_theirs, "G")
    close(allocation_coefficients(economy).toarray(), B.to_numpy(), "sparse B")
    forward = forward_multipliers(economy)
    close(forward.loc[G_theirs.index], G_theirs.sum(axis=1), "forward multipliers")
    S = io.emissions.S
    M_down = iomath.calc_M_down(S, G_theirs)
    names = [" / ".join(row) for row in S.index]
    ours = downstream_multipliers(economy, names)
    close(ours.loc[:, M_down.columns].to_numpy(), M_down.to_numpy(), "M_down")
    # supply-driven identity: xᵀ = vᵀ G with v = x − Bᵀ... i.e. the primary inputs
    x = economy.activity_levels
    v = x - allocation_coefficients(economy).T @ x
    close(v @ G.to_numpy(), x, "x' = v' G")


def test_per_capita_equals_pymrio_d_cba_cap(economy):
    io = pymrio.load_test().calc_all()
    population = io.population.iloc[0]
    emissions = [a for a in economy.account_names if a.startswith("emission")]
    stressors = economy.final_demand_stressors.loc[emissions]
    fp = footprints(economy, accounts=emissions, final_demand_stressors=stressors)
    for name in ("D_cba", "D_pba", "D_imp", "D_exp"):
        ours = per_capita(getattr(fp, f"{name}_reg"), population)
        close(ours.loc[:, io.get_regions()], getattr(io.emissions, f"{name}_cap"), f"{name}_cap")
    with pytest.raises(LabelError, match="no population"):
        per_capita(fp.D_cba_reg, population.drop("reg6"))
    with pytest.raises(InvalidValueError):
        per_capita(fp.D_cba_reg, population * 0)


def test_forward_multipliers_on_icio_equal_the_dense_ghosh_inverse(shared_data):
    from commonplan.io.icio import read_icio_arrays

    icio = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_80x10.npz")
    _, G = ghosh_matrices(icio)
    close(forward_multipliers(icio).to_numpy(), G.to_numpy().sum(axis=1), "800 products")
    assert (forward_multipliers(icio) >= 1 - 1e-12).all()


def test_map_back_frames_and_refusals(economy):
    merged = aggregate(economy, sectors=SECTORS)
    frame = pd.DataFrame({"x": merged.activity_levels, "one": 1.0}, index=merged.products)
    back = map_back(frame, economy.products, sectors=SECTORS)
    assert back.index.equals(economy.products)
    assert (back["one"] == 1.0).all()
    with pytest.raises(LabelError, match="no value"):
        map_back(frame.iloc[1:], economy.products, sectors=SECTORS)
    with pytest.raises(InvalidValueError, match="weights"):
        map_back(frame, economy.products, sectors=SECTORS, weights=np.ones(3))


def test_aggregate_refuses_a_supply_use_economy():
    import scipy.sparse as sp

    from commonplan.errors import UnsupportedOperationError

    joint = Economy(
        products=[("R", "a"), ("R", "b")],
        activities=[("R", "a")],
        use=sp.csr_array(np.array([[0.1], [0.2]])),
        make=sp.csr_array(np.array([[0.6], [0.4]])),
        account_coefficients=np.zeros((0, 1)),
        account_names=(),
        account_units={},
        final_demand_values=np.ones((2, 1)),
        final_demand_columns=pd.Index(["households"]),
        activity_levels=np.array([10.0]),
    )
    with pytest.raises(UnsupportedOperationError, match="symmetric"):
        aggregate(joint, sectors={"a": "ab", "b": "ab"})
