"""Derive ``icio2022_americas11x10.npz`` from the PyPI wheel ``sanction-simulator==0.1.4``.

This script documents how the shipped file was made; the package does not import it.

Usage::

    pip download --no-deps sanction-simulator==0.1.4 -d /tmp/sanction
    python derive.py /tmp/sanction/sanction_simulator-0.1.4-py3-none-any.whl [output.npz]

Source: the wheel (MIT-licensed code, sha256 ``1c29bce6…4909``) carries
``sanction_simulator/data/bench_cache.npz`` (sha256 ``572753a9…1c7``), the OECD ICIO 2025
edition for reference year 2022 (SML file, China and Mexico not split) over 80 economies
× 50 industries, the ICIO ``ROW`` region dropped. The data are OECD material published
under CC BY 4.0: OECD (2025), Inter-Country Input-Output Database.

The cache stores ``A`` (4000 × 4000 column-normalised intermediate input shares), ``omb``
(intermediate-cost share of output, capped at 0.98 in two columns), ``go`` (gross output,
ICIO ``OUT``) and the codes ``countries`` (80) and ``sectors`` (50). Nodes are in
SECTOR-major order: node ``r * 80 + u`` is sector ``r`` of country ``u``. Flows are
reconstructed as ``Z[i, j] = A[i, j] · omb[j] · go[j]`` (USD million, current prices,
basic prices), then summed into 11 regions × 10 sector groups:

* regions: ARG BRA CAN CHL CHN COL CRI MEX PER USA, and OTH = the other 70 economies;
* sector groups: :data:`GROUPS` (50 ICIO industries → 10 broad groups).

Stored (float64, region-major order, labels ``"CCC_GROUP"``): ``Z`` 110 × 110, ``x``
(gross output), ``fu_plus = x − Z·1`` (final use in all countries plus intermediate sales
to ICIO ROW) and ``va_plus = x − 1ᵀZ`` (value added + net taxes on intermediates + inputs
from ICIO ROW), plus ``regions``, ``sectors`` (group codes), ``sector_names``,
``group_members``, ``oth_members`` and a ``readme`` string: the key layout that
:func:`commonplan.io.icio.read_icio_arrays` reads.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np

WHEEL_SHA256 = "1c29bce64dd5e15d14b956556fc544cae21ac504f0cea07558019c4b9eae4909"
CACHE_SHA256 = "572753a929a2916dde290c8a3925599ac7f0f2e398b499a550e9cd5dc92f61c7"
CACHE_MEMBER = "sanction_simulator/data/bench_cache.npz"

REGIONS = ("ARG", "BRA", "CAN", "CHL", "CHN", "COL", "CRI", "MEX", "PER", "USA")
OTHER = "OTH"

#: sector group → (name, ICIO 2025 industry codes)
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "AGR": ("Agriculture, forestry and fishing", ("A01", "A02", "A03")),
    "MIN": ("Mining and quarrying", ("B05", "B06", "B07", "B08", "B09")),
    "LIGHTMFG": (
        "Food, beverages, textiles, wood and paper products",
        ("C10T12", "C13T15", "C16", "C17_18"),
    ),
    "CHEM": (
        "Refined petroleum, chemicals, pharmaceuticals, rubber, plastics, non-metallic minerals",
        ("C19", "C20", "C21", "C22", "C23"),
    ),
    "METAL": ("Basic metals and fabricated metal products", ("C24A", "C24B", "C25")),
    "MACHEQ": (
        "Electronics, electrical equipment, machinery, vehicles, other transport, other manufacturing",
        ("C26", "C27", "C28", "C29", "C301", "C302T309", "C31T33"),
    ),
    "UTILCONS": ("Electricity, gas, water, waste and construction", ("D", "E", "F")),
    "TRADETRANS": (
        "Trade, transport, storage, post, accommodation and food services",
        ("G", "H49", "H50", "H51", "H52", "H53", "I"),
    ),
    "BUSSERV": (
        "Information and communication, finance, real estate, professional and support services",
        ("J58T60", "J61", "J62_63", "K", "L", "M", "N"),
    ),
    "PUBOTH": (
        "Public administration, education, health, arts and other services, households as employers",
        ("O", "P", "Q", "R", "S", "T"),
    ),
}

README = """\
OECD ICIO 2025 edition, reference year 2022, SML (China/Mexico not split), aggregated to
11 regions x 10 sector groups (110 products) by Commonplan (datasets/icio2022_americas/derive.py)
from the copy in PyPI sanction-simulator 0.1.4 (MIT code; data (c) OECD, CC BY 4.0).
Cite: OECD (2025), Inter-Country Input-Output Database, http://oe.cd/icio
Units: USD million, current prices, basic prices.
Z[i,j]  : intermediate sales of row node i to column node j (nodes = region_group).
x       : gross output (ICIO OUT).
fu_plus : x - rowsum(Z over the 80 ICIO economies) = total final use (all destinations,
          incl. exports of final goods) PLUS intermediate sales to the ICIO 'ROW' region.
          Final demand is NOT split by destination country or by category.
va_plus : x - colsum(Z) = value added + net taxes on intermediates (TLS) + intermediate
          inputs bought from the ICIO 'ROW' region (ROW was dropped upstream).
Known upstream edits: 51 inactive nodes zeroed; 2 columns (CYP_H51, ISL_C21) had the
intermediate cost share capped at 0.98; no negative flows.
Regions: ARG BRA CAN CHL CHN COL CRI MEX PER USA + OTH (the other 70 ICIO economies).
"""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_cache(wheel: Path) -> dict[str, np.ndarray]:
    """The arrays of ``bench_cache.npz`` read from the wheel (hashes checked)."""
    blob = wheel.read_bytes()
    if _sha256(blob) != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 differs from sanction-simulator 0.1.4 ({WHEEL_SHA256})")
    with zipfile.ZipFile(BytesIO(blob)) as archive:
        cache = archive.read(CACHE_MEMBER)
    if _sha256(cache) != CACHE_SHA256:
        raise SystemExit(f"{CACHE_MEMBER}: sha256 differs ({CACHE_SHA256})")
    with np.load(BytesIO(cache), allow_pickle=False) as npz:
        return {key: npz[key] for key in ("A", "omb", "go", "countries", "sectors")}


def derive(cache: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Aggregate the 4000-node flows to 11 regions × 10 sector groups."""
    countries = [str(c) for c in cache["countries"]]
    sectors = [str(s) for s in cache["sectors"]]
    C, S = len(countries), len(sectors)
    go = cache["go"].astype(np.float64)
    Z_full = cache["A"] * (cache["omb"] * go)[None, :]  # Z[i,j] = A[i,j]·omb[j]·go[j]

    region_of = {c: (c if c in REGIONS else OTHER) for c in countries}
    group_of = {code: g for g, (_, codes) in GROUPS.items() for code in codes}
    if sorted(group_of) != sorted(sectors) or len(group_of) != S:
        raise SystemExit("the sector grouping does not cover the 50 ICIO industries exactly once")
    regions = [*REGIONS, OTHER]
    groups = list(GROUPS)
    # node r*C + u (sector-major) → aggregate (region-major) index
    target = np.empty(C * S, dtype=np.int64)
    for r, sector in enumerate(sectors):
        for u, country in enumerate(countries):
            target[r * C + u] = regions.index(region_of[country]) * len(groups) + groups.index(
                group_of[sector]
            )
    n = len(regions) * len(groups)
    G = np.zeros((n, C * S))
    G[target, np.arange(C * S)] = 1.0
    Z = G @ Z_full @ G.T
    x = G @ go
    return {
        "Z": Z,
        "x": x,
        "fu_plus": x - Z.sum(axis=1),
        "va_plus": x - Z.sum(axis=0),
        "regions": np.array(regions),
        "sectors": np.array(groups),
        "labels": np.array([f"{r}_{g}" for r in regions for g in groups]),
        "sector_names": np.array([GROUPS[g][0] for g in groups]),
        "group_members": np.array([f"{g}: {' '.join(GROUPS[g][1])}" for g in groups]),
        "oth_members": np.array([c for c in countries if region_of[c] == OTHER]),
        "readme": np.array(README),
    }


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    wheel = Path(argv[1])
    out = Path(argv[2]) if len(argv) > 2 else Path(__file__).with_name("icio2022_americas11x10.npz")
    arrays = derive(load_cache(wheel))
    np.savez_compressed(out, **arrays)
    print(
        f"wrote {out} ({out.stat().st_size} bytes): {arrays['Z'].shape[0]} products, "
        f"gross output {arrays['x'].sum():,.0f} USD million"
    )


if __name__ == "__main__":
    main(sys.argv)
