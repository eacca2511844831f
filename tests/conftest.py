"""Shared test fixtures: where the real data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real tables in ``../shared/data`` (read-only; never copied into the package)."""
    if not SHARED_DATA.is_dir():
        raise RuntimeError(f"real test data not found at {SHARED_DATA}; tests need ../shared/data")
    return SHARED_DATA


@pytest.fixture()
def artifacts_dir() -> Path:
    """Folder for test artefacts (screenshots, reports) kept after the run."""
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
