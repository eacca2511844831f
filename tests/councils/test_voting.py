"""The Schulze method against Schulze's published worked example, a brute-force path oracle,
and the properties the method is proved to have."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commonplan.councils.voting import (
    pairwise_matrix,
    schulze,
    strongest_paths,
    validate_ranking,
)
from commonplan.errors import BallotError

# M. Schulze, "Schulze method examples", example 1 (also the example in Wikipedia's "Schulze method"):
# 45 voters, 5 candidates.
EXAMPLE_1 = [
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]
EXAMPLE_1_D = [
    [0, 20, 26, 30, 22],
    [25, 0, 16, 33, 18],
    [19, 29, 0, 17, 24],
    [15, 12, 28, 0, 14],
    [23, 27, 21, 31, 0],
]
EXAMPLE_1_P = [
    [0, 28, 28, 30, 24],
    [25, 0, 28, 33, 24],
    [25, 29, 0, 29, 24],
    [25, 28, 28, 0, 24],
    [25, 28, 28, 31, 0],
]


def test_published_example_pairwise_strongest_paths_and_order():
    rankings = [list(order) for _, order in EXAMPLE_1]
    counts = [n for n, _ in EXAMPLE_1]
    result = schulze(rankings, list("ABCDE"), counts)
    np.testing.assert_array_equal(result.pairwise.to_numpy(), EXAMPLE_1_D)
    np.testing.assert_array_equal(result.strongest.to_numpy(), EXAMPLE_1_P)
    assert result.winner == "E"
    assert result.order == ("E", "A", "C", "B", "D")
    assert result.winners == ("E",)
    assert not result.tie_broken
    assert result.n_ballots == 45
    assert list(result.pairwise.index) == list("ABCDE")


def test_expanded_ballots_equal_counted_ballots():
    expanded = [list(order) for n, order in EXAMPLE_1 for _ in range(n)]
    result = schulze(expanded, list("ABCDE"))
    np.testing.assert_array_equal(result.pairwise.to_numpy(), EXAMPLE_1_D)
    assert result.order == ("E", "A", "C", "B", "D")


def test_tie_is_broken_by_borda_score_then_listed_order():
    # A perfect two-way tie: equal Borda scores, so the listed order decides.
    result = schulze([["A", "B"], ["B", "A"]], ["A", "B"])
    assert set(result.winners) == {"A", "B"} and result.tie_broken
    assert result.order == ("A", "B")
    result = schulze([["A", "B"], ["B", "A"]], ["B", "A"])
    assert result.order == ("B", "A")
    # A Condorcet cycle A>B>C>A with equal margins: Schulze ties all three; Borda scores are equal too.
    cycle = [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"]]
    assert schulze(cycle, ["C", "B", "A"]).order == ("C", "B", "A")


def test_tie_break_prefers_larger_borda_score_over_listed_order():
    # d[A,B] = d[B,A] = 1 and d[B,C] = d[C,B] = 1: Schulze leaves A and B tied at the top;
    # Borda scores are A 3, B 2, C 1, so A comes first although B is listed first.
    rankings = [["A", "C", "B"], ["B", "A", "C"]]
    result = schulze(rankings, ["B", "A", "C"])
    assert result.pairwise.loc["A", "B"] == result.pairwise.loc["B", "A"] == 1
    assert set(result.winners) == {"A", "B"} and result.tie_broken
    assert result.order == ("A", "B", "C")
    assert result.pairwise.sum(axis=1).to_dict() == {"B": 2, "A": 3, "C": 1}


def test_partial_rankings_leave_unlisted_alternatives_tied_last():
    d = pairwise_matrix([["B"]], ["A", "B", "C"])
    np.testing.assert_array_equal(d, [[0, 0, 0], [1, 0, 1], [0, 0, 0]])


@pytest.mark.parametrize(
    ("ranking", "fragment"),
    [
        (["A", "A", "B"], "ranked twice"),
        (["A", "Z"], "unknown alternative 'Z'"),
        ([], "at least one"),
        ("AB", "must be a list"),
        ([1, "A"], "unknown alternative 1"),
    ],
)
def test_malformed_rankings_are_refused(ranking, fragment):
    with pytest.raises(BallotError, match=fragment):
        validate_ranking(ranking, ["A", "B", "C"])
    with pytest.raises(BallotError):
        schulze([["A", "B"], ranking], ["A", "B", "C"])


def test_vote_needs_two_alternatives_and_a_ranking():
    with pytest.raises(BallotError, match="at least two"):
        schulze([["A"]], ["A"])
    with pytest.raises(BallotError, match="no rankings"):
        schulze([], ["A", "B"])


def brute_force_strongest_paths(d: np.ndarray) -> np.ndarray:
    """Definition: max over every simple path of the minimum winning-votes link."""
    n = len(d)
    p = np.zeros_like(d)
    for i, j in itertools.permutations(range(n), 2):
        others = [k for k in range(n) if k not in (i, j)]
        for length in range(len(others) + 1):
            for middle in itertools.permutations(others, length):
                path = (i, *middle, j)
                links = [d[a, b] if d[a, b] > d[b, a] else 0 for a, b in itertools.pairwise(path)]
                p[i, j] = max(p[i, j], min(links))
    return p


rankings_strategy = st.integers(3, 5).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.permutations(list("ABCDE"[:n])), min_size=1, max_size=25),
    )
)


@settings(max_examples=80, deadline=None)
@given(rankings_strategy)
def test_floyd_warshall_equals_brute_force_paths(data):
    n, rankings = data
    d = pairwise_matrix(rankings, list("ABCDE"[:n]))
    np.testing.assert_array_equal(strongest_paths(d), brute_force_strongest_paths(d))


@settings(max_examples=120, deadline=None)
@given(rankings_strategy)
def test_condorcet_winner_always_wins(data):
    n, rankings = data
    alternatives = list("ABCDE"[:n])
    result = schulze(rankings, alternatives)
    d = result.pairwise.to_numpy()
    condorcet = [
        alternatives[i] for i in range(n) if all(d[i, j] > d[j, i] for j in range(n) if j != i)
    ]
    if condorcet:
        assert result.winners == (condorcet[0],)
        assert result.winner == condorcet[0]


@settings(max_examples=120, deadline=None)
@given(rankings_strategy)
def test_order_respects_the_schulze_relation_and_the_winner_is_never_beaten(data):
    n, rankings = data
    alternatives = list("ABCDE"[:n])
    result = schulze(rankings, alternatives)
    p = result.strongest
    position = {a: k for k, a in enumerate(result.order)}
    for x, y in itertools.permutations(alternatives, 2):
        if p.loc[x, y] > p.loc[y, x]:
            assert position[x] < position[y]
    assert result.winner in result.winners
    assert sorted(result.order) == alternatives


@settings(max_examples=60, deadline=None)
@given(rankings_strategy)
def test_unanimous_ranking_is_the_result(data):
    n, rankings = data
    alternatives = list("ABCDE"[:n])
    result = schulze([rankings[0]] * 3, alternatives)
    assert result.order == tuple(rankings[0])


@settings(max_examples=60, deadline=None)
@given(rankings_strategy, st.randoms(use_true_random=False))
def test_result_does_not_depend_on_ballot_order(data, rnd):
    n, rankings = data
    alternatives = list("ABCDE"[:n])
    shuffled = list(rankings)
    rnd.shuffle(shuffled)
    assert schulze(rankings, alternatives).order == schulze(shuffled, alternatives).order


@settings(max_examples=60, deadline=None)
@given(rankings_strategy)
def test_monotonicity_raising_the_winner_keeps_it_winning(data):
    n, rankings = data
    alternatives = list("ABCDE"[:n])
    result = schulze(rankings, alternatives)
    if len(result.winners) > 1:
        return
    winner = result.winner
    raised = [[winner] + [a for a in r if a != winner] for r in rankings[:1]] + [
        list(r) for r in rankings[1:]
    ]
    assert schulze(raised, alternatives).winner == winner
