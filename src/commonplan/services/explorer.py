"""Exploring a stored economy: its key sectors and its dependence, by :mod:`commonplan.analysis`.

* :func:`explore_economy` — **key sectors**, :func:`commonplan.analysis.linkages`:
  Rasmussen (1956) backward linkages (column sums of the Leontief inverse) and Ghosh-model
  forward linkages (Miller & Blair 2009, §12.1.3), normalised to power and sensitivity of
  dispersion and classified per Miller & Blair Table 12.1 (dimensionless); and
  **dependence**: for a multi-region economy,
  :func:`commonplan.analysis.value_added_origin` (the origin of the value added embodied
  in each region's final demand, in the account's unit), for a one-region economy with an
  imports account, :func:`commonplan.analysis.account_multipliers` (imports embodied per
  money unit of final demand for each product).

The accounts are the economy's own (:meth:`Economy.account_for
<commonplan.economy.Economy.account_for>`): ``value_added``, or ``compensation`` where a
multi-region table has no value added; ``imports``. Public, like the other read
queries. The analysis is pure, so results are kept in a small cache keyed by the stored
economy's content hash: a second visit neither reads the blob nor solves again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from commonplan import analysis
from commonplan.economy import Economy
from commonplan.errors import CommonplanError
from commonplan.services.assemblies import get_economy_info, load_economy
from commonplan.store.database import Database

CACHE_SIZE = 16
"""How many stored economies' explorations are kept (least recently used ones are dropped)."""
TOP_KEY_SECTORS = 15
"""How many key sectors (strongest first) :attr:`Exploration.top` lists."""


@dataclass(frozen=True)
class Dependence:
    """What a region's or a product's final demand embodies of one account.

    ``kind`` ``"value_added_origin"``: ``values`` is a DataFrame, origin regions (rows) by
    destination regions (columns), in the account's unit. ``kind`` ``"imports_embodied"``:
    ``values`` is a Series per product, the account's unit per money unit of final demand.
    """

    kind: Literal["value_added_origin", "imports_embodied"]
    account: str
    unit: str
    values: pd.DataFrame | pd.Series


@dataclass(frozen=True)
class Exploration:
    """Key sectors and dependence of one stored economy.

    ``linkages`` is the full table of :func:`commonplan.analysis.linkages` (``None`` with
    the reason in ``problem`` when it cannot be computed), ``top`` its strongest key
    sectors. ``dependence`` is ``None`` when the economy has no suitable account (then
    ``dependence_problem`` is empty) or when the analysis failed (then it says why).
    """

    economy_name: str
    sha256: str
    linkages: pd.DataFrame | None
    top: pd.DataFrame | None
    dependence: Dependence | None
    problem: str = ""
    dependence_problem: str = ""


_CACHE: OrderedDict[str, Exploration] = OrderedDict()
_LOCK = threading.Lock()


def explore_economy(db: Database, economy_id: int) -> Exploration:
    """Key sectors and dependence of stored economy ``economy_id`` (cached by its content hash)."""
    info = get_economy_info(db, economy_id)
    with _LOCK:
        if info.sha256 in _CACHE:
            _CACHE.move_to_end(info.sha256)
            return replace(_CACHE[info.sha256], economy_name=info.name)
    found = _explore(load_economy(db, economy_id), info.name, info.sha256)
    with _LOCK:
        _CACHE[info.sha256] = found
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def _explore(economy: Economy, name: str, sha256: str) -> Exploration:
    try:
        solver = analysis.LeontiefSolver(economy)
        table = analysis.linkages(economy, solver=solver)
    except CommonplanError as error:
        return Exploration(
            name, sha256, None, None, None, f"key sectors cannot be computed: {error}"
        )
    top = analysis.key_sectors(table, top=TOP_KEY_SECTORS)
    try:
        dependence = _dependence(economy, solver)
    except CommonplanError as error:
        return Exploration(name, sha256, table, top, None, dependence_problem=error.message)
    return Exploration(name, sha256, table, top, dependence)


def _dependence(economy: Economy, solver: analysis.LeontiefSolver) -> Dependence | None:
    if len(economy.regions) > 1:
        account = economy.account_for("value_added") or economy.account_for("compensation")
        if account is None:
            return None
        origin = analysis.value_added_origin(economy, account, solver=solver)
        return Dependence("value_added_origin", account, _unit(economy, account), origin)
    account = economy.account_for("imports")
    if account is None:
        return None
    multipliers = analysis.account_multipliers(economy, account, solver=solver)
    series = multipliers.loc[account] if account in multipliers.index else multipliers.iloc[0]
    return Dependence("imports_embodied", account, _unit(economy, account), series)


def _unit(economy: Economy, account: str) -> str:
    return str(economy.account_units.get(account, ""))
