"""Where stored files live: one small interface, a local folder or an S3-compatible store.

Certificate PDFs, photos and claim evidence are content-addressed (`kind/ab/<sha256><suffix>`):
a service stores the bytes before its row commits and removes them if the commit fails, so a
crash leaves at most an unreferenced object (`qc_app.orphans` sweeps those by listing), never a
row pointing at nothing. Audit checkpoints are named objects (`checkpoints/<seq>.json`).
`storage_from_url` picks the backend from QC_STORAGE_URL (`file:///abs/path`, `s3://bucket/prefix`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

_DIGEST = re.compile(r"[0-9a-f]{64}")
_TEMP_PREFIX = ".tmp-"


class StorageError(RuntimeError):
    """The store refused or could not be reached; nothing was stored."""


class StoredFileMissing(StorageError, LookupError):
    """No object under that key (never stored, or removed)."""


class StoredFileCorrupt(StorageError):
    """An object's bytes do not match the digest it is stored under."""


class StorageUrlInvalid(ValueError):
    """QC_STORAGE_URL names no backend this service knows."""


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the store's root, e.g. "certificates/ab/<digest>.pdf"
    modified: datetime  # UTC

    @property
    def digest(self) -> str | None:
        """The SHA-256 of a content-addressed object, from its name."""
        stem = self.key.rsplit("/", 1)[-1].split(".", 1)[0]
        return stem if _DIGEST.fullmatch(stem) else None


class Storage(Protocol):
    """A flat store of immutable objects under keys such as `photos/ab/<digest>.jpg`."""

    def put(self, key: str, data: bytes) -> None:
        """Store `data` durably under `key`. When the key exists (objects never change), only
        its time is renewed: the sweeper's grace period then covers this upload too."""

    def get(self, key: str) -> bytes:
        """The object's bytes; StoredFileMissing when there is none."""

    def delete(self, key: str) -> None:
        """Remove the object; no error when there is none."""

    def exists(self, key: str) -> bool: ...

    def list(self, kind: str) -> list[StoredObject]:
        """Every object under `kind/`, in key order."""


def _key(kind: str, digest: str, suffix: str) -> str:
    return f"{kind}/{digest[:2]}/{digest}{suffix}"


def store(files: Storage, kind: str, data: bytes, suffix: str) -> str:
    """Store content-addressed bytes; returns their SHA-256 (the row keeps it)."""
    digest = hashlib.sha256(data).hexdigest()
    files.put(_key(kind, digest, suffix), data)
    return digest


def remove(files: Storage, kind: str, digest: str, suffix: str) -> None:
    """Delete a stored file (used to undo a store whose row never committed)."""
    files.delete(_key(kind, digest, suffix))


def load(files: Storage, kind: str, digest: str, suffix: str) -> bytes:
    """The bytes stored under `digest`, checked against it: a store that returns other bytes
    (a damaged disk, an edited object) raises StoredFileCorrupt rather than serving them."""
    if not _DIGEST.fullmatch(digest):
        raise StoredFileMissing(digest)
    data = files.get(_key(kind, digest, suffix))
    if hashlib.sha256(data).hexdigest() != digest:
        raise StoredFileCorrupt(f"{kind}/{digest}{suffix}")
    return data


class FolderStorage:
    """Objects as files under `root` (the instance folder by default): written to a temporary
    file, fsynced, then renamed into place, so a reader never sees half an object."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or p.startswith(_TEMP_PREFIX) for p in parts):
            raise StoredFileMissing(key)
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        if target.exists():
            os.utime(target)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise StoredFileMissing(key) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, kind: str) -> list[StoredObject]:
        top = self._path(kind)
        found = [
            StoredObject(
                path.relative_to(self.root).as_posix(),
                datetime.fromtimestamp(path.stat().st_mtime, UTC),
            )
            for path in top.rglob("*")
            if path.is_file() and not path.name.startswith(_TEMP_PREFIX)
        ]
        return sorted(found, key=lambda o: o.key)


@dataclass(frozen=True)
class S3Credentials:
    """Explicit keys (the standard AWS_* variables, read by Config); None: boto3's own chain."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def s3_client(
    *, endpoint_url: str | None, region: str | None, credentials: S3Credentials | None
) -> Any:
    """A boto3 S3 client that S3-compatible servers accept: SigV4, path-style addresses, and
    checksums only where an operation needs one (Content-MD5 is sent by `S3Storage.put`)."""
    config = BotoConfig(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 3, "mode": "standard"},
    )
    keys = credentials or S3Credentials("", "")
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=config,
        aws_access_key_id=keys.access_key_id or None,
        aws_secret_access_key=keys.secret_access_key or None,
        aws_session_token=keys.session_token,
    )


def _missing(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3Storage:
    """Objects in an S3 bucket under `prefix/`. Each upload carries its Content-MD5, so the
    server refuses bytes damaged on the way rather than storing them."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _call(self, doing: str, key: str, operation: str, **params: Any) -> Any:
        try:
            return getattr(self.client, operation)(
                Bucket=self.bucket, Key=self.prefix + key, **params
            )
        except ClientError as exc:
            if _missing(exc):
                raise StoredFileMissing(key) from exc
            raise StorageError(f"{doing} {key} in s3://{self.bucket}/{self.prefix}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"{doing} {key} in s3://{self.bucket}/{self.prefix}: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        # Content-addressed and immutable: an existing key already holds these bytes, and a copy
        # onto itself renews its time. (Servers such as Swift ignore If-None-Match on PUT, hence
        # the look first.) Under concurrent puts of one key the copy may not find it yet: then
        # it is stored as new.
        if self.exists(key):
            source = {"Bucket": self.bucket, "Key": self.prefix + key}
            with contextlib.suppress(StoredFileMissing):
                self._call(
                    "renewing", key, "copy_object", CopySource=source, MetadataDirective="REPLACE"
                )
                return
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        self._call("storing", key, "put_object", Body=data, ContentMD5=md5)

    def get(self, key: str) -> bytes:
        answer = self._call("reading", key, "get_object")
        try:
            return answer["Body"].read()  # type: ignore[no-any-return]
        except BotoCoreError as exc:
            raise StorageError(f"reading {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        self._call("deleting", key, "delete_object")

    def exists(self, key: str) -> bool:
        try:
            self._call("looking up", key, "head_object")
        except StoredFileMissing:
            return False
        return True

    def list(self, kind: str) -> list[StoredObject]:
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{kind.strip('/')}/"
        )
        try:
            for page in pages:
                for entry in page.get("Contents", []):
                    modified = entry["LastModified"].astimezone(UTC)
                    found.append(StoredObject(entry["Key"][len(self.prefix) :], modified))
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(
                f"listing {kind} in s3://{self.bucket}/{self.prefix}: {exc}"
            ) from exc
        return sorted(found, key=lambda o: o.key)


def check_url(url: str) -> None:
    """Refuse a QC_STORAGE_URL no backend serves (called at start-up, before anything runs)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise StorageUrlInvalid(
                f"QC_STORAGE_URL {url!r}: a folder is file:///absolute/path (three slashes)."
            )
    elif parts.scheme == "s3":
        if not parts.netloc or parts.query or parts.fragment:
            raise StorageUrlInvalid(
                f"QC_STORAGE_URL {url!r}: an S3 store is s3://bucket or s3://bucket/prefix."
            )
    else:
        raise StorageUrlInvalid(
            f"QC_STORAGE_URL {url!r}: use file:///absolute/path or s3://bucket/prefix."
        )


def storage_from_url(
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    credentials: S3Credentials | None = None,
) -> Storage:
    """The backend QC_STORAGE_URL names. For s3://: `endpoint_url` names any S3-compatible
    server (None: AWS itself); without `credentials`, boto3 finds its own (profile, role)."""
    check_url(url)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FolderStorage(Path(unquote(parts.path)))
    client = s3_client(endpoint_url=endpoint_url, region=region, credentials=credentials)
    return S3Storage(client, parts.netloc, unquote(parts.path))
