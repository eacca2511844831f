"""Tidy output (issue 11): long and flat layouts against pandas' own melt/stack, and analyze's files."""

from __future__ import annotations

import numpy as np
import pandas as pd

from commonplan.io.writer import flat_format, long_format, write_tables


def _accounts_by_product() -> pd.DataFrame:
    products = pd.MultiIndex.from_product([["A", "B"], ["x", "y", "z"]], names=["region", "sector"])
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        rng.random((2, 6)), index=pd.Index(["co2", "hours"], name="account"), columns=products
    )


def test_long_format_equals_pandas_stack():
    frame = _accounts_by_product()
    long = long_format(frame)
    oracle = frame.stack(["region", "sector"], future_stack=True).rename("value").reset_index()
    assert list(long.columns) == ["account", "region", "sector", "value"]
    got = long.astype({"account": str, "region": str, "sector": str})
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True),
        oracle.reset_index(drop=True).astype({"account": str, "region": str, "sector": str}),
    )


def test_flat_format_stacks_all_but_the_last_column_level():
    rows = pd.Index(["p", "q"], name="product")
    columns = pd.MultiIndex.from_product([["USA", "MEX"], ["direct", "total"]])
    frame = pd.DataFrame(np.arange(8.0).reshape(2, 4), index=rows, columns=columns)
    flat = flat_format(frame)
    assert list(flat.columns) == ["product", "column_0", "direct", "total"]
    assert len(flat) == 4
    # the value of (q, MEX, total) is where pandas puts it
    row = flat[(flat["product"] == "q") & (flat["column_0"] == "MEX")]
    assert row["total"].item() == frame.loc["q", ("MEX", "total")]


def test_written_csv_has_one_header_row_and_parquet_the_labels(tmp_path):
    frame = long_format(_accounts_by_product())
    write_tables({"m": frame}, tmp_path, ("csv", "parquet"))
    lines = (tmp_path / "m.csv").read_text().splitlines()
    assert lines[0] == "account,region,sector,value" and len(lines) == 1 + 12
    back = pd.read_parquet(tmp_path / "m.parquet")
    assert list(back.columns) == ["account", "region", "sector", "value"]
    np.testing.assert_array_equal(back["value"], _accounts_by_product().to_numpy().ravel())


def test_an_empty_frame_stays_empty():
    frame = _accounts_by_product().iloc[:0]
    assert long_format(frame).shape == (0, 4)


def test_csv_texts_needing_quotes_and_exact_floats(tmp_path):
    values = np.array([0.1, 1 / 3, 3.1183145201048547e-09, np.nan])
    frame = pd.DataFrame({"label": ["a,b", 'say "x"', "plain", "line\nbreak"], "value": values})
    plain = frame.iloc[2:3].reset_index(drop=True)  # no text needs quotes: Arrow writes it
    write_tables({"t": frame, "u": plain}, tmp_path, ("csv",))
    for name, expected in (("t", frame), ("u", plain)):
        back = pd.read_csv(tmp_path / f"{name}.csv")
        assert list(back["label"]) == list(expected["label"])
        np.testing.assert_array_equal(back["value"].to_numpy(), expected["value"].to_numpy())
    assert (tmp_path / "u.csv").read_text().splitlines() == [
        "label,value",
        "plain,3.1183145201048547e-9",
    ]
