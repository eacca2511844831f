"""The ABS (Australia) make and use reader, on the real tables shipped by quantecon-book-networks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.checks import to_number
from commonplan.errors import MissingBlockError
from commonplan.io import FORMATS, detect_format, read_table
from commonplan.io.abs import read_abs_make_use

FOLDER = "us_bea_2021_quantecon"


def test_abs_australia(shared_data):
    folder = shared_data / FOLDER
    economy = read_abs_make_use(folder / "use_114_aus.csv", folder / "make_114_aus.csv")
    assert economy.n_products == 114
    make = pd.read_csv(folder / "make_114_aus.csv", index_col=0, encoding="utf-8-sig", dtype=str)
    values = make.iloc[:114, :114].map(lambda v: to_number(v, suppressed_as_zero=True))
    np.testing.assert_allclose(economy.gross_output.to_numpy(), values.sum().to_numpy())
    totals = economy.account_totals().loc["value_added"].sum()
    assert totals == pytest.approx(economy.final_demand.to_numpy().sum())


def test_abs_is_a_registered_and_detected_format(shared_data, tmp_path):
    folder = shared_data / FOLDER
    assert FORMATS["abs"].load() is read_abs_make_use
    assert detect_format(folder / "use_114_aus.csv") == "abs"
    assert detect_format(folder / "make_114_aus.csv") == "abs"
    assert detect_format(folder / "use_71.csv") != "abs"  # the BEA tables beside them
    both = read_abs_make_use(folder / "use_114_aus.csv", folder / "make_114_aus.csv")
    for path in (folder / "use_114_aus.csv", folder / "make_114_aus.csv"):
        economy = read_table(path)
        assert (economy.use != both.use).nnz == 0
        np.testing.assert_array_equal(economy.activity_levels, both.activity_levels)
    only_aus = tmp_path / "aus"
    only_aus.mkdir()
    for name in ("use_114_aus.csv", "make_114_aus.csv"):
        (only_aus / name).write_bytes((folder / name).read_bytes())
    assert detect_format(only_aus) == "abs"
    assert read_table(only_aus).n_products == 114
    (only_aus / "make_114_aus.csv").unlink()
    with pytest.raises(MissingBlockError, match="no single ABS make table"):
        read_abs_make_use(only_aus)
