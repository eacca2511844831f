"""Priority ballots: validation, and the mean/median aggregation rules against direct computations."""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commonplan.councils.ballots import (
    TargetGroup,
    aggregate,
    assembly_allocation,
    ballot_matrix,
    council_allocations,
    target_weights,
    validate_ballot,
    validate_target_groups,
    weighted_median,
)
from commonplan.errors import BallotError

GROUPS = ["food", "housing", "health"]


def test_valid_ballot_is_completed_in_group_order():
    assert validate_ballot({"health": 40, "food": "60"}, GROUPS) == {
        "food": 60.0,
        "housing": 0.0,
        "health": 40.0,
    }


def test_two_decimals_summing_exactly_to_100_are_accepted():
    # 33.33 + 33.33 + 33.34 is not exactly 100 in binary floating point, but is in decimal
    assert 0.1 + 0.2 != 0.3
    ballot = validate_ballot({"food": 33.33, "housing": 33.33, "health": 33.34}, GROUPS)
    assert ballot["health"] == 33.34


@pytest.mark.parametrize(
    ("points", "fragment", "where"),
    [
        ({"food": 50, "housing": 40}, "sum to 90", "total"),
        ({"food": 50, "housing": 60}, "sum to 110", "total"),
        ({"food": 120, "housing": -20}, "at most 100", "food"),
        ({"food": 110, "housing": -10}, "at most 100", "food"),
        ({"food": 100, "housing": -0.0001}, "negative", "housing"),
        ({"food": 101, "housing": -1}, "at most 100", "food"),
        ({"food": 100.5, "housing": -0.5}, "at most 100", "food"),
        ({"food": 50, "transport": 50}, "unknown target group 'transport'", "transport"),
        ({"food": 33.333, "housing": 66.667}, "at most 2 decimals", "food"),
        ({"food": float("nan"), "housing": 100}, "finite", "food"),
        ({"food": float("inf")}, "finite", "food"),
        ({"food": "many", "housing": 100}, "not a number", "food"),
        ({"food": True, "housing": 99}, "must be a number", "food"),
        ({"food": None, "housing": 100}, "must be a number", "food"),
        ({}, "at least one target group", "ballot"),
    ],
)
def test_malformed_ballots_are_refused_with_the_group_named(points, fragment, where):
    with pytest.raises(BallotError) as error:
        validate_ballot(points, GROUPS)
    assert fragment in str(error.value)
    assert where in error.value.where


def test_negative_points_are_named():
    with pytest.raises(BallotError, match="negative") as error:
        validate_ballot({"food": 60, "housing": -10, "health": 50}, GROUPS)
    assert "housing" in error.value.where


def _direct_council_means(ballots, memberships):
    out = {}
    for council, members in memberships.groupby("council")["member"]:
        voters = [m for m in members if m in ballots.index]
        if voters:
            out[council] = {
                g: statistics.fmean(ballots.loc[v, g] for v in voters) for g in ballots.columns
            }
    return pd.DataFrame.from_dict(out, orient="index")


def test_mean_rule_matches_direct_computation_and_weights_by_membership():
    ballots = ballot_matrix(
        {
            1: {"food": 60, "housing": 30, "health": 10},
            2: {"food": 20, "housing": 20, "health": 60},
            3: {"food": 0, "housing": 100},
            4: {"food": 50, "health": 50},
        },
        GROUPS,
    )
    # member 2 is in two councils; member 5 has not voted; council "c" has no voter
    memberships = pd.DataFrame(
        [("w", 1), ("w", 2), ("p", 2), ("p", 3), ("p", 5), ("k", 4), ("c", 5)],
        columns=["council", "member"],
    )
    counts = memberships.groupby("council").size()
    councils, assembly = aggregate(ballots, memberships, counts, rule="mean")
    expected = _direct_council_means(ballots, memberships)
    pd.testing.assert_frame_equal(councils.sort_index(), expected.sort_index(), check_names=False)
    assert "c" not in councils.index
    # assembly = membership-weighted mean of council allocations: w has 2, p has 3, k has 1 members
    hand = (2 * expected.loc["w"] + 3 * expected.loc["p"] + 1 * expected.loc["k"]) / 6
    np.testing.assert_allclose(assembly.to_numpy(), hand.to_numpy())
    assert assembly.sum() == pytest.approx(100)
    weights = target_weights(assembly)
    assert weights.sum() == pytest.approx(1) and (weights >= 0).all()


def test_median_rule_uses_componentwise_median_then_rescales():
    ballots = ballot_matrix(
        {
            1: {"food": 80, "housing": 10, "health": 10},
            2: {"food": 10, "housing": 80, "health": 10},
            3: {"food": 10, "housing": 10, "health": 80},
        },
        GROUPS,
    )
    memberships = pd.DataFrame([("w", 1), ("w", 2), ("w", 3)], columns=["council", "member"])
    councils = council_allocations(ballots, memberships, rule="median")
    # medians are 10, 10, 10 (sum 30) → rescaled to 33.33… each
    np.testing.assert_allclose(councils.loc["w"].to_numpy(), [100 / 3] * 3)
    assembly = assembly_allocation(councils, {"w": 3}, rule="median")
    np.testing.assert_allclose(assembly.to_numpy(), [100 / 3] * 3)


def test_median_resists_an_extreme_ballot_where_the_mean_does_not():
    ballots = ballot_matrix(
        {k: {"food": 40, "housing": 30, "health": 30} for k in range(1, 5)} | {5: {"food": 100}},
        GROUPS,
    )
    memberships = pd.DataFrame([("w", k) for k in range(1, 6)], columns=["council", "member"])
    mean = council_allocations(ballots, memberships, rule="mean").loc["w"]
    median = council_allocations(ballots, memberships, rule="median").loc["w"]
    assert median["food"] == pytest.approx(40)
    assert mean["food"] == pytest.approx(52)


@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=9),
)
def test_weighted_median_with_equal_weights_is_numpys_median(values):
    values = np.array(values)
    assert weighted_median(values, np.ones_like(values)) == pytest.approx(np.median(values))


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(1, 5)), min_size=1, max_size=8),
)
def test_weighted_median_equals_median_of_repeated_values(pairs):
    values = np.array([v for v, _ in pairs], dtype=float)
    weights = np.array([w for _, w in pairs], dtype=float)
    repeated = np.repeat(values, weights.astype(int))
    assert weighted_median(values, weights) == pytest.approx(np.median(repeated))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 100), min_size=3, max_size=3), min_size=1, max_size=12),
    st.integers(1, 4),
    st.sampled_from(["mean", "median"]),
    st.randoms(use_true_random=False),
)
def test_any_valid_ballots_aggregate_to_100_points(raw, n_councils, rule, rnd):
    ballots = {}
    for k, row in enumerate(raw):
        a, b = sorted((row[0], row[1]))
        ballots[k] = {"food": a, "housing": b - a, "health": 100 - b}
    matrix = ballot_matrix(ballots, GROUPS)
    memberships = pd.DataFrame(
        [(rnd.randrange(n_councils), k) for k in ballots], columns=["council", "member"]
    )
    counts = memberships.groupby("council").size()
    councils, assembly = aggregate(matrix, memberships, counts, rule=rule)
    np.testing.assert_allclose(councils.sum(axis=1), 100)
    assert assembly.sum() == pytest.approx(100)
    assert (assembly >= -1e-12).all()
    # the assembly allocation lies within the range of the council allocations
    assert (assembly <= councils.max() + 1e-9).all() and (assembly >= councils.min() - 1e-9).all()


def test_no_ballots_cannot_be_aggregated():
    matrix = ballot_matrix({}, GROUPS)
    memberships = pd.DataFrame([("w", 1)], columns=["council", "member"])
    with pytest.raises(BallotError, match="no ballots"):
        aggregate(matrix, memberships, {"w": 1})


def test_unknown_rule_is_refused():
    with pytest.raises(BallotError, match="unknown aggregation rule"):
        council_allocations(
            ballot_matrix({}, GROUPS), pd.DataFrame(columns=["council", "member"]), rule="mode"
        )


def test_target_groups_are_validated():
    groups = validate_target_groups(
        [
            "food",
            {"name": "energy", "sectors": ["D35"]},
            TargetGroup("investment", kind="investment"),
        ]
    )
    assert [g.name for g in groups] == ["food", "energy", "investment"]
    assert groups[1].sectors == ("D35",)
    with pytest.raises(BallotError, match="listed twice"):
        validate_target_groups(["food", "food"])
    with pytest.raises(BallotError, match="at least two"):
        validate_target_groups(["food"])
    with pytest.raises(BallotError, match="unknown kind"):
        validate_target_groups(["food", {"name": "x", "kind": "magic"}])
