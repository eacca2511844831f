"""Exact round trips of every writer/reader pair of this area, on generated and real economies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonplan import Economy, Metadata
from commonplan.io.icio import read_icio_arrays
from commonplan.io.native import (
    economy_from_bytes,
    economy_to_bytes,
    read_economy,
    write_economy,
)
from commonplan.io.wiod import read_wiod_arrays, read_wiod_niot


def assert_identical(a: Economy, b: Economy) -> None:
    """Bit-identical arrays, identical labels and metadata."""
    for name in ("use", "make"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape
        for part in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(x, part), getattr(y, part)), (name, part)
        assert x.data.tobytes() == y.data.tobytes()
    assert a.account_coefficients.tobytes() == b.account_coefficients.tobytes()
    assert a.final_demand_values.tobytes() == b.final_demand_values.tobytes()
    if a.activity_levels is None:
        assert b.activity_levels is None
    else:
        assert a.activity_levels.tobytes() == b.activity_levels.tobytes()
    assert a.products.equals(b.products) and list(a.products.names) == list(b.products.names)
    assert a.activities.equals(b.activities) and list(a.activities.names) == list(
        b.activities.names
    )
    assert a.final_demand_columns.equals(b.final_demand_columns)
    assert list(a.final_demand_columns.names) == list(b.final_demand_columns.names)
    assert type(a.final_demand_columns) is type(b.final_demand_columns)
    assert a.account_names == b.account_names
    assert dict(a.account_units) == dict(b.account_units)
    assert a.metadata == b.metadata
    assert a.check_productive == b.check_productive


text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
finite = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | finite | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=6,
)


@st.composite
def economies(draw: st.DrawFn) -> Economy:
    """Any valid economy: joint products and several techniques (make ≠ I), negative or
    zero accounts, flat or (region, category) final demand, labels in any script."""
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 7))
    product_labels = draw(st.lists(st.tuples(text, text), min_size=n, max_size=n, unique=True))
    activity_labels = draw(st.lists(st.tuples(text, text), min_size=m, max_size=m, unique=True))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    use = sp.random_array((n, m), density=draw(st.floats(0.0, 1.0)), rng=rng, format="csr") * draw(
        st.sampled_from([1e-300, 1e-3, 0.3, 7.0, 1e200])
    )
    make = sp.random_array((n, m), density=0.3, rng=rng, format="lil")
    make[rng.integers(0, n, m), np.arange(m)] = rng.random(m) + 0.5
    k = draw(st.integers(0, 3))
    account_names = draw(st.lists(text, min_size=k, max_size=k, unique=True))
    categories = draw(st.integers(0, 3))
    if draw(st.booleans()) and categories:
        columns = pd.MultiIndex.from_tuples(
            draw(
                st.lists(
                    st.tuples(text, text), min_size=categories, max_size=categories, unique=True
                )
            ),
            names=["region", "category"],
        )
    else:
        columns = pd.Index(
            draw(st.lists(text, min_size=categories, max_size=categories, unique=True)),
            dtype=object,
        )
    return Economy(
        products=pd.MultiIndex.from_tuples(product_labels),
        activities=pd.MultiIndex.from_tuples(activity_labels),
        use=use,
        make=sp.csr_array(make),
        account_coefficients=rng.normal(0, 1e3, (k, m)) * (rng.random((k, m)) < 0.8),
        account_names=tuple(account_names),
        account_units={name: draw(text) for name in account_names},
        final_demand_values=rng.normal(0, 50, (n, categories)),
        final_demand_columns=columns,
        activity_levels=None if draw(st.booleans()) else rng.exponential(100.0, m),
        metadata=Metadata(
            name=draw(text),
            year=draw(st.none() | st.integers(1900, 2100)),
            units=draw(text),
            source=draw(text),
            citation=draw(text),
            notes=draw(st.text(max_size=40)),
            extra=draw(st.dictionaries(text, json_values, max_size=4)),
        ),
        check_productive=False,
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(economy=economies())
def test_native_round_trip_is_exact_for_any_economy(
    tmp_path_factory: pytest.TempPathFactory, economy: Economy
) -> None:
    folder = tmp_path_factory.mktemp("native")
    write_economy(economy, folder)
    assert_identical(economy, read_economy(folder))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(economy=economies())
def test_packed_bytes_round_trip_is_exact_and_deterministic(economy: Economy) -> None:
    data = economy_to_bytes(economy)
    assert_identical(economy, economy_from_bytes(data))
    assert economy_to_bytes(economy) == data


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_native_round_trip_of_symmetric_tables_from_flows(
    tmp_path_factory: pytest.TempPathFactory, n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    Z = rng.exponential(5.0, (n, n)) * (rng.random((n, n)) < 0.4)
    Y = rng.exponential(50.0, (n, 2))
    economy = Economy.from_flows(
        Z, Y, accounts={"labour": rng.exponential(3.0, n)}, account_units={"labour": "hours"}
    )
    folder = tmp_path_factory.mktemp("sym")
    write_economy(economy, folder)
    back = read_economy(folder)
    assert_identical(economy, back)
    assert back.is_symmetric
    np.testing.assert_allclose(back.flows().toarray(), Z, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize(
    "load",
    [
        lambda data: read_icio_arrays(data / "mrio/icio2025_y2022_americas11x50.npz"),
        lambda data: read_wiod_arrays(data / "mrio/wiod2013_wiot_2011.npz"),
        lambda data: read_wiod_niot(data / "us_wiod_niot_2000_2014/usaiot.csv", year=2014),
    ],
    ids=["icio-americas", "wiod-2011", "wiod-niot-usa-2014"],
)
def test_native_round_trip_of_real_economies(tmp_path: Path, shared_data: Path, load) -> None:
    economy = load(shared_data)
    write_economy(economy, tmp_path / "e")
    back = read_economy(tmp_path / "e")
    assert_identical(economy, back)
    # and a second generation is byte-for-byte the same data
    write_economy(back, tmp_path / "f")
    assert_identical(back, read_economy(tmp_path / "f"))
