"""Storage benchmark: milliseconds per store, load and list, the instance folder against S3.

    scripts/s3-server && .venv/bin/python bench/storage.py [--count 100] [--kb 150] [--rounds 3]

Stores `count` distinct objects of `kb` KiB (about a certificate PDF or a re-encoded photo)
content-addressed, loads each back (digest checked), stores them again (the no-op path: a
look-up and a renewed time), then lists the kind. Folder: a temporary directory (fsync on each
store). S3: the Swift server of scripts/s3-server on 127.0.0.1:8080, a fresh prefix per run.
Each figure is the best round (the machine is shared). Prints figures only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc_app import storage  # noqa: E402
from qc_app.storage import FolderStorage, S3Credentials, S3Storage, Storage, s3_client  # noqa: E402


def one_round(files: Storage, blobs: list[bytes]) -> dict[str, float]:
    """Milliseconds per object for each step, and for one listing of the kind."""
    start = time.perf_counter()
    digests = [storage.store(files, "photos", blob, ".jpg") for blob in blobs]
    stored = time.perf_counter()
    for digest in digests:
        storage.load(files, "photos", digest, ".jpg")
    loaded = time.perf_counter()
    for blob in blobs:
        storage.store(files, "photos", blob, ".jpg")
    again = time.perf_counter()
    files.list("photos")
    listed = time.perf_counter()
    per = 1000 / len(blobs)
    return {
        "store": (stored - start) * per,
        "load": (loaded - stored) * per,
        "store again": (again - loaded) * per,
        "list (whole kind)": (listed - again) * 1000,
    }


def run(make: Callable[[], Storage], count: int, size: int, rounds: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(rounds):
        figures = one_round(make(), [os.urandom(size) for _ in range(count)])
        for name, value in figures.items():
            best[name] = min(best.get(name, value), value)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--kb", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--endpoint", default=os.environ.get("TEST_S3_ENDPOINT_URL", "http://127.0.0.1:8080")
    )
    args = parser.parse_args()
    client = s3_client(
        endpoint_url=args.endpoint,
        region="us-east-1",
        credentials=S3Credentials("test:tester", "testing"),
    )
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket="qc-bench")
    with tempfile.TemporaryDirectory() as tmp:
        backends: dict[str, Callable[[], Storage]] = {
            "folder": lambda: FolderStorage(Path(tmp) / uuid.uuid4().hex),
            f"s3 ({args.endpoint})": lambda: S3Storage(client, "qc-bench", uuid.uuid4().hex),
        }
        print(f"{args.count} objects of {args.kb} KiB, best of {args.rounds} rounds")
        for name, make in backends.items():
            figures = run(make, args.count, args.kb * 1024, args.rounds)
            print(f"{name}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in figures.items()))


if __name__ == "__main__":
    main()
