"""Real economies for the analysis tests, built straight from the shared data files.

The builders read the arrays with numpy (not through commonplan's readers), so the
tests do not depend on the reader under test, and the same arrays feed pymrio as the
independent oracle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.economy import Metadata


def icio_arrays(shared_data: Path) -> dict[str, np.ndarray]:
    with np.load(
        shared_data / "mrio" / "icio2025_y2022_americas11x50.npz", allow_pickle=False
    ) as data:
        return {key: data[key] for key in ("Z", "x", "fu_plus", "va_plus", "labels")}


def icio_frames(shared_data: Path):
    """ICIO 2022 Americas (11 regions × 50 industries) as DataFrames Z, Y, x, F.

    The file has no final demand by destination and no satellite account, so both are
    synthetic but fixed (documented in docs/analysis.md):
    * Y: each product's final use ``fu_plus`` is split across destination regions in
      proportion to its intermediate sales to each buying region (all to its own region
      when it sells no intermediates);
    * F: ``value_added`` (va_plus, real) and two derived accounts, ``emissions_like`` =
      va_plus × (1 + (sector position mod 7)) / 7 and ``labour_like`` = va_plus × (1 +
      (region position mod 3)) / 10.
    """
    arrays = icio_arrays(shared_data)
    labels = [str(label).split("_", 1) for label in arrays["labels"]]
    products = pd.MultiIndex.from_tuples(
        [tuple(label) for label in labels], names=["region", "sector"]
    )
    regions = list(dict.fromkeys(products.get_level_values("region")))
    sectors = list(dict.fromkeys(products.get_level_values("sector")))
    Z = pd.DataFrame(arrays["Z"], index=products, columns=products)
    x = pd.Series(arrays["x"], index=products)
    buyer = np.asarray([regions.index(r) for r in products.get_level_values("region")])
    sales = np.zeros((len(products), len(regions)))
    np.add.at(sales.T, buyer, arrays["Z"].T)
    total = sales.sum(axis=1, keepdims=True)
    own = np.zeros_like(sales)
    own[np.arange(len(products)), buyer] = 1.0
    shares = np.where(total > 0, sales / np.where(total > 0, total, 1.0), own)
    Y = pd.DataFrame(
        arrays["fu_plus"][:, None] * shares,
        index=products,
        columns=pd.MultiIndex.from_product([regions, ["final_use"]], names=["region", "category"]),
    )
    va = arrays["va_plus"]
    sector_pos = np.asarray([sectors.index(s) for s in products.get_level_values("sector")])
    F = pd.DataFrame(
        [va, va * (1 + sector_pos % 7) / 7.0, va * (1 + buyer % 3) / 10.0],
        index=pd.Index(["value_added", "emissions_like", "labour_like"], name="stressor"),
        columns=products,
    )
    return Z, Y, x, F


def wiod_frames(shared_data: Path, year: int = 2011):
    """WIOD 2013 world table (41 regions × 35 industries) with final demand by destination.

    The only account is ``value_added`` = x − colsum(Z) (value added plus net product
    taxes and margins, as the file documents).
    """
    with np.load(shared_data / "mrio" / f"wiod2013_wiot_{year}.npz", allow_pickle=False) as data:
        Zv, Fv, xv = (data[k].astype(np.float64) for k in ("Z", "F", "x"))
        countries = [str(c) for c in data["countries"]]
        industries = [str(i).split(" ", 1)[0] for i in data["industries"]]
        fd_labels = [str(f).split("_", 1) for f in data["fd_labels"]]
    products = pd.MultiIndex.from_product([countries, industries], names=["region", "sector"])
    Z = pd.DataFrame(Zv, index=products, columns=products)
    Y = pd.DataFrame(
        Fv,
        index=products,
        columns=pd.MultiIndex.from_tuples(
            [tuple(f) for f in fd_labels], names=["region", "category"]
        ),
    )
    x = pd.Series(xv, index=products)
    F = pd.DataFrame(
        [xv - Zv.sum(axis=0)], index=pd.Index(["value_added"], name="stressor"), columns=products
    )
    return Z, Y, x, F


def economy_from(Z, Y, x, F, name: str) -> Economy:
    return Economy.from_flows(
        Z,
        Y,
        x,
        accounts=F,
        account_units={a: "USD million" for a in F.index},
        metadata=Metadata(name=name),
    )


@pytest.fixture(scope="session")
def icio_data(shared_data):
    return icio_frames(shared_data)


@pytest.fixture(scope="session")
def icio_economy(icio_data) -> Economy:
    return economy_from(*icio_data, name="ICIO 2022 Americas")


@pytest.fixture(scope="session")
def wiod_data(shared_data):
    return wiod_frames(shared_data, 2011)


@pytest.fixture(scope="session")
def wiod_economy(wiod_data) -> Economy:
    return economy_from(*wiod_data, name="WIOD 2011")


@pytest.fixture(scope="session")
def miller_blair(shared_data) -> tuple[Economy, pd.DataFrame]:
    table = pd.read_csv(
        shared_data / "textbook_examples" / "miller_blair_2009_table2_3.csv", index_col=0
    )
    expected = pd.read_csv(
        shared_data / "textbook_examples" / "miller_blair_2009_table2_3_expected.csv"
    )
    sectors = list(table.index)
    Z = table[[f"Z_{s}" for s in sectors]].to_numpy()
    x = table["total_output"].to_numpy()
    economy = Economy.from_flows(
        Z,
        table["final_demand"].to_numpy(),
        x,
        accounts={"labour": table["labour_coeff"].to_numpy() * x},
        account_units={"labour": "worker-years"},
        products=sectors,
        region="MB",
    )
    return economy, expected
