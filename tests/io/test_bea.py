"""BEA make/use readers (industry-technology product table), on the real BEA tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.checks import to_number
from commonplan.errors import InvalidValueError, MissingBlockError
from commonplan.io.bea import (
    industry_technology,
    read_bea_summary,
    read_bea_supply_use,
)


@pytest.fixture(scope="module")
def folder(shared_data):
    return shared_data / "us_bea_summary_2023_useeior"


@pytest.fixture(scope="module")
def raw(folder):
    """The 2023 tables read independently with pandas."""
    use = pd.read_csv(folder / "Summary_Use_2023_PRO_BeforeRedef_17sch.csv", index_col=0)
    make = pd.read_csv(folder / "Summary_Make_2023_BeforeRedef_17sch.csv", index_col=0)
    imports = pd.read_csv(folder / "Summary_Import_2023_BeforeRedef_17sch.csv", index_col=0)
    industries = list(make.index[:-1])
    commodities = list(make.columns[:-1])
    return use, make, imports, industries, commodities


@pytest.fixture(scope="module")
def domestic(folder):
    return read_bea_summary(folder)


@pytest.fixture(scope="module")
def total(folder):
    return read_bea_summary(folder, domestic=False)


def test_total_output_2023(domestic, total, raw):
    use, make, *_ = raw
    # PROVENANCE: total industry output 48.39 trillion USD (48,386,809 USD million).
    published = use.loc["Total Industry Output", "Total Commodity Output"]
    assert published == 48_386_809
    for economy in (domestic, total):
        assert economy.n_products == 73
        assert economy.gross_output.sum() / 1e6 == pytest.approx(48.39, abs=0.005)
        # q = 1ᵀV: the make table's commodity totals (rounded to USD million).
        np.testing.assert_allclose(
            economy.gross_output.to_numpy(), make.iloc[:-1, :-1].sum().to_numpy()
        )


def test_row_identity(domestic, total):
    for economy in (domestic, total):
        Z = economy.flows().toarray()
        gap = (
            Z.sum(axis=1)
            + economy.final_demand.to_numpy().sum(axis=1)
            - economy.gross_output.to_numpy()
        )
        assert np.abs(gap).max() < 1e-6 * economy.gross_output.max()


def test_product_table_is_B_times_D(total, raw):
    use, make, _, industries, commodities = raw
    U = use.loc[commodities, industries].to_numpy(float)
    V = make.loc[industries, commodities].to_numpy(float)
    g, q = V.sum(axis=1), V.sum(axis=0)
    B = U / g  # commodity × industry input coefficients
    D = V / q  # market shares, industry × commodity
    A = B @ D
    A[A < 0] = 0.0  # the reader clips the few negative product flows (documented)
    np.testing.assert_allclose(total.A.toarray(), A, rtol=1e-10, atol=1e-14)
    clipped = total.metadata.extra["clipped_negative_flows"]
    assert clipped["cells"] == int(((B @ D) < 0).sum())


def test_domestic_and_import_split_consistent(domestic, total, raw):
    _, _, imports, industries, commodities = raw
    x = domestic.gross_output.to_numpy()
    Z_dom, Z_tot = domestic.flows().toarray(), total.flows().toarray()
    imported = domestic.account_totals().loc["imports"].to_numpy()
    clipped = abs(domestic.metadata.extra["clipped_negative_flows"]["total"]) + abs(
        total.metadata.extra["clipped_negative_flows"]["total"]
    )
    # Domestic inputs + imported inputs = total inputs, product by product.
    gap = Z_dom.sum(axis=0) + imported - Z_tot.sum(axis=0)
    assert np.abs(gap).sum() <= clipped + 1e-6
    # All intermediate imports of the imports table are in the account.
    assert imported.sum() == pytest.approx(
        imports.loc[commodities, industries].to_numpy().sum(), rel=1e-12
    )
    assert imported.sum() == pytest.approx(imports.loc[commodities, "T001"].sum(), abs=50)
    # Column identity of the domestic table: inputs + value added + imports = output.
    totals = domestic.account_totals()
    inputs = Z_dom.sum(axis=0) + totals.loc["value_added"].to_numpy() + imported
    assert np.abs(inputs - x).sum() <= clipped + 100  # rounding of the published tables
    assert total.final_demand["F050"].sum() == pytest.approx(-3_436_905)
    assert "F050" not in domestic.final_demand.columns


def test_value_added_components(domestic, raw):
    use, _, _, industries, _ = raw
    totals = domestic.account_totals().sum(axis=1)
    assert totals["value_added"] == pytest.approx(
        use.loc["V001":"V003", industries].to_numpy().sum()
    )
    assert totals["compensation_of_employees"] == pytest.approx(use.loc["V001", industries].sum())
    assert domestic.account_units["imports"] == "USD million"
    assert domestic.metadata.extra["sector_names"]["111CA"] == "Farms"


def test_negative_raise(folder):
    with pytest.raises(InvalidValueError, match="negative"):
        read_bea_summary(folder, negative="raise")


def test_domestic_needs_imports(folder):
    with pytest.raises(MissingBlockError, match="imports"):
        read_bea_summary(
            folder / "Summary_Use_2023_PRO_BeforeRedef_17sch.csv",
            folder / "Summary_Make_2023_BeforeRedef_17sch.csv",
        )


def test_wrong_imports_table(folder, tmp_path):
    imports = pd.read_csv(folder / "Summary_Import_2023_BeforeRedef_17sch.csv", index_col=0)
    imports.loc["111CA", "F010"] += 5000.0  # rows no longer balance
    path = tmp_path / "imports.csv"
    imports.to_csv(path)
    with pytest.raises(InvalidValueError, match=r"imports.csv, row '111CA'"):
        read_bea_summary(
            folder / "Summary_Use_2023_PRO_BeforeRedef_17sch.csv",
            folder / "Summary_Make_2023_BeforeRedef_17sch.csv",
            path,
        )


@pytest.mark.parametrize("size", [15, 71])
def test_quantecon_supply_use(shared_data, size):
    folder = shared_data / "us_bea_2021_quantecon"
    economy = read_bea_supply_use(folder / f"use_{size}.csv", folder / f"make_{size}.csv")
    use = pd.read_csv(folder / f"use_{size}.csv", index_col=0).replace("---", 0)
    supply = pd.read_csv(folder / f"make_{size}.csv", index_col=0).replace("---", 0)
    assert economy.n_products == size + 2  # plus scrap and noncomparable imports
    assert {"Used", "Other"} <= set(economy.sectors)
    g = use.loc["Total industry output (basic prices)"].iloc[:size].astype(float).sum()
    assert economy.gross_output.sum() == pytest.approx(g, abs=10)  # rounded tables
    imported = sum(economy.metadata.extra["imports_by_product"].values())
    total_supply = supply.iloc[:-1, -1].astype(float).sum()
    domestic_supply = supply.iloc[:-1, :size].astype(float).to_numpy().sum()
    assert imported == pytest.approx(total_supply - domestic_supply, abs=10)
    Z = economy.flows().toarray()
    gap = (
        Z.sum(axis=1)
        + economy.final_demand.to_numpy().sum(axis=1)
        - economy.gross_output.to_numpy()
    )
    assert np.abs(gap).max() < 1e-6 * economy.gross_output.max()
    # Use at purchasers' prices vs supply at basic prices: the balancing column adds up to minus
    # the net product taxes (margins cancel), less the clipped negative flows.
    taxes = (
        use.loc["Taxes on products and imports"].iloc[:size].astype(float).sum()
        - use.loc["Less: Subsidies on products"].iloc[:size].astype(float).sum()
    )
    total = read_bea_supply_use(
        folder / f"use_{size}.csv", folder / f"make_{size}.csv", domestic=False
    )
    assert total.final_demand["margins_and_net_product_taxes"].sum() == pytest.approx(
        -taxes - abs(total.metadata.extra["clipped_negative_flows"]["total"]), abs=20
    )
    assert total.final_demand["imports"].sum() == pytest.approx(-imported)


def test_quantecon_15_imports_column(shared_data):
    folder = shared_data / "us_bea_2021_quantecon"
    economy = read_bea_supply_use(folder / "use_15.csv", folder / "make_15.csv")
    supply = pd.read_csv(folder / "make_15.csv", index_col=0).replace("---", 0)
    assert economy.metadata.extra["imports_by_product"]["31G"] == pytest.approx(
        float(supply.loc["Manufacturing", "Imports"])
    )
    assert economy.metadata.extra["sector_names"]["31G"] == "Manufacturing"


def test_suppressed_cells():
    assert to_number("---", suppressed_as_zero=True) == 0.0
    assert np.isnan(to_number("---"))
    assert to_number("1,234.5") == 1234.5
    assert to_number("(12)") == -12.0


def test_kernel_on_miller_blair_example():
    # Miller & Blair (2009) §5.3.1 style: 2 commodities, 2 industries; closed-form check.
    U = np.array([[10.0, 20.0], [30.0, 5.0]])
    V = np.array([[90.0, 10.0], [0.0, 100.0]])  # industry 1 also makes commodity 2
    table = industry_technology(U, V, np.zeros((2, 0)), np.array([[60.0, 75.0]]))
    g, q = V.sum(axis=1), V.sum(axis=0)
    expected = (U / g) @ (V / q) * q
    np.testing.assert_allclose(table.Z, expected)
    np.testing.assert_allclose(table.x, q)
    # column identity: inputs + value added = output, product by product
    np.testing.assert_allclose(table.Z.sum(axis=0) + table.accounts[0], q)
