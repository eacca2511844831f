"""The :class:`Economy`: one period of one or several regions, validated and immutable.

Conventions (units matter):

* Products are labelled ``(region, sector)``; activities (ways of producing) likewise.
* ``use[i, j]`` is the amount of product ``i`` used per unit of activity ``j``;
  ``make[i, j]`` the amount of product ``i`` made per unit of activity ``j``. For a
  symmetric input-output table make = identity and use = A (money units of input per
  money unit of output, e.g. USD per USD).
* Accounts (labour, value added, imports, emissions, …) are *coefficients* per unit of
  activity; ``account_units[name]`` names the unit of the account's *total* (e.g.
  ``"million hours"``), so a coefficient counts that unit per unit of activity.
* ``activity_levels`` are observed levels (gross output for a symmetric table), in the
  economy's money unit (``metadata.units``).
* ``final_demand`` is products × categories; its columns are a MultiIndex
  ``(region, category)`` where the table has final demand by destination region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import roles, validation
from commonplan.economy.labels import as_activity_index, as_product_index


@dataclass(frozen=True)
class Metadata:
    """Where an economy comes from and what its numbers count."""

    name: str = ""
    year: int | None = None
    units: str = ""
    """Money or physical unit of flows and output, e.g. ``"USD million, current prices"``."""
    source: str = ""
    citation: str = ""
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    account_roles: Mapping[str, str] = field(default_factory=dict)
    """Account name → role (:mod:`commonplan.economy.roles`: ``"labour"``, ``"compensation"``,
    ``"value_added"``, ``"imports"``, or ``""`` for none of them), as the reader knows it
    from the table's layout."""
    final_demand_roles: Mapping[str, str] = field(default_factory=dict)
    """Final-demand category → role (``"household_consumption"``, or ``""`` for none), as
    the reader knows it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "year": self.year,
            "units": self.units,
            "source": self.source,
            "citation": self.citation,
            "notes": self.notes,
            "extra": dict(self.extra),
            "account_roles": dict(self.account_roles),
            "final_demand_roles": dict(self.final_demand_roles),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metadata:
        return cls(
            name=data.get("name", ""),
            year=data.get("year"),
            units=data.get("units", ""),
            source=data.get("source", ""),
            citation=data.get("citation", ""),
            notes=data.get("notes", ""),
            extra=dict(data.get("extra", {})),
            account_roles=dict(data.get("account_roles", {})),
            final_demand_roles=dict(data.get("final_demand_roles", {})),
        )


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def _readonly_sparse(matrix: sp.sparray) -> sp.csr_array:
    if isinstance(matrix, sp.csr_array) and not matrix.data.flags.writeable:
        return matrix  # already canonical and frozen by an earlier construction
    matrix = sp.csr_array(matrix, dtype=np.float64)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    for part in (matrix.data, matrix.indices, matrix.indptr):
        part.flags.writeable = False
    return matrix


@dataclass(frozen=True, eq=False)
class Economy:
    """An immutable, validated economy. Build it with :meth:`from_flows` or :meth:`from_coefficients`.

    Direct construction validates everything too; all arrays are stored read-only.
    """

    products: pd.MultiIndex
    activities: pd.MultiIndex
    use: sp.csr_array
    make: sp.csr_array
    account_coefficients: np.ndarray
    """Shape (n_accounts, n_activities): account per unit of activity."""
    account_names: tuple[str, ...]
    account_units: Mapping[str, str]
    final_demand_values: np.ndarray
    """Shape (n_products, n_categories), in the economy's money unit."""
    final_demand_columns: pd.Index
    activity_levels: np.ndarray | None = None
    metadata: Metadata = field(default_factory=Metadata)
    check_productive: bool = True
    final_demand_stressor_values: np.ndarray | None = None
    """Shape (n_accounts, n_categories) or None: account *totals* caused directly by final
    demand, not by production (pymrio's ``F_Y``, e.g. households' own emissions), in each
    account's unit; rows follow ``account_names``, columns ``final_demand_columns``."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "products", as_product_index(self.products, what="products"))
        set_(self, "activities", as_activity_index(self.activities, what="activities"))
        set_(self, "use", _readonly_sparse(self.use))
        set_(self, "make", _readonly_sparse(self.make))
        coefficients = np.asarray(self.account_coefficients, dtype=np.float64)
        if coefficients.ndim == 1 and coefficients.size == 0:
            coefficients = coefficients.reshape(0, len(self.activities))
        set_(self, "account_coefficients", _readonly(coefficients))
        set_(self, "account_names", tuple(str(n) for n in self.account_names))
        set_(self, "account_units", dict(self.account_units))
        fd = np.asarray(self.final_demand_values, dtype=np.float64)
        if fd.ndim == 1:
            fd = fd.reshape(-1, 1)
        set_(self, "final_demand_values", _readonly(fd))
        columns = self.final_demand_columns
        # keep a (region, category) MultiIndex: pandas ≥ 3 flattens it in pd.Index(...)
        set_(
            self,
            "final_demand_columns",
            columns if isinstance(columns, pd.Index) else pd.Index(columns),
        )
        if self.activity_levels is not None:
            set_(self, "activity_levels", _readonly(np.asarray(self.activity_levels).ravel()))
        if self.final_demand_stressor_values is not None:
            set_(
                self,
                "final_demand_stressor_values",
                _readonly(np.asarray(self.final_demand_stressor_values)),
            )
        validation.validate_economy(self)

    # ---- constructors ------------------------------------------------------------------

    @classmethod
    def from_flows(
        cls,
        Z: Any,
        Y: Any,
        x: Any = None,
        accounts: Any = None,
        *,
        account_units: Mapping[str, str] | None = None,
        products: Any = None,
        region: str = "ALL",
        metadata: Metadata | None = None,
        balance_tolerance: float | None = None,
    ) -> Economy:
        """Build a symmetric economy from flows.

        Parameters
        ----------
        Z:
            Intermediate flows, products × products (numpy array, scipy sparse matrix or
            DataFrame whose index and columns carry the labels), in money units.
        Y:
            Final demand, products × categories (array, Series or DataFrame).
        x:
            Gross output per product. Defaults to ``Z·1 + Y·1``.
        accounts:
            Primary-input flows (totals per product): a DataFrame with one row per account,
            or a mapping ``name -> array``. Coefficients are derived as flow / output.
        account_units:
            Unit of each account's totals, e.g. ``{"labour": "million hours"}``.
        products:
            Labels when ``Z`` carries none: a MultiIndex ``(region, sector)``, a list of
            tuples, or a list of sector names (placed in ``region``).
        balance_tolerance:
            If given, require ``|x − (Z·1 + Y·1)| ≤ tol·max(x, 1)`` for every product.

        Products with zero output and no inputs get zero coefficients; a product with zero
        output but non-zero inputs raises :class:`~commonplan.errors.ZeroOutputError`.
        """
        from commonplan.economy.construct import economy_from_flows

        return economy_from_flows(
            cls,
            Z,
            Y,
            x,
            accounts,
            account_units=account_units,
            products=products,
            region=region,
            metadata=metadata,
            balance_tolerance=balance_tolerance,
        )

    @classmethod
    def from_coefficients(
        cls,
        A: Any,
        y: Any = None,
        x: Any = None,
        accounts: Any = None,
        *,
        account_units: Mapping[str, str] | None = None,
        products: Any = None,
        region: str = "ALL",
        metadata: Metadata | None = None,
    ) -> Economy:
        """Build a symmetric economy from technical coefficients ``A`` (input per unit output).

        ``accounts`` are coefficients per unit of output (DataFrame rows or mapping).
        ``y`` is final demand (products × categories); ``x`` the observed gross output,
        which defaults to the Leontief solution of ``y`` summed over categories when ``y``
        is given.
        """
        from commonplan.economy.construct import economy_from_coefficients

        return economy_from_coefficients(
            cls,
            A,
            y,
            x,
            accounts,
            account_units=account_units,
            products=products,
            region=region,
            metadata=metadata,
        )

    def replace(self, **changes: Any) -> Economy:
        """A new, re-validated economy with some fields changed (this one is unchanged)."""
        return replace(self, **changes)

    # ---- sizes and labels --------------------------------------------------------------

    @property
    def n_products(self) -> int:
        return len(self.products)

    @property
    def n_activities(self) -> int:
        return len(self.activities)

    @property
    def regions(self) -> pd.Index:
        """Regions in order of first appearance among the products."""
        return pd.Index(self.products.get_level_values("region").unique(), name="region")

    @property
    def sectors(self) -> pd.Index:
        return pd.Index(self.products.get_level_values("sector").unique(), name="sector")

    @property
    def is_symmetric(self) -> bool:
        """True when each activity makes exactly one unit of its own product (make = I)."""
        if self.n_products != self.n_activities:
            return False
        make = self.make
        n = self.n_products
        return bool(
            make.nnz == n
            and np.array_equal(make.indices, np.arange(n))
            and np.all(make.data == 1.0)
        )

    def __repr__(self) -> str:
        meta = self.metadata
        label = meta.name or "Economy"
        year = f", {meta.year}" if meta.year is not None else ""
        return (
            f"<{label}{year}: {self.n_products} products in {len(self.regions)} region(s), "
            f"{self.n_activities} activities, accounts {list(self.account_names)}, "
            f"{self.use.nnz} input coefficients>"
        )

    # ---- derived quantities ------------------------------------------------------------

    @property
    def A(self) -> sp.csr_array:
        """Technical coefficients (products × products) of a symmetric economy."""
        if not self.is_symmetric:
            from commonplan.errors import UnsupportedOperationError

            raise UnsupportedOperationError(
                "this economy has joint products or several techniques per product, so it has no single A matrix",
                where=self.metadata.name or "economy",
                fix="read the table with a reader that builds the product-by-product table, or use the planning module",
            )
        return self.use

    @property
    def gross_output(self) -> pd.Series:
        """Observed gross output per product (money units), or an error if not observed."""
        levels = self._require_levels()
        return pd.Series(self.make @ levels, index=self.products, name="gross_output")

    @property
    def final_demand(self) -> pd.DataFrame:
        """Final demand, products × categories (read-only view)."""
        return pd.DataFrame(
            self.final_demand_values, index=self.products, columns=self.final_demand_columns
        )

    @property
    def total_final_demand(self) -> pd.Series:
        return pd.Series(
            self.final_demand_values.sum(axis=1), index=self.products, name="final_demand"
        )

    @property
    def final_demand_stressors(self) -> pd.DataFrame | None:
        """Accounts × final-demand columns caused directly by final demand (pymrio's ``F_Y``),
        in each account's unit, or None when the table has none."""
        if self.final_demand_stressor_values is None:
            return None
        return pd.DataFrame(
            self.final_demand_stressor_values,
            index=pd.Index(self.account_names, name="account"),
            columns=self.final_demand_columns,
        )

    @property
    def accounts(self) -> pd.DataFrame:
        """Account coefficients, accounts × activities (per unit of activity)."""
        return pd.DataFrame(
            self.account_coefficients,
            index=pd.Index(self.account_names, name="account"),
            columns=self.activities,
        )

    def account(self, name: str) -> pd.Series:
        """One account's coefficients per unit of activity, labelled by activity."""
        return pd.Series(
            self.account_coefficients[self._account_position(name)],
            index=self.activities,
            name=name,
        )

    def accounts_for(self, role: str) -> tuple[str, ...]:
        """The accounts that play ``role`` (see :mod:`commonplan.economy.roles`), in table order.

        An account's role is the one its reader recorded in ``metadata.account_roles``
        (``""``: none); an account no reader labelled gets the role its name suggests
        (:func:`~commonplan.economy.roles.guess_account_role`).
        """
        roles.check_role(role, roles.ACCOUNT_ROLES)
        recorded = self.metadata.account_roles
        return tuple(
            name
            for name in self.account_names
            if (recorded[name] if name in recorded else roles.guess_account_role(name)) == role
        )

    def account_for(self, role: str) -> str | None:
        """The first account that plays ``role`` (``"labour"``, ``"value_added"``, …), or ``None``."""
        found = self.accounts_for(role)
        return found[0] if found else None

    def final_demand_for(self, role: str) -> str | None:
        """The first final-demand category that plays ``role``, or ``None``.

        Categories are the ``category`` level of the final-demand columns (the columns
        themselves when they are not by region); recorded roles first, then the name.
        """
        roles.check_role(role, roles.FINAL_DEMAND_ROLES)
        columns = self.final_demand_columns
        if isinstance(columns, pd.MultiIndex):
            columns = columns.get_level_values("category" if "category" in columns.names else -1)
        recorded = self.metadata.final_demand_roles
        for category in (str(c) for c in pd.unique(columns)):
            if category in recorded:
                found = recorded[category]
            else:
                found = roles.guess_final_demand_role(category)
            if found == role:
                return category
        return None

    def account_totals(self) -> pd.DataFrame:
        """Observed account totals per activity (coefficient × activity level)."""
        levels = self._require_levels()
        return self.accounts * levels

    def flows(self) -> sp.csr_array:
        """Intermediate flows, products × activities: use · diag(activity levels)."""
        levels = self._require_levels()
        return sp.csr_array(self.use @ sp.diags_array(levels))

    def _account_position(self, name: str) -> int:
        try:
            return self.account_names.index(name)
        except ValueError:
            from commonplan.errors import MissingBlockError

            raise MissingBlockError(
                f"no account named {name!r}",
                where=self.metadata.name or "economy",
                expected=f"one of {list(self.account_names)}",
                fix="pass the account when building the economy, or choose an existing one",
            ) from None

    def _require_levels(self) -> np.ndarray:
        if self.activity_levels is None:
            from commonplan.errors import MissingBlockError

            raise MissingBlockError(
                "this economy has no observed activity levels (gross output)",
                where=self.metadata.name or "economy",
                fix="pass x (gross output) when building the economy",
            )
        return self.activity_levels
