#!/usr/bin/env python
"""Load benchmark of the consumer's verification page with 1,000,000 certificates.

Seeds an SQLite database (demo data through the real services, then 1M items + certificates
bulk-inserted with executemany in one transaction; a sample of them carries real Ed25519
signatures and seal-numbered orders, and only the sample is requested), then serves the app
and a bare Flask route with the same gunicorn settings and drives both with wrk on 127.0.0.1.

    .venv/bin/python bench/verify_load.py      # 1,000,000 rows, 2 workers, 16 conns, 10 s
    .venv/bin/python bench/verify_load.py --rows 100000 --seconds 5

Prints requests/s and p50/p99 latency of each, and the page's ratio to the bare route. The
app's trivial route shows the floor our own middleware sets (sessions, login, locale, headers).
Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seed(instance: Path, rows: int, sample: int) -> list[str]:
    from sqlalchemy import text
    from sqlmodel import select

    from qc_app import create_app
    from qc_app.certificates import payload
    from qc_app.certificates.keys import ensure_signing_key, signer_for
    from qc_app.certificates.models import Certificate
    from qc_app.codes import ALPHABET, with_check
    from qc_app.config import Config
    from qc_app.db import engine_of, request_session
    from qc_app.demo import load_demo
    from qc_app.migrate import upgrade
    from qc_app.sqltypes import utcnow

    config = Config.from_env()
    app = create_app(config)
    engine = engine_of(app)
    upgrade(engine)
    started = time.perf_counter()
    with app.app_context():
        session = request_session()
        ensure_signing_key(session=session, passphrase=config.signing_passphrase(), now=utcnow())
        load_demo(session=session, config=config, files=app.extensions["qc_storage"])
        template = session.exec(select(Certificate)).first()
        assert template is not None, "demo data issued no certificate (is the CJK font installed?)"
        signer = signer_for(session, config.signing_passphrase())
    prefix = template.number.split("-")[0]
    body = json.loads(template.payload)
    rng = random.Random(42)
    alphabet = ALPHABET

    def columns(conn: Any, table: str) -> list[str]:
        names = list(conn.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys())
        return [c for c in names if c != "id"]

    def insert(table: str, cols: list[str]) -> str:
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"

    with engine.begin() as conn:
        item_cols = columns(conn, "items")
        cert_cols = columns(conn, "certificates")
        order_cols = columns(conn, "orders")
        item_row = dict(
            conn.execute(text("SELECT * FROM items WHERE id = :i"), {"i": template.item_id})
            .mappings()
            .one()
        )
        cert_row = dict(
            conn.execute(text("SELECT * FROM certificates WHERE id = :i"), {"i": template.id})
            .mappings()
            .one()
        )
        order_row = dict(conn.execute(text("SELECT * FROM orders LIMIT 1")).mappings().one())
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA synchronous=OFF")  # seeding only; the served app uses FULL
        cursor.execute("BEGIN")
        first_item = cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM items").fetchone()[0]
        first_order = cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM orders").fetchone()[0]
        orders = []
        for i in range(sample):
            o = dict(
                order_row,
                order_no=f"BENCH{i:08d}",
                waybill_no=f"BW{i:010d}",
                seal_no=f"SEAL-B{i:06d}",
                state="delivered",
            )
            orders.append(tuple(o[c] for c in order_cols))
        cursor.executemany(
            insert("orders", order_cols),
            orders,
        )
        items = []
        for i in range(rows):
            it = dict(
                item_row, code=f"BI{i:010d}", order_id=(first_order + i) if i < sample else None
            )
            items.append(tuple(it[c] for c in item_cols))
        cursor.executemany(
            insert("items", item_cols),
            items,
        )
        del items
        urls: list[str] = []

        def certificates() -> Any:
            for i in range(rows):
                number = f"{prefix}-{with_check(''.join(rng.choices(alphabet, k=12)))}"
                row = dict(cert_row, number=number, item_id=first_item + i)
                if i < sample:
                    signed = payload.canonical({**body, "number": number})
                    row.update(
                        payload=signed.decode(),
                        signature=signer.sign(signed),
                        url_signature=signer.sign_url(number),
                    )
                    urls.append(f"/v/{number}?k={signer.kid}&s={row['url_signature']}")
                yield tuple(row[c] for c in cert_cols)

        cursor.executemany(
            insert("certificates", cert_cols),
            certificates(),
        )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
        # Fold the 1 GB write-ahead log into the database now, not during the measured run.
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = cursor.execute("SELECT COUNT(*) FROM certificates").fetchone()[0]
    finally:
        raw.close()
    engine.dispose()
    print(
        f"seeded {total:,} certificates ({sample:,} signed for requests) in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return urls


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, path: str, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).read()
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not answer {path}")


def wrk(
    port: int, seconds: int, connections: int, threads: int, script: Path | None
) -> dict[str, float]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(
        [*cmd, f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": ms("50%"),
        "p99": ms("99%"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
    }  # type: ignore[dict-item]


def serve(target: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            str(workers),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--pythonpath",
            str(ROOT / "bench"),
            "--log-level",
            "warning",
            target,
        ],
        env=env,
        cwd=ROOT,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--keep", help="keep the instance in this folder (reused if seeded)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")

    instance = Path(args.keep or tempfile.mkdtemp(prefix="qc-bench-")).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "QC_INSTANCE_PATH": str(instance),
        "QC_COOKIE_SECURE": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "QC_KEY_PASSPHRASE": os.environ.get("QC_KEY_PASSPHRASE") or secrets.token_urlsafe(48),
        "QC_CHECK_CODE_KEY": os.environ.get("QC_CHECK_CODE_KEY") or secrets.token_urlsafe(48),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    urls_file = instance / "bench-urls.json"
    secrets_file = instance / "bench-secrets.json"
    if urls_file.exists() and secrets_file.exists():
        env.update(json.loads(secrets_file.read_text()))
        urls = json.loads(urls_file.read_text())
        print(f"reusing seeded instance {instance}")
    else:
        os.environ.update(
            {
                k: env[k]
                for k in (
                    "QC_INSTANCE_PATH",
                    "SECRET_KEY",
                    "QC_KEY_PASSPHRASE",
                    "QC_CHECK_CODE_KEY",
                    "QC_COOKIE_SECURE",
                )
            }
        )
        urls = seed(instance, args.rows, args.sample)
        urls_file.write_text(json.dumps(urls))
        secrets_file.write_text(
            json.dumps(
                {k: env[k] for k in ("SECRET_KEY", "QC_KEY_PASSPHRASE", "QC_CHECK_CODE_KEY")}
            )
        )
    script = instance / "paths.lua"
    script.write_text(
        "math.randomseed(42)\nlocal paths = {" + ",".join(json.dumps(u) for u in urls) + "}\n"
        "request = function() return wrk.format(nil, paths[math.random(1, #paths)]) end\n"
    )
    results: dict[str, dict[str, float]] = {}
    trivial = instance / "trivial.lua"
    trivial.write_text('request = function() return wrk.format(nil, "/bench/trivial") end\n')
    for name, target, path, lua in (
        ("bare Flask route", "verify_wsgi:bare", "/", None),
        ("app, trivial route", "verify_wsgi:app", "/bench/trivial", trivial),
        ("verification page", "verify_wsgi:app", urls[0], script),
    ):
        port = free_port()
        server = serve(target, port, args.workers, env)
        try:
            wait_for(port, path)
            wrk(port, 2, args.connections, args.threads, lua)  # warm-up, not reported
            results[name] = wrk(port, args.seconds, args.connections, args.threads, lua)
        finally:
            server.terminate()
            server.wait(timeout=15)
    print(
        f"\n{args.rows:,} certificates · gunicorn -w {args.workers} -k sync · "
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s on 127.0.0.1 · "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'':20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}  socket errors")
    for name, r in results.items():
        print(
            f"{name:20} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['non2xx']:8d}  "
            f"{r['errors'] or '-'}"
        )
    ratio = results["verification page"]["rps"] / results["bare Flask route"]["rps"]
    p99 = results["verification page"]["p99"]
    print(
        f"page / bare throughput: {ratio:.0%} (target ≥ 60%); "
        f"page p99 {p99:.1f} ms (target < 25 ms)"
    )
    if not args.keep:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
