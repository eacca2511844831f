"""Labelled results, Parquet output and the run configuration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from commonplan.participation import run_procedure


def test_labelled_trajectory_and_plan(dep1ex01):
    result = run_procedure(dep1ex01, years=2, seed=1)
    run = result.year(1)
    trajectory = result.trajectory(1)
    assert list(trajectory.columns.names) == ["quantity", "class", "good"]
    assert (
        trajectory.index.name == "round"
        and trajectory.index[0] == 1
        and len(trajectory) == run.rounds
    )
    np.testing.assert_array_equal(result.prices(1).to_numpy(), run.price)
    assert result.prices(1).loc[3, ("public", 10)] == run.price[2, 49]
    summary = result.year_summary()
    assert summary.loc[1, "first_round_below_5pct"] == run.first_round_below(0.05)
    assert summary.loc[1, "rounds"] == run.rounds and bool(summary.loc[2, "converged"])
    table = result.rounds_table(1)
    assert table["colour"].iloc[-1] == "blue" and table["worst_imbalance"].iloc[-1] < 0.03
    assert (table["colour"].iloc[:-1] != "blue").all()

    plan = result.plan(1)
    assert plan.worker_output.index.name == "worker_council" and len(plan.worker_output) == 3000
    # the plan's totals are the last round's aggregates
    supply = plan.worker_output.groupby(dep1ex01.worker_output_commodity).sum()
    np.testing.assert_allclose(supply.to_numpy(), plan.supply.to_numpy()[supply.index], rtol=1e-12)
    labour_demand = plan.demand.loc["labour"].sum()
    np.testing.assert_allclose(plan.labour_used, labour_demand, rtol=1e-12)
    np.testing.assert_allclose(
        plan.consumer_private.sum().to_numpy(), plan.demand.loc["private"].to_numpy(), rtol=1e-12
    )
    np.testing.assert_allclose(
        plan.consumer_public.mean().to_numpy(), plan.demand.loc["public"].to_numpy(), rtol=1e-12
    )
    assert (plan.worker_effort > 0).all()


def test_write_parquet_and_run_configuration(dep1ex01, tmp_path):
    result = run_procedure(dep1ex01, years=2, seed=5)
    folder = tmp_path / "run"
    written = result.write(folder)
    assert written[-1] == folder / "run_configuration.json"
    config = json.loads((folder / "run_configuration.json").read_text())
    assert config["input"]["content_sha256"] == dep1ex01.content_hash()
    assert config["parameters"]["seed"] == 5 and config["parameters"]["stop_threshold"] == 0.03
    assert config["versions"]["commonplan"] and config["outcome"]["status"] == "converged"
    trajectory = pd.read_parquet(folder / "trajectory.parquet")
    prices = trajectory[(trajectory.year == 2) & (trajectory.quantity == "price")]
    wide = prices.pivot_table(index="round", columns=["class", "good"], values="value")
    np.testing.assert_array_equal(wide[result.economy.commodities].to_numpy(), result.year(2).price)
    workers = pd.read_parquet(folder / "plan_workers.parquet")
    np.testing.assert_array_equal(
        workers.loc[workers.year == 1, "output"], result.plan(1).worker_output
    )
    consumers = pd.read_parquet(folder / "plan_consumers.parquet")
    assert len(consumers) == 2 * 3000 * 20
    inputs = pd.read_parquet(folder / "plan_worker_inputs.parquet")
    assert set(inputs["class"]) == {"intermediate", "nature", "labour"}
    summary = pd.read_parquet(folder / "summary.parquet")
    assert summary["rounds"].tolist() == [result.year(1).rounds, result.year(2).rounds]

    # the configuration identifies the run: the same inputs and seed reproduce it
    again = run_procedure(
        dep1ex01,
        **{
            k: config["parameters"][k]
            for k in ("years", "seed", "stop_threshold", "max_rounds", "initial_price")
        },
    )
    np.testing.assert_array_equal(again.year(2).price, result.year(2).price)
