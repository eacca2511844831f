"""Building economies from flows or coefficients (the logic behind ``Economy.from_*``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.checks import align_labels, check_finite, check_nonnegative, first_true
from commonplan.economy.labels import as_product_index
from commonplan.errors import InvalidValueError, LabelError, ShapeError, ZeroOutputError
from commonplan.linalg import LeontiefSolver


def _square_matrix(
    M: Any, name: str, products: Any, region: str
) -> tuple[sp.csr_array, pd.MultiIndex]:
    if isinstance(M, pd.DataFrame):
        index = as_product_index(M.index, region=region, what=f"{name} rows")
        columns = as_product_index(M.columns, region=region, what=f"{name} columns")
        if not index.equals(columns):
            missing = (
                columns.difference(index)[:3].tolist() or index.difference(columns)[:3].tolist()
            )
            raise LabelError(
                f"{name} row and column labels differ (first differences: {missing})",
                where=name,
                expected="the same products, in the same order, on rows and columns",
                fix="reorder the columns with df.loc[:, df.index] or fix the labels",
            )
        matrix = sp.csr_array(M.to_numpy(dtype=np.float64))
        labels = index
    else:
        if sp.issparse(M):
            # a copy: the economy freezes its arrays, and the caller's matrix must stay writable
            matrix = sp.csr_array(M, dtype=np.float64, copy=True)
        else:
            array = np.asarray(M, dtype=np.float64)
            if array.ndim != 2:
                raise ShapeError(
                    f"{name} has {array.ndim} dimension(s)", where=name, expected="a 2-D matrix"
                )
            matrix = sp.csr_array(array)
        if products is None:
            products = [f"p{i}" for i in range(matrix.shape[0])]
        labels = as_product_index(products, region=region, what="products")
    if matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(labels):
        raise ShapeError(
            f"{name} has shape {matrix.shape} for {len(labels)} product labels",
            where=name,
            expected="a square matrix with one row and column per product",
        )
    if products is not None and isinstance(M, pd.DataFrame):
        given = as_product_index(products, region=region)
        if not given.equals(labels):
            raise LabelError("products given do not match the labels of the matrix", where=name)
    return matrix, labels


def _vector_block(
    values: Any, labels: pd.MultiIndex, name: str, region: str
) -> tuple[np.ndarray, pd.Index]:
    """Final demand or output as a (products × columns) array aligned to ``labels``."""
    if isinstance(values, pd.Series):
        values = values.to_frame(name=values.name if values.name is not None else "final_demand")
    if isinstance(values, pd.DataFrame):
        index = as_product_index(values.index, region=region, what=f"{name} rows")
        values = align_labels(
            values.set_axis(index),
            labels,
            what=f"{name} rows",
            where=name,
            expected="one row per product",
        )
        return values.to_numpy(dtype=np.float64), values.columns
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.shape[0] != len(labels):
        raise ShapeError(
            f"{name} has {array.shape[0]} rows for {len(labels)} products",
            where=name,
            expected="one row per product",
        )
    columns = pd.Index(
        ["final_demand"] if array.shape[1] == 1 else [f"fd{k}" for k in range(array.shape[1])]
    )
    return array, columns


def _accounts_block(
    accounts: Any, labels: pd.MultiIndex, region: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    if accounts is None:
        return np.zeros((0, len(labels))), ()
    if isinstance(accounts, pd.Series):
        accounts = accounts.to_frame().T
    if isinstance(accounts, Mapping):
        names = tuple(str(k) for k in accounts)
        rows = []
        for key, value in accounts.items():
            if isinstance(value, pd.Series):
                idx = as_product_index(value.index, region=region, what=f"account {key!r}")
                value = align_labels(
                    value.set_axis(idx),
                    labels,
                    what=f"account {key!r}",
                    where=f"account {key!r}",
                    allow_unknown=True,
                    expected="one value per product",
                )
            row = np.asarray(value, dtype=np.float64).ravel()
            if row.shape != (len(labels),):
                raise ShapeError(
                    f"account {key!r} has {row.size} values for {len(labels)} products",
                    where=f"account {key!r}",
                    expected="one value per product",
                )
            rows.append(row)
        return np.vstack(rows), names
    if isinstance(accounts, pd.DataFrame):
        columns = as_product_index(accounts.columns, region=region, what="account columns")
        accounts = align_labels(
            accounts.set_axis(columns, axis=1),
            labels,
            axis=1,
            what="account columns",
            where="accounts",
            expected="one column per product (accounts are rows)",
        )
        return accounts.to_numpy(dtype=np.float64), tuple(str(i) for i in accounts.index)
    array = np.atleast_2d(np.asarray(accounts, dtype=np.float64))
    if array.shape[1] != len(labels):
        raise ShapeError(
            "accounts have the wrong number of columns", where="accounts", expected=f"{len(labels)}"
        )
    return array, tuple(f"account{k}" for k in range(array.shape[0]))


_FILL = "fill missing cells with 0 or correct them in the source"


def _check_block(values: Any, name: str, labels: pd.MultiIndex, columns: Any = None) -> None:
    """Every cell of a block finite, named ``(product, column)`` (``(account, product)``
    for the accounts block, whose rows are accounts)."""
    rows, cols = (columns, labels) if name == "accounts" else (labels, columns)
    check_finite(values, what=f"{name} value", where=name, labels=(rows, cols), fix=_FILL)


def economy_from_flows(
    cls, Z, Y, x, accounts, *, account_units, products, region, metadata, balance_tolerance
):
    flows, labels = _square_matrix(Z, "Z", products, region)
    check_finite(
        flows, what="flow", where="Z", labels=(labels, labels), axes=("from", "to"), fix=_FILL
    )
    fd, fd_columns = _vector_block(Y, labels, "Y", region)
    _check_block(fd, "Y", labels, fd_columns)
    row_total = np.asarray(flows.sum(axis=1)).ravel() + fd.sum(axis=1)
    if x is None:
        output = row_total
    else:
        output = _vector_block(x, labels, "x", region)[0].ravel()
        _check_block(output, "x", labels)
        if balance_tolerance is not None:
            gap = np.abs(output - row_total)
            bad = gap > balance_tolerance * np.maximum(np.abs(output), 1.0)
            if bad.any():
                i = int(np.argmax(gap))
                raise InvalidValueError(
                    f"output of {labels[i]} is {output[i]:.6g} but its uses sum to {row_total[i]:.6g}",
                    where="x",
                    expected=f"x = Z·1 + Y·1 within {balance_tolerance:g} relative",
                    fix="check the final-demand columns and output totals of the table",
                )
    check_nonnegative(
        output,
        what="gross output",
        where="x",
        labels=(labels,),
        axes=("product",),
        fix="check the output total or the final-demand columns of this product",
    )
    account_flows, names = _accounts_block(accounts, labels, region)
    _check_block(account_flows, "accounts", labels, names)

    column_inputs = np.asarray(abs(flows).sum(axis=0)).ravel() + np.abs(account_flows).sum(axis=0)
    zero = output == 0
    bad = first_true(zero & (column_inputs > 0))
    if bad is not None:
        i, count = bad
        raise ZeroOutputError(
            f"{labels[i]} has zero gross output but uses inputs ({column_inputs[i]:.6g}); "
            f"{count} such product(s)",
            where="Z column / accounts",
            expected="inputs only where output is positive",
            fix="correct the output total, or remove the product's inputs",
        )
    inverse = np.zeros_like(output)
    inverse[~zero] = 1.0 / output[~zero]
    A = sp.csr_array(flows @ sp.diags_array(inverse))
    coefficients = account_flows * inverse
    return _symmetric(
        cls, labels, A, coefficients, names, account_units, fd, fd_columns, output, metadata
    )


def _symmetric(
    cls, labels, A, coefficients, names, account_units, fd, fd_columns, levels, metadata
):
    """A symmetric economy (make = identity; activities named like the products)."""
    from commonplan.economy.model import Metadata

    units = dict(account_units or {})
    return cls(
        products=labels,
        activities=labels.set_names(["region", "activity"]),
        use=A,
        make=sp.identity(len(labels), format="csr"),
        account_coefficients=coefficients,
        account_names=names,
        account_units={name: units.get(name, "") for name in names},
        final_demand_values=fd,
        final_demand_columns=fd_columns,
        activity_levels=levels,
        metadata=metadata or Metadata(),
    )


def economy_from_coefficients(cls, A, y, x, accounts, *, account_units, products, region, metadata):
    matrix, labels = _square_matrix(A, "A", products, region)
    n = len(labels)
    if y is None:
        fd, fd_columns = np.zeros((n, 0)), pd.Index([])
    else:
        fd, fd_columns = _vector_block(y, labels, "y", region)
    _check_block(fd, "y", labels, fd_columns)
    coefficients, names = _accounts_block(accounts, labels, region)
    _check_block(coefficients, "accounts", labels, names)
    levels = None if x is None else _vector_block(x, labels, "x", region)[0].ravel()
    economy = _symmetric(
        cls, labels, matrix, coefficients, names, account_units, fd, fd_columns, levels, metadata
    )
    if x is None and fd.shape[1]:
        # x = (I − A)⁻¹ y on the validated (productive) matrix; a solve that does not reach
        # the kernel's tolerance raises SolverError. Negative outputs are set to 0, as before.
        output = LeontiefSolver(matrix).solve(fd.sum(axis=1))
        economy = economy.replace(activity_levels=np.maximum(output, 0.0))
    return economy
