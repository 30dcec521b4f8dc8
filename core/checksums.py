"""Content hashes that pin the exact file a run starts from."""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.errors import UsageError


class ChecksumMismatch(UsageError, ValueError):
    """A file's SHA-256 is not the one its config names.

    A :class:`ValueError` too: the training commands report a ``ValueError`` as one
    ``error: ...`` line, without a traceback.
    """


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: str | Path, expected: str | None, field: str) -> None:
    """Fail unless ``path`` hashes to ``expected`` (nothing to check when it is ``None``).

    Args:
        path: the file a run is about to start from.
        expected: hex SHA-256 from the config, any case.
        field: the config field that names the file, for the message.

    Raises:
        ChecksumMismatch: naming the field, the file, the expected and the actual hash.
    """
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected.strip().lower():
        raise ChecksumMismatch(
            f"{field} {path}: SHA-256 is {actual}, the config pins {expected.strip().lower()}: "
            "this is not the file the recipe starts from (see the config's header for how to "
            "get that file)")
