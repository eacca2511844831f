"""The shipped multi-regional dataset: OECD ICIO 2022, 11 regions × 10 sector groups."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from commonplan.datasets import dataset_path, list_datasets, load_dataset
from commonplan.io.icio import read_icio_arrays

NAME = "icio2022_americas"
FILE = "icio2022_americas11x10.npz"
REGIONS = ["ARG", "BRA", "CAN", "CHL", "CHN", "COL", "CRI", "MEX", "PER", "USA", "OTH"]
AMERICAS_50 = (
    "mrio/icio2025_y2022_americas11x50.npz"  # tests-only extract, 11 regions × 50 industries
)


@pytest.fixture(scope="module")
def economy():
    return load_dataset(NAME)


@pytest.fixture(scope="module")
def arrays():
    with np.load(dataset_path(NAME) / FILE, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def test_listed_and_packaged():
    assert NAME in list_datasets()
    data = resources.files("commonplan.datasets").joinpath(NAME, FILE)
    assert data.is_file()
    assert data.read_bytes()[:2] == b"PK"  # an .npz (zip) archive
    assert len(data.read_bytes()) < 200_000
    readme = (
        resources.files("commonplan.datasets")
        .joinpath(NAME, "README.md")
        .read_text(encoding="utf-8")
    )
    assert "CC BY 4.0" in readme and "MIT" in readme and "OECD (2025)" in readme
    assert resources.files("commonplan.datasets").joinpath(NAME, "derive.py").is_file()


def test_loads(economy):
    assert economy.n_products == 110
    assert list(economy.regions) == REGIONS
    assert len(economy.sectors) == 10
    assert economy.metadata.year == 2022
    assert economy.metadata.extra["dataset"] == NAME
    assert "OECD (2025)" in economy.metadata.citation
    assert "value_added" in economy.account_names
    assert economy.gross_output.sum() == pytest.approx(192_418_683, rel=1e-6)  # USD million


def test_identities(arrays):
    Z, x = arrays["Z"], arrays["x"]
    assert Z.dtype == np.float64 and Z.shape == (110, 110)
    assert (Z >= 0).all() and (arrays["fu_plus"] >= 0).all() and (arrays["va_plus"] >= 0).all()
    np.testing.assert_allclose(Z.sum(axis=1) + arrays["fu_plus"], x, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(Z.sum(axis=0) + arrays["va_plus"], x, rtol=1e-12, atol=1e-6)
    # the same file read directly
    assert read_icio_arrays(dataset_path(NAME) / FILE).n_products == 110


def test_colombia_partners(arrays):
    labels = [str(label) for label in arrays["labels"]]
    regions = [label.split("_", 1)[0] for label in labels]
    col = [i for i, r in enumerate(regions) if r == "COL"]
    inflow = {
        r: arrays["Z"][[i for i, q in enumerate(regions) if q == r]][:, col].sum()
        for r in REGIONS
        if r != "COL"
    }
    total = sum(inflow.values())
    assert total == pytest.approx(44_695, rel=1e-3)  # USD million from the 79 other ICIO economies
    assert inflow["USA"] / total == pytest.approx(0.290, abs=0.001)
    assert inflow["CHN"] / total == pytest.approx(0.196, abs=0.001)


def test_matches_aggregation_of_50_industry_extract(shared_data: Path, arrays):
    with np.load(shared_data / AMERICAS_50, allow_pickle=False) as npz:
        fine = {key: npz[key] for key in npz.files}
    group_of = {
        code: m.split(":")[0] for m in arrays["group_members"] for code in m.split(":")[1].split()
    }
    index = {str(label): i for i, label in enumerate(arrays["labels"])}
    rows = [
        index[f"{r}_{group_of[s]}"]
        for r, s in (str(label).split("_", 1) for label in fine["labels"])
    ]
    G = np.zeros((110, len(rows)))
    G[rows, np.arange(len(rows))] = 1.0
    np.testing.assert_allclose(arrays["Z"], G @ fine["Z"] @ G.T, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(arrays["x"], G @ fine["x"], rtol=1e-9)
    np.testing.assert_allclose(arrays["va_plus"], G @ fine["va_plus"], rtol=1e-9, atol=1e-6)
    # the extract's fu_plus is the carrier's z, computed before the 0.98 cost-share cap
    np.testing.assert_allclose(arrays["fu_plus"], G @ fine["fu_plus"], rtol=0, atol=10.0)
    assert [str(r) for r in arrays["oth_members"]] == [str(r) for r in fine["oth_members"]]
