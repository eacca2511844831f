"""The served demo's plan in execution (USA 2021, 73 products): published through a whole round,
monitored through ten simulated months filed through the services, alarms at every level."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from commonplan import services as S
from commonplan.datasets import load_demo
from commonplan.errors import PermissionDeniedError
from commonplan.monitoring.alarms import EscalationPolicy, escalation_level
from commonplan.services import Phase
from commonplan.services import demo_execution as E
from commonplan.services import monitoring as M

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def usa():
    return load_demo()


def test_the_demo_plan_in_execution(db, usa):
    seed = S.seed_demo(db, economy=usa, now=NOW)
    assert seed.plan_id is not None
    # the open round is still the demo's current one; the executed round is published
    assert S.get_round_info(db, seed.round_id).phase is Phase.BALLOT
    info = M.monitor_info(db, seed.plan_id)
    assert (info.period, info.sub_period) == ("1", E.MONTHS_FILED)
    assert info.n_reports == E.MONTHS_FILED * len(info.products) == 730

    targets = M.plan_targets(db, seed.plan_id)
    _, shortfall, slip, outlier = E.simulated_reports(usa, targets)
    # the products hit are the most import-dependent: imports / gross output by activity
    # (the USA table makes one product per activity), recomputed here from the accounts
    imports = usa.account_coefficients[usa.account_names.index("imports")]
    direct = pd.Series(np.asarray(imports), index=[f"{r}/{s}" for r, s in usa.activities])
    ranked = direct.reindex(list(targets.products)).sort_values(ascending=False, kind="stable")
    assert set(shortfall) == set(ranked.index[: E.N_SHORT]) and slip == ranked.index[E.N_SHORT]
    for product, ratio in shortfall.items():
        assert ratio == pytest.approx(1 - direct[product], rel=1e-9)

    alarms = M.list_alarms(db, seed.plan_id)
    alarmed = {a.product for a in alarms}
    # every true shortfall and the slip are caught; nothing else alarms, the outlier included
    assert alarmed == set(shortfall) | {slip}
    assert outlier[0] not in alarmed
    by_level = M.open_alarms_by_level(db, seed.plan_id)
    assert all(by_level[level] for level in ("council", "facilitators", "assembly"))
    policy = EscalationPolicy(info.council_hours, info.facilitator_hours)
    for alarm in alarms:  # each level is the core's rule at the seeding time
        assert alarm.level == escalation_level(alarm.raised_at, NOW, None, policy)
        assert alarm.council is not None or alarm.council_id is None
    assert next(a for a in alarms if a.product == slip).level == "council"

    series = M.series(db, seed.plan_id)
    flagged = series[series["outlier_before"].astype(bool)]
    assert list(zip(flagged["product"], flagged["sub_period"], strict=True)) == [
        (outlier[0], outlier[1] + 1)  # told apart one month later
    ]
    actions = [e.action for e in S.audit_log(db, limit=1000)]
    assert actions.count("reports.file") == E.MONTHS_FILED
    assert actions.count("monitor.step") == E.MONTHS_FILED
    assert actions.count("alarm.raise") == len(alarms)
    # one escalation run at NOW moves each overdue alarm straight to its level
    assert actions.count("alarm.escalate") == sum(a.level != "council" for a in alarms)
    assert S.verify_audit_log(db).ok
    again = S.seed_demo(db, economy=usa, now=NOW)
    assert not again.created and again.plan_id == seed.plan_id


def test_replan_from_the_monitor_and_a_new_round_from_it(db, usa):
    from commonplan.services import replanning as R

    seed = S.seed_demo(db, economy=usa, now=NOW)
    view = R.replan_plan(db, seed.plan_id)
    assert (view.period, view.sub_period) == ("1", E.MONTHS_FILED)
    targets = M.plan_targets(db, seed.plan_id)
    _, shortfall, slip, _ = E.simulated_reports(usa, targets)
    # the state re-planned from is what the shortfall rule flags: the alarmed products
    assert set(view.levels.index) == set(shortfall) | {slip}
    result = view.replan
    published = result.published.activity_levels.iloc[:, 0]
    published.index = ["/".join(a) for a in published.index]
    for product, level in view.levels.items():
        # closed form: the cap is the forecast share of the published level (one product per activity)
        assert view.capacity[product] == pytest.approx(level * published[product], rel=1e-12)
    revised = result.revised.activity_levels.iloc[:, 0].to_numpy()
    limits = np.array([view.capacity.get("/".join(a), np.inf) for a in usa.activities])
    assert np.all(revised <= limits * (1 + 1e-7) + 1e-6)
    falls = result.targets[result.targets["falls"]]
    assert set(shortfall) & set(falls["product"])  # the short products' deliveries fall
    assert len(result.capacity) and set(result.capacity["activity"]) <= set(view.capacity)
    assert (result.capacity["gap"] > 0).all() and len(result.prices)

    facilitator = S.authenticate(db, "facilitator", "demo-facilitator-pass")
    member = S.authenticate(db, "member1", "demo-member1-pass")
    with pytest.raises(PermissionDeniedError):
        R.open_replan_round(db, member, seed.plan_id)
    opened = R.open_replan_round(db, facilitator, seed.plan_id)
    assert opened.phase is Phase.BALLOT and opened.base_problem["capacity"] == view.capacity
    # the new round's alternatives are computed under the re-plan's capacity
    names = opened.group_names
    S.submit_ballot(db, member, opened.id, {names[0]: 60, names[-1]: 40})
    S.advance_phase(db, facilitator, opened.id)
    alternatives = S.compute_alternatives(db, facilitator, opened.id)
    for alternative in alternatives:
        output = S.plan_frame(db, alternative.plan_sha256)["output"]
        output.index = ["/".join(p) for p in output.index]
        for product, cap in view.capacity.items():
            assert output[product] <= cap * (1 + 1e-7)
    assert S.verify_audit_log(db).ok
