"""The textbook tables, the useeior use table alone and a pymrio ``save_all`` folder, read by
``read_table`` (format detection) and ``commonplan analyze``, checked against the published
numbers and against pymrio itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pymrio
import pytest

import commonplan
from commonplan.analysis import analyse, linkages, quantities, total_requirements
from commonplan.io import detect_format, read_table

SOURCE = str(Path(commonplan.__file__).resolve().parents[1])
TEXTBOOK = "textbook_examples"


def analyze_cli(table: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from commonplan.cli.main import app; app()", "analyze"]
        + [str(table), "-o", "out"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, "PYTHONPATH": SOURCE},
    )


@pytest.mark.parametrize(
    ("name", "expected_format", "n_products"),
    [
        ("Beutel_15_4.csv", "iotables", 6),
        ("germany_2009.csv", "iotables", 6),
        ("miller_blair_2009_table2_3.csv", "flows", 2),
    ],
)
def test_analyze_reads_the_textbook_tables(
    shared_data, tmp_path, name, expected_format, n_products
):
    path = shared_data / TEXTBOOK / name
    assert detect_format(path) == expected_format
    result = analyze_cli(path, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"analysed {n_products} products" in result.stdout
    assert len(pd.read_csv(tmp_path / "out" / "output_multipliers.csv")) == n_products


def test_beutel_table_15_4_against_the_manual(shared_data):
    """Eurostat Manual (2008) ch. 15: Leontief inverse diagonal (Table 15.10) and backward
    linkages, as quoted in rOpenGov/iotables' tests (4 decimals)."""
    economy = read_table(shared_data / TEXTBOOK / "Beutel_15_4.csv")
    L = total_requirements(economy).to_numpy()
    np.testing.assert_allclose(np.diag(L)[:3], [1.0339, 1.4292, 1.0289], atol=5e-5)
    backward = linkages(economy)["backward"].to_numpy()
    np.testing.assert_allclose(
        backward, [1.7048, 1.8413, 1.8136, 1.6035, 1.5951, 1.3782], atol=5e-5
    )
    assert economy.account_units["employment_total"] == "thousand persons"
    assert economy.account_totals().loc["employment_total"].sum() == pytest.approx(36428)
    assert economy.account_totals().loc["gva_bp"].sum() == pytest.approx(1624160)


def test_un_handbook_germany_2009_emission_multipliers(shared_data):
    """UN Handbook (2018), Germany 2009: total (direct + indirect) emission intensities
    published in emissions.csv. The table's flows are rounded to whole EUR billion, so the
    multipliers agree to 1 % (CO2, every product; CH4 and N2O where they are large)."""
    economy = read_table(shared_data / TEXTBOOK / "germany_2009.csv")
    M = analyse(economy).footprints.M
    published = pd.read_csv(shared_data / TEXTBOOK / "emissions.csv", header=None, index_col=1)
    co2 = published.loc["CO2"].iloc[-6:].to_numpy(float)
    np.testing.assert_allclose(M.loc["CO2"].to_numpy(), co2, rtol=0.01)
    for gas in ("CH4", "N2O"):
        values = published.loc[gas].iloc[1:7].to_numpy(float)
        np.testing.assert_allclose(M.loc[gas].to_numpy()[:2], values[:2], rtol=0.01)


def test_un_handbook_household_emissions_are_final_demand_stressors(shared_data):
    """Households' own CO2 (222,268 in the households' column) counts in the consumption-
    and production-based totals: together with the industries' 686,555 the file's 908,823."""
    economy = read_table(shared_data / TEXTBOOK / "germany_2009.csv")
    assert economy.final_demand_stressors.loc["CO2", "final_consumption_households"] == 222268
    footprints = analyse(economy).footprints
    industries = footprints.D_pba.loc["CO2"].sum()
    for total in (footprints.D_pba_reg, footprints.D_cba_reg):
        assert total.loc["CO2"].sum() - industries == pytest.approx(222268, rel=1e-12)
    # D_pba is S·L·Y: the rounded table's Y reproduces its output to 0.1 %
    assert industries == pytest.approx(686555, rel=1e-3)
    assert footprints.D_pba_reg.loc["CO2"].sum() == pytest.approx(908823, rel=1e-3)


def test_miller_blair_table_2_3_against_the_book(shared_data):
    economy = read_table(shared_data / TEXTBOOK / "miller_blair_2009_table2_3.csv")
    expected = pd.read_csv(shared_data / TEXTBOOK / "miller_blair_2009_table2_3_expected.csv")

    def rows(quantity: str) -> np.ndarray:
        return expected[expected["quantity"] == quantity][["sec1", "sec2"]].to_numpy(float)

    np.testing.assert_allclose(economy.A.toarray(), rows("A"), rtol=1e-12)
    np.testing.assert_allclose(total_requirements(economy).to_numpy(), rows("L"), rtol=1e-7)
    x_new = quantities(economy, np.array([600.0, 1500.0])).to_numpy()
    np.testing.assert_allclose(x_new, rows("x_new(f=[600;1500])")[0], atol=0.05)
    labour = economy.account("labour").to_numpy() * x_new
    np.testing.assert_allclose(labour, rows("labour_total(x_new)")[0], atol=0.05)
    assert list(economy.final_demand.columns) == ["final_demand"]  # labour_coeff is no demand


def test_the_useeior_use_table_alone(shared_data, tmp_path):
    folder = shared_data / "us_bea_summary_2023_useeior"
    use = folder / "Summary_Use_2023_PRO_BeforeRedef_17sch.csv"
    assert detect_format(use) == "bea"
    alone, whole = read_table(use), read_table(folder)
    np.testing.assert_array_equal(alone.A.toarray(), whole.A.toarray())
    # provenance: total industry output 48.39 trillion USD
    assert alone.gross_output.sum() == pytest.approx(48.39e6, rel=1e-3)
    result = analyze_cli(use, tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_pymrio_save_all_folder(tmp_path):
    pymrio.load_test().save_all(tmp_path / "mrio")
    assert detect_format(tmp_path / "mrio") == "pymrio"
    economy = read_table(tmp_path / "mrio")
    io = pymrio.load_test().calc_all()
    footprints = analyse(economy).footprints
    for name in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "M"):
        theirs = pd.concat([getattr(ext, name) for ext in io.get_extensions(data=True)])
        np.testing.assert_allclose(
            getattr(footprints, name).to_numpy(), theirs.to_numpy(float), rtol=1e-9, atol=1e-6
        )
    result = analyze_cli(tmp_path / "mrio", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "analysed 48 products in 6 region(s)" in result.stdout
