"""Fixtures of the scenario-model tests: the real ICIO table and a small two-region table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.io.icio import read_icio_arrays


@pytest.fixture(scope="session")
def icio(shared_data) -> Economy:
    return read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")


@pytest.fixture(scope="session")
def two_regions() -> Economy:
    """Region R and partner P, sectors c, i, n each (money units); R's sector n buys nothing from P."""
    products = pd.MultiIndex.from_product([["R", "P"], ["c", "i", "n"]], names=["region", "sector"])
    Z = np.array(
        [
            # R.c  R.i  R.n  P.c  P.i  P.n
            [10.0, 5.0, 4.0, 2.0, 1.0, 0.0],  # R.c
            [3.0, 8.0, 2.0, 1.0, 2.0, 1.0],  # R.i
            [2.0, 1.0, 6.0, 0.0, 1.0, 2.0],  # R.n
            [6.0, 0.0, 0.0, 12.0, 3.0, 2.0],  # P.c: sold to R.c only
            [0.0, 4.0, 0.0, 4.0, 10.0, 3.0],  # P.i: sold to R.i only
            [1.0, 2.0, 0.0, 2.0, 3.0, 9.0],  # P.n: sold to R.c and R.i
        ]
    )
    Y = pd.DataFrame({"final": [60.0, 50.0, 40.0, 70.0, 80.0, 60.0]}, index=products)
    x = Z.sum(axis=1) + Y["final"].to_numpy()
    return Economy.from_flows(
        Z, Y, x, accounts={"value_added": x - Z.sum(axis=0)}, products=products
    )
