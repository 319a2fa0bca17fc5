"""The storage contract, the same for both backends: the instance folder and a real S3 server
(OpenStack Swift's s3api, started by scripts/s3-server). Each test has a store of its own."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from qc_app import storage
from qc_app.config import Config, ConfigError
from qc_app.storage import (
    FolderStorage,
    S3Storage,
    Storage,
    StorageError,
    StorageUrlInvalid,
    StoredFileCorrupt,
    StoredFileMissing,
    s3_client,
    storage_from_url,
)
from tests.conftest import S3_BUCKET, S3_KEYS


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "folder":
        return FolderStorage(tmp_path / "files")
    endpoint = request.getfixturevalue("s3_endpoint")
    client = s3_client(endpoint_url=endpoint, region="us-east-1", credentials=S3_KEYS)
    return S3Storage(client, S3_BUCKET, f"contract-{uuid.uuid4().hex}")


def key_of(data: bytes, kind: str = "photos", suffix: str = ".jpg") -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{kind}/{digest[:2]}/{digest}{suffix}"


def test_stored_bytes_come_back(store: Storage) -> None:
    digest = storage.store(store, "photos", b"jpeg bytes", ".jpg")
    assert digest == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert store.exists(key_of(b"jpeg bytes"))
    assert storage.load(store, "photos", digest, ".jpg") == b"jpeg bytes"


def test_deleted_object_is_gone_and_deleting_again_is_harmless(store: Storage) -> None:
    digest = storage.store(store, "evidence", b"%PDF-1.7 report", ".pdf")
    storage.remove(store, "evidence", digest, ".pdf")
    assert not store.exists(key_of(b"%PDF-1.7 report", "evidence", ".pdf"))
    storage.remove(store, "evidence", digest, ".pdf")


def test_a_missing_object_is_a_named_error(store: Storage) -> None:
    with pytest.raises(StoredFileMissing):
        storage.load(store, "photos", "ab" * 32, ".jpg")
    with pytest.raises(StoredFileMissing):
        store.get("checkpoints/000000000001.json")


@pytest.mark.parametrize("digest", ["", "../../secrets.env", "AB" * 32, "ab" * 31])
def test_a_digest_that_is_not_one_names_nothing(store: Storage, digest: str) -> None:
    with pytest.raises(StoredFileMissing):
        storage.load(store, "photos", digest, ".jpg")


def test_list_names_one_kind_in_key_order_with_times(store: Storage) -> None:
    photos = sorted(storage.store(store, "photos", bytes([n]) * 10, ".jpg") for n in range(3))
    storage.store(store, "certificates", b"%PDF-1.7 a certificate", ".pdf")
    store.put("checkpoints/000000000002.json", b"{}\n")
    store.put("checkpoints/000000000010.json", b"{}\n")
    listed = store.list("photos")
    assert [o.digest for o in listed] == photos
    assert all(o.modified.tzinfo is not None for o in listed)
    assert [o.key for o in store.list("checkpoints")] == [
        "checkpoints/000000000002.json",
        "checkpoints/000000000010.json",
    ]
    assert store.list("evidence") == []


def test_putting_existing_bytes_again_is_a_no_op_that_renews_their_time(store: Storage) -> None:
    key = "checkpoints/000000000007.json"
    store.put(key, b"first\n")
    [before] = store.list("checkpoints")
    store.put(key, b"second\n")  # a key names one object for good
    [after] = store.list("checkpoints")
    assert store.get(key) == b"first\n"
    assert after.modified >= before.modified


def test_bytes_that_differ_from_their_digest_are_refused_on_load(store: Storage) -> None:
    digest = storage.store(store, "photos", b"the photo", ".jpg")
    store.delete(key_of(b"the photo"))
    store.put(key_of(b"the photo"), b"another photo")  # a damaged disk, an edited object
    with pytest.raises(StoredFileCorrupt):
        storage.load(store, "photos", digest, ".jpg")


def test_concurrent_puts_of_one_digest_store_it_once(store: Storage) -> None:
    data = b"one photo, eight scanners" * 1000
    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = set(pool.map(lambda _: storage.store(store, "photos", data, ".jpg"), range(8)))
    assert len(digests) == 1
    assert [o.digest for o in store.list("photos")] == list(digests)
    assert storage.load(store, "photos", digests.pop(), ".jpg") == data


# -- what only one backend has ----------------------------------------------------------------


def test_the_folder_keeps_todays_layout_and_ignores_unfinished_writes(tmp_path: Path) -> None:
    store = FolderStorage(tmp_path)
    digest = storage.store(store, "certificates", b"%PDF-1.7", ".pdf")
    assert (tmp_path / "certificates" / digest[:2] / f"{digest}.pdf").read_bytes() == b"%PDF-1.7"
    (tmp_path / "certificates" / digest[:2] / ".tmp-crashed").write_bytes(b"half")
    assert [o.digest for o in store.list("certificates")] == [digest]


@pytest.mark.parametrize("key", ["../outside", "photos/../../outside", "photos//x", ""])
def test_the_folder_refuses_keys_that_leave_it(tmp_path: Path, key: str) -> None:
    with pytest.raises(StoredFileMissing):
        FolderStorage(tmp_path / "files").get(key)


def test_s3_refuses_an_upload_damaged_on_the_way(s3_endpoint: str) -> None:
    client = s3_client(endpoint_url=s3_endpoint, region="us-east-1", credentials=S3_KEYS)
    store = S3Storage(client, S3_BUCKET, f"damaged-{uuid.uuid4().hex}")

    def damage(params: dict[str, Any], **_: Any) -> None:
        sent = params["body"].read()  # after Content-MD5 was computed from the bytes as taken
        params["body"] = b"X" + sent[1:]

    client.meta.events.register("before-call.s3.PutObject", damage)
    with pytest.raises(StorageError, match="BadDigest"):
        storage.store(store, "photos", b"the photo as taken", ".jpg")
    assert store.list("photos") == []


def test_an_s3_server_that_does_not_answer_is_a_storage_error() -> None:
    client = s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1", credentials=S3_KEYS)
    store = S3Storage(client, S3_BUCKET, "nowhere")
    with pytest.raises(StorageError):
        storage.store(store, "photos", b"a photo", ".jpg")
    with pytest.raises(StorageError):
        store.list("photos")


# -- choosing the backend ---------------------------------------------------------------------


def test_a_file_url_names_a_folder(tmp_path: Path) -> None:
    chosen = storage_from_url((tmp_path / "my files").as_uri())
    assert isinstance(chosen, FolderStorage) and chosen.root == tmp_path / "my files"


def test_an_s3_url_names_a_bucket_and_prefix() -> None:
    chosen = storage_from_url("s3://qc-files/prod/eu", endpoint_url="http://127.0.0.1:9")
    assert isinstance(chosen, S3Storage)
    assert (chosen.bucket, chosen.prefix) == ("qc-files", "prod/eu/")
    assert storage_from_url("s3://qc-files").prefix == ""  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    ["relative/path", "file://relative/path", "s3:///no-bucket", "ftp://host/x", "s3://b/p?x=1"],
)
def test_a_bad_storage_url_stops_start_up_with_what_to_write(url: str, tmp_path: Path) -> None:
    with pytest.raises(StorageUrlInvalid, match="QC_STORAGE_URL"):
        storage_from_url(url)
    env = {
        "QC_INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "s" * 40,
        "QC_KEY_PASSPHRASE": "p" * 40,
        "QC_CHECK_CODE_KEY": "c" * 40,
        "QC_STORAGE_URL": url,
    }
    with pytest.raises(ConfigError, match="QC_STORAGE_URL"):
        Config.from_env(env)


def test_the_environment_chooses_the_store_and_its_keys(tmp_path: Path) -> None:
    env = {
        "QC_INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "s" * 40,
        "QC_KEY_PASSPHRASE": "p" * 40,
        "QC_CHECK_CODE_KEY": "c" * 40,
    }
    assert tmp_path.resolve().as_uri() == Config.from_env(env).STORAGE_URL  # the instance folder
    config = Config.from_env(
        {
            **env,
            "QC_STORAGE_URL": "s3://qc-files/prod",
            "QC_S3_ENDPOINT_URL": "http://127.0.0.1:8080",
            "AWS_ACCESS_KEY_ID": "test:tester",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    assert (config.STORAGE_URL, config.S3_ENDPOINT_URL, config.S3_REGION) == (
        "s3://qc-files/prod",
        "http://127.0.0.1:8080",
        "us-east-1",
    )
    assert config.S3_CREDENTIALS == S3_KEYS
    assert isinstance(config.make_storage(), S3Storage)
