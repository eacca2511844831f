"""Exploring a stored economy: key sectors and dependence against dense oracles, and the cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.services import assemblies, explorer
from commonplan.services.roles import Actor

A = np.array([[0.1, 0.2, 0.0], [0.3, 0.1, 0.2], [0.0, 0.25, 0.05]])
PRODUCTS = pd.MultiIndex.from_tuples([("A", "x"), ("A", "y"), ("B", "x")])


@pytest.fixture(autouse=True)
def empty_cache():
    explorer._CACHE.clear()
    yield
    explorer._CACHE.clear()


def two_regions(accounts: dict[str, list[float]], *, by_region: bool = True) -> Economy:
    columns = (
        pd.MultiIndex.from_tuples([("A", "hh"), ("B", "hh")], names=["region", "category"])
        if by_region
        else pd.Index(["hh", "gov"])
    )
    y = pd.DataFrame([[1.0, 0.0], [2.0, 0.5], [0.0, 3.0]], index=PRODUCTS, columns=columns)
    return Economy.from_coefficients(A, y=y, accounts=accounts, products=PRODUCTS)


def store(db, economy: Economy, name: str = "e") -> int:
    return assemblies.store_economy(db, Actor.system(), economy, name=name).id


def test_key_sectors_and_imports_embodied_match_a_dense_inverse(db):
    economy = Economy.from_coefficients(
        A,
        y=np.ones((3, 1)),
        accounts={"value_added": [0.6, 0.4, 0.75], "imports": [0.1, 0.2, 0.05]},
        products=["p", "q", "r"],
    )
    found = explorer.explore_economy(db, store(db, economy, "one region"))
    L = np.linalg.inv(np.eye(3) - A)
    backward = L.sum(axis=0)
    np.testing.assert_allclose(
        found.linkages["power_of_dispersion"].to_numpy(), backward / backward.mean(), rtol=1e-10
    )
    assert found.economy_name == "one region" and found.problem == ""
    assert found.dependence.kind == "imports_embodied" and found.dependence.account == "imports"
    np.testing.assert_allclose(
        found.dependence.values.to_numpy(), np.array([0.1, 0.2, 0.05]) @ L, rtol=1e-10
    )


def test_value_added_origin_prefers_value_added_then_compensation(db):
    L = np.linalg.inv(np.eye(3) - A)
    Y = np.array([[1.0, 0.0], [2.0, 0.5], [0.0, 3.0]])
    v = np.array([0.5, 0.6, 0.7])
    both = two_regions({"compensation_of_employees": [0.4, 0.3, 0.2], "value_added": list(v)})
    found = explorer.explore_economy(db, store(db, both, "both"))
    assert found.dependence.kind == "value_added_origin"
    assert found.dependence.account == "value_added"
    embodied = v[:, None] * (L @ Y)
    expected = np.vstack([embodied[:2].sum(axis=0), embodied[2:].sum(axis=0)])
    np.testing.assert_allclose(found.dependence.values.to_numpy(), expected, rtol=1e-10)
    wages = two_regions({"compensation_of_employees": [0.4, 0.3, 0.2]})
    assert explorer.explore_economy(db, store(db, wages)).dependence.account == (
        "compensation_of_employees"
    )
    neither = two_regions({"hours": [1.0, 2.0, 3.0]})
    found = explorer.explore_economy(db, store(db, neither))
    assert found.dependence is None and found.dependence_problem == ""


def test_a_failed_dependence_keeps_the_key_sectors_and_says_why(db):
    flat = two_regions({"value_added": [0.5, 0.6, 0.7]}, by_region=False)
    found = explorer.explore_economy(db, store(db, flat))
    assert found.linkages is not None and found.dependence is None
    assert "not split by destination region" in found.dependence_problem


def test_results_are_cached_by_content_hash_and_bounded(db, monkeypatch):
    economy = two_regions({"value_added": [0.5, 0.6, 0.7]})
    first = explorer.explore_economy(db, store(db, economy, "first"))

    def no_load(db, economy_id):
        raise AssertionError("the cached exploration should not read the blob again")

    monkeypatch.setattr(explorer, "load_economy", no_load)
    again = explorer.explore_economy(db, store(db, economy, "same bytes"))
    assert again.sha256 == first.sha256 and again.economy_name == "same bytes"
    assert again.linkages is first.linkages and again.dependence is first.dependence
    monkeypatch.undo()
    monkeypatch.setattr(explorer, "CACHE_SIZE", 1)
    other = two_regions({"value_added": [0.5, 0.6, 0.8]})
    latest = explorer.explore_economy(db, store(db, other, "other"))
    assert latest.sha256 != first.sha256 and list(explorer._CACHE) == [latest.sha256]
