"""The procedure run live: proposals that councils send, checked, summed and priced by the board.

:func:`~commonplan.participation.procedure.run_year` computes every council's proposal itself.
Here the proposals come from outside — people on a page, or programs (bots) through the API —
and this module holds what the facilitation board does with them, on plain arrays:

* :func:`check_proposal` turns one council's proposal, with goods named as in
  :func:`commodity_names` (``"intermediate-3"``), into commodity indices and quantities, or
  refuses it with one :class:`~commonplan.errors.ParticipationInputError`;
* :func:`tally` sums one iteration's proposals into supply ``S`` and demand ``D`` per
  commodity (units) exactly as the specification's §4.3 does: a public good's demand is the
  mean of the quantities the consumer councils state;
* :func:`board_step` applies the price rule (the same :class:`~commonplan.participation.procedure.PriceRule`
  objects as the simulation) and says whether the procedure stops;
* :func:`bot_proposals` is what a bot sends: the councils' own optimum at the announced prices,
  by the simulation's closed forms (:class:`~commonplan.participation.procedure.Councils`).

A live round run with :func:`bot_proposals` for every council is the simulation, except that
the board sums the proposals one by one instead of in closed form: prices agree to rounding.
:func:`pack_economy` / :func:`unpack_economy` store an economy as bytes (NumPy ``.npz``, no
pickles).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from commonplan.errors import ParticipationInputError
from commonplan.participation.model import (
    ConsumerCouncils,
    GoodClass,
    ParticipatoryEconomy,
    WorkerCouncils,
)
from commonplan.participation.procedure import (
    Councils,
    HahnelSzczepanczykRule,
    PriceRule,
    imbalance_of,
    percent,
)

CouncilKind = Literal["worker", "consumer"]

WORKER_INPUT_CLASSES = (GoodClass.INTERMEDIATE, GoodClass.NATURE, GoodClass.LABOUR)
"""Classes of the goods a worker council may ask for as inputs (§4.1)."""

CONSUMER_CLASSES = (GoodClass.PRIVATE, GoodClass.PUBLIC)
"""Classes of the goods a consumer council may request (§4.2)."""


def commodity_names(economy: ParticipatoryEconomy) -> tuple[str, ...]:
    """The ``5G`` commodities' names in the global order: ``private-1`` … ``public-G``."""
    return _names(economy.goods_per_class)


@lru_cache(maxsize=32)
def _names(goods_per_class: int) -> tuple[str, ...]:
    g = goods_per_class
    return tuple(f"{GoodClass(b).label}-{n}" for b in range(5) for n in range(1, g + 1))


@lru_cache(maxsize=32)
def _name_index(goods_per_class: int) -> dict[str, int]:
    return {name: k for k, name in enumerate(_names(goods_per_class))}


def class_of(economy: ParticipatoryEconomy, commodity: int) -> GoodClass:
    """The class of commodity ``commodity`` (0-based global index)."""
    return _classes(economy.goods_per_class)[commodity]


@lru_cache(maxsize=32)
def _classes(goods_per_class: int) -> tuple[GoodClass, ...]:
    return tuple(GoodClass(b) for b in range(5) for _ in range(goods_per_class))


# ---- one council's proposal ------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """One council's checked proposal.

    ``output``: a worker council's proposed output of its own good (units; None for a consumer
    council); ``quantities``: commodity index → units, a worker council's inputs or a consumer
    council's requests (for a public good, the quantity stated at the per-council price,
    §4.2).
    """

    kind: CouncilKind
    index: int
    output: float | None
    quantities: dict[int, float]


def _quantity(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParticipationInputError(
            f"{value!r} is not a number", where=where, expected="a finite number ≥ 0 (units)"
        )
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ParticipationInputError(
            f"the quantity is {value!r}",
            where=where,
            expected="a finite number ≥ 0 (units)",
            fix="propose zero or a positive quantity",
        )
    return number


def check_proposal(
    economy: ParticipatoryEconomy,
    kind: CouncilKind,
    index: int,
    *,
    output: Any = None,
    quantities: Mapping[str, Any] | None = None,
    names: Mapping[str, int] | None = None,
    where: str = "proposal",
) -> Proposal:
    """Check one council's proposal and return it with commodity indices.

    A worker council (``kind="worker"``, ``index`` 0-based) gives ``output`` (units of its own
    good, ≥ 0) and ``quantities`` of intermediate goods, natural resources and labour it needs;
    a consumer council gives no output and ``quantities`` of private and public goods.
    Goods are named as in :func:`commodity_names` (``names`` is that mapping, passed to save
    rebuilding it per call). Unknown goods, goods of a class the council cannot use, negative
    or non-finite quantities are refused naming the good.
    """
    if names is None:
        names = _name_index(economy.goods_per_class)
    count = economy.workers.count if kind == "worker" else economy.consumers.count
    if kind not in ("worker", "consumer") or not 0 <= index < count:
        raise ParticipationInputError(
            f"there is no {kind} council {index + 1}", where=where, expected=f"1–{count}"
        )
    allowed = WORKER_INPUT_CLASSES if kind == "worker" else CONSUMER_CLASSES
    classes = _classes(economy.goods_per_class)
    checked: dict[int, float] = {}
    for name, value in (quantities or {}).items():
        commodity = names.get(name) if isinstance(name, str) else None
        if commodity is None:
            raise ParticipationInputError(
                f"unknown good {name!r}",
                where=f"{where}, goods",
                expected="a good of this economy, e.g. 'intermediate-1' or 'labour-2'",
                fix="name goods as the round's price list does",
            )
        if classes[commodity] not in allowed:
            raise ParticipationInputError(
                f"a {kind} council cannot propose {name!r}",
                where=f"{where}, goods",
                expected=" or ".join(c.label for c in allowed) + " goods",
            )
        checked[commodity] = _quantity(value, f"{where}, {name}")
    if kind == "worker":
        if output is None:
            raise ParticipationInputError(
                "a worker council's proposal has no output",
                where=f"{where}, output",
                expected="the quantity of the council's good it proposes to make (units)",
            )
        return Proposal(kind, index, _quantity(output, f"{where}, output"), checked)
    if output is not None:
        raise ParticipationInputError(
            "a consumer council proposes no output",
            where=f"{where}, output",
            expected="only the quantities of goods it requests",
        )
    return Proposal(kind, index, None, checked)


# ---- the board ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """One iteration's proposals summed per commodity (units): supply ``S``, demand ``D``."""

    supply: np.ndarray
    demand: np.ndarray


def tally(
    economy: ParticipatoryEconomy,
    worker_output: np.ndarray,
    input_use: tuple[np.ndarray, np.ndarray],
    requests: tuple[np.ndarray, np.ndarray],
) -> Tally:
    """Sum the proposals of one iteration (§4.3).

    ``worker_output``: ``(N_W,)`` proposed outputs (0 for a council with no proposal);
    ``input_use``: ``(commodity, units)`` arrays of every worker council's inputs;
    ``requests``: ``(commodity, units)`` of every consumer council's requests. Supply is the
    outputs per good plus the endowment; demand the inputs plus the private requests plus
    the mean of the public-good statements over the ``N_C`` consumer councils.
    """
    n = economy.n_commodities
    supply = (
        np.bincount(economy.worker_output_commodity, weights=worker_output, minlength=n)
        + economy.endowment
    )
    demand = np.bincount(input_use[0], weights=input_use[1], minlength=n)
    commodity, units = requests
    public = commodity >= int(GoodClass.PUBLIC) * economy.goods_per_class
    demand = demand + np.bincount(commodity[~public], weights=units[~public], minlength=n)
    demand = demand + (
        np.bincount(commodity[public], weights=units[public], minlength=n) / economy.consumers.count
    )
    return Tally(supply, demand)


def tally_proposals(economy: ParticipatoryEconomy, proposals: Sequence[Proposal]) -> Tally:
    """:func:`tally` of checked :class:`Proposal` objects (a council missing contributes nothing)."""
    output = np.zeros(economy.workers.count)
    inputs: tuple[list[int], list[float]] = ([], [])
    requests: tuple[list[int], list[float]] = ([], [])
    for proposal in proposals:
        target = inputs if proposal.kind == "worker" else requests
        if proposal.kind == "worker":
            output[proposal.index] = proposal.output
        target[0].extend(proposal.quantities)
        target[1].extend(proposal.quantities.values())
    return tally(
        economy,
        output,
        (np.asarray(inputs[0], dtype=np.int64), np.asarray(inputs[1], dtype=np.float64)),
        (np.asarray(requests[0], dtype=np.int64), np.asarray(requests[1], dtype=np.float64)),
    )


@dataclass(frozen=True)
class BoardStep:
    """What the board decides after one iteration.

    ``surplus`` ``z = S − D`` and ``imbalance`` ``v`` (fraction) of the proposals;
    ``price``/``state``/``step`` the rule's update (the next iteration's prices, credits per
    unit); ``worst`` the largest imbalance; ``converged`` when it is at most the stopping
    threshold; ``diverged`` when a sum or a new price is not finite and positive.
    """

    surplus: np.ndarray
    imbalance: np.ndarray
    price: np.ndarray
    state: np.ndarray
    step: np.ndarray
    worst: float
    converged: bool
    diverged: bool


def board_step(
    price: np.ndarray,
    state: np.ndarray,
    totals: Tally,
    *,
    rule: PriceRule,
    stop_threshold: float,
) -> BoardStep:
    """Move the prices from one iteration's totals, as :func:`~commonplan.participation.procedure.run_year` does."""
    with np.errstate(all="ignore"):
        surplus = totals.supply - totals.demand
        imbalance = imbalance_of(totals.supply, totals.demand)
        update = rule(price, surplus, imbalance, state)
        new_price = np.array(update.price, dtype=np.float64)
    worst = float(imbalance.max()) if imbalance.size else 0.0
    diverged = not (
        np.isfinite(totals.supply).all()
        and np.isfinite(totals.demand).all()
        and math.isfinite(worst)
        and np.isfinite(new_price).all()
        and (new_price > 0).all()
    )
    converged = not diverged and not worst * 100.0 > percent(stop_threshold)
    return BoardStep(
        surplus,
        imbalance,
        new_price,
        np.array(update.state, dtype=np.float64),
        np.array(update.step, dtype=np.float64),
        worst,
        converged,
        diverged,
    )


def class_imbalance(economy: ParticipatoryEconomy, imbalance: np.ndarray) -> dict[str, float]:
    """The largest imbalance (fraction) in each good class: the facilitator's trajectory."""
    return {
        GoodClass(b).label: float(np.max(imbalance[economy.class_slice(GoodClass(b))]))
        for b in range(5)
    }


# ---- bots ------------------------------------------------------------------------------------


def bot_proposals(
    councils: Councils, price: np.ndarray, kind: CouncilKind, indices: Sequence[int]
) -> list[dict[str, Any]]:
    """What bots for the councils ``indices`` (0-based, of ``kind``) propose at ``price``.

    Each council's own optimum by the simulation's closed forms (§4.1–4.2), as the JSON the
    API takes: ``{"output", "quantities": {good: units}}`` for a worker council (its inputs),
    ``{"quantities"}`` for a consumer council (private goods, and public goods stated at the
    per-council price).
    """
    economy = councils.economy
    names = commodity_names(economy)
    proposals = councils.proposals(np.asarray(price, dtype=np.float64))
    out: list[dict[str, Any]] = []
    if kind == "worker":
        offsets = economy.workers.input_offsets
        commodity = economy.workers.input_commodity
        for w in indices:
            quantities: dict[str, float] = {}
            for k in range(int(offsets[w]), int(offsets[w + 1])):
                name = names[int(commodity[k])]
                quantities[name] = quantities.get(name, 0.0) + float(proposals.worker_input_use[k])
            out.append({"output": float(proposals.worker_output[w]), "quantities": quantities})
        return out
    g = economy.goods_per_class
    private = names[economy.class_slice(GoodClass.PRIVATE)]
    public = names[economy.class_slice(GoodClass.PUBLIC)]
    for c in indices:
        quantities = {private[n]: float(proposals.consumer_private[c, n]) for n in range(g)}
        quantities.update({public[n]: float(proposals.consumer_public[c, n]) for n in range(g)})
        out.append({"quantities": quantities})
    return out


# ---- rules and economies as stored values --------------------------------------------------


def rule_parameters(rule: PriceRule) -> dict[str, Any]:
    """A price rule as JSON-able parameters (only :class:`HahnelSzczepanczykRule` can be stored)."""
    if not isinstance(rule, HahnelSzczepanczykRule):
        raise ParticipationInputError(
            f"a live round cannot store the price rule {rule!r}",
            where="price rule",
            expected="HahnelSzczepanczykRule(ceiling, decay_base, floor, cap)",
        )
    return {
        "name": "hahnel-szczepanczyk",
        "ceiling": rule.ceiling,
        "decay_base": rule.decay_base,
        "floor": rule.floor,
        "cap": rule.cap,
    }


def rule_from_parameters(parameters: Mapping[str, Any]) -> HahnelSzczepanczykRule:
    """The price rule :func:`rule_parameters` stored."""
    values = {k: v for k, v in parameters.items() if k != "name"}
    if parameters.get("name") != "hahnel-szczepanczyk":
        raise ParticipationInputError(
            f"unknown price rule {parameters.get('name')!r}",
            where="price rule",
            expected="'hahnel-szczepanczyk'",
        )
    for key, value in values.items():
        if key not in ("ceiling", "decay_base", "floor", "cap") or not (
            isinstance(value, int | float) and math.isfinite(value) and value > 0
        ):
            raise ParticipationInputError(
                f"price rule parameter {key!r} is {value!r}",
                where="price rule",
                expected="ceiling, decay_base, floor, cap: finite numbers > 0",
            )
    return HahnelSzczepanczykRule(**{k: float(v) for k, v in values.items()})


_WORKER_FIELDS = (
    "industry",
    "product",
    "scale",
    "effort_exponent",
    "disutility_exponent",
    "disutility_scale",
    "input_offsets",
    "input_commodity",
    "input_exponent",
)
_CONSUMER_FIELDS = ("income", "private_exponents", "public_exponents")


def pack_economy(economy: ParticipatoryEconomy) -> bytes:
    """The economy as ``.npz`` bytes (arrays plus a JSON header; no pickles)."""
    arrays = {f"w_{k}": getattr(economy.workers, k) for k in _WORKER_FIELDS}
    arrays |= {f"c_{k}": getattr(economy.consumers, k) for k in _CONSUMER_FIELDS}
    header = {
        "goods_per_class": economy.goods_per_class,
        "name": economy.name,
        "source": economy.source,
    }
    arrays["endowment"] = economy.endowment
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def unpack_economy(data: bytes) -> ParticipatoryEconomy:
    """The economy :func:`pack_economy` packed (validated again)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        header = json.loads(bytes(stored["header"]).decode())
        workers = WorkerCouncils(**{k: stored[f"w_{k}"] for k in _WORKER_FIELDS})
        consumers = ConsumerCouncils(**{k: stored[f"c_{k}"] for k in _CONSUMER_FIELDS})
        endowment = stored["endowment"]
    return ParticipatoryEconomy(
        goods_per_class=int(header["goods_per_class"]),
        consumers=consumers,
        workers=workers,
        endowment=endowment,
        name=header.get("name", ""),
        source=header.get("source", ""),
    )
