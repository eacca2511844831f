"""Commonplan's own format: manifest, hashes, and a specific error for every damage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commonplan import Economy
from commonplan.errors import (
    ChecksumError,
    CommonplanError,
    FileFormatError,
    LabelError,
    MissingBlockError,
    ShapeError,
    UnsupportedOperationError,
)
from commonplan.io.icio import read_icio_arrays
from commonplan.io.native import (
    FORMAT_VERSION,
    economy_from_bytes,
    economy_to_bytes,
    read_economy,
    write_economy,
)


@pytest.fixture(scope="module")
def real(shared_data: Path) -> Economy:
    return read_icio_arrays(shared_data / "mrio/icio2025_y2022_80x10.npz")


@pytest.fixture()
def folder(tmp_path: Path, real: Economy) -> Path:
    write_economy(real, tmp_path / "economy")
    return tmp_path / "economy"


def test_manifest_lists_files_with_hashes_and_shapes(folder: Path, real: Economy) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "commonplan-economy"
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["metadata"]["citation"] == real.metadata.citation
    assert manifest["account_units"] == {"value_added": "USD million"}
    assert (
        manifest["shapes"]["products"] == 800 and manifest["shapes"]["use_nonzeros"] == real.use.nnz
    )
    import hashlib

    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    use = pq.read_table(folder / "use.parquet").to_pandas()
    assert list(use.columns) == [
        "row",
        "col",
        "product_region",
        "product_sector",
        "activity_region",
        "activity",
        "value",
    ]
    assert (use["product_region"].iloc[0], use["product_sector"].iloc[0]) == ("AGO", "AGR")


def test_tampered_file_is_a_checksum_error(folder: Path) -> None:
    table = pq.read_table(folder / "final_demand.parquet")
    values = table.column(0).to_numpy().copy()
    values[3] *= 1.0000001
    pq.write_table(
        pa.table({table.column_names[0]: values}),
        folder / "final_demand.parquet",
        compression="zstd",
    )
    with pytest.raises(ChecksumError, match="final_demand.parquet.*does not match"):
        read_economy(folder)


def test_flipped_byte_is_a_checksum_error(folder: Path) -> None:
    raw = bytearray((folder / "use.parquet").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (folder / "use.parquet").write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="use.parquet"):
        read_economy(folder)


def test_missing_files(folder: Path, tmp_path: Path) -> None:
    (folder / "accounts.parquet").unlink()
    with pytest.raises(MissingBlockError, match="accounts.parquet.*missing"):
        read_economy(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(MissingBlockError, match="manifest"):
        read_economy(folder)
    with pytest.raises(MissingBlockError, match="folder not found"):
        read_economy(tmp_path / "nowhere")


def test_bad_manifests(folder: Path) -> None:
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(dict(manifest, format_version=99)))
    with pytest.raises(FileFormatError, match="version 99"):
        read_economy(folder)
    manifest_path.write_text(json.dumps(dict(manifest, format="something-else")))
    with pytest.raises(FileFormatError, match="not a Commonplan"):
        read_economy(folder)
    manifest_path.write_text(manifest_path.read_text()[:50])
    with pytest.raises(FileFormatError, match="not valid JSON"):
        read_economy(folder)


def test_consistent_hash_but_wrong_content_is_caught(folder: Path) -> None:
    """A file replaced together with its hash (by hand, not by write_economy) must still
    agree with the manifest's shapes and labels."""
    import hashlib

    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    use = pq.read_table(folder / "use.parquet").to_pandas()
    use["row"] = use["row"].where(use.index != 0, 5)  # labels say AGO/AGR, position says row 5
    pq.write_table(pa.Table.from_pandas(use, preserve_index=False), folder / "use.parquet")
    manifest["files"]["use.parquet"]["sha256"] = hashlib.sha256(
        (folder / "use.parquet").read_bytes()
    ).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(
        LabelError, match="triplet 0 names product_sector 'AGR' but its position says 'MACHEQ'"
    ):
        read_economy(folder)
    manifest["shapes"]["products"] = 801
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ShapeError, match="products.parquet"):
        read_economy(folder)


def test_not_a_parquet_file(folder: Path) -> None:
    import hashlib

    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    (folder / "products.parquet").write_text("region,sector\nA,b\n")
    manifest["files"]["products.parquet"]["sha256"] = hashlib.sha256(
        (folder / "products.parquet").read_bytes()
    ).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(FileFormatError, match="Parquet"):
        read_economy(folder)


def test_overwriting_a_folder_and_unserialisable_metadata(tmp_path: Path, real: Economy) -> None:
    target = tmp_path / "e"
    write_economy(real, target)
    without_levels = Economy.from_coefficients(real.A.copy(), products=real.products)
    write_economy(without_levels, target)
    assert not (target / "activity_levels.parquet").exists()
    assert read_economy(target).activity_levels is None
    shutil.rmtree(target)
    from commonplan import Metadata

    weird = Economy.from_coefficients(
        np.array([[0.1]]), products=["a"], metadata=Metadata(extra={"when": object()})
    )
    with pytest.raises(UnsupportedOperationError, match="cannot be written to JSON"):
        write_economy(weird, target)
    assert issubclass(ChecksumError, CommonplanError)


def _packed_rows(data: bytes) -> dict[str, bytes]:
    table = pq.read_table(pa.BufferReader(data))
    return dict(zip(table["name"].to_pylist(), table["data"].to_pylist(), strict=True))


def _pack(rows: dict[str, bytes]) -> bytes:
    sink = pa.BufferOutputStream()
    table = pa.table({"name": list(rows), "data": pa.array(list(rows.values()), pa.large_binary())})
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def test_packed_bytes_hold_the_folder_files_exactly(folder: Path, real: Economy) -> None:
    data = economy_to_bytes(real)
    assert data[:4] == b"PAR1" and data == economy_to_bytes(real)
    rows = _packed_rows(data)
    assert list(rows)[0] == "manifest.json"
    assert sorted(rows) == sorted(p.name for p in folder.iterdir())
    for name, content in rows.items():
        assert (folder / name).read_bytes() == content, name
    back = economy_from_bytes(data)
    assert (back.use != real.use).nnz == 0 and back.metadata == real.metadata


def test_damaged_packed_bytes_raise_the_folder_errors(real: Economy) -> None:
    rows = _packed_rows(economy_to_bytes(real))
    raw = bytearray(rows["use.parquet"])
    raw[len(raw) // 2] ^= 0xFF
    with pytest.raises(ChecksumError, match="packed economy, use.parquet"):
        economy_from_bytes(_pack({**rows, "use.parquet": bytes(raw)}))
    without = {k: v for k, v in rows.items() if k != "accounts.parquet"}
    with pytest.raises(MissingBlockError, match="accounts.parquet.*missing"):
        economy_from_bytes(_pack(without))
    with pytest.raises(MissingBlockError, match="manifest is missing"):
        economy_from_bytes(_pack({k: v for k, v in rows.items() if k != "manifest.json"}))
    with pytest.raises(FileFormatError, match="could not be read as Parquet"):
        economy_from_bytes(b"region,sector\nA,b\n")
    with pytest.raises(FileFormatError, match="columns"):
        economy_from_bytes(rows["products.parquet"])
