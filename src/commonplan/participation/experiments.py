"""Reader for the experiment files of ``pequod-cljs`` (``dep1exNN.clj``, gzipped or not).

An experiment is a Clojure source file of EDN data (spec §3)::

    (ns pequod-cljs.dep1exNN)
    (def ccs [{:income 5000, :utility-exponents [...], :public-good-exponents [...], ...} ...])
    (def wcs [{:industry 0, :product 3, :production-inputs [[i...] [r...] [l...]],
               :input-exponents [...], :nature-exponents [...], :labor-exponents [...],
               :a 5.1, :c 0.07, :du 3.4, :s 1, ...} ...])

A council's id is its 1-based position in its vector. :func:`read_experiment` parses that
subset of EDN (vectors, maps, lists, keywords, numbers, booleans, symbols, strings) and
returns a validated :class:`~commonplan.participation.model.ParticipatoryEconomy`. Every
problem (a truncated or malformed file, a missing or mistyped field, a negative or non-finite
parameter, exponents that make a council's problem unbounded, a good without producer)
raises :class:`~commonplan.errors.ParticipationInputError` naming the file, the council
and the field, before any round runs. Fields the procedure ignores (``:effort``, ``:cy``,
``:num-workers``, ``:final-demands``, ``:output``, ...) are not checked.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from commonplan.checks import parse_number
from commonplan.errors import ParticipationInputError
from commonplan.participation.model import (
    DEFAULT_ENDOWMENT,
    ConsumerCouncils,
    GoodClass,
    ParticipatoryEconomy,
    WorkerCouncils,
)

_TOKEN = re.compile(
    r"""[\s,]*(?:
      (?P<open>[\[{(])
    | (?P<close>[\]})])
    | (?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?=[\s,\[\]{}()";]|$)
    | (?P<keyword>:[^\s,\[\]{}()";]+)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<comment>;[^\n]*)
    | (?P<symbol>[^\s,\[\]{}()";]+)
    | (?P<end>\Z)
    | (?P<bad>.)
    )""",
    re.VERBOSE | re.DOTALL,
)
_CLOSER = {"[": "]", "{": "}", "(": ")"}


@dataclass(frozen=True)
class _Symbol:
    name: str


@dataclass(frozen=True)
class _List:
    """A parenthesised list ``( ... )``, kept apart from vectors."""

    items: list[Any]


class _Parser:
    """A small reader for the subset of EDN the experiment files use."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

    def line_of(self, position: int) -> int:
        return self.text.count("\n", 0, position) + 1

    def error(self, message: str, position: int, expected: str) -> ParticipationInputError:
        return ParticipationInputError(
            message,
            where=f"{self.source}, line {self.line_of(position)}",
            expected=expected,
            fix="repair or re-download the experiment file",
        )

    def forms(self) -> list[Any]:
        """Parse the whole text into its top-level forms."""
        # stack of (opening char, position, items)
        stack: list[tuple[str, int, list[Any]]] = [("", 0, [])]
        for match in _TOKEN.finditer(self.text):
            kind = match.lastgroup
            if kind == "number":
                token = match.group(kind)
                value: Any = (
                    float(token) if ("." in token or "e" in token or "E" in token) else int(token)
                )
                stack[-1][2].append(value)
            elif kind == "keyword":
                stack[-1][2].append(match.group(kind))
            elif kind == "open":
                stack.append((match.group(kind), match.start(kind), []))
            elif kind == "close":
                closer = match.group(kind)
                opener, start, items = stack.pop() if len(stack) > 1 else ("", 0, [])
                if _CLOSER.get(opener) != closer:
                    if not opener:
                        raise self.error(
                            f"unexpected {closer!r}", match.start(kind), "balanced brackets"
                        )
                    raise self.error(
                        f"{closer!r} closes {opener!r} opened on line {self.line_of(start)}",
                        match.start(kind),
                        f"{_CLOSER[opener]!r}",
                    )
                stack[-1][2].append(self._build(opener, start, items))
            elif kind == "symbol":
                token = match.group(kind)
                stack[-1][2].append(
                    True
                    if token == "true"
                    else False
                    if token == "false"
                    else None
                    if token == "nil"
                    else _Symbol(token)
                )
            elif kind == "string":
                stack[-1][2].append(match.group(kind)[1:-1])
            elif kind == "comment":
                continue
            elif kind == "end":
                break
            else:
                raise self.error(
                    f"unreadable character {match.group('bad')!r}",
                    match.start("bad"),
                    "EDN data (numbers, [vectors], {maps})",
                )
        if len(stack) > 1:
            opener, start, _ = stack[-1]
            raise self.error(
                f"the file ends inside {opener!r} opened on line {self.line_of(start)} (truncated?)",
                len(self.text),
                "a complete file",
            )
        return stack[0][2]

    def _build(self, opener: str, start: int, items: list[Any]) -> Any:
        if opener == "[":
            return items
        if opener == "(":
            return _List(items)
        if len(items) % 2:
            raise self.error("a map has a key without a value", start, "{:key value ...}")
        return {
            items[i] if not isinstance(items[i], str) else items[i].lstrip(":"): items[i + 1]
            for i in range(0, len(items), 2)
        }


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ParticipationInputError(
            f"cannot read the file ({error.strerror})",
            where=str(path),
            expected="a readable experiment file",
        ) from error
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise ParticipationInputError(
                f"the gzip stream is damaged or truncated ({error})",
                where=str(path),
                expected="a complete .clj.gz file",
                fix="re-download the experiment file",
            ) from error
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParticipationInputError(
            f"the file is not UTF-8 text (byte {error.start})",
            where=str(path),
            expected="an EDN text file (.clj), optionally gzipped",
        ) from error


def _definitions(forms: list[Any], source: str) -> dict[str, Any]:
    """``{name: value}`` for every ``(def name value)`` form."""
    found: dict[str, Any] = {}
    for form in forms:
        if isinstance(form, _List) and len(form.items) >= 3 and form.items[0] == _Symbol("def"):
            name = form.items[1]
            if isinstance(name, _Symbol):
                found[name.name] = form.items[2]
    for name in ("ccs", "wcs"):
        if name not in found:
            raise ParticipationInputError(
                f"no (def {name} [...]) form",
                where=source,
                expected="(def ccs [...]) with the consumer councils and (def wcs [...]) with the worker councils",
                fix="check that this is a pequod-cljs experiment file",
            )
        if not isinstance(found[name], list) or not found[name]:
            raise ParticipationInputError(
                f"{name} is not a non-empty vector of council maps",
                where=f"{source}, (def {name} ...)",
                expected="[{...} {...} ...]",
            )
    return found


def _field(council: Any, key: str, where: str) -> Any:
    if not isinstance(council, dict):
        raise ParticipationInputError(
            f"the council is a {type(council).__name__}, not a map",
            where=where,
            expected="{:key value ...}",
        )
    if key not in council:
        raise ParticipationInputError(
            f"field :{key} is missing", where=f"{where}, field :{key}", expected=f"a :{key} entry"
        )
    return council[key]


def _number(value: Any, where: str) -> float:
    return parse_number(value, where=where, error=ParticipationInputError)


def _numbers(value: Any, where: str, length: int | None = None) -> list[float]:
    if not isinstance(value, list):
        raise ParticipationInputError(
            f"{value!r} is not a vector", where=where, expected="a vector of numbers"
        )
    if length is not None and len(value) != length:
        raise ParticipationInputError(
            f"the vector has {len(value)} entries", where=where, expected=f"{length} entries"
        )
    return [_number(v, where) for v in value]


def _integer(value: Any, where: str) -> int:
    number = _number(value, where)
    if number != int(number):
        raise ParticipationInputError(
            f"{value!r} is not a whole number", where=where, expected="a whole number"
        )
    return int(number)


def _consumers(ccs: list[Any], source: str) -> tuple[ConsumerCouncils, int]:
    first = f"{source}: consumer council 1"
    goods = len(
        _numbers(_field(ccs[0], "utility-exponents", first), f"{first}, field :utility-exponents")
    )
    if goods == 0:
        raise ParticipationInputError(
            "no utility exponents",
            where=f"{first}, field :utility-exponents",
            expected="one exponent per private good",
        )
    income, private, public = [], [], []
    for i, council in enumerate(ccs, start=1):
        where = f"{source}: consumer council {i}"
        income.append(_number(_field(council, "income", where), f"{where}, field :income"))
        private.append(
            _numbers(
                _field(council, "utility-exponents", where),
                f"{where}, field :utility-exponents",
                goods,
            )
        )
        public.append(
            _numbers(
                _field(council, "public-good-exponents", where),
                f"{where}, field :public-good-exponents",
                goods,
            )
        )
    return ConsumerCouncils(
        income=income, private_exponents=private, public_exponents=public
    ), goods


_INPUT_LISTS = (
    (GoodClass.INTERMEDIATE, "input-exponents"),
    (GoodClass.NATURE, "nature-exponents"),
    (GoodClass.LABOUR, "labor-exponents"),
)


def _workers(wcs: list[Any], source: str, goods: int) -> WorkerCouncils:
    columns: dict[str, list[Any]] = {k: [] for k in ("industry", "product", "a", "c", "du", "s")}
    offsets, commodity, exponent = [0], [], []
    for w, council in enumerate(wcs, start=1):
        where = f"{source}: worker council {w}"
        for key in ("industry", "product"):
            columns[key].append(_integer(_field(council, key, where), f"{where}, field :{key}"))
        for key in ("a", "c", "du", "s"):
            columns[key].append(_number(_field(council, key, where), f"{where}, field :{key}"))
        lists = _field(council, "production-inputs", where)
        if not isinstance(lists, list) or len(lists) != 3:
            raise ParticipationInputError(
                f":production-inputs is {lists!r}",
                where=f"{where}, field :production-inputs",
                expected="three vectors [[intermediate goods] [natural resources] [labour types]]",
            )
        for (good_class, key), numbers in zip(_INPUT_LISTS, lists, strict=True):
            list_where = f"{where}, field :production-inputs"
            if not isinstance(numbers, list):
                raise ParticipationInputError(
                    f"{numbers!r} is not a vector",
                    where=list_where,
                    expected="a vector of good numbers",
                )
            good_numbers = [_integer(n, list_where) for n in numbers]
            bad = [n for n in good_numbers if not 1 <= n <= goods]
            if bad:
                raise ParticipationInputError(
                    f"{good_class.label} good {bad[0]} does not exist",
                    where=list_where,
                    expected=f"good numbers 1..{goods}",
                )
            values = _numbers(
                _field(council, key, where), f"{where}, field :{key}", len(good_numbers)
            )
            commodity.extend(int(good_class) * goods + n - 1 for n in good_numbers)
            exponent.extend(values)
        offsets.append(len(commodity))
    return WorkerCouncils(
        industry=columns["industry"],
        product=columns["product"],
        scale=columns["a"],
        effort_exponent=columns["c"],
        disutility_exponent=columns["du"],
        disutility_scale=columns["s"],
        input_offsets=offsets,
        input_commodity=commodity,
        input_exponent=exponent,
    )


def read_experiment(
    path: str | Path, *, endowment: float = DEFAULT_ENDOWMENT
) -> ParticipatoryEconomy:
    """Read one ``pequod-cljs`` experiment (``.clj`` or ``.clj.gz``) into a validated economy.

    ``endowment`` is the supply of every natural resource and labour type (units per round;
    1000 in the program, not stored in the file). The number of goods per class ``G`` is the
    length of the first consumer council's ``:utility-exponents``. Raises
    :class:`~commonplan.errors.ParticipationInputError` naming the file, council and field
    for every problem, before any round runs.
    """
    path = Path(path)
    source = str(path)
    text = _read_text(path)
    definitions = _definitions(_Parser(text, source).forms(), source)
    consumers, goods = _consumers(definitions["ccs"], source)
    workers = _workers(definitions["wcs"], source, goods)
    endowment_vector = np.zeros(5 * goods)
    endowment_vector[2 * goods : 4 * goods] = endowment
    name = path.name.removesuffix(".gz").removesuffix(".clj")
    return ParticipatoryEconomy(
        goods_per_class=goods,
        consumers=consumers,
        workers=workers,
        endowment=endowment_vector,
        name=name,
        source=source,
        metadata={"format": "pequod-cljs experiment (EDN)", "endowment": endowment},
    )


def iter_experiments(folder: str | Path) -> Iterator[Path]:
    """The experiment files (``*.clj`` and ``*.clj.gz``) of a folder, sorted by name."""
    folder = Path(folder)
    return iter(sorted(p for p in folder.iterdir() if p.name.endswith((".clj", ".clj.gz"))))


def _edn_vector(values: Any) -> str:
    return "[" + " ".join(_edn_number(v) for v in values) + "]"


def _edn_number(value: Any) -> str:
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


def write_experiment(economy: ParticipatoryEconomy, path: str | Path) -> Path:
    """Write ``economy`` in the program's experiment format (gzipped if ``path`` ends in ``.gz``).

    The inverse of :func:`read_experiment`: numbers are written with Python's shortest
    round-trip ``repr``, so reading the file back gives the same economy bit for bit. The
    placeholder fields the program overwrites (``:effort``, ``:output``, ...) are written
    with the values of the shipped files, so the program and other readers (demplan's
    ``load_dep1ex``) accept it. Meant for exchange, not speed (it formats every number).
    """
    path = Path(path)
    g = economy.goods_per_class
    cc, wc = economy.consumers, economy.workers
    parts = [f"(ns pequod-cljs.{economy.name or 'generated'})\n\n(def ccs\n["]
    for i in range(cc.count):
        parts.append(
            "{:effort 1, :num-workers 10, :utility-exponents "
            + _edn_vector(cc.private_exponents[i])
            + ", :final-demands [0 0 0 0 0], :cy 1, :public-good-exponents "
            + _edn_vector(cc.public_exponents[i])
            + f", :public-good-demands [0], :income {_edn_number(cc.income[i])}}}\n"
        )
    parts.append("])\n\n(def wcs\n[")
    offsets = wc.input_offsets
    for w in range(wc.count):
        commodity = wc.input_commodity[offsets[w] : offsets[w + 1]]
        exponent = wc.input_exponent[offsets[w] : offsets[w + 1]]
        lists, exps = [], []
        for good_class in (GoodClass.INTERMEDIATE, GoodClass.NATURE, GoodClass.LABOUR):
            mask = commodity // g == int(good_class)
            lists.append(_edn_vector(commodity[mask] % g + 1))
            exps.append(_edn_vector(exponent[mask]))
        parts.append(
            f"{{:effort 0.5, :labor-exponents {exps[2]}, :industry {int(wc.industry[w])}, :output 0, "
            f":s {_edn_number(wc.disutility_scale[w])}, :du {_edn_number(wc.disutility_exponent[w])}, "
            f":c {_edn_number(wc.effort_exponent[w])}, :product {int(wc.product[w])}, :labor-quantities [0], "
            f":production-inputs [{' '.join(lists)}], :input-exponents {exps[0]}, :toothache false, "
            f":nature-exponents {exps[1]}, :a {_edn_number(wc.scale[w])}}}\n"
        )
    parts.append("])\n")
    data = "".join(parts).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path
