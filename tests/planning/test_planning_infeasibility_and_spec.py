"""Bad input and infeasible problems: specific errors naming the field, and explained conflicts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commonplan.economy import Economy
from commonplan.errors import InfeasiblePlanError, SpecError
from commonplan.planning import PlanProblem, solve
from commonplan.planning.spec import read_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "planning"


def _one_good() -> Economy:
    # one product, 0.5 of itself per unit, 1 hour of labour per unit: labour value 2 h/unit
    return Economy.from_coefficients(
        np.array([[0.5]]),
        y=np.array([1.0]),
        accounts={"labour": np.array([1.0])},
        products=["grain"],
    )


def test_infeasible_plan_is_explained():
    eco = _one_good()
    # 10 units need 20 h; only 15 h: lowering the target by 2.5 (25 %) is cheaper than
    # raising the limit by 5 (33 %), so that is the conflict reported
    problem = PlanProblem.build(
        eco,
        targets=pd.Series([10.0], index=eco.products),
        limits={"labour": 15.0},
        objective="min_resource",
        resource="labour",
    )
    with pytest.raises(InfeasiblePlanError) as caught:
        solve(problem, method="simplex")
    conflicts = caught.value.conflicts
    assert list(conflicts["kind"]) == ["target"]
    assert conflicts["relaxation"].iloc[0] == pytest.approx(2.5, rel=1e-9)
    assert "lower target ALL/grain" in str(caught.value)
    # applying the reported relaxation makes the plan feasible, and it then uses all the labour
    relaxed = PlanProblem.build(
        eco,
        targets=pd.Series([10.0 - 2.5], index=eco.products),
        limits={"labour": 15.0},
        objective="min_resource",
        resource="labour",
    )
    assert solve(relaxed).objective == pytest.approx(15.0, rel=1e-9)


def _write(tmp_path: Path, text: str) -> Path:
    shutil.copy(EXAMPLES / "bread_and_coal_flows.csv", tmp_path / "bread_and_coal_flows.csv")
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


BASE = """
periods = 2
[economy]
table = "bread_and_coal_flows.csv"
accounts = ["labour"]
"""


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            '[[targets]]\nproduct = "cake"\namount = 1.0\n',
            "targets[0].product",
            "unknown product 'cake'",
        ),
        (
            '[[targets]]\nproduct = "bread"\nregion = "MARS"\namount = 1.0\n',
            "targets[0].product",
            "unknown region 'MARS'",
        ),
        ('[[targets]]\nproduct = "bread"\namount = -1.0\n', "targets[0].amount", "negative"),
        (
            '[[targets]]\nproduct = "bread"\namount = 1.0\n[[limits]]\naccount = "labour"\nlimit = -3\n',
            "limits[0].limit",
            "negative",
        ),
        (
            '[[targets]]\nproduct = "bread"\namount = [1.0, 2.0, 3.0]\n',
            "targets[0].amount",
            "3 values for 2 periods",
        ),
        (
            '[[targets]]\nproduct = "bread"\namount = 1.0\n[[techniques]]\nname = "nothing"\nproduct = "coal"\noutput = 0\n',
            "techniques[0].output",
            "has no output",
        ),
        (
            '[[targets]]\nproduct = "bread"\namount = 1.0\n[[limits]]\naccount = "labor"\nlimit = 3\n',
            "limits[0].account",
            "unknown account 'labor'",
        ),
        (
            '[[targets]]\nproduct = "bread"\namount = 1.0\n[objective]\nkind = "maximise_joy"\n',
            "objective.kind",
            "unknown objective",
        ),
        ('[[targets]]\nprodcut = "bread"\namount = 1.0\n', "targets[0].prodcut", "unknown key"),
    ],
)
def test_spec_errors_name_the_field(tmp_path, body, field, message):
    path = _write(tmp_path, BASE + body)
    with pytest.raises(SpecError) as caught:
        read_spec(path)
    assert caught.value.where == field
    assert message in str(caught.value)
    assert caught.value.fix or caught.value.expected


def test_inconsistent_periods_with_cockshott_data(tmp_path, shared_data):
    folder = shared_data / "planning" / "cockshott_5yearplan" / "toy"
    path = tmp_path / "spec.toml"
    path.write_text(f'periods = 3\n[economy]\ncockshott = "{folder}"\n')
    with pytest.raises(SpecError, match="3 periods but the economy's data has 5"):
        read_spec(path)


def test_bad_toml_is_a_spec_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("periods = \n")
    with pytest.raises(SpecError, match="not valid TOML"):
        read_spec(path)


def test_spec_techniques_change_the_plan(tmp_path):
    path = _write(
        tmp_path,
        BASE
        + '[objective]\nkind = "min_resource"\nresource = "labour"\n[target_share]\nshare = 1.0\n',
    )
    without = solve(read_spec(path).problem)
    path = _write(
        tmp_path,
        BASE
        + '[objective]\nkind = "min_resource"\nresource = "labour"\n[target_share]\nshare = 1.0\n[[techniques]]\nname = "machine-coal"\nproduct = "coal"\ninputs = { iron = 0.05, coal = 0.2 }\naccounts = { labour = 0.1 }\n',
    )
    spec = read_spec(path)
    with_machines = solve(spec.problem)
    assert with_machines.objective < without.objective
    levels = with_machines.activity_levels.iloc[:, 0]
    assert levels[("ALL", "machine-coal")] > 0 and levels[("ALL", "coal")] == pytest.approx(
        0.0, abs=1e-9
    )
    # closed form: labour values with the chosen techniques times final demand
    eco = spec.problem.economy
    chosen = [0, 4, 2, 3]  # iron, machine-coal, corn, bread
    A = eco.use.toarray()[:, chosen]
    labour = eco.account("labour").to_numpy()[chosen]
    values = np.linalg.solve(np.eye(4) - A.T, labour)
    y = eco.final_demand_values.sum(axis=1)
    assert with_machines.objective == pytest.approx(2 * values @ y, rel=1e-9)


@pytest.mark.parametrize(
    "name", ["bread_and_coal.toml", "minimum_labour.toml", "five_year_plan.toml"]
)
def test_examples_run(name, shared_data):
    spec = read_spec(EXAMPLES / name)
    plan = solve(spec.problem, method=spec.method)
    assert plan.report.status == "optimal"
    assert np.isfinite(plan.objective) and plan.objective > 0


def test_example_script_runs(shared_data):
    import runpy

    namespace = runpy.run_path(str(EXAMPLES / "plan_in_python.py"), run_name="example")
    assert namespace["plan"].report.status == "optimal"


def test_spec_reads_any_table_format(tmp_path, shared_data):
    table = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    path = tmp_path / "icio.toml"
    path.write_text(
        f'name = "Colombia at base-year demand"\n[economy]\ntable = "{table}"\n'
        '[target_share]\nshare = 1.0\n[objective]\nkind = "min_resource"\nresource = "value_added"\n'
    )
    parsed = read_spec(path)
    assert parsed.problem.economy.n_products == 550
    assert len(parsed.problem.economy.regions) == 11


def test_plain_table_options_on_another_format_are_refused(tmp_path, shared_data):
    table = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    path = tmp_path / "icio.toml"
    path.write_text(
        f'[economy]\ntable = "{table}"\naccounts = ["labour"]\n[target_share]\nshare = 1.0\n'
    )
    with pytest.raises(SpecError) as caught:
        read_spec(path)
    assert caught.value.where == "economy.accounts"
    assert "icio-arrays" in str(caught.value)
