"""Content-addressed file storage under instance/: write temp, fsync, rename, then commit the row.

A crash can leave at most an unreferenced file (harmless), never a row pointing at nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def store(root: Path, kind: str, data: bytes, suffix: str) -> str:
    digest = hashlib.sha256(data).hexdigest()
    folder = root / kind / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}{suffix}"
    if target.exists():
        return digest
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def remove(root: Path, kind: str, digest: str, suffix: str) -> None:
    """Delete a stored file (used to undo a store whose row never committed)."""
    (root / kind / digest[:2] / f"{digest}{suffix}").unlink(missing_ok=True)


def load(root: Path, kind: str, digest: str, suffix: str) -> bytes:
    if not (len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise FileNotFoundError(digest)
    return (root / kind / digest[:2] / f"{digest}{suffix}").read_bytes()
