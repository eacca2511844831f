"""The data model of a participatory economy: councils, their Cobb-Douglas parameters, goods by class.

This is the economy of Hahnel and Szczepanczyk's participatory annual planning procedure
(Hahnel, *Democratic Economic Planning*, Routledge 2021, ch. 9; the program ``pequod-cljs``),
specified in ``shared/specs/participatory-procedure.md``. It is its own thing, not the core
:class:`~commonplan.economy.Economy`: councils choose quantities by optimising Cobb-Douglas
objectives at indicative prices, so there are no fixed coefficients until a plan is chosen.
:meth:`ParticipatoryEconomy.linearised_at` turns one plan into a core ``Economy`` (worker
councils become activities with the coefficients of that plan).

Commodities
-----------
Five classes of ``G`` goods each, in the fixed order of the program (spec §2):

====== ================ =================================== ======================
block  class            supplied by                         demanded by
====== ================ =================================== ======================
0      private          worker councils of industry 0       consumer councils
1      intermediate     worker councils of industry 1       worker councils
2      nature           fixed endowment (1000 units)        worker councils
3      labour           fixed endowment (1000 units)        worker councils
4      public           worker councils of industry 2       consumer councils (collectively)
====== ================ =================================== ======================

Commodity ``j`` (0-based) of good number ``n`` (1-based) in block ``b`` is ``b·G + n − 1``.
Quantities are in the experiment's physical units of each good; prices in credits per unit;
incomes in credits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.checks import check_values, find_bad_cell, first_true
from commonplan.errors import ParticipationInputError


class GoodClass(IntEnum):
    """The five classes of commodity, numbered by their block in the global commodity order."""

    PRIVATE = 0
    INTERMEDIATE = 1
    NATURE = 2
    LABOUR = 3
    PUBLIC = 4

    @property
    def label(self) -> str:
        return _CLASS_LABELS[self]


_CLASS_LABELS = {
    GoodClass.PRIVATE: "private",
    GoodClass.INTERMEDIATE: "intermediate",
    GoodClass.NATURE: "nature",
    GoodClass.LABOUR: "labour",
    GoodClass.PUBLIC: "public",
}

INDUSTRY_OUTPUT_CLASS = np.array([GoodClass.PRIVATE, GoodClass.INTERMEDIATE, GoodClass.PUBLIC])
"""Class of the good a worker council of industry 0, 1 or 2 produces."""

DEFAULT_ENDOWMENT = 1000.0
"""Units of every natural resource and labour type available each round (hard-coded in the program)."""


def _readonly(array: Any, dtype: Any) -> np.ndarray:
    out = np.array(array, dtype=dtype, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class ConsumerCouncils:
    """Consumer councils (CCs): income and Cobb-Douglas utility exponents.

    ``income`` (credits, shape ``(N_C,)``) is each council's budget; ``private_exponents`` and
    ``public_exponents`` (shape ``(N_C, G)``, dimensionless) are the exponents on private goods
    ``1..G`` and public goods ``1..G``. A council spends share ``u/E`` of its income on each
    good, where ``E`` is the sum of all its ``2G`` exponents.
    """

    income: np.ndarray
    private_exponents: np.ndarray
    public_exponents: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "income", _readonly(self.income, np.float64))
        object.__setattr__(self, "private_exponents", _readonly(self.private_exponents, np.float64))
        object.__setattr__(self, "public_exponents", _readonly(self.public_exponents, np.float64))

    @property
    def count(self) -> int:
        return int(self.income.shape[0])

    @property
    def exponent_sum(self) -> np.ndarray:
        """``E_c``: the sum of each council's ``2G`` exponents (dimensionless)."""
        return self.private_exponents.sum(axis=1) + self.public_exponents.sum(axis=1)


@dataclass(frozen=True, eq=False)
class WorkerCouncils:
    """Worker councils (WCs): one output each, Cobb-Douglas inputs and an effort factor.

    Technology ``Q = A·e^c·Π x_i^{b_i}``; effort costs ``σ·e^k`` credits (spec §4.1).

    * ``industry`` (``(N_W,)``, 0, 1 or 2): private, intermediate or public good producer;
    * ``product`` (``(N_W,)``, 1..G): which good of that class it makes;
    * ``scale`` ``A`` (total factor productivity), ``effort_exponent`` ``c``,
      ``disutility_exponent`` ``k`` (the file's ``:du``), ``disutility_scale`` ``σ``
      (the file's ``:s``, credits);
    * inputs in compressed rows: council ``w`` owns entries
      ``input_offsets[w]:input_offsets[w+1]`` of ``input_commodity`` (global commodity index)
      and ``input_exponent`` (``b``), flattened intermediate, then nature, then labour, each in
      file order (spec §3).
    """

    industry: np.ndarray
    product: np.ndarray
    scale: np.ndarray
    effort_exponent: np.ndarray
    disutility_exponent: np.ndarray
    disutility_scale: np.ndarray
    input_offsets: np.ndarray
    input_commodity: np.ndarray
    input_exponent: np.ndarray

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "industry", _readonly(self.industry, np.int8))
        set_(self, "product", _readonly(self.product, np.int64))
        for name in (
            "scale",
            "effort_exponent",
            "disutility_exponent",
            "disutility_scale",
            "input_exponent",
        ):
            set_(self, name, _readonly(getattr(self, name), np.float64))
        set_(self, "input_offsets", _readonly(self.input_offsets, np.int64))
        set_(self, "input_commodity", _readonly(self.input_commodity, np.int64))

    @property
    def count(self) -> int:
        return int(self.industry.shape[0])

    @property
    def input_count(self) -> np.ndarray:
        """``n_w``: number of inputs of each council."""
        return np.diff(self.input_offsets)

    @property
    def input_owner(self) -> np.ndarray:
        """Council index of each flattened input entry."""
        return np.repeat(np.arange(self.count), self.input_count)

    @property
    def exponent_sum(self) -> np.ndarray:
        """``B_w = Σ_i b_{w,i}`` per council (dimensionless)."""
        return (
            np.add.reduceat(self.input_exponent, self.input_offsets[:-1])
            if self.count
            else np.zeros(0)
        )

    def exponent_matrix(self, n_commodities: int) -> sp.csr_array:
        """``(N_W, 5G)`` sparse matrix of input exponents ``b_{w,j}``."""
        return sp.csr_array(
            (self.input_exponent, self.input_commodity, self.input_offsets),
            shape=(self.count, n_commodities),
        )


@dataclass(frozen=True, eq=False)
class ParticipatoryEconomy:
    """One year's participatory economy: ``G`` goods per class, consumer and worker councils.

    ``endowment`` (``(5G,)``, units) is the fixed supply of every commodity: 1000 for natural
    resources and labour, 0 for produced goods. ``name`` and ``source`` say where it comes from.
    Construction validates everything (:func:`validate`), raising
    :class:`~commonplan.errors.ParticipationInputError` naming the council and field.
    """

    goods_per_class: int
    consumers: ConsumerCouncils
    workers: WorkerCouncils
    endowment: np.ndarray | None = None
    name: str = ""
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.endowment is None:
            endowment = np.zeros(5 * self.goods_per_class)
            endowment[self.class_slice(GoodClass.NATURE)] = DEFAULT_ENDOWMENT
            endowment[self.class_slice(GoodClass.LABOUR)] = DEFAULT_ENDOWMENT
        else:
            endowment = self.endowment
        object.__setattr__(self, "endowment", _readonly(endowment, np.float64))
        validate_participatory_economy(self)

    # ---- commodities -------------------------------------------------------------------

    @property
    def n_commodities(self) -> int:
        return 5 * self.goods_per_class

    def class_slice(self, good_class: GoodClass) -> slice:
        """Positions of one class's ``G`` goods in the global commodity order."""
        g = self.goods_per_class
        return slice(int(good_class) * g, (int(good_class) + 1) * g)

    @property
    def commodities(self) -> pd.MultiIndex:
        """Labels ``(class, good)`` of the ``5G`` commodities, in the global order (good 1-based)."""
        g = self.goods_per_class
        classes = [GoodClass(b).label for b in range(5) for _ in range(g)]
        goods = [n for _ in range(5) for n in range(1, g + 1)]
        return pd.MultiIndex.from_arrays([classes, goods], names=["class", "good"])

    @property
    def worker_output_commodity(self) -> np.ndarray:
        """Global commodity index of each worker council's output."""
        classes = INDUSTRY_OUTPUT_CLASS[self.workers.industry.astype(np.int64)]
        return classes.astype(np.int64) * self.goods_per_class + self.workers.product - 1

    @property
    def worker_index(self) -> pd.Index:
        """Worker council ids, 1-based, in file order (the program's ``wc_<id>``)."""
        return pd.RangeIndex(1, self.workers.count + 1, name="worker_council")

    @property
    def consumer_index(self) -> pd.Index:
        """Consumer council ids, 1-based, in file order."""
        return pd.RangeIndex(1, self.consumers.count + 1, name="consumer_council")

    # ---- derived -----------------------------------------------------------------------

    def content_hash(self) -> str:
        """SHA-256 of every number that determines a run (hex), for run configurations."""
        digest = hashlib.sha256()
        digest.update(f"participatory-economy-v1;G={self.goods_per_class}".encode())
        arrays = (
            self.endowment,
            self.consumers.income,
            self.consumers.private_exponents,
            self.consumers.public_exponents,
            self.workers.industry,
            self.workers.product,
            self.workers.scale,
            self.workers.effort_exponent,
            self.workers.disutility_exponent,
            self.workers.disutility_scale,
            self.workers.input_offsets,
            self.workers.input_commodity,
            self.workers.input_exponent,
        )
        for array in arrays:
            contiguous = np.ascontiguousarray(array)
            digest.update(str(contiguous.dtype).encode() + str(contiguous.shape).encode())
            digest.update(contiguous.tobytes())
        return digest.hexdigest()

    def with_exponents(
        self,
        *,
        input_exponent: np.ndarray | None = None,
        private_exponents: np.ndarray | None = None,
        public_exponents: np.ndarray | None = None,
    ) -> ParticipatoryEconomy:
        """A new, re-validated economy with some exponents replaced (this one is unchanged)."""
        workers = self.workers
        if input_exponent is not None:
            workers = replace(workers, input_exponent=input_exponent)
        consumers = self.consumers
        if private_exponents is not None or public_exponents is not None:
            consumers = replace(
                consumers,
                private_exponents=consumers.private_exponents
                if private_exponents is None
                else private_exponents,
                public_exponents=consumers.public_exponents
                if public_exponents is None
                else public_exponents,
            )
        return replace(self, workers=workers, consumers=consumers)

    def __repr__(self) -> str:
        label = self.name or "ParticipatoryEconomy"
        return (
            f"<{label}: {self.workers.count} worker councils, {self.consumers.count} consumer councils, "
            f"{self.goods_per_class} goods per class ({self.n_commodities} commodities)>"
        )

    def linearised_at(
        self, worker_output: np.ndarray, worker_input_use: np.ndarray, final_demand: np.ndarray
    ):
        """This economy as a core :class:`~commonplan.economy.Economy`, linearised at one plan.

        See :func:`linearised_economy`; :meth:`ParticipationResult.linearised_economy
        <commonplan.participation.result.ParticipationResult.linearised_economy>` passes a
        run's final plan.
        """
        return linearised_economy(self, worker_output, worker_input_use, final_demand)


# ---- validation ---------------------------------------------------------------------------


def _where(economy: ParticipatoryEconomy, what: str) -> str:
    return f"{economy.source}: {what}" if economy.source else what


def _check_vector(
    economy: ParticipatoryEconomy,
    values: np.ndarray,
    who: str,
    field_name: str,
    *,
    positive: bool,
    expected_len: int,
) -> None:
    """Finite and (strictly) non-negative, one per council; names the first council that is not."""
    if values.shape != (expected_len,):
        raise ParticipationInputError(
            f"{field_name} has shape {values.shape}",
            where=_where(economy, f"{who} councils, field {field_name}"),
            expected=f"one value per {who} council, shape ({expected_len},)",
        )
    check_values(
        values,
        what=field_name,
        where=lambda at: _where(economy, f"{who} council {at[0] + 1}, field {field_name}"),
        nonnegative=True,
        positive=positive,
        error=ParticipationInputError,
        fix=f"correct {field_name} of that council in the input",
    )


def validate_participatory_economy(economy: ParticipatoryEconomy) -> None:
    """Check every parameter; raise :class:`ParticipationInputError` naming council and field.

    Rules (spec §3–§4): incomes ≥ 0 and utility exponents ≥ 0 and finite, with a positive
    exponent sum ``E_c``; worker councils of industry 0–2 making a good 1..G; ``A``, ``c``,
    ``k``, ``σ`` and every input exponent finite and > 0; inputs only intermediate goods,
    natural resources or labour, none listed twice, at least one; ``B_w + c_w/k_w < 1``
    (otherwise the council's profit has no maximum and the closed form is a minimum); every
    produced good has a producer and every resource a positive endowment. The checks run
    in this order, so the first problem of an input is the one reported.
    """
    _check_sizes(economy)
    _check_consumers(economy)
    _check_industries_and_products(economy)
    for field_name, values in (
        (":a", economy.workers.scale),
        (":c", economy.workers.effort_exponent),
        (":du", economy.workers.disutility_exponent),
        (":s", economy.workers.disutility_scale),
    ):
        _check_vector(
            economy, values, "worker", field_name, positive=True, expected_len=economy.workers.count
        )
    _check_input_lists(economy)
    _check_decreasing_returns(economy)
    _check_producers_and_endowments(economy)


def _check_sizes(economy: ParticipatoryEconomy) -> None:
    """Goods per class an integer ≥ 1, one endowment per commodity, councils of both kinds."""
    g = economy.goods_per_class
    if int(g) != g or g < 1:
        raise ParticipationInputError(
            f"goods_per_class is {g!r}", where=_where(economy, "economy"), expected="an integer ≥ 1"
        )
    n = 5 * g
    if (
        economy.endowment.shape != (n,)
        or find_bad_cell(economy.endowment, nonnegative=True) is not None
    ):
        raise ParticipationInputError(
            "endowment is not one finite, non-negative quantity per commodity",
            where=_where(economy, "economy, field endowment"),
            expected=f"shape ({n},), finite, ≥ 0",
        )
    n_c, n_w = economy.consumers.count, economy.workers.count
    if n_c == 0 or n_w == 0:
        raise ParticipationInputError(
            f"the economy has {n_c} consumer and {n_w} worker councils",
            where=_where(economy, "economy"),
            expected="at least one council of each kind",
        )


def _check_consumers(economy: ParticipatoryEconomy) -> None:
    """Incomes ≥ 0; utility exponents finite, ≥ 0, one per good, not all zero."""
    cc, g = economy.consumers, economy.goods_per_class
    n_c = cc.count
    _check_vector(economy, cc.income, "consumer", ":income", positive=False, expected_len=n_c)
    for field_name, exponents in (
        (":utility-exponents", cc.private_exponents),
        (":public-good-exponents", cc.public_exponents),
    ):
        if exponents.shape != (n_c, g):
            raise ParticipationInputError(
                f"{field_name} has shape {exponents.shape}",
                where=_where(economy, f"consumer councils, field {field_name}"),
                expected=f"{g} exponents per consumer council, shape ({n_c}, {g})",
            )
        bad = find_bad_cell(exponents, nonnegative=True)
        if bad is not None:
            row, col = bad.position
            raise ParticipationInputError(
                f"exponent {col + 1} is {bad.value!r} ({bad.count} value(s) affected)",
                where=_where(economy, f"consumer council {row + 1}, field {field_name}"),
                expected="finite Cobb-Douglas exponents ≥ 0",
                fix="correct the exponent in the input",
            )
    no_utility = first_true(~(cc.exponent_sum > 0))
    if no_utility is not None:
        first, count = no_utility
        raise ParticipationInputError(
            f"all utility exponents are zero ({count} consumer council(s) affected), so its demand is undefined",
            where=_where(
                economy,
                f"consumer council {first + 1}, fields :utility-exponents/:public-good-exponents",
            ),
            expected="at least one positive exponent",
        )


def _check_industries_and_products(economy: ParticipatoryEconomy) -> None:
    """Each worker council of industry 0, 1 or 2, making a good numbered 1..G."""
    wc, g = economy.workers, economy.goods_per_class
    industry = wc.industry.astype(np.float64)
    _check_vector(economy, industry, "worker", ":industry", positive=False, expected_len=wc.count)
    bad = first_true(~np.isin(wc.industry, (0, 1, 2)))
    if bad is not None:
        first, count = bad
        raise ParticipationInputError(
            f":industry is {int(wc.industry[first])} ({count} worker council(s) affected)",
            where=_where(economy, f"worker council {first + 1}, field :industry"),
            expected="0 (private good), 1 (intermediate good) or 2 (public good)",
        )
    product = wc.product.astype(np.float64)
    _check_vector(economy, product, "worker", ":product", positive=True, expected_len=wc.count)
    bad = first_true((wc.product < 1) | (wc.product > g))
    if bad is not None:
        first, count = bad
        raise ParticipationInputError(
            f":product is {int(wc.product[first])} ({count} worker council(s) affected)",
            where=_where(economy, f"worker council {first + 1}, field :product"),
            expected=f"a good number 1..{g}",
        )


def _check_input_lists(economy: ParticipatoryEconomy) -> None:
    """The flattened input lists: well delimited, non-empty, only intermediate goods,
    natural resources or labour, exponents finite and > 0, no good listed twice."""
    wc, g = economy.workers, economy.goods_per_class
    n = 5 * g
    offsets = wc.input_offsets
    if (
        offsets.shape != (wc.count + 1,)
        or offsets[0] != 0
        or (np.diff(offsets) < 0).any()
        or offsets[-1] != wc.input_commodity.size
    ):
        raise ParticipationInputError(
            "input offsets do not delimit the flattened input lists",
            where=_where(economy, "worker councils, field input_offsets"),
            expected=f"non-decreasing offsets of length {wc.count + 1} from 0 to {wc.input_commodity.size}",
        )
    if wc.input_exponent.shape != wc.input_commodity.shape:
        raise ParticipationInputError(
            f"{wc.input_exponent.size} input exponents for {wc.input_commodity.size} inputs",
            where=_where(economy, "worker councils, field input_exponent"),
            expected="one exponent per input",
        )
    owner = wc.input_owner
    no_inputs = first_true(wc.input_count == 0)
    if no_inputs is not None:
        first, count = no_inputs
        raise ParticipationInputError(
            f"the council has no inputs ({count} worker council(s) affected)",
            where=_where(economy, f"worker council {first + 1}, field :production-inputs"),
            expected="at least one intermediate good, natural resource or labour type",
        )
    block = wc.input_commodity // g
    bad = first_true(
        (wc.input_commodity < 0) | (wc.input_commodity >= n) | ~np.isin(block, (1, 2, 3))
    )
    if bad is not None:
        first = bad[0]
        raise ParticipationInputError(
            f"input {int(wc.input_commodity[first])} is not an intermediate good, natural resource or labour type",
            where=_where(economy, f"worker council {owner[first] + 1}, field :production-inputs"),
            expected=f"global commodity indices {g}..{4 * g - 1}",
        )
    bad_exponent = find_bad_cell(wc.input_exponent, positive=True)
    if bad_exponent is not None:
        (first,) = bad_exponent.position
        entry = first - offsets[owner[first]]
        raise ParticipationInputError(
            f"input exponent {entry + 1} is {bad_exponent.value!r} ({bad_exponent.count} value(s) affected)",
            where=_where(
                economy,
                f"worker council {owner[first] + 1}, field {_exponent_field(int(block[first]))}",
            ),
            expected="a finite Cobb-Douglas exponent > 0",
            fix="correct the exponent in the input",
        )
    # a good listed twice by one council: sort (owner, commodity) pairs and look for neighbours
    key = owner.astype(np.int64) * n + wc.input_commodity
    ordered = np.sort(key)
    repeated = ordered[1:] == ordered[:-1]
    if repeated.any():
        k = int(ordered[1:][repeated][0])
        council, commodity = divmod(k, n)
        raise ParticipationInputError(
            f"{GoodClass(commodity // g).label} good {commodity % g + 1} is listed twice",
            where=_where(economy, f"worker council {council + 1}, field :production-inputs"),
            expected="each input good at most once per council",
            fix="merge the two entries (their exponents add up)",
        )


def _check_decreasing_returns(economy: ParticipatoryEconomy) -> None:
    """``B_w + c_w/k_w < 1``, else the council's profit has no maximum."""
    wc = economy.workers
    effort = wc.effort_exponent / wc.disutility_exponent
    unbounded = first_true(wc.exponent_sum + effort >= 1.0)
    if unbounded is not None:
        first, count = unbounded
        total = wc.exponent_sum[first] + effort[first]
        raise ParticipationInputError(
            f"input exponents sum to {wc.exponent_sum[first]:.6g} and :c/:du is "
            f"{effort[first]:.6g}, together {total:.6g} ≥ 1, so the "
            f"council's profit has no maximum ({count} worker council(s) affected)",
            where=_where(
                economy,
                f"worker council {first + 1}, fields :input-exponents/:nature-exponents/:labor-exponents, :c, :du",
            ),
            expected="B + c/k < 1 (decreasing returns in inputs and effort)",
            fix="lower the council's exponents",
        )


def _check_producers_and_endowments(economy: ParticipatoryEconomy) -> None:
    """Every produced good has a producer, every natural resource and labour type an endowment."""
    produced = np.zeros(5 * economy.goods_per_class, dtype=bool)
    produced[economy.worker_output_commodity] = True
    for good_class in (GoodClass.PRIVATE, GoodClass.INTERMEDIATE, GoodClass.PUBLIC):
        section = produced[economy.class_slice(good_class)]
        if not section.any():
            raise ParticipationInputError(
                f"no worker council produces any {good_class.label} good",
                where=_where(economy, f"worker councils, class {good_class.label}"),
                expected=f"at least one worker council of industry {list(INDUSTRY_OUTPUT_CLASS).index(good_class)} per good",
                fix="add producers of that class",
            )
        missing = first_true(~section)
        if missing is not None:
            first, count = missing
            raise ParticipationInputError(
                f"no worker council produces {good_class.label} good {first + 1} "
                f"({count} {good_class.label} good(s) without producer)",
                where=_where(economy, f"{good_class.label} good {first + 1}"),
                expected="at least one producer of every produced good",
                fix="add a worker council producing it, or remove the good",
            )
    for good_class in (GoodClass.NATURE, GoodClass.LABOUR):
        section = economy.endowment[economy.class_slice(good_class)]
        missing = first_true(~(section > 0))
        if missing is not None:
            first = missing[0]
            raise ParticipationInputError(
                f"{good_class.label} {first + 1} has no endowment, so nothing supplies it",
                where=_where(economy, f"{good_class.label} {first + 1}, field endowment"),
                expected="a positive endowment for every natural resource and labour type",
            )


def _exponent_field(block: int) -> str:
    return {1: ":input-exponents", 2: ":nature-exponents", 3: ":labor-exponents"}.get(
        block, "input exponents"
    )


# ---- conversion to the core Economy --------------------------------------------------------


def linearised_economy(
    economy: ParticipatoryEconomy,
    worker_output: np.ndarray,
    worker_input_use: np.ndarray,
    final_demand: np.ndarray,
):
    """The core :class:`~commonplan.economy.Economy` with one plan's quantities as fixed coefficients.

    Each worker council becomes one activity, labelled ``("WC", "wc_<id>")``, that makes one
    unit of its output good per unit of activity and uses ``x_{w,i}/Q_w`` units of each
    produced input (intermediate goods) per unit; natural resources and labour types become
    accounts (``nature-<n>``, ``labour-<n>``, units per unit of output). Products are the
    ``3G`` produced goods, labelled ``("ALL", "<class>-<good>")``; final demand has two
    categories, ``private consumption`` (private goods) and ``public consumption`` (public
    goods), taken from ``final_demand`` (``(5G,)``, units). ``activity_levels`` are ``Q``.

    This freezes each council's input proportions at the plan: constant returns to scale at
    that point, which the Cobb-Douglas councils do not have (see
    :mod:`commonplan.participation.compare`).
    """
    from commonplan.economy import Economy, Metadata

    g = economy.goods_per_class
    wc = economy.workers
    worker_output = np.asarray(worker_output, dtype=np.float64)
    if (
        worker_output.shape != (wc.count,)
        or find_bad_cell(worker_output, positive=True) is not None
    ):
        raise ParticipationInputError(
            "worker outputs are not one finite positive quantity per worker council",
            where=_where(economy, "plan, worker output"),
            expected=f"shape ({wc.count},), finite, > 0",
        )
    per_unit = np.asarray(worker_input_use, dtype=np.float64) / worker_output[wc.input_owner]
    produced_classes = (GoodClass.PRIVATE, GoodClass.INTERMEDIATE, GoodClass.PUBLIC)
    # position of each global commodity among the 3G products (-1 for resources)
    product_position = np.full(5 * g, -1, dtype=np.int64)
    for k, good_class in enumerate(produced_classes):
        product_position[economy.class_slice(good_class)] = np.arange(k * g, (k + 1) * g)
    labels = [f"{c.label}-{n}" for c in produced_classes for n in range(1, g + 1)]
    products = pd.MultiIndex.from_arrays(
        [["ALL"] * len(labels), labels], names=["region", "sector"]
    )
    activities = pd.MultiIndex.from_arrays(
        [["WC"] * wc.count, [f"wc_{i}" for i in range(1, wc.count + 1)]], names=["region", "sector"]
    )
    owner = wc.input_owner
    is_product = product_position[wc.input_commodity] >= 0
    use = sp.csr_array(
        (
            per_unit[is_product],
            (product_position[wc.input_commodity[is_product]], owner[is_product]),
        ),
        shape=(3 * g, wc.count),
    )
    make = sp.csr_array(
        (
            np.ones(wc.count),
            (product_position[economy.worker_output_commodity], np.arange(wc.count)),
        ),
        shape=(3 * g, wc.count),
    )
    resource_rows = wc.input_commodity[~is_product] - 2 * g  # nature 0..G-1, labour G..2G-1
    accounts = np.zeros((2 * g, wc.count))
    np.add.at(accounts, (resource_rows, owner[~is_product]), per_unit[~is_product])
    account_names = [f"nature-{n}" for n in range(1, g + 1)] + [
        f"labour-{n}" for n in range(1, g + 1)
    ]
    final = np.zeros((3 * g, 2))
    final_demand = np.asarray(final_demand, dtype=np.float64)
    final[0:g, 0] = final_demand[economy.class_slice(GoodClass.PRIVATE)]
    final[2 * g : 3 * g, 1] = final_demand[economy.class_slice(GoodClass.PUBLIC)]
    return Economy(
        products=products,
        activities=activities,
        use=use,
        make=make,
        account_coefficients=accounts,
        account_names=tuple(account_names),
        account_units={name: "units of the resource" for name in account_names},
        final_demand_values=final,
        final_demand_columns=pd.Index(
            ["private consumption", "public consumption"], name="category"
        ),
        activity_levels=worker_output,
        metadata=Metadata(
            name=f"{economy.name or 'participatory economy'} linearised at a plan",
            units="physical units of each good",
            source=economy.source,
            notes="worker councils as activities with their plan's input proportions (constant returns at the plan)",
        ),
        check_productive=False,
    )
