"""Seed derivation on the Python side (the core has its own streams per trial)."""

from __future__ import annotations

import hashlib

__all__ = ["derive_seed"]


def derive_seed(seed: int, purpose: str, index: int = 0) -> int:
    """A 63-bit seed determined by ``seed``, a purpose label and an index."""
    digest = hashlib.blake2b(f"{seed}:{purpose}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1
