"""Planning specifications in TOML: read, validate, and turn into a :class:`PlanProblem`.

A specification names an economy and says what is wanted and what is available::

    name = "bread and coal"
    periods = 3                      # or a list of labels: ["2026", "2027", "2028"]

    [economy]
    table = "flows.csv"              # any table `commonplan formats` lists, or cockshott = "folder"
    accounts = ["labour"]            # rows of a plain flow table that are accounts

    [objective]
    kind = "max_min_fulfilment"      # or "harmony", "min_resource"
    resource = "labour"              # for min_resource

    [[targets]]
    product = "bread"                # a sector name, or "REGION/sector"
    amount = 2.0                     # one amount, or one per period
    weight = 1.0

    [target_share]                   # instead of (or besides) [[targets]]
    share = 0.9                      # at least 0.9 × base-year final demand, every period

    [[limits]]
    account = "labour"
    limit = [3.0, 3.1, 3.2]

    [[capacity]]
    activity = "coal"
    limit = 5.0

    [[techniques]]                   # alternative ways of making a product
    name = "coal-by-hand"
    product = "coal"
    output = 1.0
    inputs = { iron = 0.05 }
    accounts = { labour = 2.0 }

    [solver]
    method = "auto"
    time_limit = 60

Paths are relative to the specification file. Every mistake raises
:class:`~commonplan.errors.SpecError` naming the field (``targets[2].product``) and the fix.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.checks import parse_number
from commonplan.economy import Economy
from commonplan.errors import CommonplanError, SpecError
from commonplan.planning.problem import (
    OBJECTIVE_KINDS,
    Objective,
    PlanProblem,
    ResourceLimit,
    Targets,
)
from commonplan.planning.tolerances import SOLVER_TOLERANCE

TOP_KEYS = {
    "name",
    "periods",
    "economy",
    "objective",
    "targets",
    "target_share",
    "limits",
    "capacity",
    "techniques",
    "solver",
}
SECTION_KEYS = {
    "economy": {"cockshott", "table", "format", "accounts", "region", "units", "year"},
    "objective": {"kind", "resource", "lexicographic", "breakpoints"},
    "targets": {"product", "region", "amount", "weight"},
    "target_share": {"share", "regions", "weight"},
    "limits": {"account", "limit"},
    "capacity": {"activity", "region", "limit"},
    "techniques": {"name", "product", "region", "output", "inputs", "accounts"},
    "solver": {"method", "time_limit", "tolerance"},
}


@dataclass(frozen=True)
class PlanSpec:
    """A validated specification: the problem and how to solve it."""

    problem: PlanProblem
    method: str = "auto"
    time_limit: float | None = None
    tolerance: float = SOLVER_TOLERANCE
    source: Path | None = None


def _error(
    field: str, message: str, *, expected: str | None = None, fix: str | None = None
) -> SpecError:
    return SpecError(message, where=field, expected=expected, fix=fix)


def _check_keys(table: dict[str, Any], allowed: set[str], field: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            raise _error(
                f"{field}.{key}" if field else key,
                f"unknown key {key!r}",
                expected=f"one of {sorted(allowed)}",
                fix=f"did you mean {close[0]!r}?" if close else "remove it",
            )


def _number(value: Any, field: str, *, allow_inf: bool = False) -> float:
    """A TOML number ≥ 0 (a string, even one that reads as a number, is refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(field, f"{value!r} is not a number", expected="a number ≥ 0")
    return parse_number(
        value,
        where=field,
        error=SpecError,
        allow_inf=allow_inf,
        nonnegative=True,
        fix="targets and limits cannot be negative; use 0 for none",
    )


def _per_period(value: Any, T: int, field: str, *, allow_inf: bool = False) -> np.ndarray:
    if isinstance(value, list):
        if len(value) != T:
            raise _error(
                field,
                f"{len(value)} values for {T} periods",
                expected=f"one value, or exactly {T} (one per period)",
                fix="make the list as long as `periods`, or give a single value for all periods",
            )
        return np.array(
            [_number(v, f"{field}[{k}]", allow_inf=allow_inf) for k, v in enumerate(value)]
        )
    return np.full(T, _number(value, field, allow_inf=allow_inf))


def _find(labels: pd.MultiIndex, name: Any, region: Any, field: str, what: str) -> int:
    if not isinstance(name, str) or not name:
        raise _error(field, f"{what} must be a name, got {name!r}", expected=f"a {what} name")
    if region is None and "/" in name:
        region, name = name.split("/", 1)
    regions = labels.get_level_values(0)
    sectors = labels.get_level_values(1)
    if region is not None:
        if region not in set(regions):
            close = difflib.get_close_matches(str(region), sorted(set(regions)), n=3)
            raise _error(
                field,
                f"unknown region {region!r}",
                expected=f"one of the economy's regions{f', e.g. {close}' if close else ''}",
                fix="check the region code",
            )
        hits = np.flatnonzero((regions == region) & (sectors == name))
    else:
        hits = np.flatnonzero(sectors == name)
    if hits.size == 0:
        close = difflib.get_close_matches(name, sorted(set(sectors)), n=3)
        raise _error(
            field,
            f"unknown {what} {name!r}" + (f" in region {region!r}" if region else ""),
            expected=f"a {what} of the economy" + (f", e.g. {close}" if close else ""),
            fix=f"use one of the economy's {what} names",
        )
    if hits.size > 1:
        raise _error(
            field,
            f"{what} {name!r} exists in several regions",
            fix='add region = "..." or write "REGION/name"',
        )
    return int(hits[0])


# ---- economies ---------------------------------------------------------------------------------


PLAIN_TABLE_KEYS = ("accounts", "region", "units", "year")
"""Keys of ``[economy]`` passed to the plain flow-table reader (``format = "flows"``)."""


def _economy_section(spec: dict[str, Any], base: Path) -> tuple[Economy, PlanProblem | None]:
    section = spec.get("economy")
    if not isinstance(section, dict):
        raise _error(
            "economy",
            "missing [economy] section",
            expected="table = PATH or cockshott = FOLDER",
            fix="add [economy] with a data path",
        )
    _check_keys(section, SECTION_KEYS["economy"], "economy")
    sources = [k for k in ("cockshott", "table") if k in section]
    if len(sources) != 1:
        raise _error(
            "economy",
            f"give exactly one data source, got {sources}",
            expected="table = PATH (any format of `commonplan formats`) or cockshott = FOLDER",
        )
    key = sources[0]
    path = (base / str(section[key])).resolve()
    if not path.exists():
        raise _error(
            f"economy.{key}",
            f"{path} does not exist",
            fix="correct the path (relative to the spec file)",
        )
    if key == "cockshott":
        from commonplan.planning.cockshott import read_cockshott

        problem = read_cockshott(path)
        return problem.economy, problem
    from commonplan.io import detect_format, read_table

    table_format = section.get("format") or detect_format(path)
    options = {k: section[k] for k in PLAIN_TABLE_KEYS if k in section}
    if options and table_format != "flows":
        raise _error(
            f"economy.{next(iter(options))}",
            f"options {sorted(options)} apply to plain flow tables, but this table is read as {table_format!r}",
            fix='remove them, or set format = "flows"',
        )
    accounts = options.get("accounts", [])
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise _error(
            "economy.accounts",
            f"{accounts!r} is not a list of row names",
            expected='e.g. ["labour"]',
        )
    return read_table(path, format=table_format, **options), None


def _technique(
    economy: Economy, entry: Any, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, str]]:
    """Make, use and account columns of ``[[techniques]]`` entry ``k``, and its activity label."""
    field = f"techniques[{k}]"
    if not isinstance(entry, dict):
        raise _error(
            field,
            "each technique must be a table",
            expected="[[techniques]] with name, product, output, inputs",
        )
    _check_keys(entry, SECTION_KEYS["techniques"], field)
    name = entry.get("name") or f"technique{k}"
    if "product" not in entry:
        raise _error(
            f"{field}.product",
            "a technique needs the product it makes",
            fix='add product = "..."',
        )
    product = _find(
        economy.products, entry["product"], entry.get("region"), f"{field}.product", "product"
    )
    output = _number(entry.get("output", 1.0), f"{field}.output")
    if output <= 0:
        raise _error(
            f"{field}.output",
            f"technique {name!r} has no output",
            expected="output > 0 units of its product per unit of activity",
            fix="set output to the amount made per unit of the technique",
        )
    make = np.zeros(economy.n_products)
    make[product] = output
    return (
        make,
        _technique_inputs(economy, entry.get("inputs", {}), field),
        _technique_accounts(economy, dict(entry.get("accounts", {})), field),
        (economy.products[product][0], str(name)),
    )


def _technique_inputs(economy: Economy, inputs: Any, field: str) -> np.ndarray:
    """A technique's use column from ``inputs = { product = amount }``."""
    if not isinstance(inputs, dict):
        raise _error(
            f"{field}.inputs",
            "inputs must be a table product = amount",
            expected="inputs = { iron = 0.05 }",
        )
    use = np.zeros(economy.n_products)
    for good, amount in inputs.items():
        use[_find(economy.products, good, None, f"{field}.inputs.{good}", "product")] += _number(
            amount, f"{field}.inputs.{good}"
        )
    return use


def _technique_accounts(economy: Economy, accounts: dict[str, Any], field: str) -> np.ndarray:
    """A technique's account column from ``accounts = { account = amount }``."""
    column = np.zeros(len(economy.account_names))
    for account, amount in accounts.items():
        if account not in economy.account_names:
            raise _error(
                f"{field}.accounts.{account}",
                f"unknown account {account!r}",
                expected=f"one of {list(economy.account_names)}",
            )
        column[economy.account_names.index(account)] = _number(
            amount, f"{field}.accounts.{account}"
        )
    return column


def _add_techniques(economy: Economy, entries: list[Any]) -> Economy:
    """``economy`` with one activity more per ``[[techniques]]`` entry, labelled by its name."""
    if not entries:
        return economy
    columns = [_technique(economy, entry, k) for k, entry in enumerate(entries)]
    make_cols, use_cols, account_cols, labels = zip(*columns, strict=True)
    activities = economy.activities.append(
        pd.MultiIndex.from_tuples(list(labels), names=economy.activities.names)
    )
    if activities.has_duplicates:
        raise _error(
            "techniques",
            f"technique names repeat existing activities: {list(activities[activities.duplicated()])}",
            fix="give each technique a distinct name",
        )
    levels = None
    if economy.activity_levels is not None:
        levels = np.concatenate([economy.activity_levels, np.zeros(len(labels))])
    return economy.replace(
        activities=activities,
        make=sp.hstack([economy.make, sp.csr_array(np.column_stack(make_cols))], format="csr"),
        use=sp.hstack([economy.use, sp.csr_array(np.column_stack(use_cols))], format="csr"),
        account_coefficients=np.hstack(
            [economy.account_coefficients, np.column_stack(account_cols)]
        ),
        activity_levels=levels,
    )


def _periods(spec: dict[str, Any], base_problem: PlanProblem | None) -> pd.Index:
    if "periods" not in spec:
        if base_problem is not None:
            return base_problem.periods
        return pd.Index([1], name="period")
    value = spec["periods"]
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise _error(
                "periods", f"{value} periods", expected="an integer ≥ 1 or a list of labels"
            )
        labels = pd.Index(range(1, value + 1), name="period")
    elif isinstance(value, list) and value:
        labels = pd.Index([str(v) for v in value], name="period")
        if labels.has_duplicates:
            raise _error("periods", "period labels repeat", expected="distinct labels")
    else:
        raise _error(
            "periods",
            f"{value!r} is not a number of periods or a list of labels",
            expected='periods = 5 or periods = ["2026", "2027"]',
        )
    if base_problem is not None and len(labels) != base_problem.n_periods:
        raise _error(
            "periods",
            f"{len(labels)} periods but the economy's data has {base_problem.n_periods}",
            fix="drop `periods` or match the data's years",
        )
    return labels


def _check_shape(spec: Any) -> None:
    """The document is a table with known keys; sections are tables, entries arrays of tables."""
    if not isinstance(spec, dict):
        raise _error("spec", "the specification must be a table", expected="a TOML document")
    _check_keys(spec, TOP_KEYS, "")
    for key in ("economy", "objective", "target_share", "solver"):
        if key in spec and not isinstance(spec[key], dict):
            raise _error(key, f"[{key}] must be a table", fix=f"write it as a [{key}] section")
        if key in spec:
            _check_keys(spec[key], SECTION_KEYS[key], key)
    for key in ("targets", "limits", "capacity", "techniques"):
        if key in spec and not (
            isinstance(spec[key], list) and all(isinstance(e, dict) for e in spec[key])
        ):
            raise _error(
                key, f"{key} must be an array of tables", fix=f"write each entry as [[{key}]]"
            )


def _target_share(
    section: dict[str, Any], economy: Economy, T: int, amounts: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """``[target_share]``: the amounts with ``share ×`` base-year final demand in the regions chosen.

    Sets the weight of those products in ``weights`` (in place).
    """
    if "share" not in section:
        raise _error(
            "target_share.share",
            "missing share",
            expected="share = s (1 = base-year final demand)",
        )
    share = _per_period(section["share"], T, "target_share.share")
    base_demand = economy.final_demand_values.sum(axis=1)
    if (base_demand < 0).any():
        base_demand = np.maximum(base_demand, 0.0)
    mask = np.ones(economy.n_products, bool)
    if "regions" in section:
        regions = section["regions"]
        known = set(economy.products.get_level_values(0))
        for k, region in enumerate(regions):
            if region not in known:
                raise _error(
                    f"target_share.regions[{k}]",
                    f"unknown region {region!r}",
                    expected=f"one of {sorted(known)}",
                )
        mask = economy.products.get_level_values(0).isin(regions)
    weights[mask] = _number(section.get("weight", 1.0), "target_share.weight")
    return np.where(mask[:, None], base_demand[:, None] * share[None, :], amounts)


def _target_entry(
    entry: dict[str, Any],
    k: int,
    economy: Economy,
    T: int,
    amounts: np.ndarray,
    weights: np.ndarray,
) -> None:
    """``[[targets]]`` entry ``k``: its product's amounts and weights, set in place."""
    field = f"targets[{k}]"
    _check_keys(entry, SECTION_KEYS["targets"], field)
    if "product" not in entry or "amount" not in entry:
        raise _error(
            field,
            "a target needs product and amount",
            expected='product = "bread", amount = 2.0',
        )
    i = _find(
        economy.products, entry["product"], entry.get("region"), f"{field}.product", "product"
    )
    amounts[i] = _per_period(entry["amount"], T, f"{field}.amount")
    weights[i] = _per_period(entry.get("weight", 1.0), T, f"{field}.weight")


def _targets(
    spec: dict[str, Any], economy: Economy, T: int, base_problem: PlanProblem | None
) -> Targets:
    """``[target_share]`` then ``[[targets]]`` (which override it); else the data's own targets."""
    amounts = np.zeros((economy.n_products, T))
    weights = np.ones((economy.n_products, T))
    given = False
    if base_problem is not None and not spec.get("targets") and "target_share" not in spec:
        amounts = base_problem.targets.amounts.copy()
        given = True
    if "target_share" in spec:
        amounts = _target_share(spec["target_share"], economy, T, amounts, weights)
        given = True
    for k, entry in enumerate(spec.get("targets", [])):
        _target_entry(entry, k, economy, T, amounts, weights)
        given = True
    if not given or not (amounts > 0).any():
        raise _error(
            "targets",
            "no positive target",
            fix="add [[targets]] entries or a [target_share] section",
        )
    return Targets(amounts, weights)


def _limits(
    spec: dict[str, Any], economy: Economy, T: int, base_problem: PlanProblem | None
) -> tuple[ResourceLimit, ...]:
    """``[[limits]]``: per-period limits on accounts, over those of the data (if any)."""
    resources: dict[str, np.ndarray] = {}
    if base_problem is not None:
        resources = {r.account: r.limits for r in base_problem.resources}
    for k, entry in enumerate(spec.get("limits", [])):
        field = f"limits[{k}]"
        _check_keys(entry, SECTION_KEYS["limits"], field)
        account = entry.get("account")
        if account not in economy.account_names:
            close = difflib.get_close_matches(str(account), list(economy.account_names), n=3)
            raise _error(
                f"{field}.account",
                f"unknown account {account!r}",
                expected=f"one of {list(economy.account_names)}",
                fix=f"did you mean {close[0]!r}?" if close else "name an account of the economy",
            )
        if "limit" not in entry:
            raise _error(
                f"{field}.limit", "missing limit", expected="limit = amount, or one per period"
            )
        resources[account] = _per_period(entry["limit"], T, f"{field}.limit", allow_inf=True)
    return tuple(ResourceLimit(a, v) for a, v in resources.items())


def _capacity(spec: dict[str, Any], economy: Economy, T: int) -> np.ndarray | None:
    """``[[capacity]]``: activities × periods upper bounds (``None`` when none is given)."""
    capacity = None
    for k, entry in enumerate(spec.get("capacity", [])):
        field = f"capacity[{k}]"
        _check_keys(entry, SECTION_KEYS["capacity"], field)
        j = _find(
            economy.activities,
            entry.get("activity"),
            entry.get("region"),
            f"{field}.activity",
            "activity",
        )
        if capacity is None:
            capacity = np.full((economy.n_activities, T), np.inf)
        capacity[j] = _per_period(entry.get("limit"), T, f"{field}.limit", allow_inf=True)
    return capacity


def _objective(spec: dict[str, Any], economy: Economy) -> Objective:
    """``[objective]``: its kind (default max_min_fulfilment) and options."""
    section = spec.get("objective", {})
    kind = section.get("kind", "max_min_fulfilment")
    if kind not in OBJECTIVE_KINDS:
        raise _error(
            "objective.kind",
            f"unknown objective {kind!r}",
            expected=f"one of {list(OBJECTIVE_KINDS)}",
        )
    args: dict[str, Any] = {"kind": kind, "resource": section.get("resource")}
    if "lexicographic" in section:
        args["lexicographic"] = bool(section["lexicographic"])
    if "breakpoints" in section:
        args["breakpoints"] = tuple(
            _number(b, "objective.breakpoints") for b in section["breakpoints"]
        )
    if kind == "min_resource" and args["resource"] not in economy.account_names:
        raise _error(
            "objective.resource",
            f"unknown or missing resource {args['resource']!r}",
            expected=f"one of {list(economy.account_names)}",
        )
    return Objective(**args)


def _solver(spec: dict[str, Any]) -> dict[str, Any]:
    """``[solver]``: method, time limit and tolerance, as keyword arguments of :class:`PlanSpec`."""
    from commonplan.planning.solve import METHODS

    solver = spec.get("solver", {})
    method = solver.get("method", "auto")
    if method not in METHODS:
        raise _error(
            "solver.method", f"unknown method {method!r}", expected=f"one of {list(METHODS)}"
        )
    time_limit = solver.get("time_limit")
    if time_limit is not None:
        time_limit = _number(time_limit, "solver.time_limit")
    tolerance = _number(solver.get("tolerance", SOLVER_TOLERANCE), "solver.tolerance")
    return {"method": method, "time_limit": time_limit, "tolerance": tolerance}


def problem_from_spec(spec: dict[str, Any], base: Path | None = None) -> PlanSpec:
    """Validate a parsed specification (a dict as from TOML) and build the problem."""
    _check_shape(spec)
    economy, base_problem = _economy_section(spec, base or Path.cwd())
    periods = _periods(spec, base_problem)
    T = len(periods)
    economy = _add_techniques(economy, spec.get("techniques", []))
    targets = _targets(spec, economy, T, base_problem)
    resources = _limits(spec, economy, T, base_problem)
    capacity = _capacity(spec, economy, T)
    problem = PlanProblem(
        economy=economy,
        periods=periods,
        targets=targets,
        objective=_objective(spec, economy),
        resources=resources,
        capacity=capacity,
        capital=base_problem.capital if base_problem is not None else None,
        name=str(spec.get("name", base_problem.name if base_problem else "plan")),
    )
    return PlanSpec(problem=problem, **_solver(spec))


def read_spec(path: str | Path) -> PlanSpec:
    """Read and validate a TOML planning specification."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise _error(
            str(path), f"cannot read the specification: {error.strerror}", fix="check the path"
        ) from None
    except UnicodeDecodeError as error:
        raise _error(
            str(path),
            f"the specification is not UTF-8 text (byte {error.start} cannot be decoded); "
            "it looks like a binary file",
            fix="give the planning specification, a TOML text file",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _error(
            str(path), f"not valid TOML: {error}", fix="fix the syntax at the line shown"
        ) from None
    try:
        spec = problem_from_spec(data, base=path.parent)
    except SpecError:
        raise
    except CommonplanError as error:
        raise _error(str(path), str(error), fix=error.fix) from error
    return replace(spec, source=path)
