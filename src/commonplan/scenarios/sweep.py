"""Sweeps: thousands of cut-off scenarios from one TOML spec, on any executor, resumable.

A :class:`SweepSpec` names an economy (a shipped dataset or a file) and the scenarios: a
grid (members × partners × cut shares × import flexibility × models × periods) and/or a
list. Each :class:`Scenario` has a stable id (a hash of its parameters) and a seed derived
from it. :func:`run_sweep` runs them in batches on an executor and writes one Parquet file
per batch under ``out_dir/results``, with ``out_dir/fingerprint.json``; a rerun skips the
scenarios already written. :func:`read_sweep` reads the results back as one DataFrame.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from commonplan.economy import Economy
from commonplan.errors import CommonplanError, ConflictError, FileFormatError, SpecError
from commonplan.scenarios.executors import Executor
from commonplan.scenarios.models import model as lookup_model
from commonplan.scenarios.shock import Shock

FINGERPRINT = "fingerprint.json"
RESULTS = "results"
DETAILS = ("total", "sector")


@dataclass(frozen=True)
class Scenario:
    """One scenario: ``model`` on ``region`` losing ``share`` of ``partners``' supplies.

    ``import_flexibility`` is ``None`` for models without that assumption; ``assumptions``
    are the spec's fixed assumptions of the model.
    """

    model: str
    region: str
    partners: tuple[str, ...]
    share: float
    periods: int = 1
    duration: int | None = None
    import_flexibility: float | None = None
    assumptions: tuple[tuple[str, Any], ...] = ()

    def parameters(self) -> dict[str, Any]:
        """Everything that defines the scenario, as plain JSON values."""
        return {
            "model": self.model,
            "region": self.region,
            "partners": list(self.partners),
            "share": float(self.share),
            "periods": int(self.periods),
            "duration": self.duration,
            "import_flexibility": self.import_flexibility,
            "assumptions": {k: v for k, v in self.assumptions},
        }

    @functools.cached_property
    def id(self) -> str:
        """16 hex digits of the SHA-256 of the parameters' canonical JSON (stable across runs)."""
        text = json.dumps(self.parameters(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    @property
    def seed(self) -> int:
        """A seed derived from the id (63 bits), for models that draw random numbers."""
        return int(self.id, 16) >> 1

    def shock(self) -> Shock:
        return Shock(self.region, self.partners, self.share, self.periods, self.duration)

    def model_assumptions(self) -> dict[str, Any]:
        given = dict(self.assumptions)
        if self.import_flexibility is not None:
            given["import_flexibility"] = self.import_flexibility
        return given


@dataclass(frozen=True)
class SweepSpec:
    """The economy to load and the scenarios to run (see ``docs/scenarios.md``, "Sweeps")."""

    scenarios: tuple[Scenario, ...]
    dataset: str | None = None
    file: Path | None = None
    format: str | None = None
    batch_size: int = 50
    detail: str = "total"
    name: str = "sweep"
    source: Path | None = field(default=None, compare=False)

    @classmethod
    def read(cls, path: str | Path) -> SweepSpec:
        """Read and validate a TOML sweep spec; errors name the file and field."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(
                "not a text file", where=str(path), expected="a TOML sweep specification"
            ) from None
        except OSError as error:
            raise SpecError(
                f"cannot read the spec: {error.strerror}", where=str(path), fix="check the path"
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise SpecError(
                f"not valid TOML: {error}", where=str(path), fix="fix the syntax at the line shown"
            ) from None
        try:
            spec = cls.from_dict(data, base=path.parent)
        except CommonplanError as error:
            raise SpecError(
                error.message,
                where=f"{path}: {error.where}",
                expected=error.expected,
                fix=error.fix,
            ) from None
        return dataclasses.replace(spec, source=path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], base: Path = Path(".")) -> SweepSpec:
        """The spec from its TOML tables: ``economy``, ``grid`` and/or ``scenario``, ``assumptions``, ``run``."""
        _known(data, {"name", "economy", "grid", "scenario", "assumptions", "run"}, "spec")
        economy = _table(data, "economy")
        _known(economy, {"dataset", "file", "format"}, "economy")
        if ("dataset" in economy) == ("file" in economy):
            raise SpecError(
                "name the economy once", where="economy", expected="dataset = NAME or file = PATH"
            )
        assumptions = _table(data, "assumptions")
        for name, values in assumptions.items():
            lookup_model(name)
            if not isinstance(values, Mapping):
                raise SpecError(
                    "not a table", where=f"assumptions.{name}", expected="[assumptions.MODEL]"
                )
        scenarios: list[Scenario] = []
        if "grid" in data:
            scenarios += _grid(_table(data, "grid"), assumptions)
        for k, item in enumerate(data.get("scenario", [])):
            scenarios.append(_listed(item, k, assumptions))
        if not scenarios:
            raise SpecError(
                "no scenario", where="spec", expected="a [grid] table or [[scenario]] entries"
            )
        unique = list({s.id: s for s in scenarios}.values())
        run = _table(data, "run")
        _known(run, {"batch_size", "detail"}, "run")
        batch = run.get("batch_size", 50)
        if not isinstance(batch, int) or batch < 1:
            raise SpecError(
                f"batch_size = {batch!r}", where="run.batch_size", expected="an integer ≥ 1"
            )
        detail = run.get("detail", "total")
        if detail not in DETAILS:
            raise SpecError(
                f"detail = {detail!r}", where="run.detail", expected=f"one of {list(DETAILS)}"
            )
        file = economy.get("file")
        return cls(
            scenarios=tuple(unique),
            dataset=economy.get("dataset"),
            file=(base / file) if file is not None else None,
            format=economy.get("format"),
            batch_size=batch,
            detail=detail,
            name=str(data.get("name", "sweep")),
        )

    def load_economy(self) -> Economy:
        """The economy the spec names, checked against every scenario's regions."""
        if self.dataset is not None:
            from commonplan.datasets import load_dataset

            economy = load_dataset(self.dataset)
        else:
            from commonplan.io import read_table

            economy = read_table(self.file, format=self.format)
        self.check(economy)
        return economy

    def check(self, economy: Economy) -> None:
        """A :class:`SpecError` naming the first scenario whose region or partner is not in ``economy``."""
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for s in self.scenarios:
            if (s.region, s.partners) in seen:
                continue
            seen.add((s.region, s.partners))
            try:
                s.shock().check(economy)
            except SpecError as error:
                raise SpecError(
                    error.message,
                    where=f"scenario {s.region} without {'+'.join(s.partners)}: {error.where}",
                    expected=error.expected,
                    fix=error.fix,
                ) from None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise SpecError("not a table", where=key, expected=f"[{key}]")
    return value


def _known(data: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise SpecError(
            f"unknown key {unknown[0]!r}", where=where, expected=f"one of {sorted(keys)}"
        )


def _list(value: Any, where: str) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise SpecError("empty list", where=where, expected="at least one value")
    return values


def _scenario(
    model_name: str,
    region: str,
    partners: Sequence[str],
    share: Any,
    periods: Any,
    duration: Any,
    flexibility: Any,
    assumptions: Mapping[str, Any],
    where: str,
) -> Scenario:
    registered = lookup_model(str(model_name))
    fields = {f.name for f in dataclasses.fields(registered.assumptions)}
    fixed = dict(assumptions.get(registered.name, {}))
    takes_flex = "import_flexibility" in fields
    if not takes_flex:
        flexibility = None
    elif flexibility is None:
        flexibility = fixed.pop("import_flexibility", None)
    else:
        fixed.pop("import_flexibility", None)
    if flexibility is not None and (not isinstance(flexibility, int | float) or flexibility < 0):
        raise SpecError(
            f"import_flexibility = {flexibility!r}", where=where, expected="a number ≥ 0"
        )
    from commonplan.scenarios._common import assumptions_of

    assumptions_of(registered.assumptions, fixed, registered.name)  # unknown fields → SpecError
    scenario = Scenario(
        model=registered.name,
        region=str(region),
        partners=tuple(str(p) for p in partners),
        share=share,
        periods=periods,
        duration=duration,
        import_flexibility=None if flexibility is None else float(flexibility),
        assumptions=tuple(sorted(fixed.items())),
    )
    scenario.shock()  # share, periods, duration → SpecError naming the field
    return scenario


def _grid(grid: Mapping[str, Any], assumptions: Mapping[str, Any]) -> list[Scenario]:
    keys = {"members", "partners", "shares", "import_flexibility", "models", "periods", "duration"}
    _known(grid, keys, "grid")
    for key in ("members", "partners", "shares", "models"):
        if key not in grid:
            raise SpecError(f"missing {key!r}", where="grid", expected=f"grid.{key} = [...]")
    members = _list(grid["members"], "grid.members")
    partners = _list(grid["partners"], "grid.partners")
    out = []
    for m in _list(grid["models"], "grid.models"):
        for periods in _list(grid.get("periods", 1), "grid.periods"):
            for member in members:
                for partner in partners:
                    if partner == member:
                        continue
                    for share in _list(grid["shares"], "grid.shares"):
                        for flex in _list(
                            grid.get("import_flexibility", [None]), "grid.import_flexibility"
                        ):
                            out.append(
                                _scenario(
                                    m,
                                    member,
                                    [partner],
                                    share,
                                    periods,
                                    grid.get("duration"),
                                    flex,
                                    assumptions,
                                    "grid",
                                )
                            )
    return out


def _listed(item: Any, k: int, assumptions: Mapping[str, Any]) -> Scenario:
    where = f"scenario[{k}]"
    if not isinstance(item, Mapping):
        raise SpecError("not a table", where=where, expected="[[scenario]]")
    _known(
        item,
        {"model", "region", "partners", "share", "periods", "duration", "import_flexibility"},
        where,
    )
    for key in ("model", "region", "partners"):
        if key not in item:
            raise SpecError(f"missing {key!r}", where=where, expected=f"{key} = ...")
    return _scenario(
        item["model"],
        item["region"],
        _list(item["partners"], f"{where}.partners"),
        item.get("share", 1.0),
        item.get("periods", 1),
        item.get("duration"),
        item.get("import_flexibility"),
        assumptions,
        where,
    )


# --- running ----------------------------------------------------------------------------------

_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("position", pa.int64()),
    ("scenario_id", pa.string()),
    ("seed", pa.int64()),
    ("model", pa.string()),
    ("region", pa.string()),
    ("partners", pa.string()),
    ("share", pa.float64()),
    ("import_flexibility", pa.float64()),
    ("periods", pa.int64()),
    ("duration", pa.int64()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("period", pa.int64()),
    ("sector", pa.string()),
    ("base_output", pa.float64()),
    ("loss", pa.float64()),
    ("loss_share", pa.float64()),
]
SCHEMA = pa.schema(_COLUMNS)
"""The columns of a sweep's results (``sector`` is null unless ``detail = "sector"``)."""


def run_scenarios(
    economy: Economy, batch: Sequence[tuple[int, Scenario]], detail: str = "total"
) -> list[dict]:
    """Rows for each ``(position, scenario)`` of ``batch``; a failed scenario is one row with its reason."""
    rows: list[dict] = []
    for position, s in batch:
        head = {
            "position": position,
            "scenario_id": s.id,
            "seed": s.seed,
            "model": s.model,
            "region": s.region,
            "partners": "+".join(s.partners),
            "share": float(s.share),
            "import_flexibility": s.import_flexibility,
            "periods": s.periods,
            "duration": s.duration if s.duration is not None else s.periods,
        }
        try:
            outcome = lookup_model(s.model).run(economy, s.shock(), s.model_assumptions())
        except Exception as error:  # noqa: BLE001 - one scenario's failure is a row, the sweep goes on
            rows.append({**head, "status": "failed", "error": f"{type(error).__name__}: {error}"})
            continue
        if detail == "sector":
            for r in outcome.losses.itertuples(index=False):
                rows.append(
                    {
                        **head,
                        "status": "ok",
                        "period": int(r.period),
                        "sector": str(r.sector),
                        "base_output": float(r.base_output),
                        "loss": float(r.loss),
                        "loss_share": float(r.loss_share),
                    }
                )
        else:
            for period, r in outcome.total().iterrows():
                rows.append(
                    {
                        **head,
                        "status": "ok",
                        "period": int(period),
                        "base_output": float(r.base_output),
                        "loss": float(r.loss),
                        "loss_share": float(r.loss_share),
                    }
                )
    return rows


def economy_hash(economy: Economy) -> str:
    """SHA-256 of the economy's coefficients, output, final demand and labels."""
    digest = hashlib.sha256()
    A = economy.A.tocsr()
    for array in (
        A.indptr,
        A.indices,
        A.data,
        economy.gross_output.to_numpy(float),
        economy.total_final_demand.to_numpy(float),
    ):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("|".join(map(str, economy.products)).encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True)
class SweepReport:
    """What one :func:`run_sweep` call did: counts, wall seconds and seconds inside the workers."""

    out_dir: Path
    executor: str
    workers: int
    scenarios: int
    skipped: int
    ran: int
    failed: int
    batches: int
    seconds: float
    compute_seconds: float

    @property
    def overhead_share(self) -> float:
        """Share of the workers' wall time not spent computing: ``1 − compute / (workers · wall)``."""
        if self.seconds <= 0 or self.ran == 0:
            return 0.0
        return max(0.0, 1.0 - self.compute_seconds / (self.workers * self.seconds))

    def summary(self) -> str:
        per = self.seconds / self.ran if self.ran else 0.0
        return (
            f"{self.ran} scenarios run ({self.failed} failed), {self.skipped} already done, "
            f"in {self.batches} batches on {self.executor} × {self.workers}: {self.seconds:.2f} s "
            f"({per * 1e3:.2f} ms per scenario, overhead {self.overhead_share:.1%}); results in {self.out_dir}"
        )


def _fingerprint(spec: SweepSpec, economy: Economy) -> dict[str, Any]:
    ids = hashlib.sha256("".join(s.id for s in spec.scenarios).encode()).hexdigest()
    return {
        "format": 1,
        "scenarios": len(spec.scenarios),
        "scenario_ids_sha256": ids,
        "detail": spec.detail,
        "economy_sha256": economy_hash(economy),
    }


def done_ids(out_dir: str | Path) -> set[str]:
    """Ids of the scenarios already written under ``out_dir``."""
    folder = Path(out_dir) / RESULTS
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        return set()
    return set(pq.read_table(folder, columns=["scenario_id"]).column(0).to_pylist())


def run_sweep(
    spec: SweepSpec,
    executor: Executor,
    out_dir: str | Path,
    *,
    economy: Economy | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Run the spec's scenarios not yet in ``out_dir`` on ``executor``; one Parquet file per batch.

    ``progress(done, total)`` is called after each batch. ``out_dir`` holding another sweep
    (another fingerprint) is a :class:`ConflictError`. The executor is closed at the end.
    """
    out = Path(out_dir)
    start = time.perf_counter()
    try:
        economy = spec.load_economy() if economy is None else economy
        spec.check(economy)
        fingerprint = _fingerprint(spec, economy)
        path = out / FINGERPRINT
        if path.exists():
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored != fingerprint:
                raise ConflictError(
                    "the folder holds another sweep (other scenarios or economy)",
                    where=str(out),
                    fix="use another -o folder or delete this one",
                )
        (out / RESULTS).mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fingerprint, indent=2) + "\n", encoding="utf-8")
        done = done_ids(out)
        todo = [(k, s) for k, s in enumerate(spec.scenarios) if s.id not in done]
        batches = [todo[i : i + spec.batch_size] for i in range(0, len(todo), spec.batch_size)]
        ran = failed = 0
        compute = 0.0
        if progress:
            progress(len(spec.scenarios) - len(todo), len(spec.scenarios))
        if batches:
            executor.start(economy)
            fn = functools.partial(run_scenarios, detail=spec.detail)
            for result, batch in zip(executor.map_batches(fn, batches), batches, strict=True):
                _write_batch(out / RESULTS, batch, result.results)
                ran += len(batch)
                failed += len({r["scenario_id"] for r in result.results if r["status"] == "failed"})
                compute += result.seconds
                if progress:
                    progress(len(spec.scenarios) - len(todo) + ran, len(spec.scenarios))
    finally:
        executor.close()
    return SweepReport(
        out,
        executor.name,
        executor.workers,
        len(spec.scenarios),
        len(spec.scenarios) - len(todo),
        ran,
        failed,
        len(batches),
        time.perf_counter() - start,
        compute,
    )


def _write_batch(folder: Path, batch: Sequence[tuple[int, Scenario]], rows: list[dict]) -> Path:
    """Write one batch atomically (a hidden temporary file renamed into place)."""
    name = hashlib.sha256("".join(s.id for _, s in batch).encode()).hexdigest()[:16]
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    final = folder / f"batch-{batch[0][0]:08d}-{name}.parquet"
    temporary = folder / f".{final.name}.tmp"
    pq.write_table(table, temporary)
    os.replace(temporary, final)
    return final


def read_sweep(out_dir: str | Path) -> pd.DataFrame:
    """All results of the sweep in ``out_dir`` as one DataFrame, in spec order (position, period, sector)."""
    folder = Path(out_dir) / RESULTS
    if not folder.is_dir():
        raise SpecError(
            "no sweep results", where=str(out_dir), fix="run `commonplan sweep SPEC -o DIR` first"
        )
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return SCHEMA.empty_table().to_pandas()
    frame = pa.concat_tables([pq.read_table(f, schema=SCHEMA) for f in files]).to_pandas()
    return frame.sort_values(
        ["position", "period", "sector"], kind="stable", na_position="first"
    ).reset_index(drop=True)
