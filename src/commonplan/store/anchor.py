"""Anchors: the chain head signed with Ed25519 and kept outside the database.

Whoever can write to the database can rewrite the last entries of the audit log, recompute
their hashes and move the head: the chain is then consistent again. An *anchor* — the
``seq`` and ``hash`` of the head at some moment, signed with a key the database never
holds — defeats that: :func:`check_anchor` requires the entry ``seq`` of the current chain
to still have the anchored hash, which a rewrite of that entry or of any entry before it
changes. Entries appended after the anchor are checked by the chain as usual.

The anchor file is JSON ``{"format", "seq", "hash", "signed_at", "signature"}``; the
signature (hex) covers the canonical JSON of the other four fields. Keys are PEM files:
the private key (PKCS #8, unencrypted, mode 0600) and its public key (SubjectPublicKeyInfo).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from commonplan.errors import AuditIntegrityError, ConflictError, FileFormatError
from commonplan.store.audit import canonical_json
from commonplan.store.models import AuditEntry

FORMAT = "commonplan-audit-anchor/1"


@dataclass(frozen=True)
class Anchor:
    """A signed head: entry ``seq`` had hash ``hash`` at ``signed_at``."""

    seq: int
    hash: str
    signed_at: str
    signature: str

    def signed_bytes(self) -> bytes:
        return canonical_json([FORMAT, self.seq, self.hash, self.signed_at]).encode()

    def to_json(self) -> str:
        return canonical_json(
            {
                "format": FORMAT,
                "seq": self.seq,
                "hash": self.hash,
                "signed_at": self.signed_at,
                "signature": self.signature,
            }
        )


def _bad_file(path: Path, expected: str) -> FileFormatError:
    return FileFormatError(
        f"{path} is not {expected}",
        where=str(path),
        expected=expected,
        fix="pass the file written by `commonplan audit keygen` or `commonplan audit anchor`",
    )


def write_keypair(private_path: Path) -> Path:
    """Create an Ed25519 key: the private key at ``private_path`` (mode 0600), the public key
    beside it with ``.pub`` appended; return the public key's path. Refuses to overwrite."""
    private_path = Path(private_path)
    public_path = private_path.with_name(private_path.name + ".pub")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConflictError(
            f"{private_path} exists already",
            where=str(private_path),
            fix="choose another file name, or remove the old key if it is no longer needed",
        ) from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (ValueError, TypeError):
        raise _bad_file(Path(path), "an Ed25519 private key (PEM)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _bad_file(Path(path), "an Ed25519 private key (PEM)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except ValueError:
        raise _bad_file(Path(path), "an Ed25519 public key (PEM)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise _bad_file(Path(path), "an Ed25519 public key (PEM)")
    return key


def sign_head(key: Ed25519PrivateKey, seq: int, digest: str) -> Anchor:
    """An anchor of entry ``seq`` with hash ``digest``, signed now."""
    unsigned = Anchor(seq, digest, datetime.now(UTC).isoformat(timespec="seconds"), "")
    return Anchor(seq, digest, unsigned.signed_at, key.sign(unsigned.signed_bytes()).hex())


def read_anchor(path: Path) -> Anchor:
    """The anchor stored in ``path`` (its signature is checked by :func:`check_anchor`)."""
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT:
            raise ValueError
        return Anchor(
            int(data["seq"]), str(data["hash"]), str(data["signed_at"]), str(data["signature"])
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _bad_file(Path(path), f"an audit anchor ({FORMAT})") from None


def check_anchor(session: Session, anchor: Anchor, public_key: Ed25519PublicKey) -> None:
    """Raise :class:`AuditIntegrityError` unless ``anchor`` is validly signed and the chain
    still holds its entry with its hash (so no entry up to it was rewritten)."""
    try:
        public_key.verify(bytes.fromhex(anchor.signature), anchor.signed_bytes())
    except (InvalidSignature, ValueError):
        raise AuditIntegrityError(
            "the anchor's signature does not verify with this public key",
            where=f"anchor of entry {anchor.seq}",
            expected="an anchor signed by the private key of this public key",
            fix="check that the anchor and the public key belong together; a changed anchor file "
            "cannot be trusted",
        ) from None
    stored = session.execute(
        select(AuditEntry.hash).where(AuditEntry.seq == anchor.seq)
    ).scalar_one_or_none()
    if stored != anchor.hash:
        found = "is missing" if stored is None else "has a different hash"
        raise AuditIntegrityError(
            f"the audit log was rewritten: entry {anchor.seq} {found} from the one in the anchor "
            f"signed at {anchor.signed_at}",
            where=f"audit entry {anchor.seq}",
            expected=f"hash {anchor.hash}",
            fix="restore the audit log from a backup and investigate who rewrote it",
        )
