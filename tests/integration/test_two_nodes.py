"""Two app servers and one worker sharing one database, Redis and the S3 store, as a platform
runs them behind a load balancer (issue 14): an item received through node A is certified by
the worker, then verified and its photo served through node B, which never saw the upload; a
rate limit spent on A holds on B. Real processes: gunicorn twice, `flask qc worker`, the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from qc_app.items import proof
from qc_app.storage import S3Storage, s3_client
from tests.conftest import S3_BUCKET, S3_KEYS, proof_set
from tests.queue_support import stop

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "http://qc.test"  # the load balancer's address, printed in every QR link
BLOCK = re.compile(r"<!-- production-commands.*?```sh\n(.*?)```", re.S)


def production_commands() -> dict[str, list[str]]:
    """The README's production block, by program: what an operator runs, run here as is but
    for the listening address (and the passphrase, given in the environment instead)."""
    found = BLOCK.search((ROOT / "README.md").read_text())
    assert found, "README.md has no production-commands block"
    commands = {}
    for line in found.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].startswith("QC_KEY_PASSPHRASE="):
            words = words[1:]
        if words:
            program = words[0]
            commands[" ".join(words[:5]) if program == "flask" else program] = words
    return commands


def runnable(words: list[str], port: int | None = None) -> list[str]:
    """The command with this interpreter's modules, and a free local port to bind."""
    if port is not None:
        words = [f"127.0.0.1:{port}" if w == "0.0.0.0:8000" else w for w in words]
    return [sys.executable, "-m", *words]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Node:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        form: dict[str, Any] | None = None,
    ) -> Answer:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            boundary, data = encode_multipart(form)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read())


def wait_healthy(node: Node) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise AssertionError(f"node {node.name} exited: {stop(node.process)}")
        try:
            if node.call("GET", "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"node {node.name} never answered /healthz")


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "qc_app", "qc", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@dataclass
class Cluster:
    a: Node
    b: Node
    tokens: dict[str, str]
    store: S3Storage
    instances: Path


@pytest.fixture
def cluster(
    database_url: str, redis_url: str, s3_endpoint: str, cjk_font_path: Path, tmp_path: Path
) -> Iterator[Cluster]:
    prefix = f"two-nodes-{uuid.uuid4().hex}"
    shared = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "QC_CHECK_CODE_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,  # rate limits, and the queue (QC_QUEUE_URL falls back to it)
        "QC_QUEUE_NAME": prefix,
        "QC_RATELIMIT_KEY_PREFIX": prefix,
        "QC_STORAGE_URL": f"s3://{S3_BUCKET}/{prefix}",
        "QC_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": S3_KEYS.access_key_id,
        "AWS_SECRET_ACCESS_KEY": S3_KEYS.secret_access_key,
        "AWS_REGION": "us-east-1",
        "QC_CJK_FONT": str(cjk_font_path),
        "QC_BASE_URL": PUBLIC,
        "QC_COOKIE_SECURE": "0",
    }
    shared.pop("QC_KEY_PASSPHRASE", None)
    signing = {**shared, "QC_KEY_PASSPHRASE": secrets.token_urlsafe(48)}

    def instance(name: str, env: dict[str, str]) -> dict[str, str]:
        return {**env, "QC_INSTANCE_PATH": str(tmp_path / name)}

    commands = production_commands()
    cli = instance("cli", signing)
    upgrade = commands["flask --app qc_app qc db"]
    assert subprocess.run(runnable(upgrade), cwd=ROOT, env=cli, timeout=300).returncode == 0
    for step in (("keys", "init"), ("demo",), ("ca", "init")):
        flask(cli, *step)
    tokens = {}
    for user in ("merchant1", "inspector1", "analyst1", "reviewer1"):
        code = flask(cli, "totp-code", user).strip() if user != "merchant1" else ""
        tokens[user] = flask(cli, "token", "create", user, "--code", code).strip()

    worker = subprocess.Popen(
        runnable(commands["flask --app qc_app qc worker"]),
        cwd=ROOT,
        env=instance("worker", signing),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    nodes = []
    try:
        for name in ("a", "b"):
            port = free_port()
            metrics = tmp_path / f"{name}-metrics"
            metrics.mkdir()
            process = subprocess.Popen(
                runnable(commands["gunicorn"], port),
                cwd=ROOT,
                env={**instance(name, shared), "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            nodes.append(Node(name, f"http://127.0.0.1:{port}", process))
        for node in nodes:
            wait_healthy(node)
        client = s3_client(endpoint_url=s3_endpoint, region="us-east-1", credentials=S3_KEYS)
        yield Cluster(nodes[0], nodes[1], tokens, S3Storage(client, S3_BUCKET, prefix), tmp_path)
    finally:
        for process in [node.process for node in nodes] + [worker]:
            stop(process)


def certified_through_a(cluster: Cluster) -> tuple[dict[str, Any], bytes]:
    a, token = cluster.a, cluster.tokens
    listing = a.call(
        "POST",
        "/api/v1/listings",
        token=token["merchant1"],
        body={"title": "足金戒指", "brand": "金福", "material_code": "AU990", "price_fen": 328000},
    )
    assert listing.status == 201, listing.body
    consigned = a.call(
        "POST",
        "/api/v1/consignments",
        token=token["merchant1"],
        body={"items": [{"listing_id": listing.json()["id"], "mass_g": "5.02"}]},
    )
    assert consigned.status == 201, consigned.body
    code = consigned.json()["items"][0]["code"]
    views = proof_set()  # the intake set: front, back, detail
    photo = views["front"]
    fields = proof.photo_fields()
    received = a.call(
        "POST",
        f"/api/v1/items/{code}/receive",
        token=token["inspector1"],
        form={
            "mass_g": "5.03",
            **{
                fields[view]: FileStorage(
                    io.BytesIO(data), filename=f"{view}.jpg", content_type="image/jpeg"
                )
                for view, data in views.items()
            },
        },
    )
    assert received.status == 200, received.body
    found = a.call(
        "POST",
        f"/api/v1/items/{code}/inspections",
        token=token["analyst1"],
        body={"mass_g": "5.03", "fineness_permille": 999.2, "metal": "Au"},
    )
    assert found.status == 201, found.body
    approved = a.call(
        "POST", f"/api/v1/inspections/{found.json()['id']}/approve", token=token["reviewer1"]
    )
    assert approved.status == 200, approved.body
    issued = a.call("POST", f"/api/v1/items/{code}/certificate", token=token["inspector1"])
    assert issued.status in (201, 202), issued.body
    if issued.status == 202:  # the worker is still at it: follow the job, through node B
        status_path = issued.json()["status_url"].replace(PUBLIC, "")
        deadline = time.monotonic() + 120
        while (job := cluster.b.call("GET", status_path, token=token["inspector1"])).json()[
            "status"
        ] in ("pending", "running"):
            assert time.monotonic() < deadline, job.body
            time.sleep(0.5)
        assert job.json()["status"] == "done", job.body
        return dict(job.json()["certificate"]), photo
    return dict(issued.json()), photo


def test_two_nodes_and_a_worker_share_the_database_the_store_the_queue_and_the_limits(
    cluster: Cluster,
) -> None:
    """One cluster for both checks: starting it (CLI, worker, two gunicorns) is most of the cost."""
    certificate, _photo = certified_through_a(cluster)
    number = certificate["number"]
    on_b = cluster.b.call("GET", f"/api/v1/certificates/{number}")
    assert on_b.status == 200, on_b.body
    assert on_b.json()["status"] == "valid"

    page = cluster.b.call("GET", certificate["verify_url"].replace(PUBLIC, ""))
    assert page.status == 200
    html = page.body.decode()
    assert number in html
    match = re.search(r'class="photo"[^>]* src="([^"]+)"', html)
    assert match, "the consumer page shows no photo"
    served = cluster.b.call("GET", match.group(1).replace("&amp;", "&"))
    assert served.status == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    digest = hashlib.sha256(served.body).hexdigest()
    assert cluster.store.exists(f"photos/{digest[:2]}/{digest}.jpg")  # served from the store
    assert not (cluster.instances / "b" / "photos").exists()  # node B keeps no files itself

    # Each node is ready on every part it shares, and B's /metrics adds up its gunicorn workers.
    for node in (cluster.a, cluster.b):
        ready = node.call("GET", "/readyz")
        assert ready.status == 200, ready.body
        assert set(ready.json()["parts"]) == {"database", "redis", "storage", "queue"}
    for _ in range(8):
        assert cluster.b.call("GET", "/healthz").status == 200
    scraped = cluster.b.call("GET", "/metrics").body.decode()
    served = re.findall(
        r'qc_http_requests_total\{endpoint="ops.healthz".*status="200"\} (\S+)', scraped
    )
    assert served and float(served[0]) >= 8
    assert "qc_consumer_scans_total 1.0" in scraped

    # A rate limit spent on A holds on B.
    spent = 0
    while (answer := cluster.a.call("GET", "/verify")).status == 200:
        spent += 1
        assert spent <= 600, "node A never limited /verify"
    assert answer.status == 429
    assert cluster.b.call("GET", "/verify").status == 429  # B had served none of them
