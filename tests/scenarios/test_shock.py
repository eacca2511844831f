"""Shock: validation with clear errors, and the cut per product and period."""

from __future__ import annotations

import numpy as np
import pytest

from commonplan.errors import SpecError
from commonplan.scenarios import Shock


def test_cut_is_on_the_partner_products_during_the_shock(two_regions):
    cut = Shock("R", "P", {"c": 0.4, "n": 1.0}, periods=3, duration=2).cut(two_regions)
    assert cut.shape == (6, 3)
    np.testing.assert_array_equal(cut[:, 0], [0, 0, 0, 0.4, 0.0, 1.0])
    np.testing.assert_array_equal(cut[:, 1], cut[:, 0])
    np.testing.assert_array_equal(cut[:, 2], 0.0)
    uniform = Shock("R", ("P",), 0.25).cut(two_regions)
    np.testing.assert_array_equal(uniform[:, 0], [0, 0, 0, 0.25, 0.25, 0.25])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"share": 1.5}, r"shock.share: share = 1.5; expected a number in \[0, 1\]"),
        ({"share": -0.1}, "shock.share"),
        ({"share": {"c": float("nan")}}, r"shock.share\['c'\]"),
        ({"share": "a lot"}, "is not a number"),
        ({"share": {}}, "no sector to cut"),
        ({"periods": 0}, "shock.periods"),
        ({"periods": 2, "duration": 3}, "from 1 to periods = 2"),
        ({"partners": ()}, "no partner"),
        ({"partners": ("R",)}, "cannot cut itself"),
    ],
)
def test_bad_shocks_are_refused(kwargs, match):
    args = {"region": "R", "partners": ("P",), **kwargs}
    with pytest.raises(SpecError, match=match):
        Shock(**args)


def test_unknown_region_or_sector_names_the_field(two_regions):
    with pytest.raises(SpecError, match=r"shock.partners\[0\]: unknown region 'USA'"):
        Shock("R", "USA").check(two_regions)
    with pytest.raises(SpecError, match=r"shock.region: unknown region 'COL'"):
        Shock("COL", "P").check(two_regions)
    with pytest.raises(SpecError, match=r"shock.share\['C20'\]: unknown sector 'C20'"):
        Shock("R", "P", {"C20": 0.5}).cut(two_regions)
