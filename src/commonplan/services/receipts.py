"""Ballot receipts: what lets a voter, and only the voter, check that their ballot was counted.

When a ballot or ranking is stored the voter gets a **receipt**, a random secret ``r``
(32 URL-safe characters, 192 bits) shown once and not stored. From it:

* the **tracker** ``T = SHA-256("commonplan tracker\\n" ‖ r)`` is stored with the ballot and
  published with it, without the voter's name, once the phase is over: the voter finds
  their ballot among the published ones by computing ``T``;
* the **commitment** ``C = SHA-256(canonical JSON ["commonplan commitment", r, kind,
  round, content])`` is written in the voter's audit entry (public, with their name) at
  the moment they vote: it binds the content without showing it, and the voter can check
  that the published content under ``T`` is the one committed to.

Without ``r`` nobody can link ``C`` (public, named) to ``T`` (public, anonymous), nor
guess the content from ``C``. With ``r`` anyone can: a voter who shows their receipt
proves how they voted (see "Threat model" in ``docs/councils.md``).

A ballot row names no voter: during the ballot phase it carries a **voter key**
``HMAC-SHA256(round secret, user id)`` (:func:`voter_key`), with which the member's next
submission finds and supersedes it. The round secret lives in its own table and is
deleted when the phase closes, together with the voter keys (the ballots are sealed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from commonplan.store.audit import canonical_json


def new_receipt() -> str:
    """A fresh receipt secret."""
    return secrets.token_urlsafe(24)


def new_salt() -> str:
    """A fresh salt for a ballot row's hash (32 hex digits, never published)."""
    return secrets.token_hex(16)


def tracker_of(receipt: str) -> str:
    """The tracker under which the ballot of ``receipt`` is published."""
    return hashlib.sha256(f"commonplan tracker\n{receipt}".encode()).hexdigest()


def commitment_of(receipt: str, kind: str, round_id: int, content: Any) -> str:
    """The commitment written in the voter's audit entry (``kind``: ``ballot`` or ``ranking``)."""
    text = canonical_json(["commonplan commitment", receipt, kind, round_id, content])
    return hashlib.sha256(text.encode()).hexdigest()


def new_round_secret() -> str:
    """A fresh round secret (256 bits, hex) for the voter keys of one phase."""
    return secrets.token_hex(32)


def voter_key(secret: str, user_id: int) -> str:
    """The voter key of user ``user_id`` under a round secret (64 hex digits)."""
    return hmac.new(bytes.fromhex(secret), f"voter {user_id}".encode(), hashlib.sha256).hexdigest()
