"""A bridge to demplan, the independent implementation the participation tests compare against."""

from __future__ import annotations

import numpy as np

from commonplan.participation import ParticipatoryEconomy

DEMPLAN_BLOCK = np.array([0, 2, 3, 4, 1])
"""demplan orders classes private, public, intermediate, nature, labour; ours private,
intermediate, nature, labour, public. ``DEMPLAN_BLOCK[our block]`` is demplan's block."""


def demplan_order(goods_per_class: int) -> np.ndarray:
    """``perm`` such that ``ours[j]`` is demplan's commodity ``perm[j]``."""
    j = np.arange(5 * goods_per_class)
    return DEMPLAN_BLOCK[j // goods_per_class] * goods_per_class + j % goods_per_class


def to_demplan(economy: ParticipatoryEconomy):
    """The same economy as a ``demplan.Economy`` (built from arrays, not through our files)."""
    import demplan
    from demplan.prefabs import hahnel

    g = economy.goods_per_class
    perm = demplan_order(g)
    wc, cc = economy.workers, economy.consumers
    endowment = np.zeros(5 * g)
    endowment[perm] = economy.endowment
    kinds = np.array(
        [
            hahnel.PRIVATE_GOOD,
            hahnel.PUBLIC_GOOD,
            hahnel.INTERMEDIATE,
            hahnel.NATURAL_RESOURCE,
            hahnel.LABOR,
        ]
    )
    return demplan.Economy.from_arrays(
        {
            "period": 0,
            "commodity_id": np.arange(5 * g, dtype=np.int64),
            "endowment": endowment,
            "commodity_extra": {"hahnel_kind": list(np.repeat(kinds, g))},
            "unit_id": np.arange(wc.count, dtype=np.int64),
            "technology_kind": [hahnel.TECHNOLOGY] * wc.count,
            "technology_scale": np.array(wc.scale),
            "input_offsets": np.array(wc.input_offsets),
            "input_commodity": perm[wc.input_commodity].astype(np.int64),
            "input_coefficient": np.array(wc.input_exponent),
            "output_offsets": np.arange(wc.count + 1, dtype=np.int64),
            "output_commodity": perm[economy.worker_output_commodity].astype(np.int64),
            "output_coefficient": np.ones(wc.count),
            "unit_extra": {
                "effort_c": np.array(wc.effort_exponent),
                "effort_k": np.array(wc.disutility_exponent),
                "effort_s": np.array(wc.disutility_scale),
            },
            "consumer_id": np.arange(cc.count, dtype=np.int64),
            "consumer_extra": {
                "entitlement": np.array(cc.income),
                "utility_exponent": np.hstack([cc.private_exponents, cc.public_exponents]),
                "utility_exponent_commodity": np.arange(2 * g, dtype=np.int64),
            },
        }
    )


def run_demplan(
    economy,
    threshold_pct: float = 3.0,
    initial_price=700.0,
    initial_rule_state=None,
    price_rule=None,
):
    """demplan's ``HahnelBook2021`` with the trajectory kept: (summary, plans per round)."""
    from demplan import run
    from demplan.prefabs import HahnelBook2021

    procedure = HahnelBook2021(
        threshold_pct=threshold_pct,
        record_trajectory=True,
        initial_price=initial_price,
        initial_rule_state=initial_rule_state,
        price_rule=price_rule,
        max_rounds=200,
    )
    result = run(procedure, economy, seed=0, differences=False)
    return result.summary, result.summary.trajectory
