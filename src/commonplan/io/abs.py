"""Australian Bureau of Statistics (ABS) make and use tables, as ``quantecon-book-networks`` ships them.

The package ships the ABS 2020–21 input-output tables at 114 industries as two CSV files:
``make_114_aus.csv`` (industries × products, ABS IOIG codes such as ``0101``, plus a
``total`` column) and ``use_114_aus.csv`` (a header of industry codes and 114 unlabelled
rows of intermediate use, in the order of the make table's product columns). Million AUD.

The files have no final demand and no value added, so both are residuals: final demand
``y = q − Z·1`` (net of imports; it may be negative) and ``value_added = q − 1ᵀZ``
(including net product taxes and imported inputs). The product-by-product flows follow
the industry-technology assumption of :func:`commonplan.io.bea.industry_technology`.

Source: Australian Bureau of Statistics, *Australian National Accounts: Input-Output
Tables, 2020-21*; as shipped by the ``quantecon-book-networks`` package (MIT), QuantEcon.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import LabelError, MissingBlockError
from commonplan.io._common import existing_file, numeric_frame, read_frame, unique_labels
from commonplan.io.bea import (
    SymmetricTable,
    balancing_column,
    industry_technology,
    symmetric_economy,
)

__all__ = ["read_abs_make_use"]

CITATION = (
    "Australian Bureau of Statistics, Australian National Accounts: Input-Output Tables, 2020-21; "
    "as shipped by the quantecon-book-networks package (MIT), QuantEcon."
)


def _table_pair(use: Path, make: str | Path | None) -> tuple[Path, Path]:
    """The use and make files: a folder holding ``use_*aus*.csv`` and ``make_*aus*.csv``, or
    one of the two files and the other beside it (``use_…`` ↔ ``make_…``) unless ``make``
    is given."""
    if use.is_dir():
        found = {kind: sorted(use.glob(f"{kind}_*aus*.csv")) for kind in ("use", "make")}
        missing = [kind for kind, files in found.items() if len(files) != 1]
        if missing:
            raise MissingBlockError(
                f"no single ABS {missing[0]} table in the folder",
                where=str(use),
                expected="one use_*aus*.csv and one make_*aus*.csv file",
                fix="pass the use table and make= the make table",
            )
        use, partner = found["use"][0], found["make"][0]
    elif make is None and use.name.startswith("make"):
        use, partner = use.with_name(use.name.replace("make", "use", 1)), use
    else:
        partner = use.with_name(use.name.replace("use", "make", 1))
    return existing_file(use, what="ABS use table"), existing_file(
        make if make is not None else partner, what="ABS make table"
    )


def read_abs_make_use(
    use: str | Path,
    make: str | Path | None = None,
    *,
    region: str = "AUS",
    year: int = 2021,
) -> Economy:
    """Read the ABS 2020–21 114-industry tables (module docstring: layout and residuals).

    ``use`` is the use table (or the make table), or a folder holding both; ``make``
    defaults to the other file beside it (``make_…`` for ``use_…`` and back). Products are labelled
    ``(region, IOIG code)``; the one account is ``value_added`` (AUD million), the one
    final-demand category ``final_demand``.
    """
    use, make = _table_pair(Path(use), make)
    make_frame = read_frame(make, index_col=0, what="ABS make table")
    make_frame = make_frame.loc[[str(i).strip() != "" for i in make_frame.index]]
    rows = unique_labels(make_frame.index, path=make, what="industry row")
    columns = unique_labels(make_frame.columns, path=make, what="product column")
    make_frame = make_frame.set_axis(rows, axis=0).set_axis(columns, axis=1)
    products = [c for c in columns if c.lower() != "total"]
    V = numeric_frame(make_frame[products], path=make, suppressed_as_zero=True).to_numpy()
    use_frame = read_frame(use, what="ABS use table")
    industries = unique_labels(use_frame.columns, path=use, what="industry column")
    use_frame = use_frame.loc[[any(str(v).strip() for v in row) for row in use_frame.to_numpy()]]
    if industries != rows or len(use_frame) != len(products):
        raise LabelError(
            f"use table has {len(industries)} industry columns and {len(use_frame)} rows; make table has "
            f"{len(rows)} industries and {len(products)} products",
            where=use.name,
            expected="the same industries, in the same order, in both tables, and one use row per product",
        )
    U = numeric_frame(
        use_frame.set_axis(products, axis=0).set_axis(industries, axis=1),
        path=use,
        suppressed_as_zero=True,
    ).to_numpy()
    table = industry_technology(
        U, V, np.zeros((len(products), 0)), np.zeros((0, len(rows))), products=pd.Index(products)
    )
    table = SymmetricTable(
        Z=table.Z,
        Y=balancing_column(table)[:, None],
        x=table.x,
        accounts=(table.x - table.Z.sum(axis=0))[None, :],
        clipped=table.clipped,
    )
    metadata = Metadata(
        name=f"Australia ABS 2020-21 ({len(products)} products)",
        year=year,
        units="AUD million, current prices",
        source=f"{use.name}, {make.name} (quantecon-book-networks)",
        citation=CITATION,
        notes="Final demand and value added are derived residuals; industry-technology product table.",
        extra={"technology": "industry", "clipped_negative_flows": table.clipped},
    )
    return symmetric_economy(
        table,
        products,
        ["final_demand"],
        ["value_added"],
        region=region,
        metadata=metadata,
        units="AUD million",
        balancing_name=None,
        files=[use, make],
        account_roles={"value_added": roles.VALUE_ADDED},
        final_demand_roles={},
    )
