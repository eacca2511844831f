"""Every multiplier and footprint equals pymrio's ``calc_all`` to 1e-9 relative.

pymrio (Stadler 2021) inverts ``I − A`` densely and builds the footprint accounts from
the full matrix of outputs per final-demand column; Commonplan never forms ``L`` and
works from block solves. Agreement on pymrio's own test system, on the real ICIO 2022
Americas table and on the real WIOD 2011 world table (final demand by destination)
checks the definitions, the treatment of final demand by (region, category) and of
direct final-demand stressors ``F_Y``, for both solver methods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymrio
import pytest

from commonplan import Economy
from commonplan.analysis import LeontiefSolver, footprints

FRAMES = (
    "M",
    "D_cba",
    "D_pba",
    "D_imp",
    "D_exp",
    "D_cba_reg",
    "D_pba_reg",
    "D_imp_reg",
    "D_exp_reg",
)


def assert_frame_close(
    ours: pd.DataFrame, theirs: pd.DataFrame, name: str, rtol: float = 1e-9
) -> None:
    theirs = theirs.astype(float)
    assert list(ours.columns) == list(theirs.columns), name
    a, b = ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float)
    assert a.shape == b.shape, name
    assert np.isfinite(a).all(), name
    # relative to each value, with a floor at 1e-12 of the frame's largest magnitude per account
    floor = 1e-12 * np.abs(b).max(axis=1, keepdims=True)
    bad = np.abs(a - b) > rtol * np.abs(b) + floor
    assert not bad.any(), f"{name}: {int(bad.sum())} cells differ, worst {np.abs(a - b).max():.3g}"


def pymrio_system(Z, Y, x, F, F_Y=None, unit="USD million") -> pymrio.IOSystem:
    """pymrio's system from the same flows; x is given since the real tables are not exactly balanced."""
    io = pymrio.IOSystem(
        Z=Z.copy(),
        Y=Y.copy(),
        x=x.to_frame("indout"),
        unit=pd.DataFrame({"unit": unit}, index=Z.index),
    )
    io.ext = pymrio.Extension(name="ext", F=F.copy(), F_Y=None if F_Y is None else F_Y.copy())
    io.calc_all()
    return io


def test_pymrio_test_system_with_final_demand_stressors():
    io = pymrio.load_test().calc_all()
    F = pd.concat([io.emissions.F, io.factor_inputs.F])
    names = [" / ".join(i) if isinstance(i, tuple) else str(i) for i in F.index]
    economy = Economy.from_flows(io.Z, io.Y, io.x.iloc[:, 0], accounts=F.set_axis(names))
    F_Y = io.emissions.F_Y.set_axis(names[:2])
    result = footprints(economy, final_demand_stressors=F_Y)
    for name in FRAMES:
        theirs = pd.concat([getattr(io.emissions, name), getattr(io.factor_inputs, name)])
        ours = getattr(result, name)
        if name in ("D_cba", "D_imp"):
            assert ours.columns.equals(theirs.columns)
        assert_frame_close(ours, theirs, name)
    # F_Y enters the regional consumption- and production-based accounts only
    gap = (
        result.D_cba_reg.iloc[:2]
        - result.D_cba.iloc[:2].T.groupby(level="region", sort=False).sum().T
    )
    np.testing.assert_allclose(
        gap.to_numpy(), F_Y.T.groupby(level="region", sort=False).sum().T.to_numpy()
    )


@pytest.mark.parametrize("method", ["dense", "gmres"])
def test_icio_americas_2022(icio_data, icio_economy, method):
    Z, Y, x, F = icio_data
    io = pymrio_system(Z, Y, x, F)
    solver = LeontiefSolver(icio_economy.A, method=method, tol=1e-13)
    result = footprints(icio_economy, solver=solver)
    for name in FRAMES:
        assert_frame_close(getattr(result, name), getattr(io.ext, name), f"{method} {name}")
    # the synthetic FD split gives real trade: imports and exports are non-trivial
    assert (result.D_imp_reg.loc["value_added"] > 0).all()


def test_wiod_2011_real_final_demand_by_destination(wiod_data, wiod_economy):
    Z, Y, x, F = wiod_data
    io = pymrio_system(Z, Y, x, F)
    result = footprints(wiod_economy)
    for name in FRAMES:
        assert_frame_close(getattr(result, name), getattr(io.ext, name), name)
