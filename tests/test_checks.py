"""The one checks module: bad cells, label alignment, numbers people write, file names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from commonplan.checks import (
    align_labels,
    cell,
    check_finite,
    check_nonnegative,
    check_values,
    find_bad_cell,
    first_true,
    in_file,
    parse_number,
    to_number,
)
from commonplan.errors import (
    InfeasiblePlanError,
    InvalidValueError,
    LabelError,
    SpecError,
)


def test_first_bad_cell_in_c_order_with_its_count():
    values = np.array([[1.0, -2.0], [np.nan, -1.0]])
    assert find_bad_cell(values).position == find_bad_cell(values, allow_inf=True).position
    found = find_bad_cell(values)
    assert (found.position, found.problem, found.count) == ((1, 0), "is not finite", 1)
    found = find_bad_cell(values, nonnegative=True)
    assert (found.position, found.problem, found.count) == ((0, 1), "is negative", 3)
    assert find_bad_cell(np.array([0.0, 1.0]), nonnegative=True) is None
    assert find_bad_cell(np.array([1.0, 0.0]), positive=True).position == (1,)
    assert find_bad_cell(np.array([np.inf]), allow_inf=True) is None
    assert find_bad_cell(np.array([np.inf]), allow_inf=True, nonnegative=True) is None
    assert find_bad_cell(np.array([-np.inf]), allow_inf=True, nonnegative=True).value == -np.inf
    assert first_true(np.array([False, True, True])) == (1, 2)
    assert first_true(np.zeros(3, bool)) is None


def test_sparse_matrix_cell_is_located_by_row_and_column():
    matrix = sp.csr_array(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -3.0], [np.nan, 0.0, 0.0]]))
    found = find_bad_cell(matrix, nonnegative=True)
    assert found.position == (1, 2) and found.value == -3.0 and found.count == 2
    assert find_bad_cell(matrix).position == (2, 0)


def test_check_values_names_the_cell_by_its_labels():
    frame = pd.DataFrame([[1.0, 2.0], [3.0, -4.0]], index=["r1", "r2"], columns=["c1", "c2"])
    with pytest.raises(InvalidValueError) as caught:
        check_nonnegative(frame, what="intermediate flow", where=cell("path/to/flows.csv"))
    assert str(caught.value).startswith(
        "flows.csv, row 'r2', column 'c2': intermediate flow is negative (-4; 1 bad cell(s) in all)"
    )
    with pytest.raises(SpecError, match=r"limits\[1\]: value is not finite \(nan"):
        check_values(
            np.array([1.0, np.nan]),
            what="value",
            where=lambda at: f"limits[{at[0]}]",
            error=SpecError,
        )
    check_finite(frame, what="flow", where="x")  # negative is fine when only finiteness counts


def test_align_labels_reorders_or_names_missing_and_unknown():
    labels = pd.Index(["a", "b", "c"])
    series = pd.Series([3.0, 1.0, 2.0], index=["c", "a", "b"])
    assert align_labels(series, labels, what="rows", where="Y").tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(
        LabelError, match=r"Y: rows do not match the products \(missing \['c'\], unknown \['z'\]\)"
    ):
        align_labels(
            pd.Series([1.0, 2.0, 3.0], index=["a", "b", "z"]), labels, what="rows", where="Y"
        )
    kept = align_labels(
        pd.Series([1.0, 2.0, 3.0, 4.0], index=["a", "b", "c", "z"]),
        labels,
        what="rows",
        where="Y",
        allow_unknown=True,
    )
    assert kept.index.tolist() == ["a", "b", "c"]
    frame = pd.DataFrame([[1.0, 2.0]], columns=["b", "a"])
    assert align_labels(frame, pd.Index(["a", "b"]), axis=1, what="c", where="w").iloc[
        0
    ].tolist() == [2.0, 1.0]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1,234.5", 1234.5),
        ("1 234 567", 1234567.0),
        ("(12)", -12.0),
        ("-3e2", -300.0),
        (".5", 0.5),
        ("", 0.0),
        (None, 0.0),
        (7, 7.0),
    ],
)
def test_numbers_people_write(text, number):
    assert to_number(text) == number


@pytest.mark.parametrize("text", ["1,0,0", "12,34", "nan", "inf", "1_000", "abc", "---", True])
def test_not_numbers(text):
    assert np.isnan(to_number(text))


def test_parse_number_says_where():
    assert to_number("---", suppressed_as_zero=True) == 0.0
    with pytest.raises(
        InvalidValueError, match=r"spec.toml, targets.amount: value '1,0,0' is not a number"
    ):
        parse_number("1,0,0", where="spec.toml, targets.amount")
    with pytest.raises(InvalidValueError, match="value inf is not finite"):
        parse_number(float("inf"), where="x")
    assert parse_number(float("inf"), where="x", allow_inf=True) == np.inf
    with pytest.raises(InvalidValueError, match="value True is not a number"):
        parse_number(True, where="x")
    with pytest.raises(InvalidValueError, match="-2 is negative"):
        parse_number("-2", where="x", nonnegative=True)


def test_in_file_adds_the_file_name_once():
    with pytest.raises(InvalidValueError, match=r"^flows.csv: Z: bad; "):
        with in_file("data/flows.csv"):
            raise InvalidValueError("bad", where="Z", expected="good")
    with pytest.raises(InvalidValueError, match=r"^flows.csv, row 'a': bad$"):
        with in_file("flows.csv"):
            raise InvalidValueError("bad", where="flows.csv, row 'a'")
    with pytest.raises(LabelError, match=r"^Z.csv \+ Y.csv: bad$"):
        with in_file(["Z.csv", "Y.csv"]):
            raise LabelError("bad")
    conflicts = object()
    with pytest.raises(InfeasiblePlanError) as caught:
        with in_file("spec.toml"):
            raise InfeasiblePlanError("no plan", conflicts=conflicts)
    assert caught.value.conflicts is conflicts
