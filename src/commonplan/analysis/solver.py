"""The Leontief solver of the analysis functions (public path; the kernel is :mod:`commonplan.linalg`).

``commonplan.analysis.LeontiefSolver`` and ``commonplan.analysis.solver.LeontiefSolver``
are :class:`commonplan.linalg.LeontiefSolver`, the one kernel every layer uses.
"""

from commonplan.linalg.leontief import DENSE_LIMIT, LeontiefReport, LeontiefSolver

__all__ = ["DENSE_LIMIT", "LeontiefReport", "LeontiefSolver"]
