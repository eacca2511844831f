"""Seeded generator of participatory economies of any size, with the shipped experiments' distributions.

The ten shipped experiments (``dep1ex01``–``dep1ex10``, 3,000 + 3,000 councils, G = 10) and
the generator of ``pequod-cljs`` (``ccs.clj``/``wcs.clj``) give these distributions, which
:class:`GeneratorSpec` reproduces (spec §3; measured on the shipped files):

* consumer councils: income 5000 credits; every utility exponent (private and public)
  uniform on ``[z, 2z)`` with ``z = 0.5/(2G)`` (0.025–0.05 for G = 10). Demand depends only on
  exponent shares, so the scale ``z`` does not matter;
* worker councils: a third in each industry, laid out like the files (industry 2, then 1,
  then 0; products 1..G in order, equally many councils per product);
* inputs: a uniformly random set of 1–4 distinct intermediate goods, 1–2 natural resources
  and 1–2 labour types (each count uniform), sorted, so ``n_w`` is 3–8;
* every input exponent uniform on ``[0.75/n_w, 0.85/n_w)``, so ``B_w`` is 0.75–0.85;
* ``A`` uniform on [4, 6), ``c`` on [0.05, 0.10), ``k`` (``:du``) on [3, 4), ``σ`` (``:s``) = 1;
  hence ``B_w + c/k < 0.87 < 1`` and every council's problem has a maximum.

The same seed gives the same economy (numpy ``default_rng``); nothing loops over councils.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonplan.errors import ParticipationInputError
from commonplan.participation.model import (
    DEFAULT_ENDOWMENT,
    ConsumerCouncils,
    GoodClass,
    ParticipatoryEconomy,
    WorkerCouncils,
)


@dataclass(frozen=True)
class GeneratorSpec:
    """Parameter distributions of a generated economy (defaults: the shipped experiments)."""

    income: float = 5000.0
    """Every consumer council's budget (credits)."""
    utility_exponent_total: float = 0.5
    """``z = total/(2G)``: utility exponents are uniform on ``[z, 2z)``."""
    intermediate_inputs: tuple[int, int] = (1, 4)
    nature_inputs: tuple[int, int] = (1, 2)
    labour_inputs: tuple[int, int] = (1, 2)
    """Inclusive ranges of how many distinct goods of each input class a council uses."""
    exponent_sum: tuple[float, float] = (0.75, 0.85)
    """Each input exponent is uniform on ``[low/n_w, high/n_w)``."""
    scale: tuple[float, float] = (4.0, 6.0)
    effort_exponent: tuple[float, float] = (0.05, 0.10)
    disutility_exponent: tuple[float, float] = (3.0, 4.0)
    disutility_scale: float = 1.0
    endowment: float = DEFAULT_ENDOWMENT


def _random_subsets(
    rng: np.random.Generator, rows: int, pool: int, counts: np.ndarray, width: int
) -> np.ndarray:
    """For each row, ``counts[row]`` distinct sorted numbers from ``0..pool-1``; padded with ``pool``.

    A partial Fisher–Yates shuffle of ``0..pool-1`` run on all rows at once (the loop is over
    the ``width`` positions, not over rows).
    """
    width = min(width, pool)
    dtype = np.int16 if pool < 2**15 else np.int32
    permutation = np.tile(np.arange(pool, dtype=dtype), (rows, 1))
    index = np.arange(rows)
    for position in range(width):
        pick = position + rng.integers(0, pool - position, size=rows)
        chosen = permutation[index, pick].copy()
        permutation[index, pick] = permutation[:, position]
        permutation[:, position] = chosen
    chosen = permutation[:, :width].astype(np.int64)
    chosen[np.arange(width)[None, :] >= counts[:, None]] = pool
    chosen.sort(axis=1)
    return chosen


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], size: int) -> np.ndarray:
    return rng.uniform(bounds[0], bounds[1], size=size)


def generate_economy(
    worker_councils: int,
    consumer_councils: int,
    goods_per_class: int,
    *,
    seed: int = 0,
    spec: GeneratorSpec | None = None,
) -> ParticipatoryEconomy:
    """A random participatory economy following ``spec`` (default: the shipped experiments).

    ``worker_councils`` must allow at least one producer per produced good (≥ 3G); councils
    are spread as evenly as possible over industries and products. Raises
    :class:`~commonplan.errors.ParticipationInputError` for impossible sizes.
    """
    spec = spec or GeneratorSpec()
    g = int(goods_per_class)
    if g < 1 or consumer_councils < 1 or worker_councils < 3 * g:
        raise ParticipationInputError(
            f"cannot generate {worker_councils} worker and {consumer_councils} consumer councils for {g} goods per class",
            where="generator, sizes",
            expected="goods_per_class ≥ 1, consumer_councils ≥ 1, worker_councils ≥ 3·goods_per_class (a producer per good)",
        )
    for name, (low, high) in (
        ("intermediate_inputs", spec.intermediate_inputs),
        ("nature_inputs", spec.nature_inputs),
        ("labour_inputs", spec.labour_inputs),
    ):
        if not 1 <= low <= high <= g:
            raise ParticipationInputError(
                f"{name} is {(low, high)}",
                where=f"generator spec, {name}",
                expected=f"1 ≤ low ≤ high ≤ {g}",
            )
    rng = np.random.default_rng(seed)

    # industries and products: 2, 1, 0 (as in the files), products 1..G, as even as possible
    slots = np.arange(worker_councils)
    per_good = np.bincount(slots % (3 * g), minlength=3 * g)
    group = np.repeat(np.arange(3 * g), per_good)
    industry = 2 - group // g
    product = group % g + 1

    counts = [
        rng.integers(low, high + 1, size=worker_councils)
        for low, high in (spec.intermediate_inputs, spec.nature_inputs, spec.labour_inputs)
    ]
    blocks = [GoodClass.INTERMEDIATE, GoodClass.NATURE, GoodClass.LABOUR]
    chosen = [
        _random_subsets(rng, worker_councils, g, count, high) + int(block) * g
        for count, block, (_, high) in zip(
            counts,
            blocks,
            (spec.intermediate_inputs, spec.nature_inputs, spec.labour_inputs),
            strict=True,
        )
    ]
    table = np.concatenate(chosen, axis=1)
    valid = np.concatenate(
        [
            np.arange(c.shape[1])[None, :] < count[:, None]
            for c, count in zip(chosen, counts, strict=True)
        ],
        axis=1,
    )
    input_commodity = table[valid]  # row-major: per council, intermediate then nature then labour
    n_inputs = valid.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(n_inputs)])
    owner_n = np.repeat(n_inputs, n_inputs).astype(np.float64)
    low, high = spec.exponent_sum
    input_exponent = rng.uniform(low, high, size=input_commodity.size) / owner_n

    workers = WorkerCouncils(
        industry=industry,
        product=product,
        scale=_uniform(rng, spec.scale, worker_councils),
        effort_exponent=_uniform(rng, spec.effort_exponent, worker_councils),
        disutility_exponent=_uniform(rng, spec.disutility_exponent, worker_councils),
        disutility_scale=np.full(worker_councils, spec.disutility_scale),
        input_offsets=offsets,
        input_commodity=input_commodity,
        input_exponent=input_exponent,
    )
    z = spec.utility_exponent_total / (2 * g)
    consumers = ConsumerCouncils(
        income=np.full(consumer_councils, spec.income),
        private_exponents=rng.uniform(z, 2 * z, size=(consumer_councils, g)),
        public_exponents=rng.uniform(z, 2 * z, size=(consumer_councils, g)),
    )
    endowment = np.zeros(5 * g)
    endowment[2 * g : 4 * g] = spec.endowment
    return ParticipatoryEconomy(
        goods_per_class=g,
        consumers=consumers,
        workers=workers,
        endowment=endowment,
        name=f"generated-{worker_councils}wc-{consumer_councils}cc-{g}g-seed{seed}",
        source="",
        metadata={
            "generator": "commonplan.participation.generator",
            "seed": int(seed),
            "spec": repr(spec),
        },
    )
