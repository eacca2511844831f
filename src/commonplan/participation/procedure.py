"""The Hahnel–Szczepanczyk annual planning procedure, vectorised over councils.

Source: Hahnel, *Democratic Economic Planning* (Routledge 2021), ch. 9; Szczepanczyk (2023),
"Pseudocode and algorithms for computer simulations of democratically planned economies";
the program that produced the published tables, ``pequod-cljs`` (``csvgen.clj``). The exact
specification this module follows is ``shared/specs/participatory-procedure.md``; section
numbers below (§) refer to it.

One round (§6): every worker council (WC) and consumer council (CC) proposes at the current
prices ``p`` (credits per unit); the facilitation board sums supply ``S`` and demand ``D``
(units), computes the surplus ``z = S − D`` and the relative imbalance
``v = 2|z|/(S + D)``; the price rule moves every price; the counter becomes ``t``. A year
stops after the first round whose worst imbalance is at most the threshold (3 % in the
program), or after 200 rounds.

Vectorisation. With ``Bmat`` the sparse ``(N_W × 5G)`` matrix of input exponents, the WCs'
closed form (§4.1) is, for all councils at once::

    ln Q = (α + (c + k·B)·ln λ − k·(Bmat · ln p)) / (k(1 − B) − c)
    D_inputs = Bmatᵀ · (λ·Q) / p

with ``α = k ln A + c(ln c − ln k − ln σ) + k Σ b ln b`` fixed for the year. Consumer demand
depends on the CCs only through ``K_n = Σ_c I_c u_{c,n}/E_c`` (§4.3): ``D = K/p``. A round is
two sparse matrix-vector products and one ``exp`` over councils; nothing loops over councils.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from commonplan.errors import ParticipationInputError
from commonplan.participation.model import GoodClass, ParticipatoryEconomy

INITIAL_PRICE = 700.0
"""Every commodity's price in round 1 of year 1 (credits per unit, §2)."""

MAX_ROUNDS = 200
"""Round cap per year (§6)."""

STOP_THRESHOLD = 0.03
"""The program stops a year once no imbalance exceeds 3 % (§6)."""

REPORTED_THRESHOLDS = (0.10, 0.05, 0.03)
"""Thresholds whose first crossing round is reported (10 % for the book's Table 9.5)."""

INPUT_EXPONENT_STEPS = (0.0, 0.001, 0.002, 0.003, 0.004)
"""Year two: what each WC input exponent may gain, uniformly (§7, ``augment-wc``)."""

UTILITY_EXPONENT_STEPS = (-0.002, -0.001, 0.0, 0.001, 0.002)
"""Year two: what each CC utility exponent may gain, uniformly (§7, ``augment-cc``)."""


# ---- the price rule --------------------------------------------------------------------------


class PriceUpdate(NamedTuple):
    """What a price rule returns for one round (one entry per commodity).

    ``price``: the new prices (credits per unit); ``state``: what the rule carries to the next
    round (for the book's rule, the step multiplier ``m``); ``step``: the relative step taken
    (``w``, dimensionless), reported in the trajectory.
    """

    price: np.ndarray
    state: np.ndarray
    step: np.ndarray


class PriceRule(Protocol):
    """How the facilitation board turns one round's imbalances into the next round's prices.

    ``initial_state(n)`` is the state of round 1 of year 1; ``rule(price, surplus, imbalance,
    state)`` gets the prices the proposals were made at, ``z = S − D`` (units), the relative
    imbalance ``v`` (fraction) and the previous round's state, all ``(5G,)`` arrays it must not
    modify, and returns a :class:`PriceUpdate`.
    """

    def initial_state(self, n_commodities: int) -> np.ndarray: ...

    def __call__(
        self, price: np.ndarray, surplus: np.ndarray, imbalance: np.ndarray, state: np.ndarray
    ) -> PriceUpdate: ...


@dataclass(frozen=True)
class HahnelSzczepanczykRule:
    """The price rule of ``pequod-cljs`` that produced the published round counts (§5).

    Per commodity, with ``v`` this round's imbalance and ``m`` the multiplier of the previous
    round (0.25 in round 1 of year 1)::

        β = 1.05 − 0.5^v
        w = max(0.001, min(β, |β·m|))
        p ← p(1 − w) if z > 0;  p(1 + w) if z < 0;  p if z = 0
        m ← min(v, 0.25)

    The multiplier is lagged one round and capped at 0.25, the exponent uses the current,
    uncapped imbalance, and the floor keeps an unbalanced price moving by at least 0.1 %.
    """

    ceiling: float = 1.05
    decay_base: float = 0.5
    floor: float = 0.001
    cap: float = 0.25

    def initial_state(self, n_commodities: int) -> np.ndarray:
        return np.full(n_commodities, self.cap)

    def __call__(
        self, price: np.ndarray, surplus: np.ndarray, imbalance: np.ndarray, state: np.ndarray
    ) -> PriceUpdate:
        beta = self.ceiling - self.decay_base**imbalance
        step = np.maximum(self.floor, np.minimum(beta, np.abs(beta * state)))
        factor = np.where(surplus > 0, 1.0 - step, np.where(surplus < 0, 1.0 + step, 1.0))
        return PriceUpdate(price * factor, np.minimum(imbalance, self.cap), step)


hahnel_szczepanczyk_rule = HahnelSzczepanczykRule()
"""The default rule: the program's (§5)."""


@dataclass(frozen=True)
class StatelessRule:
    """A rule from a plain function ``f(price, surplus, imbalance) -> new price``.

    For researchers trying other rules; the reported step is ``|new/old − 1|``.
    """

    function: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

    def initial_state(self, n_commodities: int) -> np.ndarray:
        return np.zeros(n_commodities)

    def __call__(
        self, price: np.ndarray, surplus: np.ndarray, imbalance: np.ndarray, state: np.ndarray
    ) -> PriceUpdate:
        new = np.asarray(self.function(price, surplus, imbalance), dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.abs(new / price - 1.0)
        return PriceUpdate(new, state, step)


def stateless(
    function: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> StatelessRule:
    """Wrap ``f(price, surplus, imbalance) -> new price`` as a :class:`PriceRule`."""
    return StatelessRule(function)


# ---- the councils ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposals:
    """Every council's proposal at one price vector.

    * ``worker_output`` ``Q_w`` (units of the council's good), ``worker_effort`` ``e_w``
      (the true optimum, not the program's printed ``e′`` for 8-input councils, §4.1);
    * ``worker_input_use`` ``x_{w,i}`` (units), flattened like
      :attr:`~commonplan.participation.model.WorkerCouncils.input_commodity`;
    * ``consumer_private`` ``d_{c,n}`` (units) and ``consumer_public`` — the quantity
      ``q_{c,n}`` each CC states at its per-council price ``p/N_C`` (§4.2), both ``(N_C, G)``.
    """

    worker_output: np.ndarray
    worker_effort: np.ndarray
    worker_input_use: np.ndarray
    consumer_private: np.ndarray
    consumer_public: np.ndarray


class Councils:
    """The councils of one year's economy, precomputed for fast proposals at any prices.

    Everything that does not depend on prices is computed once: the sparse exponent matrix,
    the constant ``α`` of the WCs' closed form, and the consumers' ``K`` (credits).
    """

    def __init__(self, economy: ParticipatoryEconomy) -> None:
        self.economy = economy
        wc, cc = economy.workers, economy.consumers
        n = economy.n_commodities
        self.n_commodities = n
        self.output_commodity = economy.worker_output_commodity
        self.exponents = wc.exponent_matrix(n)
        self.exponents_t = self.exponents.T.tocsr()
        b_sum = wc.exponent_sum
        c, k, sigma = wc.effort_exponent, wc.disutility_exponent, wc.disutility_scale
        b_log_b = np.add.reduceat(
            wc.input_exponent * np.log(wc.input_exponent), wc.input_offsets[:-1]
        )
        self.alpha = (
            k * np.log(wc.scale) + c * (np.log(c) - np.log(k) - np.log(sigma)) + k * b_log_b
        )
        self.own_price_weight = c + k * b_sum
        self.k = k
        self.denominator = k * (1.0 - b_sum) - c
        share = cc.income[:, None] / cc.exponent_sum[:, None]
        self.consumer_budget = np.zeros(n)
        """``K``: credits the CCs together spend on each private and public good."""
        self.consumer_budget[economy.class_slice(GoodClass.PRIVATE)] = (
            share * cc.private_exponents
        ).sum(axis=0)
        self.consumer_budget[economy.class_slice(GoodClass.PUBLIC)] = (
            share * cc.public_exponents
        ).sum(axis=0)
        self.endowment = economy.endowment

    def worker_log_output(self, log_price: np.ndarray) -> np.ndarray:
        """``ln Q_w`` for every WC at prices ``exp(log_price)`` (§4.1)."""
        weighted = self.exponents @ log_price
        own = log_price[self.output_commodity]
        return (self.alpha + self.own_price_weight * own - self.k * weighted) / self.denominator

    def total_output(self, worker_output: np.ndarray) -> np.ndarray:
        """Worker councils' outputs summed by commodity (units)."""
        return np.bincount(
            self.output_commodity, weights=worker_output, minlength=self.n_commodities
        )

    def supply_and_demand(self, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Total supply ``S`` and demand ``D`` per commodity (units) at ``price`` (§4.3)."""
        log_price = np.log(price)
        log_output = self.worker_log_output(log_price)
        output = np.exp(log_output)
        revenue = np.exp(log_output + log_price[self.output_commodity])  # λ_w·Q_w, credits
        supply = self.total_output(output) + self.endowment
        demand = (self.exponents_t @ revenue + self.consumer_budget) / price
        return supply, demand

    def proposals(self, price: np.ndarray) -> Proposals:
        """Every council's proposal at ``price`` (the final plan of a year)."""
        economy = self.economy
        wc, cc = economy.workers, economy.consumers
        log_price = np.log(price)
        output = np.exp(self.worker_log_output(log_price))
        own_price = price[self.output_commodity]
        revenue = own_price * output
        owner = wc.input_owner
        input_use = wc.input_exponent * revenue[owner] / price[wc.input_commodity]
        effort = (
            wc.effort_exponent * revenue / (wc.disutility_scale * wc.disutility_exponent)
        ) ** (1.0 / wc.disutility_exponent)
        share = cc.income[:, None] / cc.exponent_sum[:, None]
        private = (
            share * cc.private_exponents / price[economy.class_slice(GoodClass.PRIVATE)][None, :]
        )
        per_council_price = price[economy.class_slice(GoodClass.PUBLIC)] / cc.count
        public = share * cc.public_exponents / per_council_price[None, :]
        return Proposals(output, effort, input_use, private, public)


# ---- one year ------------------------------------------------------------------------------------


def imbalance_of(supply: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Relative imbalance ``v = 2|S − D|/(S + D)`` (fraction); 0 where both are 0, ∞ if not finite."""
    total = supply + demand
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(
            total > 0, 2.0 * np.abs(supply - demand) / np.where(total > 0, total, 1.0), 0.0
        )
    return np.where(np.isfinite(supply) & np.isfinite(demand), ratio, np.inf)


def percent(fraction: float) -> float:
    """A threshold as the program writes it, in percent (``0.05`` → ``5.0``, not ``5.000000000000001``)."""
    return round(100.0 * fraction, 10)


def colour_of(worst_percent: float) -> str:
    """The program's colour of a round from its worst imbalance in percent (§6)."""
    if worst_percent < 3:
        return "blue"
    if worst_percent < 5:
        return "green"
    if worst_percent < 10:
        return "yellow"
    if worst_percent < 20:
        return "orange"
    return "red"


@dataclass(frozen=True)
class RoundReport:
    """What a progress callback sees after each round."""

    year: int
    round: int
    worst_imbalance: float
    """Largest relative imbalance of the round (fraction)."""
    worst_commodity: int
    colour: str


@dataclass(frozen=True)
class YearRun:
    """The raw outcome of one year (arrays; :mod:`~commonplan.participation.result` labels them).

    Trajectory arrays have one row per round (round ``t`` is row ``t − 1``) and one column per
    commodity: ``price`` the updated prices ``p^(t)`` (credits per unit), ``step`` ``w``,
    ``multiplier`` the rule's new state, ``supply``, ``demand``, ``surplus`` (units) and
    ``imbalance`` (fraction) measured on the proposals made at ``p^(t−1)``.
    """

    economy: ParticipatoryEconomy
    start_price: np.ndarray
    start_state: np.ndarray
    price: np.ndarray
    step: np.ndarray
    multiplier: np.ndarray
    supply: np.ndarray
    demand: np.ndarray
    surplus: np.ndarray
    imbalance: np.ndarray
    converged: bool
    diverged: bool
    stop_threshold: float

    @property
    def rounds(self) -> int:
        return int(self.price.shape[0])

    @property
    def worst_imbalance(self) -> np.ndarray:
        """Largest imbalance of each round (fraction)."""
        return self.imbalance.max(axis=1) if self.rounds else np.zeros(0)

    @property
    def proposal_price(self) -> np.ndarray:
        """Prices the last round's proposals were made at, ``p^(T−1)``."""
        return self.price[-2] if self.rounds >= 2 else self.start_price

    @property
    def final_price(self) -> np.ndarray:
        """Prices after the last update, ``p^(T)`` (where year two starts)."""
        return self.price[-1] if self.rounds else self.start_price

    @property
    def final_state(self) -> np.ndarray:
        return self.multiplier[-1] if self.rounds else self.start_state

    def first_round_below(self, threshold: float) -> int | None:
        """First round whose worst imbalance is strictly below ``threshold`` (fraction), or None."""
        below = np.flatnonzero(self.worst_imbalance * 100.0 < percent(threshold))
        return int(below[0]) + 1 if below.size else None


def run_year(
    economy: ParticipatoryEconomy,
    price: np.ndarray,
    state: np.ndarray,
    *,
    rule: PriceRule = hahnel_szczepanczyk_rule,
    stop_threshold: float = STOP_THRESHOLD,
    max_rounds: int = MAX_ROUNDS,
    year: int = 1,
    on_round: Callable[[RoundReport], None] | None = None,
) -> YearRun:
    """Run rounds from ``price`` and rule ``state`` until no imbalance exceeds ``stop_threshold``.

    Stops after round ``t`` when ``max v ≤ stop_threshold`` (converged), when ``t =
    max_rounds`` (not converged), or as soon as supply, demand or the new prices are not
    finite and positive (diverged; that round is kept so the trajectory shows it).
    """
    if not (0 < stop_threshold < 2):
        raise ParticipationInputError(
            f"stop threshold is {stop_threshold!r}",
            where="procedure, threshold",
            expected="a fraction in (0, 2), e.g. 0.03",
        )
    if max_rounds < 1:
        raise ParticipationInputError(
            f"max_rounds is {max_rounds}", where="procedure, max_rounds", expected="≥ 1"
        )
    councils = Councils(economy)
    n = economy.n_commodities
    rows = {
        name: np.empty((max_rounds, n))
        for name in ("price", "step", "multiplier", "supply", "demand", "surplus", "imbalance")
    }
    start_price = np.array(price, dtype=np.float64)
    start_state = np.array(state, dtype=np.float64)
    price, state = start_price.copy(), start_state.copy()
    converged = diverged = False
    rounds = 0
    percent_limit = percent(stop_threshold)
    errors = np.seterr(all="ignore")
    try:
        for t in range(1, max_rounds + 1):
            rounds = t
            supply, demand = councils.supply_and_demand(price)
            surplus = supply - demand
            imbalance = imbalance_of(supply, demand)
            update = rule(_frozen(price), _frozen(surplus), _frozen(imbalance), _frozen(state))
            new_price = np.array(update.price, dtype=np.float64)
            new_state = np.array(update.state, dtype=np.float64)
            row = t - 1
            rows["price"][row] = new_price
            rows["step"][row] = update.step
            rows["multiplier"][row] = new_state
            rows["supply"][row] = supply
            rows["demand"][row] = demand
            rows["surplus"][row] = surplus
            rows["imbalance"][row] = imbalance
            worst_at = int(np.argmax(imbalance))
            worst = float(imbalance[worst_at])
            if on_round is not None:
                on_round(RoundReport(year, t, worst, worst_at, colour_of(100.0 * worst)))
            if not (
                np.isfinite(supply).all() and np.isfinite(demand).all() and np.isfinite(worst)
            ) or not (np.isfinite(new_price).all() and (new_price > 0).all()):
                diverged = True
                break
            price, state = new_price, new_state
            if not worst * 100.0 > percent_limit:
                converged = True
                break
    finally:
        np.seterr(**errors)
    return YearRun(
        economy=economy,
        start_price=start_price,
        start_state=start_state,
        converged=converged,
        diverged=diverged,
        stop_threshold=stop_threshold,
        **{name: values[:rounds].copy() for name, values in rows.items()},
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


# ---- year two ----------------------------------------------------------------------------------


def perturb_exponents(
    economy: ParticipatoryEconomy, rng: np.random.Generator
) -> ParticipatoryEconomy:
    """The random technical and preference change between years (§7).

    Every WC input exponent gains an independent draw from :data:`INPUT_EXPONENT_STEPS`, every
    CC exponent one from :data:`UTILITY_EXPONENT_STEPS` (uniform). Draw order: the input
    exponents in their flattened order, then the CCs' private-good exponents (row-major), then
    their public-good exponents. The program's draws are unseeded (Clojure ``rand-nth``), so
    year two is reproducible only in distribution; here the seed fixes them.
    """
    wc, cc = economy.workers, economy.consumers
    input_steps = rng.choice(np.array(INPUT_EXPONENT_STEPS), size=wc.input_exponent.size)
    private_steps = rng.choice(np.array(UTILITY_EXPONENT_STEPS), size=cc.private_exponents.shape)
    public_steps = rng.choice(np.array(UTILITY_EXPONENT_STEPS), size=cc.public_exponents.shape)
    return economy.with_exponents(
        input_exponent=wc.input_exponent + input_steps,
        private_exponents=cc.private_exponents + private_steps,
        public_exponents=cc.public_exponents + public_steps,
    )


def run_procedure(
    economy: ParticipatoryEconomy,
    *,
    years: int = 2,
    seed: int = 0,
    stop_threshold: float = STOP_THRESHOLD,
    max_rounds: int = MAX_ROUNDS,
    initial_price: float = INITIAL_PRICE,
    rule: PriceRule = hahnel_szczepanczyk_rule,
    on_round: Callable[[RoundReport], None] | None = None,
):
    """Run the procedure for ``years`` years and return a :class:`~commonplan.participation.result.ParticipationResult`.

    Year 1 starts every price at ``initial_price`` (credits per unit) and the rule at
    ``rule.initial_state``. Each later year perturbs the exponents (:func:`perturb_exponents`,
    drawn from ``numpy.random.default_rng(seed)``) and starts from the previous year's last
    updated prices and rule state, with the round counter reset (§7). A diverged year ends the
    run. The run is determined by the economy, the parameters and ``seed``.
    """
    from commonplan.participation.result import ParticipationResult

    if years < 1:
        raise ParticipationInputError(f"years is {years}", where="procedure, years", expected="≥ 1")
    if not (np.isfinite(initial_price) and initial_price > 0):
        raise ParticipationInputError(
            f"initial price is {initial_price!r}",
            where="procedure, initial_price",
            expected="a finite price > 0",
        )
    rng = np.random.default_rng(seed)
    n = economy.n_commodities
    price = np.full(n, float(initial_price))
    state = np.asarray(rule.initial_state(n), dtype=np.float64)
    runs: list[YearRun] = []
    current = economy
    for year in range(1, years + 1):
        if year > 1:
            current = perturb_exponents(current, rng)
        run = run_year(
            current,
            price,
            state,
            rule=rule,
            stop_threshold=stop_threshold,
            max_rounds=max_rounds,
            year=year,
            on_round=on_round,
        )
        runs.append(run)
        if run.diverged:
            break
        price, state = run.final_price, run.final_state
    return ParticipationResult(
        economy=economy,
        years=tuple(runs),
        parameters={
            "years": years,
            "seed": seed,
            "stop_threshold": stop_threshold,
            "max_rounds": max_rounds,
            "initial_price": float(initial_price),
            "rule": repr(rule),
        },
    )
