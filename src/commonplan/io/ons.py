"""UK Input-Output Analytical Tables, 2010 (Office for National Statistics), 127 products.

The ONS publishes the analytical tables as an Excel release; the ``iotables`` R package
(rOpenGov, MIT) ships them in long form, and the folder read here holds one wide CSV per
indicator (see ``PROVENANCE.md``):

* ``uk2010_siot_domestic_pxp.csv`` — the domestic-use symmetric table, product × product
  (ONS product codes ``01``…``NPISH_96``), with final-demand columns (households, NPISH,
  central and local government, GFCF, valuables, changes in inventories, exports of goods
  and of services) and primary-input rows (imported goods and services, taxes less
  subsidies on products and on production, compensation of employees, gross operating
  surplus) and the total-output row;
* ``uk2010_coefficients_pxp.csv`` and ``uk2010_leontief_inverse_pxp.csv`` — the published
  coefficients ``A`` and Leontief inverse ``(I − A)⁻¹``;
* ``uk_test_results.csv`` — published Type I output, employment-cost and GVA multipliers
  and effects per product (the oracle of the analysis tests).

Units: GBP million, current basic prices, 2010.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.checks import cell, check_nonnegative, in_file
from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import LabelError
from commonplan.io._common import (
    existing_file,
    numeric_frame,
    read_frame,
    require_labels,
    unique_labels,
)

__all__ = [
    "read_ons_ioat",
    "ons_published_coefficients",
    "ons_published_leontief_inverse",
    "ons_published_multipliers",
    "ONS_ACCOUNTS",
    "ONS_FINAL_DEMAND",
]

UNITS = "GBP million, current basic prices"
CITATION = (
    "Office for National Statistics, UK Input-Output Analytical Tables, 2010 (2014 edition); "
    "as distributed in the iotables R package (rOpenGov), data/uk_2010_data.rda."
)
SIOT = "uk2010_siot_domestic_pxp.csv"
COEFFICIENTS = "uk2010_coefficients_pxp.csv"
INVERSE = "uk2010_leontief_inverse_pxp.csv"
MULTIPLIERS = "uk_test_results.csv"
LABELS = "uk2010_labels.csv"

#: Primary-input rows of the SIOT and the account names they get.
ONS_ACCOUNTS = {
    "Imported goods and services": "imports",
    "Taxes less subsidies on products": "taxes_less_subsidies_on_products",
    "Taxes less subsidies on production": "taxes_less_subsidies_on_production",
    "Compensation of employees": "compensation_of_employees",
    "Gross Operating Surplus": "gross_operating_surplus",
}
#: Roles of the accounts and final-demand categories the reader creates
#: (:mod:`commonplan.economy.roles`).
ACCOUNT_ROLES = {
    "imports": roles.IMPORTS,
    "compensation_of_employees": roles.COMPENSATION,
    "gross_value_added": roles.VALUE_ADDED,
}
FINAL_DEMAND_ROLES = {"households": roles.HOUSEHOLD_CONSUMPTION}
#: Final-demand columns of the SIOT and their names.
ONS_FINAL_DEMAND = {
    "Households": "households",
    "Non-profit instns serving households": "npish",
    "Central government": "central_government",
    "Local government": "local_government",
    "Gross fixed capital formation": "gross_fixed_capital_formation",
    "Valuables": "valuables",
    "Changes in inventories": "changes_in_inventories",
    "Exports of goods": "exports_of_goods",
    "Exports of services": "exports_of_services",
}


def _folder(folder: str | Path) -> Path:
    folder = Path(folder)
    return folder.parent if folder.is_file() else folder


def _square(path: Path, products: list[str] | None = None) -> pd.DataFrame:
    frame = read_frame(existing_file(path, what="ONS table"), index_col=0, what="ONS table")
    frame = frame.set_axis(unique_labels(frame.index, path=path, what="row"), axis=0)
    frame = frame.set_axis(unique_labels(frame.columns, path=path, what="column"), axis=1)
    return (
        frame
        if products is None
        else frame.loc[:, [c for c in frame.columns if c in set(products)]]
    )


def _products(frame: pd.DataFrame, path: Path) -> list[str]:
    rows = set(frame.index)
    products = [c for c in frame.columns if c in rows and not c.lower().startswith("total")]
    if len(products) < 2:
        from commonplan.errors import FileFormatError

        raise FileFormatError(
            "no product-by-product block found",
            where=path.name,
            expected="ONS product codes on rows and columns",
        )
    return products


def read_ons_ioat(folder: str | Path, *, region: str = "GBR") -> Economy:
    """Read the ONS 2010 domestic SIOT into an :class:`Economy` (127 products, GBP million).

    ``folder`` is the directory holding the CSVs (or the SIOT file itself). Accounts
    (GBP million): ``imports`` (imported goods and services used as inputs),
    ``taxes_less_subsidies_on_products``, ``taxes_less_subsidies_on_production``,
    ``compensation_of_employees``, ``gross_operating_surplus`` and ``gross_value_added``
    (the sum of the last three, as ONS defines GVA at basic prices). Product names are in
    ``metadata.extra["sector_names"]``.
    """
    folder = _folder(folder)
    path = folder / SIOT
    frame = _square(path)
    products = _products(frame, path)
    require_labels(list(frame.index), [*ONS_ACCOUNTS, "Total output"], path=path, what="rows")
    require_labels(
        list(frame.columns), list(ONS_FINAL_DEMAND), path=path, what="final-demand columns"
    )
    numbers = numeric_frame(
        frame.loc[
            products + list(ONS_ACCOUNTS) + ["Total output"], products + list(ONS_FINAL_DEMAND)
        ],
        path=path,
    )
    Z = numbers.loc[products, products]
    check_nonnegative(Z, what="intermediate flow", where=cell(path))
    Y = numbers.loc[products, list(ONS_FINAL_DEMAND)].rename(columns=ONS_FINAL_DEMAND)
    x = numbers.loc["Total output", products].to_numpy()
    accounts = {ONS_ACCOUNTS[row]: numbers.loc[row, products].to_numpy() for row in ONS_ACCOUNTS}
    accounts["gross_value_added"] = (
        accounts["taxes_less_subsidies_on_production"]
        + accounts["compensation_of_employees"]
        + accounts["gross_operating_surplus"]
    )
    names = _names(folder)
    labels = pd.MultiIndex.from_arrays(
        [[region] * len(products), products], names=["region", "sector"]
    )
    metadata = Metadata(
        name="UK ONS IOAT 2010 (domestic use, 127 products)",
        year=2010,
        units=UNITS,
        source=f"ONS UK Input-Output Analytical Tables 2010 ({SIOT})",
        citation=CITATION,
        notes="Domestic-use product-by-product table; imports are a primary input (the 'imports' account).",
        extra={"sector_names": {p: names.get(p, p) for p in products}, "country": "United Kingdom"},
        account_roles=roles.known_roles(accounts, ACCOUNT_ROLES),
        final_demand_roles=roles.known_roles(Y.columns, FINAL_DEMAND_ROLES),
    )
    with in_file(path):
        return Economy.from_flows(
            Z.to_numpy(),
            Y.set_axis(labels, axis=0).rename_axis(columns="category"),
            x,
            accounts,
            account_units={name: "GBP million" for name in accounts},
            products=labels,
            metadata=metadata,
            balance_tolerance=1e-3,
        )


def _names(folder: Path) -> dict[str, str]:
    path = folder / LABELS
    if not path.is_file():
        return {}
    frame = read_frame(path, what="ONS label list")
    return dict(zip(frame.iloc[:, 0].astype(str), frame.iloc[:, 1].astype(str), strict=True))


def _published_square(folder: str | Path, file: str, region: str) -> pd.DataFrame:
    folder = _folder(folder)
    path = folder / file
    frame = _square(path)
    products = _products(frame, path)
    values = numeric_frame(frame.loc[products, products], path=path)
    labels = pd.MultiIndex.from_arrays(
        [[region] * len(products), products], names=["region", "sector"]
    )
    return pd.DataFrame(values.to_numpy(), index=labels, columns=labels)


def ons_published_coefficients(folder: str | Path, *, region: str = "GBR") -> pd.DataFrame:
    """The published domestic coefficient matrix ``A`` (GBP per GBP of output), labelled."""
    return _published_square(folder, COEFFICIENTS, region)


def ons_published_leontief_inverse(folder: str | Path, *, region: str = "GBR") -> pd.DataFrame:
    """The published Leontief inverse ``(I − A)⁻¹`` (output per unit of final demand), labelled."""
    return _published_square(folder, INVERSE, region)


def ons_published_multipliers(folder: str | Path, *, region: str = "GBR") -> pd.DataFrame:
    """Published Type I multipliers and effects per product, indexed like the economy.

    Columns: ``output_multiplier``, ``employment_cost_multiplier``, ``gva_multiplier``,
    ``employment_cost_effect``, ``gva_effect`` (dimensionless, per unit of final demand),
    matched to product codes through the ONS label list.
    """
    folder = _folder(folder)
    path = existing_file(folder / MULTIPLIERS, what="ONS multipliers file")
    frame = read_frame(path, what="ONS multipliers file")
    columns = {
        "Output multiplier": "output_multiplier",
        "Employment cost multiplier": "employment_cost_multiplier",
        "GVA multiplier": "gva_multiplier",
        "Employment cost effects": "employment_cost_effect",
        "GVA effects": "gva_effect",
    }
    require_labels(list(frame.columns), ["uk_row_label", *columns], path=path, what="columns")
    by_name = {name: code for code, name in _names(folder).items()}
    # The label list also names totals; keep product codes of the SIOT only.
    products = _products(_square(folder / SIOT), folder / SIOT)
    by_name = {name: code for name, code in by_name.items() if code in set(products)}
    unknown = [label for label in frame["uk_row_label"] if label not in by_name]
    if unknown:
        raise LabelError(
            f"{len(unknown)} multiplier rows name no ONS product: {unknown[:3]}",
            where=cell(path, column="uk_row_label"),
            expected="the product names of uk2010_labels.csv",
        )
    codes = [by_name[label] for label in frame["uk_row_label"]]
    values = numeric_frame(frame[list(columns)], path=path).rename(columns=columns)
    index = pd.MultiIndex.from_arrays([[region] * len(codes), codes], names=["region", "sector"])
    return pd.DataFrame(
        values.to_numpy(dtype=np.float64), index=index, columns=list(columns.values())
    )
