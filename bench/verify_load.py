#!/usr/bin/env python
"""Load benchmark of the consumer's verification page with up to 1,000,000 certificates.

Seeds a database (demo data through the real services, then the rows bulk-inserted in one
transaction; a sample of them, 100,000 by default, carries real Ed25519 signatures and
seal-numbered orders, and requests are spread over the whole sample, so no per-certificate
cache can help), then serves, one after the other with the same gunicorn settings:

- a bare Flask hello route;
- the *essential work* (issue 20's reference): a bare Flask route that reads the same row with
  the page's one SQL query, verifies its Ed25519 signature once and renders the same template
  with plain Jinja, and nothing else (bench/verify_wsgi.py `essential`);
- the app's trivial route (the floor our middleware sets);
- the consumer's page itself;

and drives each with wrk on 127.0.0.1.

    .venv/bin/python bench/verify_load.py                       # 10,000 then 1,000,000 rows
    .venv/bin/python bench/verify_load.py --rows 100000 --seconds 5
    .venv/bin/python bench/verify_load.py --database-url postgresql://postgres@127.0.0.1:5432/qc_bench

A PostgreSQL database is emptied first: its name must contain "bench". Prints requests/s and
p50/p99 latency of each, the page's ratio to the essential work, and the page's latency at the
largest size against the smallest. Never part of the test suite.
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
from collections.abc import Iterable, Iterator
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
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if not postgres:
            cursor.execute("PRAGMA synchronous=OFF")  # seeding only; the served app uses FULL
            cursor.execute("BEGIN")

        def scalar(sql: str) -> Any:
            cursor.execute(sql)
            return cursor.fetchone()[0]

        def bulk(table: str, cols: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
            if postgres:  # COPY: executemany of a million rows would take minutes
                with cursor.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for values in rows:
                        copy.write_row(values)
            else:
                marks = ", ".join("?" * len(cols))
                insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})"
                cursor.executemany(insert, rows)

        def row(row_id: int, base: dict[str, Any], cols: list[str], **changes: Any) -> Any:
            values = base | changes
            return (row_id, *(values[c] for c in cols))

        first_item = scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM items")
        first_order = scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM orders")
        ids = ["id"]  # explicit ids: PostgreSQL's COPY with the sequences moved on after
        bulk(
            "orders",
            ids + order_cols,
            (
                row(
                    first_order + i,
                    order_row,
                    order_cols,
                    order_no=f"BENCH{i:08d}",
                    waybill_no=f"BW{i:010d}",
                    seal_no=f"SEAL-B{i:06d}",
                    state="delivered",
                )
                for i in range(sample)
            ),
        )
        bulk(
            "items",
            ids + item_cols,
            (
                row(
                    first_item + i,
                    item_row,
                    item_cols,
                    code=f"BI{i:010d}",
                    order_id=(first_order + i) if i < sample else None,
                )
                for i in range(rows)
            ),
        )
        urls: list[str] = []

        first_certificate = scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM certificates")

        def certificates() -> Iterator[tuple[Any, ...]]:
            for i in range(rows):
                number = f"{prefix}-{with_check(''.join(rng.choices(alphabet, k=12)))}"
                changes = {"number": number, "item_id": first_item + i}
                if i < sample:
                    signed = payload.canonical({**body, "number": number})
                    changes.update(
                        payload=signed.decode(),
                        signature=signer.sign(signed),
                        url_signature=signer.sign_url(number),
                    )
                    urls.append(f"/v/{number}?k={signer.kid}&s={changes['url_signature']}")
                yield row(first_certificate + i, cert_row, cert_cols, **changes)

        bulk("certificates", ids + cert_cols, certificates())
        if postgres:
            for table in ("orders", "items", "certificates"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
            raw.commit()
            cursor.execute("ANALYZE")
            raw.commit()
        else:
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
            # Fold the 1 GB write-ahead log into the database now, not during the measured run.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = scalar("SELECT COUNT(*) FROM certificates")
    finally:
        raw.close()
    engine.dispose()
    print(
        f"seeded {total:,} certificates ({sample:,} signed for requests) in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return urls


def empty_postgres(url: str) -> None:
    """The bench's PostgreSQL database, emptied (refused unless its name says it is a bench's)."""
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[-1]
    if "bench" not in name:
        sys.exit(f"refusing to empty database {name!r}: its name must contain 'bench'")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


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
    """gunicorn as production runs it (README): its config file (gc.freeze in each worker) and
    prometheus-client's multiprocess metrics in a folder of the server's own."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    metrics = Path(env["QC_INSTANCE_PATH"]) / "metrics" / str(port)
    metrics.mkdir(parents=True)
    return subprocess.Popen(
        [
            str(gunicorn),
            "-c",
            str(ROOT / "scripts" / "gunicorn.conf.py"),
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
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        cwd=ROOT,
    )


SERVERS = (  # name, WSGI target, the path the warm-up checks (None: a sampled certificate)
    ("bare Flask hello", "verify_wsgi:bare", "/"),
    ("essential work", "verify_wsgi:essential", None),
    ("app, trivial route", "verify_wsgi:app", "/bench/trivial"),
    ("consumer page", "verify_wsgi:app", None),
)


def measure(
    instance: Path, env: dict[str, str], urls: list[str], args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    script = instance / "paths.lua"
    script.write_text(
        "math.randomseed(42)\nlocal paths = {" + ",".join(json.dumps(u) for u in urls) + "}\n"
        "request = function() return wrk.format(nil, paths[math.random(1, #paths)]) end\n"
    )
    trivial = instance / "trivial.lua"
    trivial.write_text('request = function() return wrk.format(nil, "/bench/trivial") end\n')
    results: dict[str, dict[str, float]] = {}
    for name, target, path in SERVERS:
        lua = None if path == "/" else trivial if path else script
        port = free_port()
        server = serve(target, port, args.workers, env)
        try:
            wait_for(port, path or urls[0])
            wrk(port, 2, args.connections, args.threads, lua)  # warm-up, not reported
            results[name] = wrk(port, args.seconds, args.connections, args.threads, lua)
            results[name]["load"] = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(timeout=15)
    return results


def report(rows: int, results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    print(
        f"\n{rows:,} certificates ({min(rows, args.sample):,} requested) · {args.database} · "
        f"gunicorn -w {args.workers} -k sync · wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds}s on 127.0.0.1 · {os.cpu_count()} CPUs"
    )
    print(f"{'':20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'load':>5}  errors")
    for name, r in results.items():
        print(
            f"{name:20} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['non2xx']:8d} "
            f"{r['load']:5.1f}  {r['errors'] or '-'}"
        )
    page = results["consumer page"]
    ratio = page["rps"] / results["essential work"]["rps"]
    print(
        f"page / essential work: {ratio:.2f}× (target ≥ 0.8×); "
        f"page p99 {page['p99']:.1f} ms (target < 25 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", default="10000,1000000", help="certificate counts, comma-separated"
    )
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database-url", help="PostgreSQL (emptied first); SQLite by default")
    parser.add_argument("--keep", help="keep SQLite instances in <KEEP>-<rows>, reused if seeded")
    args = parser.parse_args()
    args.database = "PostgreSQL" if args.database_url else "SQLite"
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    sizes = [int(n) for n in args.rows.split(",")]
    page_p50: dict[int, float] = {}
    for rows in sizes:
        page_p50[rows] = run(rows, args)["consumer page"]["p50"]
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        print(
            f"\npage p50 at {large:,} / at {small:,} certificates: "
            f"{page_p50[large] / page_p50[small]:.2f}× (target ≤ 1.2×)"
        )


def run(rows: int, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    keep = Path(f"{args.keep}-{rows}") if args.keep else None
    instance = (keep or Path(tempfile.mkdtemp(prefix="qc-bench-"))).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "QC_INSTANCE_PATH": str(instance),
        "QC_COOKIE_SECURE": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        "QC_KEY_PASSPHRASE": os.environ.get("QC_KEY_PASSPHRASE") or secrets.token_urlsafe(48),
        "QC_CHECK_CODE_KEY": os.environ.get("QC_CHECK_CODE_KEY") or secrets.token_urlsafe(48),
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    urls_file = instance / "bench-urls.json"
    secrets_file = instance / "bench-secrets.json"
    if urls_file.exists() and secrets_file.exists() and not args.database_url:
        env.update(json.loads(secrets_file.read_text()))
        urls = json.loads(urls_file.read_text())
        print(f"reusing seeded instance {instance}")
    else:
        if args.database_url:
            empty_postgres(args.database_url)
        names = ("QC_INSTANCE_PATH", "SECRET_KEY", "QC_KEY_PASSPHRASE", "QC_CHECK_CODE_KEY")
        os.environ.update({k: env[k] for k in (*names, "QC_COOKIE_SECURE")})
        os.environ.pop("DATABASE_URL", None)
        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
        urls = seed(instance, rows, min(rows, args.sample))
        urls_file.write_text(json.dumps(urls))
        secrets_file.write_text(json.dumps({k: env[k] for k in names[1:]}))
    try:
        results = measure(instance, env, urls, args)
    finally:
        if not keep:
            shutil.rmtree(instance, ignore_errors=True)
    report(rows, results, args)
    return results


if __name__ == "__main__":
    main()
