"""Leontief, critical-inputs, Ghosh-price and inoperability models against closed forms and peer functions."""

from __future__ import annotations

import numpy as np
import pytest

from commonplan.analysis.extraction import extract_sectors
from commonplan.analysis.leontief import prices
from commonplan.errors import SpecError
from commonplan.scenarios import Shock, run
from commonplan.scenarios.models import dynamic_inoperability, static_inoperability


def _dense(economy):
    A = economy.A.toarray()
    x = economy.gross_output.to_numpy()
    y = economy.total_final_demand.to_numpy()
    return A, x, y


def _mixed_closed_form(A, y, caps):
    """x_J = caps_J x0_J, x_F = (I − A_FF)⁻¹ (y_F + A_FJ x_J), by dense numpy."""
    n = len(y)
    x0 = np.linalg.solve(np.eye(n) - A, y)
    J = caps < 1
    F = ~J
    out = np.empty(n)
    out[J] = caps[J] * x0[J]
    out[F] = np.linalg.solve(np.eye(F.sum()) - A[np.ix_(F, F)], y[F] + A[np.ix_(F, J)] @ out[J])
    return x0 - out


def _region(economy, name):
    return np.asarray(economy.products.get_level_values(0) == name)


def test_leontief_full_cut_is_the_hypothetical_extraction_of_the_users(icio):
    """COL without the USA: every Colombian product that buys a US input is extracted (Miller & Blair §12.2)."""
    shock = Shock("COL", "USA", 1.0, periods=2)
    outcome = run(icio, shock, model_name="leontief")
    A = icio.A.toarray()
    col, usa = _region(icio, "COL"), _region(icio, "USA")
    users = col & (A[usa].sum(axis=0) > 0)
    assert 40 <= users.sum() <= col.sum()
    extracted = extract_sectors(icio, list(icio.products[users]))
    expected = extracted["output_lost"].to_numpy()[col]
    got = outcome.loss()
    for period in (1, 2):
        np.testing.assert_allclose(got[period].to_numpy(), expected, rtol=1e-8, atol=1e-6)
    assert outcome.total()["loss_share"].iloc[0] > 0.9


def test_leontief_partial_cut_closed_form(two_regions):
    A, x, y = _dense(two_regions)
    outcome = run(two_regions, Shock("R", "P", {"c": 0.4}), model_name="leontief")
    caps = np.array([0.6, 1, 1, 1, 1, 1])  # only R.c buys P.c
    expected = _mixed_closed_form(A, y, caps)[:3]
    np.testing.assert_allclose(outcome.loss()[1].to_numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(outcome.losses["loss_share"].iloc[0], expected[0] / x[0], rtol=1e-9)


def test_critical_inputs_closed_form(two_regions):
    A, _, y = _dense(two_regions)
    classes = {"c": "critical", "i": "important", "n": "non-critical"}
    outcome = run(
        two_regions, Shock("R", "P", 0.4), {"classes": classes}, model_name="critical-inputs"
    )
    # R.c: P.c critical (1 − 0.4), P.n ignored; R.i: P.i important (1 − 0.4/2); R.n: no P input
    caps = np.array([0.6, 0.8, 1, 1, 1, 1])
    np.testing.assert_allclose(
        outcome.loss()[1].to_numpy(), _mixed_closed_form(A, y, caps)[:3], rtol=1e-10
    )
    assert outcome.assumptions["classes"] == classes


def test_all_critical_inputs_is_the_leontief_bound(icio):
    shock = Shock("COL", "USA", {"C19": 0.3, "C20": 0.6, "C28": 0.5, "M": 0.2})
    everything = {s: "critical" for s in icio.products.get_level_values(1).unique()}
    leontief = run(icio, shock, model_name="leontief").losses
    critical = run(icio, shock, {"classes": everything}, model_name="critical-inputs").losses
    np.testing.assert_allclose(critical["loss"], leontief["loss"], rtol=1e-12, atol=1e-9)
    default = run(icio, shock, model_name="critical-inputs").losses
    assert default["loss"].sum() <= leontief["loss"].sum() + 1e-6
    assert default["loss"].sum() > 0


def test_critical_inputs_bad_classes(two_regions):
    with pytest.raises(SpecError, match=r"assumptions.classes\['c'\]: class 'vital'"):
        run(two_regions, Shock("R", "P"), {"classes": {"c": "vital"}}, model_name="critical-inputs")
    with pytest.raises(SpecError, match="unknown sector 'C99'"):
        run(
            two_regions,
            Shock("R", "P"),
            {"classes": {"C99": "critical"}},
            model_name="critical-inputs",
        )


@pytest.mark.parametrize("table", ["two_regions", "icio"])
def test_ghosh_prices_equal_the_leontief_price_model(table, request):
    """Dietzenbacher (1997): the Ghosh price reading is the Leontief cost-push model pᵀ = vᵀ L."""
    economy = request.getfixturevalue(table)
    region, partner = ("R", "P") if table == "two_regions" else ("COL", "USA")
    shock = Shock(region, partner, 0.5, periods=2, duration=1)
    outcome = run(economy, shock, {"price_rise": 0.8}, model_name="ghosh-price")
    A = economy.A.toarray()
    mine, theirs = _region(economy, region), _region(economy, partner)
    push = np.where(mine, (0.8 * 0.5 * A[theirs]).sum(axis=0), 0.0)  # extra cost per unit output
    leontief = prices(economy, push).to_numpy()[mine]
    np.testing.assert_allclose(
        outcome.loss("loss_share")[1].to_numpy(), leontief, rtol=1e-8, atol=1e-12
    )
    np.testing.assert_array_equal(outcome.loss("loss_share")[2].to_numpy(), 0.0)
    assert outcome.measure == "cost"
    x = economy.gross_output.to_numpy()[mine]
    np.testing.assert_allclose(outcome.loss()[1].to_numpy(), leontief * x, rtol=1e-8, atol=1e-9)


def test_ghosh_price_rise_must_be_non_negative(two_regions):
    with pytest.raises(SpecError, match="price_rise"):
        run(two_regions, Shock("R", "P"), {"price_rise": -1}, model_name="ghosh-price")


def _iim_inputs(economy, share):
    A, x, _ = _dense(economy)
    a_star = A * x[None, :] / x[:, None]
    mine, theirs = _region(economy, "R"), _region(economy, "P")
    c_star = np.where(mine, (share * A[theirs]).sum(axis=0), 0.0)
    return a_star, c_star


def test_dynamic_iim_follows_its_closed_form_and_converges_to_the_static_iim(two_regions):
    """q_t = q* − Mᵗ q* with M = I − K(I − A*) and q* = (I − A*)⁻¹ c* (Haimes et al. 2005)."""
    a_star, c_star = _iim_inputs(two_regions, 0.5)
    n = len(c_star)
    q_star = np.linalg.solve(np.eye(n) - a_star, c_star)
    np.testing.assert_allclose(static_inoperability(a_star, c_star), q_star, rtol=1e-10)
    k = np.array([0.3, 0.5, 0.7, 0.4, 0.6, 0.9])
    M = np.eye(n) - np.diag(k) @ (np.eye(n) - a_star)
    q = dynamic_inoperability(a_star, np.repeat(c_star[:, None], 8, axis=1), k)
    for t in range(8):
        np.testing.assert_allclose(
            q[:, t], q_star - np.linalg.matrix_power(M, t + 1) @ q_star, rtol=1e-10, atol=1e-14
        )
    long = dynamic_inoperability(a_star, np.repeat(c_star[:, None], 400, axis=1), k)
    np.testing.assert_allclose(long[:, -1], q_star, rtol=1e-9)


def test_inoperability_outcome_recovers_after_the_cut(two_regions):
    a_star, c_star = _iim_inputs(two_regions, 0.5)
    n = len(c_star)
    outcome = run(
        two_regions,
        Shock("R", "P", 0.5, periods=5, duration=2),
        {"resilience": 0.6},
        model_name="inoperability",
    )
    M = np.eye(n) - 0.6 * (np.eye(n) - a_star)
    q2 = (np.eye(n) - np.linalg.matrix_power(M, 2)) @ np.linalg.solve(np.eye(n) - a_star, c_star)
    share = outcome.loss("loss_share")
    np.testing.assert_allclose(share[2].to_numpy(), q2[:3], rtol=1e-10)
    np.testing.assert_allclose(
        share[5].to_numpy(), (np.linalg.matrix_power(M, 3) @ q2)[:3], rtol=1e-10
    )
    total = outcome.total()["loss"]
    assert total[5] < total[4] < total[3] < total[2]  # recovery once the cut ends
    assert (share[5] < share.max(axis=1)).all()


def test_inoperability_resilience_must_be_in_the_unit_interval(two_regions):
    with pytest.raises(SpecError, match=r"resilience.*expected a number in \(0, 1\]"):
        run(two_regions, Shock("R", "P"), {"resilience": 1.5}, model_name="inoperability")
    with pytest.raises(SpecError, match="unknown sector 'x'"):
        run(two_regions, Shock("R", "P"), {"resilience": {"x": 0.5}}, model_name="inoperability")


def test_unknown_model_and_assumption(two_regions):
    with pytest.raises(SpecError, match="unknown model 'cge'"):
        run(two_regions, Shock("R", "P"), model_name="cge")
    with pytest.raises(SpecError, match="unknown assumption 'elasticity' for model 'leontief'"):
        run(two_regions, Shock("R", "P"), {"elasticity": 2}, model_name="leontief")


@pytest.mark.parametrize(
    ("a_star", "c_star", "published"),
    [
        # Haimes & Jiang (2001), J. Infrastructure Systems 7(1), two-sector example
        ([[0.0, 0.8], [0.2, 0.0]], [0.0, 0.6], [0.571, 0.714]),
        # Lian & Haimes (2006), Systems Engineering 9(3), the DIIM's two-by-two example
        ([[0.15, 0.50], [0.10, 0.05]], [0.0, 0.1], [0.066, 0.112]),
    ],
)
def test_inoperability_equals_haimes_worked_examples(a_star, c_star, published):
    """The published inoperabilities (three decimals), statically and as the limit of the
    dynamic model's recovery under a lasting perturbation, whatever the resilience."""
    a_star, c_star = np.array(a_star), np.array(c_star)
    q = static_inoperability(a_star, c_star)
    np.testing.assert_allclose(q, published, atol=5e-4)
    for k in (np.array([0.5, 0.5]), np.array([0.9, 0.2])):
        path = dynamic_inoperability(a_star, np.repeat(c_star[:, None], 300, axis=1), k)
        np.testing.assert_allclose(path[:, -1], q, rtol=1e-12)
        assert (np.diff(path, axis=1) >= -1e-15).all()  # inoperability rises monotonically to q
