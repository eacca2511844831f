"""Production reports: what was produced, checked against the plan it reports on.

A report is one row per product and sub-period of a plan period: ``product`` (the plan's
label, ``"REGION/SECTOR"``), ``period`` (the plan's period label), ``sub_period`` (1, 2, …,
for example the week or month within the period), ``output`` (in the plan's units), and
optionally ``labour``, ``stock`` and ``unit``. :func:`validate_reports` checks a whole batch
and returns it in canonical form, or raises one :class:`~commonplan.errors.ReportError`
naming the first bad row and the fix; nothing is half-accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.errors import FileFormatError, ReportError

REQUIRED = ("product", "period", "sub_period", "output")
OPTIONAL_QUANTITIES = ("labour", "stock")
KEY = ("product", "period", "sub_period")


def product_label(label: object) -> str:
    """The text label of a product: ``"REGION/SECTOR"`` for a (region, sector) pair."""
    if isinstance(label, tuple):
        return "/".join(str(part) for part in label)
    return str(label)


@dataclass(frozen=True)
class PlanTargets:
    """What the reports are measured against: planned output per product and period.

    ``planned[i, t]``: the plan's output of ``products[i]`` in ``periods[t]`` (``unit``);
    each period has ``sub_periods`` reporting sub-periods with equal shares of it, unless
    ``profile`` (``sub_periods`` non-negative shares summing to 1) says otherwise.
    """

    products: tuple[str, ...]
    periods: tuple[str, ...]
    planned: np.ndarray
    sub_periods: int
    unit: str = ""
    profile: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        planned = np.asarray(self.planned, dtype=float)
        if planned.shape != (len(self.products), len(self.periods)):
            raise ReportError(
                f"planned output has shape {planned.shape}",
                where="PlanTargets.planned",
                expected=f"(products, periods) = ({len(self.products)}, {len(self.periods)})",
            )
        if not np.all(np.isfinite(planned)) or np.any(planned < 0):
            raise ReportError(
                "planned output must be finite and non-negative", where="PlanTargets.planned"
            )
        if len(set(self.products)) != len(self.products) or len(set(self.periods)) != len(
            self.periods
        ):
            raise ReportError("product and period labels must be distinct", where="PlanTargets")
        if int(self.sub_periods) < 1:
            raise ReportError(
                f"a period needs at least one sub-period, got {self.sub_periods}",
                where="PlanTargets.sub_periods",
                fix="give sub_periods ≥ 1 (for example 12 for months of a year)",
            )
        profile = self.profile
        if profile is not None:
            shares = np.asarray(profile, dtype=float)
            if (
                shares.shape != (self.sub_periods,)
                or np.any(shares < 0)
                or not np.isclose(shares.sum(), 1)
            ):
                raise ReportError(
                    "the profile must give one non-negative share per sub-period, summing to 1",
                    where="PlanTargets.profile",
                )
        object.__setattr__(self, "planned", planned)
        object.__setattr__(self, "periods", tuple(str(p) for p in self.periods))
        object.__setattr__(self, "sub_periods", int(self.sub_periods))

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        sub_periods: int,
        *,
        column: str = "output",
        unit: str = "",
        period: str = "1",
    ) -> PlanTargets:
        """Targets of a one-period plan frame indexed by product (the councils' published plan)."""
        if column not in frame.columns:
            raise ReportError(
                f"the plan has no {column!r} column",
                where="plan",
                expected="a column of planned output",
            )
        labels = tuple(product_label(label) for label in frame.index)
        return cls(
            labels, (period,), frame[column].to_numpy(dtype=float)[:, None], sub_periods, unit
        )

    @classmethod
    def from_plan(cls, plan: object, sub_periods: int, *, unit: str | None = None) -> PlanTargets:
        """Targets of a :class:`~commonplan.planning.plan.Plan`: its ``outputs`` per period."""
        outputs: pd.DataFrame = plan.outputs  # type: ignore[attr-defined]
        labels = tuple(product_label(label) for label in outputs.index)
        if unit is None:
            unit = str(plan.problem.economy.metadata.units or "")  # type: ignore[attr-defined]
        return cls(
            labels,
            tuple(str(c) for c in outputs.columns),
            outputs.to_numpy(dtype=float),
            sub_periods,
            unit,
        )

    def shares(self) -> np.ndarray:
        """The share of a period's output planned in each sub-period (``sub_periods``,)."""
        if self.profile is None:
            return np.full(self.sub_periods, 1.0 / self.sub_periods)
        return np.asarray(self.profile, dtype=float)


def read_reports(path: str | Path) -> pd.DataFrame:
    """Read a report file (CSV or Parquet) as it is; :func:`validate_reports` checks it."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(
            "no such report file", where=str(path), fix="give the path of a CSV or Parquet file"
        )
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if path.suffix.lower() in (".csv", ".txt"):
            return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise FileFormatError(
            f"cannot be read as a report table ({type(error).__name__})",
            where=str(path),
            expected="a CSV with a header row, or a Parquet file",
        ) from None
    raise FileFormatError(
        f"unknown report file type {path.suffix!r}",
        where=str(path),
        expected="a .csv or .parquet file",
    )


def _row(frame: pd.DataFrame, mask: np.ndarray, source: str) -> str:
    position = int(np.flatnonzero(mask)[0])
    return f"{source}, row {position + 1}"


def _numbers(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    raw = frame[column]
    if raw.dtype == object or pd.api.types.is_string_dtype(raw):
        text = raw.astype(str).str.strip()
        values = pd.to_numeric(text.where(text != "", "nan"), errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(values)
    else:
        values = raw.to_numpy(dtype=float)
        bad = np.isnan(values)
    if bad.any():
        where = _row(frame, bad, source)
        raise ReportError(
            f"{column} {raw.iloc[int(np.flatnonzero(bad)[0])]!r} is not a number",
            where=where,
            fix=f"write {column} as a plain number such as 1234.5",
        )
    if np.isinf(values).any():
        raise ReportError(
            f"{column} is infinite",
            where=_row(frame, np.isinf(values), source),
            fix="give a finite quantity",
        )
    if (values < 0).any():
        neg = values < 0
        raise ReportError(
            f"{column} is negative ({values[neg][0]:g})",
            where=_row(frame, neg, source),
            fix="report quantities produced or used, which are never negative",
        )
    return values


def validate_reports(
    frame: pd.DataFrame,
    targets: PlanTargets,
    *,
    filed: pd.DataFrame | None = None,
    source: str = "reports",
) -> pd.DataFrame:
    """Check a batch of reports against the plan and return it in canonical form.

    Returns a frame with columns ``product`` (str), ``period`` (str), ``sub_period`` (int),
    ``output`` and any of ``labour``, ``stock`` (floats), sorted by period, sub-period and
    product. ``filed`` is what was filed before (at least ``product``, ``period``,
    ``sub_period``): a row that repeats one of those is refused. Rows are numbered from 1 in
    the order given (row 1 is the first line after a CSV's header).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ReportError(
            "reports must be a table", where=source, expected="a DataFrame, CSV or Parquet file"
        )
    columns = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ReportError(
            f"missing column(s) {', '.join(missing)}",
            where=source,
            expected=f"columns {', '.join(REQUIRED)} (and optionally labour, stock, unit)",
            fix="add a header row with these names",
        )
    frame = frame.rename(columns={v: k for k, v in columns.items()}).reset_index(drop=True)
    if frame.empty:
        raise ReportError("there are no reports in it", where=source, fix="give at least one row")
    product = frame["product"].astype(str).str.strip()
    known = pd.Index(targets.products)
    unknown = ~product.isin(known).to_numpy()
    if unknown.any():
        raise ReportError(
            f"unknown product {product[unknown].iloc[0]!r}",
            where=_row(frame, unknown, source),
            expected=f"one of the plan's {len(known)} products, written REGION/SECTOR (e.g. {known[0]!r})",
        )
    period = frame["period"].astype(str).str.strip()
    unknown = ~period.isin(targets.periods).to_numpy()
    if unknown.any():
        raise ReportError(
            f"unknown period {period[unknown].iloc[0]!r}",
            where=_row(frame, unknown, source),
            expected=f"one of the plan's periods {', '.join(targets.periods)}",
        )
    sub = _numbers(frame, "sub_period", source)
    bad = (sub != np.round(sub)) | (sub < 1) | (sub > targets.sub_periods)
    if bad.any():
        raise ReportError(
            f"sub_period {sub[bad][0]:g} is not one of 1…{targets.sub_periods}",
            where=_row(frame, bad, source),
            fix=f"number the sub-periods of each period 1 to {targets.sub_periods}",
        )
    if "unit" in frame.columns:
        unit = frame["unit"].astype(str).str.strip()
        other = (unit != "") & (unit.str.lower() != targets.unit.strip().lower())
        if other.any():
            raise ReportError(
                f"unit {unit[other].iloc[0]!r} differs from the plan's unit {targets.unit!r}",
                where=_row(frame, other.to_numpy(), source),
                fix=f"convert the quantity to {targets.unit!r} or leave the unit blank",
            )
    out = pd.DataFrame({"product": product, "period": period, "sub_period": sub.astype(np.int64)})
    out["output"] = _numbers(frame, "output", source)
    for column in OPTIONAL_QUANTITIES:
        if column in frame.columns:
            out[column] = _numbers(frame, column, source)
    repeated = out.duplicated(list(KEY), keep="first").to_numpy()
    if repeated.any():
        first = out[list(KEY)].iloc[int(np.flatnonzero(repeated)[0])]
        raise ReportError(
            f"a second report for {first['product']}, period {first['period']}, sub-period {first['sub_period']}",
            where=_row(frame, repeated, source),
            fix="send one row per product and sub-period",
        )
    if filed is not None and len(filed):
        before = pd.MultiIndex.from_frame(
            filed[list(KEY)].astype({"product": str, "period": str, "sub_period": np.int64})
        )
        again = pd.MultiIndex.from_frame(out[list(KEY)]).isin(before)
        if again.any():
            first = out[list(KEY)].iloc[int(np.flatnonzero(again)[0])]
            raise ReportError(
                f"{first['product']}, period {first['period']}, sub-period {first['sub_period']} "
                "was reported already",
                where=_row(frame, again, source),
                fix="leave out reports already filed; a correction needs a new report kind, not a resend",
            )
    order = {p: i for i, p in enumerate(targets.periods)}
    out["_order"] = out["period"].map(order)
    return (
        out.sort_values(["_order", "sub_period", "product"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def key_frame(rows: Sequence[tuple[str, str, int]]) -> pd.DataFrame:
    """The ``filed`` argument of :func:`validate_reports` from (product, period, sub_period) rows."""
    return pd.DataFrame(list(rows), columns=list(KEY))


__all__ = ["KEY", "PlanTargets", "key_frame", "product_label", "read_reports", "validate_reports"]
