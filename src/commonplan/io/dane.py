"""Colombia's symmetric input-output table, DANE 2019 (*Matriz insumo-producto 2019*).

Two workbooks are read, as flattened by Gómez Esteban (FLACSO México thesis, 2024) from
DANE's release; the layout is recognised from the sheet names:

* the **68-sector** workbook (``matrix_IO_2019.xlsx``): sheet ``Hoja1`` holds the
  intermediate flows Z (sector codes ``01``…``68`` on rows and columns); sheet ``Hoja2``
  holds, per sector, its names, total output ``Tot_19``, final demand ``Demanda_Final`` and
  its parts ``Consumo_final``, ``FBKF`` (gross fixed capital formation) and
  ``Exportaciones_Netas`` (net exports), value added ``VA`` and its components, and the
  net taxes on products ``Imp_subv_prod``;
* the **25-sector** workbook (``matriz19.xlsx``): ``Sheet1`` Z, ``Sheet2`` total output
  ``TOT``, ``Sheet3`` names and **employment in persons** (``Empleos``).

Units: thousand million (*miles de millones*) Colombian pesos, current prices; employment
in persons. Imports appear only netted inside net exports: there is **no imports block**,
so final demand is domestic absorption plus net exports and may be negative (a sector whose
imports exceed its exports). The 25-sector workbook gives no final demand or value added:
they are derived as ``y = x − Z·1`` and ``v = x − 1ᵀZ`` (so both include net taxes on
products and net exports).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.checks import cell, check_nonnegative, in_file
from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import FileFormatError
from commonplan.io._common import (
    clean_labels,
    existing_file,
    match_labels,
    numeric_frame,
    read_frame,
    require_labels,
    unique_labels,
)

__all__ = ["read_dane"]

UNITS = "COP thousand million (miles de millones), current prices"
CITATION = (
    "DANE (Departamento Administrativo Nacional de Estadística), Matriz insumo-producto 2019, "
    "Colombia; workbook as edited by G. Gómez Esteban, Tesis (FLACSO México), "
    "github.com/GomezGerardoEsteban/Tesis, Capitulo5."
)
NOTES = "Imports are netted inside net exports (no imports block); final demand may be negative. "

#: Final-demand columns of the 68-sector workbook and the names they get.
FINAL_DEMAND_68 = {
    "Consumo_final": "final_consumption",
    "FBKF": "gross_fixed_capital_formation",
    "Exportaciones_Netas": "net_exports",
}
#: Roles of the accounts the DANE reader creates (see :mod:`commonplan.economy.roles`); no
#: final-demand category is household consumption alone (``final_consumption`` includes
#: government and NPISH consumption).
ACCOUNT_ROLES = {
    "compensation_of_employees": roles.COMPENSATION,
    "value_added": roles.VALUE_ADDED,
    "employment": roles.LABOUR,
}
#: Value-added components of the 68-sector workbook (they sum to ``VA``) and their names.
VALUE_ADDED_68 = {
    "Remune_asalariados": "compensation_of_employees",
    "Imp_subven": "other_taxes_less_subsidies_on_production",
    "Ing_mixto": "mixed_income",
    "Exced_Bruto_explot": "gross_operating_surplus",
}


def read_dane(path: str | Path, *, region: str = "COL") -> Economy:
    """Read one of DANE's 2019 workbooks (68 or 25 sectors) into an :class:`Economy`.

    The 68-sector workbook gives accounts ``value_added`` and its four components and
    ``taxes_less_subsidies_on_products`` (all in :data:`UNITS`); final demand by
    category ``final_consumption``, ``gross_fixed_capital_formation``, ``net_exports`` and
    ``statistical_discrepancy`` (``Demanda_Final`` minus its parts: non-zero only where the
    workbook's parts do not add up, sector 68). The 25-sector workbook gives accounts
    ``employment`` (persons) and ``value_added`` (derived, see the module docstring).

    Sector codes (``"01"``…) label the products; names are in
    ``metadata.extra["sector_names"]`` (short) and ``["sector_descriptions"]``.
    """
    path = existing_file(path, what="DANE workbook")
    sheets = _sheet_names(path)
    if {"Hoja1", "Hoja2"} <= set(sheets):
        return _read_68(path, region)
    if {"Sheet1", "Sheet2", "Sheet3"} <= set(sheets):
        return _read_25(path, region)
    raise FileFormatError(
        f"workbook has sheets {sheets}, not those of a DANE 2019 table",
        where=path.name,
        expected="sheets 'Hoja1' and 'Hoja2' (68 sectors) or 'Sheet1'–'Sheet3' (25 sectors)",
        fix="pass matrix_IO_2019.xlsx or matriz19.xlsx",
    )


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except Exception as error:  # noqa: BLE001 - any failure to open is a format problem
        raise FileFormatError(
            f"not an Excel workbook ({type(error).__name__})",
            where=path.name,
            expected="DANE's .xlsx workbook",
        ) from None
    names = list(workbook.sheetnames)
    workbook.close()
    return names


def _codes(labels) -> list[str]:
    """Sector codes as two-digit strings (Excel mixes ``'01'`` and ``67``)."""
    return [label.zfill(2) if label.isdigit() else label for label in clean_labels(labels)]


def _flows(path: Path, sheet: str) -> pd.DataFrame:
    frame = read_frame(path, sheet=sheet, index_col=0, what="DANE workbook")
    rows = unique_labels(_codes(frame.index), path=path, what="sector row")
    columns = unique_labels(_codes(frame.columns), path=path, what="sector column")
    frame = frame.set_axis(rows, axis=0).set_axis(columns, axis=1)
    match_labels(rows, columns, path=path, what=f"sheet {sheet!r}")
    Z = numeric_frame(frame, path=path, sheet=sheet)
    check_nonnegative(Z, what="intermediate flow", where=cell(path, sheet=sheet))
    return Z


def _sector_sheet(
    path: Path, sheet: str, key: str, wanted: list[str], codes: list[str]
) -> pd.DataFrame:
    frame = read_frame(path, sheet=sheet, what="DANE workbook")
    require_labels(list(frame.columns), [key, *wanted], path=path, what="columns", sheet=sheet)
    frame = frame.set_index(key)
    frame.index = unique_labels(_codes(frame.index), path=path, what="sector")
    missing = [c for c in codes if c not in set(frame.index)]
    if missing or len(frame.index) != len(codes):
        from commonplan.errors import LabelError

        raise LabelError(
            f"sectors of sheet {sheet!r} differ from those of the flow sheet (missing {missing[:3]})",
            where=cell(path, sheet=sheet),
            expected=f"the {len(codes)} sectors of the flow sheet",
        )
    return frame.loc[codes]


def _read_68(path: Path, region: str) -> Economy:
    Z = _flows(path, "Hoja1")
    codes = list(Z.index)
    numeric = ["Tot_19", "Demanda_Final", *FINAL_DEMAND_68, "VA", *VALUE_ADDED_68, "Imp_subv_prod"]
    sectors = _sector_sheet(path, "Hoja2", "Sector", ["Nombre", "Descripción", *numeric], codes)
    values = numeric_frame(sectors[numeric], path=path, sheet="Hoja2")
    x = values["Tot_19"]
    Y = values[list(FINAL_DEMAND_68)].rename(columns=FINAL_DEMAND_68)
    Y["statistical_discrepancy"] = values["Demanda_Final"] - Y.sum(axis=1)
    Y.loc[
        Y["statistical_discrepancy"].abs() < 1e-6 * x.abs().clip(lower=1.0),
        "statistical_discrepancy",
    ] = 0.0
    accounts = values[list(VALUE_ADDED_68)].rename(columns=VALUE_ADDED_68).T
    accounts.loc["value_added"] = values["VA"]
    accounts.loc["taxes_less_subsidies_on_products"] = values["Imp_subv_prod"]
    return _economy(
        Z,
        Y,
        x,
        accounts,
        region,
        path,
        names=sectors["Nombre"],
        descriptions=sectors["Descripción"],
        extra_notes="Sector 68's final-demand parts do not add to its total; the gap is 'statistical_discrepancy'.",
        aggregation={
            "25": dict(zip(codes, clean_labels(sectors["agregaciones25"]), strict=True))
            if "agregaciones25" in sectors
            else {},
        },
    )


def _read_25(path: Path, region: str) -> Economy:
    Z = _flows(path, "Sheet1")
    codes = list(Z.index)
    output = _sector_sheet(path, "Sheet2", "sector", ["TOT"], codes)
    x = numeric_frame(output[["TOT"]], path=path, sheet="Sheet2")["TOT"]
    info = _sector_sheet(path, "Sheet3", "id", ["name", "Empleos"], codes)
    employment = numeric_frame(info[["Empleos"]], path=path, sheet="Sheet3")["Empleos"]
    check_nonnegative(employment.to_frame(), what="employment", where=cell(path, sheet="Sheet3"))
    Y = (x - Z.sum(axis=1)).to_frame("final_demand")
    accounts = pd.DataFrame({"employment": employment, "value_added": x - Z.sum(axis=0)}).T
    descriptions = info["sector"] if "sector" in info else info["name"]
    return _economy(
        Z,
        Y,
        x,
        accounts,
        region,
        path,
        names=info["name"],
        descriptions=descriptions.fillna(info["name"]),
        extra_notes="Final demand and value added are derived residuals (y = x − Z·1, v = x − 1ᵀZ).",
        units_employment=True,
    )


def _economy(
    Z: pd.DataFrame,
    Y: pd.DataFrame,
    x: pd.Series,
    accounts: pd.DataFrame,
    region: str,
    path: Path,
    *,
    names: pd.Series,
    descriptions: pd.Series,
    extra_notes: str,
    units_employment: bool = False,
    aggregation: dict | None = None,
) -> Economy:
    codes = list(Z.index)
    units = {name: UNITS for name in accounts.index}
    if units_employment:
        units["employment"] = "persons"
    metadata = Metadata(
        name=f"Colombia DANE 2019 ({len(codes)} sectors)",
        year=2019,
        units=UNITS,
        source=f"DANE Matriz insumo-producto 2019 ({path.name})",
        citation=CITATION,
        notes=NOTES + extra_notes,
        extra={
            "sector_names": dict(zip(codes, [str(n).strip() for n in names], strict=True)),
            "sector_descriptions": dict(
                zip(codes, [str(d).strip() for d in descriptions], strict=True)
            ),
            "aggregations": aggregation or {},
            "country": "Colombia",
            "currency": "COP",
        },
        account_roles=roles.known_roles(accounts.index, ACCOUNT_ROLES),
    )
    products = pd.MultiIndex.from_arrays([[region] * len(codes), codes], names=["region", "sector"])
    with in_file(path):
        return Economy.from_flows(
            Z.to_numpy(dtype=np.float64),
            Y.set_axis(products, axis=0).rename_axis(columns="category"),
            x.to_numpy(dtype=np.float64),
            {name: accounts.loc[name].to_numpy(dtype=np.float64) for name in accounts.index},
            account_units=units,
            products=products,
            metadata=metadata,
            balance_tolerance=1e-6,
        )
