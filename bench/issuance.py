"""Issuance benchmark: certificates per second for the full path against bare rendering.

    .venv/bin/python bench/issuance.py [--per-round 20] [--rounds 3]

Full path = issue_certificate: canonical payload, Ed25519 signatures, PDF with the payload
attached, the PAdES signature, the file written with fsync, the row + transition + audit event
committed (SQLite, synchronous=FULL), in a temporary instance. Compared in the same run with
the bare reportlab rendering of the same page, and with that plus a bare pyHanko signature.
Rounds interleave the variants; each figure is the best round (the machine is shared).
Then the queue: `--queue-items` single-issue jobs (as the API and the pages enqueue them) on a
SQLite queue, consumed by 1 and then 2 `flask qc worker` processes; certificates per second
from the first enqueue to the last job's end (workers warmed up by one job each first).
Prints figures only: never part of the pass/fail test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc_app import create_app, queue  # noqa: E402
from qc_app.auth.services import create_user  # noqa: E402
from qc_app.certificates import ca, issuance, keys, tasks  # noqa: E402
from qc_app.certificates import pdf as pdf_module  # noqa: E402
from qc_app.certificates.batches import BATCH  # noqa: E402
from qc_app.certificates.fonts import find_cjk_font, register_cjk_font  # noqa: E402
from qc_app.config import Config  # noqa: E402
from qc_app.db import engine_of, new_session, write  # noqa: E402
from qc_app.demo import _demo_photo  # noqa: E402
from qc_app.inspection.models import TestingBody  # noqa: E402
from qc_app.inspection.services import approve, record_inspection  # noqa: E402
from qc_app.intake.services import consignment_items, create_consignment, receive_item  # noqa: E402
from qc_app.jobs.models import Job  # noqa: E402
from qc_app.jobs.services import create_job  # noqa: E402
from qc_app.listings.services import create_listing  # noqa: E402
from qc_app.merchants.models import Merchant  # noqa: E402
from qc_app.migrate import upgrade  # noqa: E402
from qc_app.sqltypes import utcnow  # noqa: E402


class World:
    def __init__(self, instance: Path) -> None:
        config = Config.for_tests(
            instance, RATELIMIT_ENABLED=False, QUEUE_URL=f"sqlite:///{instance / 'queue.db'}"
        )
        self.app = create_app(config)
        self.config = config
        upgrade(engine_of(self.app))
        self.db = new_session(engine_of(self.app))
        now = utcnow()
        with write(self.db):
            shop = Merchant(name="金福珠宝旗舰店", licence_no="L-1", created_at=now)
            lab = TestingBody(
                code="GTC",
                name_zh="广东省珠宝玉石及贵金属检测中心",
                name_en="Guangdong Testing Center of Gems & Precious Metals",
                cma_no="2024190000DEMO",
                cnas_no="CNAS L0000",
                cert_prefix="GTC",
                accredited_until=date(2099, 12, 31),
            )
            self.db.add_all([shop, lab])
        roles = {
            "merchant1": ("merchant", shop.id, None),
            "inspector1": ("inspector", None, None),
            "analyst1": ("analyst", None, lab.id),
            "reviewer1": ("reviewer", None, lab.id),
        }
        self.users = {
            name: create_user(
                session=self.db,
                actor=None,
                username=name,
                password="bench-password-123",
                role=role,
                display_name=name,
                merchant_id=mid,
                testing_body_id=bid,
                now=now,
            )
            for name, (role, mid, bid) in roles.items()
        }
        keys.ensure_signing_key(session=self.db, passphrase=config.signing_passphrase(), now=now)
        self.listing = create_listing(
            session=self.db, actor=self.users["merchant1"], title="足金古法素圈戒指",
            brand="金福", material_code="AU990", price_fen=328000, now=now,
        )  # fmt: skip
        self.files = config.make_storage()
        self.setup = issuance.IssuingSetup.from_config(config, self.files)
        self.photo = _demo_photo("front")
        # Intake takes the complete set: a gold piece's front, back and stamp.
        self.views = {view: _demo_photo(view) for view in ("back", "stamp")}

    def approved_items(self, count: int) -> list[str]:
        now = utcnow()
        consignment = create_consignment(
            session=self.db,
            actor=self.users["merchant1"],
            items=[{"listing_id": self.listing.id, "mass_g": "5.02"}] * count,
            now=now,
        )
        codes = [i.code for i in consignment_items(session=self.db, consignment=consignment)]
        for code in codes:
            receive_item(
                session=self.db, actor=self.users["inspector1"], code=code, mass_g="5.03",
                photo=self.photo, views=self.views, files=self.files, now=now,
            )  # fmt: skip
            inspection = record_inspection(
                session=self.db, actor=self.users["analyst1"], code=code, now=now,
                raw={"mass_g": Decimal("5.03"), "fineness_permille": "999.2", "metal": "Au"},
            )  # fmt: skip
            approve(
                session=self.db, actor=self.users["reviewer1"],
                inspection_id=inspection.id or 0, now=now,
            )  # fmt: skip
        return codes

    def issue(self, code: str) -> None:
        issuance.issue_certificate(
            session=self.db, actor=self.users["inspector1"], code=code, setup=self.setup,
            now=utcnow(),
        )  # fmt: skip

    def enqueue_issues(self, codes: list[str]) -> list[str]:
        ids = []
        for code in codes:
            job = create_job(
                session=self.db, actor=self.users["inspector1"], kind=tasks.ISSUE,
                params={"code": code}, guard=BATCH, now=utcnow(),
            )  # fmt: skip
            queue.enqueue(self.app, tasks.ISSUE, job_id=job.id)
            ids.append(job.id)
        return ids

    def wait_finished(self, ids: list[str]) -> None:
        while True:
            self.db.rollback()
            jobs = [self.db.get_one(Job, job_id) for job_id in ids]
            for job in jobs:
                self.db.refresh(job)
            if all(job.finished_at is not None for job in jobs):
                failed = [job.error for job in jobs if job.error]
                assert not failed, failed[:3]
                return
            time.sleep(0.05)

    def worker_env(self) -> dict[str, str]:
        qc = self.config
        return {
            **os.environ,
            "SECRET_KEY": qc.SECRET_KEY,
            "QC_KEY_PASSPHRASE": qc.signing_passphrase(),
            "QC_CHECK_CODE_KEY": qc.CHECK_CODE_SECRET,
            "QC_INSTANCE_PATH": str(qc.INSTANCE_PATH),
            "QC_BASE_URL": qc.BASE_URL,
            "DATABASE_URL": qc.DATABASE_URL,
            "QC_QUEUE_URL": qc.QUEUE_URL,
            "QC_CJK_FONT": str(find_cjk_font(None)),
        }


def queue_throughput(world: World, workers: int, count: int) -> float:
    """Certificates per second through the queue with `workers` worker processes."""
    command = [sys.executable, "-m", "flask", "--app", "qc_app", "qc", "worker"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=world.worker_env(), stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        world.wait_finished(world.enqueue_issues(world.approved_items(workers)))  # warm-up
        codes = world.approved_items(count)
        started = time.perf_counter()
        world.wait_finished(world.enqueue_issues(codes))
        return count / (time.perf_counter() - started)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


class _NoPdfSignature:
    def sign(self, pdf: bytes) -> bytes:
        return pdf


def per_second(run: Callable[[], None], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        run()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queue-items", type=int, default=30)
    args = parser.parse_args()
    n, rounds = args.per_round, args.rounds
    with tempfile.TemporaryDirectory(prefix="qc-bench-") as tmp:
        world = World(Path(tmp) / "instance")
        codes = iter(world.approved_items(2 * n * rounds + 1))

        # One real issue, recording the document and layout it rendered: the bare variants
        # render exactly that page.
        seen: dict[str, Any] = {}
        real_render = issuance.render_certificate_pdf

        def recording(doc: Any, layout: Any, *, font_path: Path) -> bytes:
            seen.update(doc=doc, layout=layout, font=font_path)
            return real_render(doc, layout, font_path=font_path)

        issuance.render_certificate_pdf = recording  # type: ignore[assignment]
        world.issue(next(codes))
        issuance.render_certificate_pdf = real_render  # type: ignore[assignment]
        doc, layout = seen["doc"], seen["layout"]
        styles = pdf_module._Styles.build(layout, register_cjk_font(find_cjk_font(None)))
        lab = world.db.get(TestingBody, 1)
        pades_signer = ca.pades_signer_for(world.db, world.config.signing_passphrase(), lab)
        bare_page = pdf_module._draw_certificate(doc, layout, styles)

        def bare() -> None:
            pdf_module._draw_certificate(doc, layout, styles)

        def bare_signed() -> None:
            pades_signer.sign(pdf_module._draw_certificate(doc, layout, styles))

        def full() -> None:
            world.issue(next(codes))

        real_signer_for = ca.pades_signer_for

        def full_without_pades() -> None:
            ca.pades_signer_for = lambda *a, **k: _NoPdfSignature()  # type: ignore[assignment]
            try:
                world.issue(next(codes))
            finally:
                ca.pades_signer_for = real_signer_for  # type: ignore[assignment]

        best: dict[str, float] = {}
        for _ in range(rounds):
            for name, run in (
                ("bare reportlab page", bare),
                ("full path without PAdES", full_without_pades),
                ("bare page + bare pyHanko signature", bare_signed),
                ("full path (with PAdES)", full),
            ):
                best[name] = max(best.get(name, 0.0), per_second(run, n))

        print(f"issuance benchmark: {rounds} rounds x {n} certificates, best round per variant")
        print(f"  page {len(bare_page) / 1024:.0f} KiB bare; photo, QR, Code128, CJK font")
        for name, rate in best.items():
            print(f"  {name:38} {rate:7.1f} /s  ({1000 / rate:6.1f} ms each)")
        plain = best["full path without PAdES"] / best["bare reportlab page"]
        signed = best["full path (with PAdES)"] / best["bare page + bare pyHanko signature"]
        print(f"  full path / bare rendering               {plain:6.0%}  (target >= 80%)")
        print(f"  full path with PAdES / bare + pyHanko    {signed:6.0%}  (target >= 80%)")
        jobs, cores = args.queue_items, os.cpu_count()
        print(f"on the queue (SQLite storage), {jobs} single-issue jobs, {cores} cores:")
        for workers in (1, 2):
            rate = queue_throughput(world, workers, args.queue_items)
            print(f"  {workers} x flask qc worker                     {rate:7.1f} /s")
        world.db.close()
        engine_of(world.app).dispose()


if __name__ == "__main__":
    main()
