"""Fixtures for the participation tests: the shipped experiments."""

from __future__ import annotations

from pathlib import Path

import pytest

from commonplan.participation import ParticipatoryEconomy, read_experiment


@pytest.fixture(scope="session")
def experiment_folder(shared_data: Path) -> Path:
    return shared_data / "planning" / "pequod_dep1ex_3000"


@pytest.fixture(scope="session")
def experiment_paths(experiment_folder: Path) -> list[Path]:
    paths = sorted(experiment_folder.glob("dep1ex*.clj.gz"))
    assert len(paths) == 10
    return paths


@pytest.fixture(scope="session")
def dep1ex01(experiment_paths: list[Path]) -> ParticipatoryEconomy:
    return read_experiment(experiment_paths[0])
