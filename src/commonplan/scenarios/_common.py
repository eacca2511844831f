"""Plumbing shared by the scenario models: assumptions, the shocked region, direct caps, the mixed model."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import SpecError, UnsupportedOperationError
from commonplan.scenarios.shock import Shock

T = TypeVar("T")


def assumptions_of(kind: type[T], given: Any, model: str) -> T:
    """``given`` as an instance of the model's assumptions dataclass ``kind`` (``None``: defaults).

    A mapping is read by field name; an unknown name is a :class:`SpecError`.
    """
    if given is None:
        return kind()
    if isinstance(given, kind):
        return given
    if isinstance(given, Mapping):
        names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
        unknown = sorted(set(given) - names)
        if unknown:
            raise SpecError(
                f"unknown assumption {unknown[0]!r} for model {model!r}",
                where=f"assumptions.{unknown[0]}",
                expected=f"one of {sorted(names)}" if names else "no assumptions",
            )
        return kind(**given)
    raise SpecError(
        f"assumptions of type {type(given).__name__}",
        where=f"model {model!r}",
        expected=f"a {kind.__name__}, a mapping of its fields, or None",
    )


def as_dict(assumptions: Any) -> dict[str, Any]:
    """A dataclass's fields as a plain dict (what an outcome states)."""
    return dataclasses.asdict(assumptions) if dataclasses.is_dataclass(assumptions) else {}


@dataclass(frozen=True)
class Setting:
    """The economy's arrays the static models share, and the shocked region's place in it."""

    economy: Economy
    A: sp.csc_array
    x: np.ndarray
    """Observed gross output (money units)."""
    y: np.ndarray
    """Total final demand (money units)."""
    region: np.ndarray
    """Whether each product is the shocked region's."""
    cut: np.ndarray
    """Products × periods: share of each product's supply to the region that is cut."""

    @classmethod
    def of(cls, economy: Economy, shock: Shock) -> Setting:
        shock.check(economy)
        if not economy.is_symmetric:
            raise UnsupportedOperationError(
                "scenario models need a symmetric input-output table (make = identity)",
                where=economy.metadata.name or "economy",
                fix="read a symmetric table",
            )
        return cls(
            economy=economy,
            A=sp.csc_array(economy.A),
            x=economy.gross_output.to_numpy(dtype=float),
            y=economy.total_final_demand.to_numpy(dtype=float),
            region=shock.region_mask(economy),
            cut=shock.cut(economy),
        )

    @property
    def sectors(self) -> pd.Index:
        """The shocked region's sectors, in table order."""
        return pd.Index(self.economy.products[self.region].get_level_values(1).astype(str))

    def cut_flows(self, t: int) -> sp.csc_array:
        """Coefficients of the cut inputs in period ``t`` (0-based): ``s_k · a_kj`` for partner ``k``, buyer ``j`` in the region."""
        s = self.cut[:, t]
        rows = sp.diags_array(s)
        cols = sp.diags_array(self.region.astype(float))
        return sp.csc_array(rows @ self.A @ cols)


def direct_caps(setting: Setting, t: int, weight: np.ndarray) -> np.ndarray:
    """Largest share of base output each product can make in period ``t`` given its cut inputs.

    ``weight[k]`` says how a cut of input ``k`` binds its users: 1 = critical (Leontief: a
    user keeps at most ``1 − s_k``), ½ = important (``1 − s_k/2``), 0 = not at all. A product
    is capped by its most binding cut input (``1 − max_k w_k s_k`` over the inputs it uses).
    """
    s = setting.cut[:, t] * weight
    pattern = sp.csc_array(setting.A, copy=True)
    pattern.data = np.where(pattern.data > 0, 1.0, 0.0)
    pattern = sp.csc_array(sp.diags_array(s) @ pattern @ sp.diags_array(setting.region * 1.0))
    worst = pattern.max(axis=0).toarray().ravel() if pattern.nnz else np.zeros(setting.A.shape[1])
    return 1.0 - np.clip(worst, 0.0, 1.0)


def mixed_output(setting: Setting, caps: np.ndarray) -> np.ndarray:
    """Output when capped products make ``caps ⊙ x₀`` and the rest meet demand (Miller & Blair §13.1).

    ``x₀ = L y`` is the model output of the base year; capped products ``J`` (cap < 1) are
    exogenous at ``caps_J x₀_J``; the others solve ``(I − A_{−J,−J}) x_{−J} = y_{−J} + A_{−J,J} x_J``.
    With every cap 0 this is the complete hypothetical extraction of ``J``.
    """
    solver = LeontiefSolver(setting.A)
    x0 = solver.solve(setting.y)
    J = caps < 1.0
    if not J.any():
        return x0
    out = np.empty_like(x0)
    out[J] = caps[J] * x0[J]
    free = ~J
    if free.any():
        A_ff = sp.csc_array(setting.A[free][:, free])
        rhs = setting.y[free] + setting.A[free][:, J] @ out[J]
        out[free] = LeontiefSolver(A_ff).solve(rhs)
    return out


def base_model_output(setting: Setting) -> np.ndarray:
    """``x₀ = L y`` (equal to observed output in a balanced table)."""
    return LeontiefSolver(setting.A).solve(setting.y)


def normalised(setting: Setting) -> sp.csr_array:
    """``A* = x̂⁻¹ A x̂`` (Ghosh's B and Haimes' interdependency matrix; zero rows where x = 0)."""
    x = setting.x
    inv = np.divide(1.0, x, out=np.zeros_like(x), where=x > 0)
    return sp.csr_array(sp.diags_array(inv) @ setting.A @ sp.diags_array(x))
