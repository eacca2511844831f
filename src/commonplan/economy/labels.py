"""Product and activity labels: ``(region, sector)`` MultiIndexes, checked for duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from commonplan.errors import LabelError

PRODUCT_LEVELS = ("region", "sector")
ACTIVITY_LEVELS = ("region", "activity")


def _as_two_level(labels: Any, names: tuple[str, str], region: str, what: str) -> pd.MultiIndex:
    if isinstance(labels, pd.MultiIndex):
        if labels.nlevels != 2:
            raise LabelError(
                f"{what} labels have {labels.nlevels} levels",
                where=what,
                expected="two levels (region, sector)",
                fix="build the labels as pd.MultiIndex.from_tuples([(region, sector), ...])",
            )
        index = labels.set_names(list(names))
    else:
        values = list(labels)
        if values and all(isinstance(v, tuple) and len(v) == 2 for v in values):
            index = pd.MultiIndex.from_tuples(values, names=list(names))
        elif all(not isinstance(v, tuple) for v in values):
            index = pd.MultiIndex.from_arrays(
                [[region] * len(values), [str(v) for v in values]], names=list(names)
            )
        else:
            raise LabelError(
                f"{what} labels mix tuples and plain names",
                where=what,
                expected="all (region, sector) tuples or all plain sector names",
            )
    index = pd.MultiIndex.from_arrays(
        [index.get_level_values(0).astype(str), index.get_level_values(1).astype(str)],
        names=list(names),
    )
    if index.has_duplicates:
        dup = index[index.duplicated()].unique()[:5]
        raise LabelError(
            f"duplicate {what} labels: {list(dup)}",
            where=what,
            expected="each (region, sector) label once",
            fix="rename or aggregate the duplicated rows and columns",
        )
    return index


def as_product_index(
    labels: Sequence[Any] | pd.Index, *, region: str = "ALL", what: str = "products"
) -> pd.MultiIndex:
    """Product labels as a ``(region, sector)`` MultiIndex; plain names go into ``region``."""
    return _as_two_level(labels, PRODUCT_LEVELS, region, what)


def as_activity_index(
    labels: Sequence[Any] | pd.Index, *, region: str = "ALL", what: str = "activities"
) -> pd.MultiIndex:
    """Activity labels as a ``(region, activity)`` MultiIndex."""
    return _as_two_level(labels, ACTIVITY_LEVELS, region, what)
