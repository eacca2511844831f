"""The shipped demo dataset: BEA 2021 tables copied from quantecon-book-networks."""

from __future__ import annotations

import filecmp
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from commonplan.datasets import dataset_path, list_datasets, load_dataset, load_demo
from commonplan.errors import NotFoundError


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_list_and_unknown():
    assert {"bea2021", "bea2021_15"} <= set(list_datasets())
    with pytest.raises(NotFoundError, match="list_datasets"):
        load_dataset("nope")


def test_files_are_the_quantecon_originals():
    # The shipped copies are byte-identical to those of the MIT-licensed PyPI package.
    source = resources.files("quantecon_book_networks").joinpath("data", "csv_files")
    for name in ("use_71.csv", "make_71.csv", "use_15.csv", "make_15.csv"):
        assert filecmp.cmp(dataset_path() / name, str(source.joinpath(name)), shallow=False)
    readme = (dataset_path() / "README.md").read_text()
    assert "public domain" in readme and "MIT" in readme and "compensation" in readme.lower()


def test_demo_economy(demo):
    assert demo.n_products == 73
    assert demo.metadata.year == 2021
    assert demo.metadata.extra["dataset"] == "bea2021"
    assert "Bureau of Economic Analysis" in demo.metadata.citation
    assert {"value_added", "compensation_of_employees", "imports"} <= set(demo.account_names)
    use = pd.read_csv(dataset_path() / "use_71.csv", index_col=0).replace("---", 0)
    output = use.loc["Total industry output (basic prices)"].iloc[:71].astype(float).sum()
    assert demo.gross_output.sum() == pytest.approx(output, abs=10)
    va = use.loc["Value Added (basic prices)"].iloc[:71].astype(float).sum()
    assert demo.account_totals().loc["value_added"].sum() == pytest.approx(va, abs=10)


def test_demo_supports_multipliers(demo):
    # Output and value-added multipliers exist and are sensible: 1 ≤ m_out, VA+imports share ≈ 1.
    A = demo.A.toarray()
    L = np.linalg.inv(np.eye(demo.n_products) - A)
    output_multipliers = L.sum(axis=0)
    assert (output_multipliers >= 1.0 - 1e-12).all() and output_multipliers.max() < 5
    primary = demo.accounts.loc[["value_added", "imports"]].sum().to_numpy()
    content = primary @ L  # value added + imports embodied per unit of final demand
    produced = demo.gross_output.to_numpy() > 0
    assert np.all(np.abs(content[produced] - 1.0) < 0.2)


def test_total_flows_variant():
    total = load_dataset("bea2021", domestic=False)
    assert "imports" in total.final_demand.columns
    assert "imports" not in total.account_names
