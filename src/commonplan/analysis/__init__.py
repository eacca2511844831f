"""Deciphering an economy: Leontief models, multipliers, footprints, labour values,
key sectors, dependence on partners and hypothetical extraction; aggregation by
concordance, characterisation, the Ghosh model and per-capita accounts.

Everything works on a symmetric :class:`~commonplan.economy.Economy` and returns labelled
pandas objects. One :class:`LeontiefSolver` (dense LU for small tables, block GMRES on
the sparse matrix for large ones; never a dense inverse unless asked) can be passed to
every function as ``solver=`` so that its set-up is shared. :func:`analyse` runs all
analyses that apply; its :class:`AnalysisResults` writes them to Parquet/CSV/Excel.
See ``docs/analysis.md`` for formulas, sources and units.
"""

from commonplan.analysis.dependence import (
    foreign_value_added_shares,
    input_dependence,
    intermediate_imports,
    value_added_origin,
)
from commonplan.analysis.extraction import extract_partner_supply, extract_sectors
from commonplan.analysis.footprints import Footprints, footprints
from commonplan.analysis.ghosh import (
    allocation_coefficients,
    downstream_multipliers,
    forward_multipliers,
    ghosh_matrices,
)
from commonplan.analysis.labour import labour_values
from commonplan.analysis.leontief import prices, quantities, total_requirements
from commonplan.analysis.linkages import CLASSES, classify, key_sectors, linkages
from commonplan.analysis.multipliers import (
    HouseholdClosure,
    account_multipliers,
    closed_model,
    multiplier_table,
    output_multipliers,
)
from commonplan.analysis.results import AnalysisReport, AnalysisResults, Progress, analyse
from commonplan.analysis.solver import DENSE_LIMIT, LeontiefReport, LeontiefSolver
from commonplan.analysis.transform import aggregate, characterize, map_back, per_capita

__all__ = [
    "AnalysisReport",
    "AnalysisResults",
    "CLASSES",
    "DENSE_LIMIT",
    "Footprints",
    "HouseholdClosure",
    "LeontiefReport",
    "LeontiefSolver",
    "Progress",
    "account_multipliers",
    "aggregate",
    "allocation_coefficients",
    "characterize",
    "downstream_multipliers",
    "forward_multipliers",
    "ghosh_matrices",
    "map_back",
    "per_capita",
    "analyse",
    "classify",
    "closed_model",
    "extract_partner_supply",
    "extract_sectors",
    "footprints",
    "foreign_value_added_shares",
    "input_dependence",
    "intermediate_imports",
    "key_sectors",
    "labour_values",
    "linkages",
    "multiplier_table",
    "output_multipliers",
    "prices",
    "quantities",
    "total_requirements",
    "value_added_origin",
]
