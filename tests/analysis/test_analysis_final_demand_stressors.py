"""``analyse(from_pymrio(io))`` equals pymrio's ``calc_all`` for every account, F_Y included.

pymrio (Stadler 2021) adds each extension's direct final-demand stressors ``F_Y`` to the
regional consumption- and production-based accounts; the economy carries them from the
IOSystem, so ``analyse`` sees them without being told, and they survive Commonplan's own
format and the way back to pymrio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymrio
import pytest

from commonplan.analysis import analyse
from commonplan.errors import ShapeError
from commonplan.io import read_economy, write_economy
from commonplan.io.pymrio_bridge import from_pymrio, to_pymrio

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


@pytest.fixture(scope="module")
def system() -> pymrio.IOSystem:
    return pymrio.load_test().calc_all()


def pymrio_frame(io: pymrio.IOSystem, name: str) -> pd.DataFrame:
    """pymrio's account ``name`` for every extension row, labelled as the economy's accounts."""
    frame = pd.concat([getattr(ext, name) for ext in io.get_extensions(data=True)])
    labels = [" / ".join(row) if isinstance(row, tuple) else str(row) for row in frame.index]
    return frame.set_axis(labels)


def assert_close(ours: pd.DataFrame, theirs: pd.DataFrame, name: str) -> None:
    assert list(ours.index) == list(theirs.index), name
    assert [str(c) for c in ours.columns] == [str(c) for c in theirs.columns], name
    a, b = ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float)
    assert a.shape == b.shape, name
    floor = 1e-12 * np.abs(b).max(axis=1, keepdims=True)
    bad = np.abs(a - b) > 1e-9 * np.abs(b) + floor
    assert not bad.any(), f"{name}: {int(bad.sum())} cells differ, worst {np.abs(a - b).max():.3g}"


def test_analyse_equals_pymrio_calc_all_with_final_demand_stressors(system):
    economy = from_pymrio(pymrio.load_test())
    assert economy.final_demand_stressors is not None
    assert np.abs(economy.final_demand_stressors.to_numpy()).sum() > 0
    results = analyse(economy)
    for name in FRAMES:
        assert_close(getattr(results.footprints, name), pymrio_frame(system, name), name)


def test_the_stressors_matter(system):
    """Without F_Y the regional accounts would differ from pymrio's (the issue's 90 %)."""
    economy = from_pymrio(pymrio.load_test()).replace(final_demand_stressor_values=None)
    D_cba_reg = analyse(economy).footprints.D_cba_reg.to_numpy()
    theirs = pymrio_frame(system, "D_cba_reg").to_numpy(dtype=float)
    assert np.abs(D_cba_reg - theirs).max() > 1e-3 * np.abs(theirs).max()


def test_final_demand_stressors_survive_the_native_format(tmp_path):
    economy = from_pymrio(pymrio.load_test())
    write_economy(economy, tmp_path / "economy")
    back = read_economy(tmp_path / "economy")
    np.testing.assert_array_equal(
        back.final_demand_stressor_values, economy.final_demand_stressor_values
    )
    assert back.final_demand_stressors.columns.equals(economy.final_demand_stressors.columns)
    # rewritten without them, the stale file goes and the economy reads back without F_Y
    write_economy(economy.replace(final_demand_stressor_values=None), tmp_path / "economy")
    assert not (tmp_path / "economy" / "final_demand_stressors.parquet").exists()
    assert read_economy(tmp_path / "economy").final_demand_stressors is None


def test_final_demand_stressors_survive_to_pymrio(system):
    economy = from_pymrio(pymrio.load_test())
    back = to_pymrio(economy)
    pd.testing.assert_frame_equal(
        back.emissions.F_Y.astype(float), system.emissions.F_Y.astype(float), check_names=False
    )
    again = from_pymrio(back)
    np.testing.assert_array_equal(
        again.final_demand_stressor_values, economy.final_demand_stressor_values
    )


def test_final_demand_stressors_of_the_wrong_shape_are_refused():
    economy = from_pymrio(pymrio.load_test())
    with pytest.raises(ShapeError, match="final-demand stressors have shape"):
        economy.replace(final_demand_stressor_values=np.zeros((1, 1)))
