"""Sweeps: spec parsing, stable ids, resume, failures as rows, identical results on every executor."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from commonplan.errors import ConflictError, SpecError
from commonplan.scenarios import Shock, run
from commonplan.scenarios.executors import DaskExecutor, PoolExecutor, SerialExecutor
from commonplan.scenarios.sweep import SweepSpec, read_sweep, run_sweep

CLI = [sys.executable, "-c", "from commonplan.cli.main import app; app()"]


def spec_of(**grid) -> SweepSpec:
    base = {
        "members": ["COL"],
        "partners": ["USA", "MEX"],
        "shares": [0.5, 1.0],
        "import_flexibility": [1.0],
        "models": ["lp", "leontief"],
    }
    return SweepSpec.from_dict(
        {"economy": {"dataset": "unused"}, "grid": {**base, **grid}, "run": {"batch_size": 3}}
    )


def test_grid_collapses_flexibility_for_models_without_it_and_ids_are_stable():
    spec = spec_of(import_flexibility=[1.0, 2.0])
    lp = [s for s in spec.scenarios if s.model == "lp"]
    leontief = [s for s in spec.scenarios if s.model == "leontief"]
    assert len(lp) == 2 * 2 * 2 and len(leontief) == 2 * 2  # flexibility is not leontief's
    assert all(s.import_flexibility is None for s in leontief)
    again = spec_of(import_flexibility=[1.0, 2.0])
    assert [s.id for s in spec.scenarios] == [s.id for s in again.scenarios]
    assert len({s.id for s in spec.scenarios}) == len(spec.scenarios)
    assert len({s.seed for s in spec.scenarios}) == len(spec.scenarios)


def test_sweep_rows_equal_the_models_run_one_by_one(icio, tmp_path):
    spec = spec_of()
    report = run_sweep(spec, SerialExecutor(), tmp_path, economy=icio)
    frame = read_sweep(tmp_path)
    assert report.ran == len(spec.scenarios) == 8 and report.batches == 3
    assert list(frame["position"]) == list(range(8))
    for row in frame.itertuples():
        s = spec.scenarios[row.position]
        with threadpool_limits(limits=1):  # as every executor runs its batches
            outcome = run(
                icio,
                Shock(s.region, s.partners, s.share),
                s.model_assumptions(),
                model_name=s.model,
            )
        assert row.loss == outcome.total()["loss"].iloc[0]


def test_executors_give_identical_results_bit_for_bit(icio, tmp_path):
    spec = spec_of()
    frames = {}
    for name, executor in [
        ("serial", SerialExecutor()),
        ("pool", PoolExecutor(2, timeout=120)),
        ("dask-threads", DaskExecutor(2, processes=False, timeout=120)),
        ("dask", DaskExecutor(2, processes=True, timeout=120)),
    ]:
        run_sweep(spec, executor, tmp_path / name, economy=icio)
        frames[name] = read_sweep(tmp_path / name)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, frames["serial"], check_exact=True, obj=name)


def test_rerun_resumes_by_scenario_id_and_another_sweep_is_refused(icio, tmp_path):
    small = spec_of(shares=[0.5])
    run_sweep(small, SerialExecutor(), tmp_path / "a", economy=icio)
    first = read_sweep(tmp_path / "a")
    again = run_sweep(small, SerialExecutor(), tmp_path / "a", economy=icio)
    assert again.ran == 0 and again.skipped == len(small.scenarios)
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "a"), first, check_exact=True)
    with pytest.raises(ConflictError, match="another sweep"):
        run_sweep(spec_of(), SerialExecutor(), tmp_path / "a", economy=icio)


def test_a_failing_scenario_is_a_row_with_its_reason(icio, tmp_path):
    spec = SweepSpec.from_dict(
        {
            "economy": {"dataset": "unused"},
            "scenario": [
                {"model": "lp", "region": "COL", "partners": "USA", "share": 1.0},
                {"model": "leontief", "region": "COL", "partners": "USA", "share": 1.0},
            ],
            "assumptions": {"lp": {"resource": "no_such_account"}},
        }
    )
    run_sweep(spec, SerialExecutor(), tmp_path, economy=icio)
    frame = read_sweep(tmp_path)
    assert list(frame["status"]) == ["failed", "ok"]
    assert "no_such_account" in frame["error"].iloc[0]
    assert frame["loss"].iloc[1] > 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"economy": {"dataset": "x"}, "grid": {"models": ["cge"]}}, "missing 'members'"),
        (
            {
                "economy": {"dataset": "x"},
                "grid": {
                    "members": ["COL"],
                    "partners": ["USA"],
                    "shares": [0.5],
                    "models": ["cge"],
                },
            },
            "unknown model 'cge'",
        ),
        (
            {
                "economy": {"dataset": "x"},
                "grid": {"members": ["COL"], "partners": ["USA"], "shares": [2], "models": ["lp"]},
            },
            "shock.share",
        ),
        ({"economy": {}, "grid": {}}, "name the economy once"),
    ],
)
def test_bad_specs_raise_spec_errors(data, message):
    with pytest.raises(SpecError, match=message):
        SweepSpec.from_dict(data)


def test_sweep_command_runs_and_bad_input_is_one_line(tmp_path, shared_data):
    table = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    good = tmp_path / "good.toml"
    good.write_text(
        f'[economy]\nfile = "{table}"\n[grid]\nmembers = ["COL"]\npartners = ["USA"]\n'
        'shares = [0.5, 1.0]\nmodels = ["leontief"]\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [*CLI, "sweep", str(good), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "2 scenarios run" in done.stdout
    assert len(read_sweep(tmp_path / "out")) == 2
    unknown_region = tmp_path / "region.toml"
    unknown_region.write_text(good.read_text().replace('["COL"]', '["XXX"]'), encoding="utf-8")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[grid\n", encoding="utf-8")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00\x81\x93")
    for path, message in [
        (unknown_region, "unknown region 'XXX'"),
        (bad_toml, "not valid TOML"),
        (binary, "not a text file"),
    ]:
        done = subprocess.run(
            [*CLI, "sweep", str(path), "-o", str(tmp_path / "o2")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: ") and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
