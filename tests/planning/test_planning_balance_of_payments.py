"""Balance of payments (imports paid by exports) on a hand-made economy, against an independent LP.

The economy: two products (grain, tools) and three activities.

===============  =====================  ============  ============  ============
activity         makes                  uses          labour        imports
===============  =====================  ============  ============  ============
grain-imported   1 grain                0.1 tools     0.5           0.4 (USA)
grain-domestic   1 grain                0.2 tools     1.2           0
tools            1 tools                0.1 grain     1.0           0.1 (CHN)
===============  =====================  ============  ============  ============

Imports are counted on two accounts (by partner) whose sum the balance of payments limits;
tools sell abroad at 0.8 and grain at 0.3 money units per unit. Without a balance of
payments the labour-saving imported technique is free to use; with one, every unit of
imports must be earned by exporting, which costs labour, so the optimum falls.

The oracle is written independently of ``commonplan.planning.model``: scipy's ``linprog``
(HiGHS) on ``(make − use)·x_t − E·e_t ≥ z_t·y_t`` (no delivery variables),
``labour·x_t ≤ L_t`` and ``imports·x_t − p·e_t ≤ D_t``, maximising ``Σ_t z_t`` (or, for the
minimum-labour objective, minimising ``Σ_t labour·x_t`` with ``z_t = 1`` fixed).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from commonplan.economy import Economy
from commonplan.errors import InfeasiblePlanError, SpecError
from commonplan.planning import BalanceOfPayments, Objective, PlanProblem, solve

USE = np.array([[0.0, 0.0, 0.1], [0.1, 0.2, 0.0]])  # rows grain, tools
MAKE = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
LABOUR = np.array([0.5, 1.2, 1.0])
IMPORTS = np.array([[0.4, 0.0, 0.0], [0.0, 0.0, 0.1]])  # imports:USA, imports:CHN
PRICES = np.array([0.3, 0.8])  # grain, tools
TARGETS = np.array([10.0, 2.0])
LABOUR_LIMITS = np.array([20.0, 24.0])


def _economy() -> Economy:
    return Economy(
        products=pd.MultiIndex.from_tuples([("ALL", "grain"), ("ALL", "tools")]),
        activities=pd.MultiIndex.from_tuples(
            [("ALL", "grain-imported"), ("ALL", "grain-domestic"), ("ALL", "tools")]
        ),
        use=USE,
        make=MAKE,
        account_coefficients=np.vstack([LABOUR, IMPORTS]),
        account_names=("labour", "imports:USA", "imports:CHN"),
        account_units={"labour": "person-years", "imports:USA": "USD", "imports:CHN": "USD"},
        final_demand_values=TARGETS[:, None],
        final_demand_columns=pd.Index(["final_demand"]),
        check_productive=False,
    )


def _problem(deficit=None, *, prices=PRICES, objective=None, labour=LABOUR_LIMITS) -> PlanProblem:
    bop = (
        None
        if deficit is None
        else BalanceOfPayments(
            ("imports:USA", "imports:CHN"), prices, np.asarray(deficit, dtype=float)
        )
    )
    return PlanProblem.build(
        _economy(),
        periods=2,
        target_share=1.0,
        limits=None if objective is not None else {"labour": labour},
        objective=objective or Objective(lexicographic=False),
        balance_of_payments=bop,
        name="grain and tools",
    )


def _oracle(
    deficit, *, prices=PRICES, min_labour: bool = False, labour=LABOUR_LIMITS
) -> tuple[float, np.ndarray]:
    """Optimum and per-period z (or labour) of the independent formulation; ``deficit=None`` drops the balance."""
    T, (n, m) = 2, USE.shape
    net = MAKE - USE
    # variables per period: x (m), e (n), z (1)
    k = m + n + 1
    rows_ub, b_ub = [], []
    for t in range(T):
        block = np.zeros((n + 2, T * k))
        s = t * k
        block[:n, s : s + m] = -net  # −(make − use)x + e + z·y ≤ 0
        block[:n, s + m : s + m + n] = np.eye(n)
        block[:n, s + m + n] = TARGETS
        block[n, s : s + m] = LABOUR
        block[n + 1, s : s + m] = IMPORTS.sum(axis=0)
        block[n + 1, s + m : s + m + n] = -np.asarray(prices)
        rows_ub.append(block)
        b_ub.extend(
            [0.0] * n
            + [
                np.inf if min_labour else labour[t],
                np.inf if deficit is None else np.broadcast_to(deficit, (T,))[t],
            ]
        )
    A_ub, b_ub = np.vstack(rows_ub), np.array(b_ub)
    finite = np.isfinite(b_ub)
    c = np.zeros(T * k)
    bounds = [(0, None)] * (T * k)
    for t in range(T):
        if min_labour:
            c[t * k : t * k + m] = LABOUR
            bounds[t * k + m + n] = (1.0, 1.0)
        else:
            c[t * k + m + n] = -1.0
    result = linprog(
        c, A_ub=sp.csr_array(A_ub[finite]), b_ub=b_ub[finite], bounds=bounds, method="highs"
    )
    assert result.status == 0, result.message
    x = result.x.reshape(T, k)
    per_period = x[:, :m] @ LABOUR if min_labour else x[:, m + n]
    return float(result.fun if min_labour else -result.fun), per_period


def _imports_and_earnings(plan) -> tuple[np.ndarray, np.ndarray]:
    imports = (
        plan.resource_use("imports:USA").to_numpy() + plan.resource_use("imports:CHN").to_numpy()
    )
    if plan.exports is None:  # no product has an export price
        return imports, np.zeros_like(imports)
    exports = plan.exports.reindex(plan.problem.economy.products, fill_value=0.0).to_numpy()
    return imports, PRICES @ exports


def test_balance_binds_and_holds_each_period():
    deficit = np.array([0.0, 1.5])
    plan = solve(_problem(deficit), method="simplex")
    imports, earnings = _imports_and_earnings(plan)
    # Σ imports ≤ Σ prices·exports + deficit, per period, and it binds: imports save labour
    assert np.all(imports <= earnings + deficit + 1e-9)
    np.testing.assert_allclose(imports, earnings + deficit, atol=1e-8)
    assert (imports > 0).all() and (plan.exports.to_numpy().sum(axis=0) > 0).all()
    # the labour limit binds too, and exports are not counted as deliveries
    np.testing.assert_allclose(plan.resource_use("labour").to_numpy(), LABOUR_LIMITS, rtol=1e-9)
    net = (MAKE - USE) @ plan.activity_levels.to_numpy()
    np.testing.assert_allclose(
        net - plan.exports.reindex(plan.problem.economy.products, fill_value=0.0).to_numpy(),
        plan.deliveries.to_numpy(),
        atol=1e-9,
    )


@pytest.mark.parametrize("method", ["simplex", "ipm", "pdlp"])
def test_optimum_matches_independent_formulation(method):
    deficit = np.array([0.0, 1.5])
    expected, z = _oracle(deficit)
    plan = solve(_problem(deficit), method=method, tolerance=1e-8)
    rtol = 1e-7 if method != "pdlp" else 1e-5
    assert plan.objective == pytest.approx(expected, rel=rtol)
    np.testing.assert_allclose(plan.worst_fulfilment.to_numpy(), z, rtol=10 * rtol)


def test_removing_the_balance_raises_the_optimum():
    with_balance = solve(_problem(0.0), method="simplex")
    without = solve(_problem(None), method="simplex")
    expected_with, _ = _oracle(0.0)
    expected_without, _ = _oracle(None)
    assert with_balance.objective == pytest.approx(expected_with, rel=1e-8)
    assert without.objective == pytest.approx(expected_without, rel=1e-8)
    # imports save labour, so paying for them with exports must cost fulfilment
    assert without.objective > with_balance.objective * (1 + 1e-3)
    # without a balance the plan imports more than it earns (and exports nothing)
    assert without.exports is None
    imports = without.resource_use("imports:USA").to_numpy()
    assert (imports > 0).all()
    # a deficit allowance above those imports makes the balance slack: the same optimum again
    loose = solve(_problem(imports.max() * 2 + 10.0), method="simplex")
    assert loose.objective == pytest.approx(without.objective, rel=1e-9)


def test_required_surplus_and_no_export_possibility():
    # a negative allowed deficit is a required surplus: it costs more fulfilment still
    surplus = solve(_problem(-1.0), method="simplex")
    balanced = solve(_problem(0.0), method="simplex")
    assert surplus.objective == pytest.approx(_oracle(-1.0)[0], rel=1e-8)
    assert surplus.objective < balanced.objective
    imports, earnings = _imports_and_earnings(surplus)
    assert np.all(imports <= earnings - 1.0 + 1e-9)
    # nothing can be exported: the imported technique and the imported input of tools are out;
    # tools need 0.1 of imports per unit, so with no deficit allowed no tools can be made
    with pytest.raises(InfeasiblePlanError) as error:
        solve(
            _problem(
                0.0, prices=np.zeros(2), objective=Objective("min_resource", resource="labour")
            ),
            method="simplex",
        )
    # relaxing the balance (requirement 0) weighs far more than giving up the targets, so the
    # explanation is that no target can be met at all: every product needs tools
    conflicts = error.value.conflicts
    assert set(conflicts["kind"]) == {"target"}
    assert len(conflicts) == 4
    np.testing.assert_allclose(conflicts["relative"].to_numpy(), 1.0, rtol=1e-6)
    # with domestic grain only, tools t = 2 + 0.2·g and grain g = 10 + 0.1·t, so t = 4 / 0.98
    # and the plan needs 0.1·t of imports a period: an allowance of 0.3 falls short by that
    # much less 0.3, which the explanation (cheaper, relatively, than dropping targets) says
    needed = 0.1 * 4.0 / 0.98
    with pytest.raises(InfeasiblePlanError) as error:
        solve(
            _problem(
                0.3, prices=np.zeros(2), objective=Objective("min_resource", resource="labour")
            ),
            method="simplex",
        )
    conflicts = error.value.conflicts
    assert list(conflicts["kind"]) == ["balance_of_payments"] * 2
    np.testing.assert_allclose(conflicts["relaxation"].to_numpy(), needed - 0.3, rtol=1e-7)
    # an allowance above the need is feasible, and the balance binds (imported grain saves labour)
    plan = solve(
        _problem(0.5, prices=np.zeros(2), objective=Objective("min_resource", resource="labour")),
        method="simplex",
    )
    assert plan.objective == pytest.approx(
        _oracle(0.5, prices=np.zeros(2), min_labour=True)[0], rel=1e-8
    )
    np.testing.assert_allclose(_imports_and_earnings(plan)[0], 0.5, rtol=1e-8)


def test_min_labour_under_the_balance_matches_oracle():
    objective = Objective("min_resource", resource="labour")
    deficit = np.array([0.5, 2.0])
    plan = solve(_problem(deficit, objective=objective), method="simplex")
    expected, labour = _oracle(deficit, min_labour=True)
    assert plan.objective == pytest.approx(expected, rel=1e-8)
    np.testing.assert_allclose(plan.resource_use("labour").to_numpy(), labour, rtol=1e-8)
    free = solve(_problem(None, objective=objective), method="simplex")
    assert free.objective == pytest.approx(_oracle(None, min_labour=True)[0], rel=1e-8)
    assert free.objective < plan.objective
    # every target is met in full
    assert plan.fulfilment["fulfilment"].min() >= 1 - 1e-9


def test_balance_of_payments_errors():
    eco = _economy()
    with pytest.raises(SpecError, match="unknown account 'imports:XXX'"):
        PlanProblem.build(
            eco,
            target_share=1.0,
            limits={"labour": 1.0},
            balance_of_payments=BalanceOfPayments(("imports:XXX",), PRICES, 0.0),
        )
    with pytest.raises(SpecError, match="3 prices for 2 products"):
        PlanProblem.build(
            eco,
            target_share=1.0,
            limits={"labour": 1.0},
            balance_of_payments=BalanceOfPayments(("imports:USA",), np.ones(3), 0.0),
        )
    with pytest.raises(SpecError, match="export_prices"):
        BalanceOfPayments(("imports:USA",), np.array([-1.0, 1.0]), 0.0)
    with pytest.raises(SpecError, match="3 values for 2 periods"):
        PlanProblem.build(
            eco,
            periods=2,
            target_share=1.0,
            limits={"labour": 1.0},
            balance_of_payments=BalanceOfPayments(("imports:USA",), PRICES, np.zeros(3)),
        )


def test_lexicographic_plan_reports_first_stage_prices():
    """Under (a) with the second stage the labour price is the marginal value of Σ_t z_t (finite difference)."""
    deficit = np.array([0.0, 1.5])
    plan = solve(_lexicographic(deficit), method="simplex")
    assert any("stage 2" in note for note in plan.report.notes)
    prices = plan.resources.set_index("account").loc["labour", "shadow_price"].to_numpy()
    step = 1e-3
    for t in range(2):
        more = LABOUR_LIMITS.copy()
        more[t] += step
        gain = (_oracle(deficit, labour=more)[0] - _oracle(deficit)[0]) / step
        assert prices[t] == pytest.approx(gain, rel=1e-6)
    assert (prices > 0).all()


def _lexicographic(deficit) -> PlanProblem:
    return replace(_problem(deficit), objective=Objective(lexicographic=True))
