"""Commonplan: an engine for democratic economic planning.

Read input-output tables (:mod:`commonplan.io`), decipher them
(:mod:`commonplan.analysis`), compute plans (:mod:`commonplan.planning`), and let
councils decide (:mod:`commonplan.participation`, services, server).
"""

from commonplan.economy import Economy, Metadata
from commonplan.errors import CommonplanError

__version__ = "0.1.0"

__all__ = ["Economy", "Metadata", "CommonplanError", "__version__"]
