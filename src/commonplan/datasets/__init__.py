"""Datasets shipped with Commonplan, free to redistribute, each with its citation.

* ``"bea2021"`` (the demo): USA 2021, BEA supply and use tables at 71 industries, as a
  73-product domestic product-by-product table (industry-technology assumption), million USD.
* ``"bea2021_15"``: the same at the 15-sector level (17 products).
* ``"icio2022_americas"``: multi-regional, OECD ICIO 2025 edition for 2022 aggregated to
  11 regions (ARG BRA CAN CHL CHN COL CRI MEX PER USA + OTH, the other 70 ICIO
  economies) × 10 sector groups = 110 products, USD million; for dependence on trading
  partners and partner cut-off scenarios.

Both BEA datasets come from the MIT-licensed PyPI package ``quantecon-book-networks`` (BEA
data are public domain); ``datasets/bea2021/README.md`` gives source, licence and
citation. The ICIO dataset is derived from the copy in the MIT-licensed PyPI package
``sanction-simulator`` 0.1.4 (OECD data, CC BY 4.0: cite OECD (2025), Inter-Country
Input-Output Database); ``datasets/icio2022_americas/README.md`` and ``derive.py`` there
give source, licence, citation and the derivation.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from commonplan.economy import Economy
from commonplan.errors import NotFoundError

__all__ = ["list_datasets", "load_dataset", "load_demo", "dataset_path", "DEMO"]

DEMO = "bea2021"


def dataset_path(name: str = DEMO) -> Path:
    """The folder of a shipped dataset (inside the installed package)."""
    folder = _DATASETS.get(name, (None, None, ""))[0]
    if folder is None:
        _unknown(name)
    return Path(str(resources.files(__name__).joinpath(folder)))


def _bea(size: int) -> Callable[[bool], Economy]:
    def load(domestic: bool = True) -> Economy:
        from commonplan.io.bea import read_bea_supply_use

        folder = dataset_path(DEMO)
        return read_bea_supply_use(
            folder / f"use_{size}.csv",
            folder / f"make_{size}.csv",
            domestic=domestic,
            year=2021,
            extra={
                "dataset": "bea2021" if size == 71 else f"bea2021_{size}",
                "licence": "BEA data: public domain; files: MIT (QuantEcon, quantecon-book-networks 1.6)",
                "dataset_readme": str(folder / "README.md"),
            },
        )

    return load


def _icio_americas(domestic: bool = True) -> Economy:
    """OECD ICIO 2022, 11 regions × 10 sector groups (``domestic`` does not apply: the
    flows between regions are the imports by partner)."""
    from dataclasses import replace

    from commonplan.io.icio import read_icio_arrays

    folder = dataset_path("icio2022_americas")
    economy = read_icio_arrays(
        folder / "icio2022_americas11x10.npz",
        name="OECD ICIO 2022, Americas 11 regions × 10 sector groups",
    )
    extra = {
        **economy.metadata.extra,
        "dataset": "icio2022_americas",
        "licence": "OECD data: CC BY 4.0; carried by sanction-simulator 0.1.4 (MIT)",
        "dataset_readme": str(folder / "README.md"),
    }
    return economy.replace(metadata=replace(economy.metadata, extra=extra))


#: name → (folder, loader, one-line description)
_DATASETS: dict[str, tuple[str, Callable[[bool], Economy], str]] = {
    "bea2021": (
        "bea2021",
        _bea(71),
        "USA 2021, BEA supply-use, 71 industries → 73 products, USD million (demo)",
    ),
    "bea2021_15": (
        "bea2021",
        _bea(15),
        "USA 2021, BEA supply-use, 15 sectors → 17 products, USD million",
    ),
    "icio2022_americas": (
        "icio2022_americas",
        _icio_americas,
        "OECD ICIO 2022, 10 American economies + rest of world × 10 sector groups → 110 products, USD million",
    ),
}


def list_datasets() -> dict[str, str]:
    """Names of the shipped datasets with a one-line description each."""
    return {name: description for name, (_, _, description) in _DATASETS.items()}


def load_dataset(name: str, *, domestic: bool = True) -> Economy:
    """Load a shipped dataset as a validated :class:`~commonplan.economy.Economy`.

    ``domestic=False`` keeps imported inputs inside the flows (total-flows table); it
    has no effect on the multi-regional ``"icio2022_americas"``.
    """
    if name not in _DATASETS:
        _unknown(name)
    return _DATASETS[name][1](domestic)


def load_demo() -> Economy:
    """The demo economy: USA 2021, 73 products, domestic flows, accounts
    ``compensation_of_employees``, ``other_taxes_less_subsidies_on_production``,
    ``gross_operating_surplus``, ``value_added`` and ``imports`` (USD million)."""
    return load_dataset(DEMO)


def _unknown(name: str) -> None:
    raise NotFoundError(
        f"no dataset named {name!r}",
        where="commonplan.datasets",
        expected=f"one of {sorted(_DATASETS)}",
        fix="call commonplan.datasets.list_datasets() to see what ships with the package",
    )
