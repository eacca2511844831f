"""The long (COO) table format: round trips against the native format, on a real table
(OECD ICIO 2022, 80 countries × 10 sectors) and a generated 10^5-product economy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.errors import InvalidValueError, LabelError, MissingBlockError
from commonplan.io import detect_format, read_economy, read_table, write_economy
from commonplan.io.coo import read_coo, write_coo
from commonplan.io.icio import read_icio_arrays
from random_matrices import sparse_coefficients


def assert_same_economy(a: Economy, b: Economy, rtol: float = 1e-14) -> None:
    """Same labels; coefficients equal up to the rounding of Z = A·x and A = Z / x."""
    assert a.products.equals(b.products)
    assert list(a.final_demand_columns) == list(b.final_demand_columns)
    assert a.account_names == b.account_names
    assert dict(a.account_units) == dict(b.account_units)
    difference = abs(a.use - b.use)
    assert difference.max() <= rtol * abs(a.use).max()
    assert (a.use != 0).sum() == (b.use != 0).sum()
    np.testing.assert_allclose(b.account_coefficients, a.account_coefficients, rtol=rtol, atol=0)
    np.testing.assert_array_equal(b.final_demand_values, a.final_demand_values)
    np.testing.assert_array_equal(b.activity_levels, a.activity_levels)


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_icio_round_trip_through_native_and_coo(shared_data: Path, tmp_path: Path, file_format):
    icio = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_80x10.npz")
    write_economy(icio, tmp_path / "native")
    native = read_economy(tmp_path / "native")
    write_coo(native, tmp_path / "coo", format=file_format)
    assert detect_format(tmp_path / "coo") == "coo"
    back = read_table(tmp_path / "coo")
    assert_same_economy(native, back)
    # the analysis agrees too: Type I output multipliers
    from commonplan.analysis import analyse

    np.testing.assert_allclose(
        analyse(back).output_multipliers["type_I"].to_numpy(),
        analyse(native).output_multipliers["type_I"].to_numpy(),
        rtol=1e-12,
    )


def test_hundred_thousand_products(tmp_path: Path):
    n = 100_000
    A = sparse_coefficients(n, inputs=5, seed=3)
    rng = np.random.default_rng(4)
    y = rng.uniform(1.0, 10.0, (n, 2))
    labour = rng.uniform(0.01, 0.2, n)
    products = pd.MultiIndex.from_arrays(
        [np.repeat([f"R{k}" for k in range(10)], n // 10), [f"s{i}" for i in range(n)]],
        names=["region", "sector"],
    )
    economy = Economy.from_coefficients(
        A,
        pd.DataFrame(y, index=products, columns=["households", "government"]),
        accounts={"labour": labour},
        account_units={"labour": "hours"},
        products=products,
    )
    write_coo(economy, tmp_path / "big")
    flows = pd.read_parquet(tmp_path / "big" / "flows.parquet")
    assert len(flows) == A.nnz  # one row per non-zero, not n²
    back = read_coo(tmp_path / "big")
    assert back.n_products == n
    assert_same_economy(economy, back, rtol=1e-13)


def _write(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


FLOWS = "row_region,row_sector,col_region,col_sector,value\nA,x,A,y,1\nA,y,A,x,2\n"
FD = "row_region,row_sector,category,value\nA,x,hh,9\nA,y,hh,8\n"


def test_small_hand_table_matches_from_flows(tmp_path: Path):
    folder = _write(
        tmp_path / "t",
        flows=FLOWS,
        final_demand=FD,
        accounts="account,col_region,col_sector,value,unit\nlabour,A,x,5,hours\n",
    )
    economy = read_table(folder, format="coo")
    expected = Economy.from_flows(
        np.array([[0.0, 1.0], [2.0, 0.0]]),
        np.array([[9.0], [8.0]]),
        accounts={"labour": np.array([5.0, 0.0])},
        products=[("A", "x"), ("A", "y")],
    )
    np.testing.assert_array_equal(economy.use.toarray(), expected.use.toarray())
    np.testing.assert_array_equal(economy.account_coefficients, expected.account_coefficients)
    assert economy.account_units == {"labour": "hours"}


def test_bad_coo_inputs_raise_one_clear_error(tmp_path: Path):
    with pytest.raises(MissingBlockError, match="flows"):
        read_coo(_write(tmp_path / "a", final_demand=FD))
    with pytest.raises(InvalidValueError, match="repeats"):
        read_coo(_write(tmp_path / "b", flows=FLOWS + "A,x,A,y,3\n"))
    with pytest.raises(InvalidValueError, match="not a finite number"):
        read_coo(_write(tmp_path / "c", flows=FLOWS + "A,x,A,x,abc\n"))
    with pytest.raises(LabelError, match="not in the products file"):
        read_coo(_write(tmp_path / "d", flows=FLOWS, products="region,sector\nA,x\n"))


def test_ragged_and_binary_csv_are_format_errors(tmp_path: Path):
    from commonplan.errors import FileFormatError

    with pytest.raises(FileFormatError, match="could not be read"):
        read_coo(_write(tmp_path / "r", flows=FLOWS + "A,x,A,x,1,7,8\n"))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "flows.csv").write_bytes(b"row_region,\xff\xfe\x00\x01\n")
    with pytest.raises(FileFormatError):
        read_coo(tmp_path / "bin")


def test_hostile_parquet_and_missing_columns(tmp_path: Path):
    from commonplan.errors import FileFormatError

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "flows.parquet").write_bytes(b"not parquet at all")
    assert detect_format(tmp_path / "p") is None
    with pytest.raises(FileFormatError):
        read_coo(tmp_path / "p")
    with pytest.raises(FileFormatError, match="missing"):
        read_coo(_write(tmp_path / "m", flows="row_region,row_sector,value\nA,x,1\n"))
    with pytest.raises(LabelError, match="no row_sector"):
        read_coo(_write(tmp_path / "b", flows=FLOWS + "A,,A,x,1\n"))


def test_pymrio_test_system_round_trip_keeps_final_demand_stressors(tmp_path: Path):
    import pymrio

    from commonplan.analysis import footprints
    from commonplan.io.pymrio_bridge import from_pymrio

    economy = from_pymrio(pymrio.load_test())
    write_coo(economy, tmp_path / "coo", format="csv")
    back = read_table(tmp_path / "coo")
    assert_same_economy(economy, back)
    np.testing.assert_allclose(
        back.final_demand_stressor_values, economy.final_demand_stressor_values, rtol=0, atol=0
    )
    io = pymrio.load_test().calc_all()
    emissions = [a for a in back.account_names if a.startswith("emission")]
    fp = footprints(
        back, accounts=emissions, final_demand_stressors=back.final_demand_stressors.loc[emissions]
    )
    theirs = io.emissions.D_cba_reg.to_numpy()
    assert np.abs(fp.D_cba_reg.to_numpy() - theirs).max() <= 1e-9 * np.abs(theirs).max()


def test_categories_file_orders_and_checks_final_demand(tmp_path: Path):
    folder = _write(tmp_path / "c", flows=FLOWS, final_demand=FD, categories="category\ngov\nhh\n")
    economy = read_coo(folder)
    assert list(economy.final_demand_columns) == ["gov", "hh"]
    assert economy.final_demand["gov"].sum() == 0 and economy.final_demand["hh"].sum() == 17
    with pytest.raises(LabelError, match="not in the categories file"):
        read_coo(_write(tmp_path / "d", flows=FLOWS, final_demand=FD, categories="category\ngov\n"))
    regional = "fd_region,category\nA,hh\n"
    with pytest.raises(LabelError, match="fd_region"):
        read_coo(_write(tmp_path / "e", flows=FLOWS, final_demand=FD, categories=regional))
