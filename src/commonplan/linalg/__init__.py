"""The numerical kernel: Leontief solves and spectral radii of non-negative matrices.

Every Leontief system in Commonplan — analysis, economy construction, the structured
planner — is solved by one :class:`LeontiefSolver`, and every productivity check uses one
:func:`spectral_radius`. This package imports nothing of Commonplan but
:mod:`commonplan.errors`, so that every layer (``economy`` included) can use it.
"""

from commonplan.linalg.leontief import (
    BLOCK_LIMIT,
    BLOCK_WORK_RATIO,
    DEFAULT_BLOCK_SIZE,
    DEFAULT_MAXITER,
    DEFAULT_NEUMANN_DEGREE,
    DEFAULT_RESTART,
    DEFAULT_TOLERANCE,
    DENSE_LIMIT,
    DENSE_WORK_RATIO,
    LeontiefReport,
    LeontiefSolver,
)
from commonplan.linalg.spectral import spectral_radius, spectral_radius_bounds

__all__ = [
    "BLOCK_LIMIT",
    "BLOCK_WORK_RATIO",
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_MAXITER",
    "DEFAULT_NEUMANN_DEGREE",
    "DEFAULT_RESTART",
    "DEFAULT_TOLERANCE",
    "DENSE_LIMIT",
    "DENSE_WORK_RATIO",
    "LeontiefReport",
    "LeontiefSolver",
    "spectral_radius",
    "spectral_radius_bounds",
]
