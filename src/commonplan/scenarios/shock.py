"""A partner's supply cut: which region loses which supplies, by how much, and for how long.

A :class:`Shock` says that the intermediate inputs ``partners`` supply to ``region``'s
industries are cut by a share (0 = nothing cut, 1 = all), either the same share for every
sector of the partner or one share per supplying sector, during the first ``duration`` of
``periods`` periods (later periods show the recovery, in the models that have one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from commonplan.economy import Economy
from commonplan.errors import SpecError


def _share(value: float, where: str) -> float:
    try:
        share = float(value)
    except (TypeError, ValueError):
        raise SpecError(
            f"share = {value!r} is not a number", where=where, expected="a number in [0, 1]"
        ) from None
    if not np.isfinite(share) or not 0.0 <= share <= 1.0:
        raise SpecError(
            f"share = {value!r}",
            where=where,
            expected="a number in [0, 1] (the share of supply cut)",
        )
    return share


@dataclass(frozen=True)
class Shock:
    """``partners`` stop supplying ``share`` of their intermediate inputs to ``region``.

    ``share`` is one number in [0, 1] for every supplying sector, or a mapping
    ``{sector: share}`` (sectors not named are not cut). The cut holds in periods
    ``1 … duration`` of ``1 … periods`` (``duration`` defaults to ``periods``).
    """

    region: str
    partners: tuple[str, ...] | str
    share: float | Mapping[str, float] = 1.0
    periods: int = 1
    duration: int | None = None
    _shares: Mapping[str, float] | float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        partners = (self.partners,) if isinstance(self.partners, str) else tuple(self.partners)
        object.__setattr__(self, "partners", tuple(str(p) for p in partners))
        if not self.partners:
            raise SpecError(
                "no partner", where="shock.partners", expected="at least one region code"
            )
        if self.region in self.partners:
            raise SpecError(
                f"region {self.region!r} is also a partner",
                where="shock.partners",
                fix="a region cannot cut itself off",
            )
        if not isinstance(self.periods, int | np.integer) or self.periods < 1:
            raise SpecError(
                f"periods = {self.periods!r}", where="shock.periods", expected="an integer ≥ 1"
            )
        duration = self.periods if self.duration is None else self.duration
        if not isinstance(duration, int | np.integer) or not 1 <= duration <= self.periods:
            raise SpecError(
                f"duration = {self.duration!r}",
                where="shock.duration",
                expected=f"an integer from 1 to periods = {self.periods}",
            )
        object.__setattr__(self, "duration", int(duration))
        if isinstance(self.share, Mapping):
            if not self.share:
                raise SpecError(
                    "no sector to cut", where="shock.share", expected="{sector: share, …}"
                )
            shares = {str(s): _share(v, f"shock.share[{s!r}]") for s, v in self.share.items()}
        else:
            shares = _share(self.share, "shock.share")
        object.__setattr__(self, "_shares", shares)

    def check(self, economy: Economy) -> None:
        """Raise :class:`SpecError` if the region, a partner or a sector is not in ``economy``."""
        regions = [str(r) for r in economy.regions]
        for where, name in [("shock.region", self.region)] + [
            (f"shock.partners[{k}]", p) for k, p in enumerate(self.partners)
        ]:
            if name not in regions:
                raise SpecError(
                    f"unknown region {name!r}",
                    where=where,
                    expected=f"one of {regions}",
                    fix="use the table's region codes",
                )
        if isinstance(self._shares, Mapping):
            sectors = {str(s) for s in economy.products.get_level_values(1)}
            for sector in self._shares:
                if sector not in sectors:
                    raise SpecError(
                        f"unknown sector {sector!r}",
                        where=f"shock.share[{sector!r}]",
                        expected="sector codes of the table, e.g. "
                        + ", ".join(sorted(sectors)[:5]),
                    )

    def cut(self, economy: Economy) -> np.ndarray:
        """Share of each product's supply to ``region`` that is cut, per period: products × periods.

        Non-zero only on the partners' products, and only in periods ``1 … duration``.
        """
        self.check(economy)
        regions = economy.products.get_level_values(0).astype(str).to_numpy()
        sectors = economy.products.get_level_values(1).astype(str).to_numpy()
        if isinstance(self._shares, Mapping):
            per_product = np.array([self._shares.get(s, 0.0) for s in sectors])
        else:
            per_product = np.full(economy.n_products, self._shares)
        per_product = np.where(np.isin(regions, self.partners), per_product, 0.0)
        active = np.arange(1, self.periods + 1) <= self.duration
        return per_product[:, None] * active[None, :]

    def region_mask(self, economy: Economy) -> np.ndarray:
        """Whether each product of ``economy`` is one of ``region``'s."""
        return economy.products.get_level_values(0).astype(str).to_numpy() == self.region

    def describe(self) -> str:
        """One line for people: who loses what, how much, for how long."""
        if isinstance(self._shares, Mapping):
            what = ", ".join(f"{s} {v:.0%}" for s, v in self._shares.items())
        else:
            what = f"{self._shares:.0%} of all sectors"
        return (
            f"{self.region} loses {what} of the supplies of {'+'.join(self.partners)} "
            f"in periods 1–{self.duration} of {self.periods}"
        )
