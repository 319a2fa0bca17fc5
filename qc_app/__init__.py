"""qc_app: the 鉴定验真 QC warehouse and certificate service."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from qc_app.config import ROOT, Config


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    config.INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__, template_folder=str(ROOT / "templates"), instance_path=str(config.INSTANCE_PATH)
    )
    app.config.update(config.flask_settings())
    if config.TRUSTED_PROXIES:
        # request.remote_addr is then the address the outermost trusted proxy saw (N-th from
        # the right of X-Forwarded-For; what a client prepends is never read): what every
        # per-client limit and the check-code budget key on.
        hops = config.TRUSTED_PROXIES
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]  # Flask's documented way

    from qc_app import cli, db, queue, web
    from qc_app.api.views import bp as api_bp
    from qc_app.auth.views import bp as auth_bp
    from qc_app.certificates import tasks as _certificate_tasks  # noqa: F401  (registers them)
    from qc_app.certificates.views import bp as certificates_bp
    from qc_app.claims.views import bp as claims_bp
    from qc_app.dashboard.views import bp as dashboard_bp
    from qc_app.inspection.views import bp as inspection_bp
    from qc_app.intake.views import bp as intake_bp
    from qc_app.jobs import tasks as _job_tasks  # noqa: F401  (registers them)
    from qc_app.labels.views import bp as labels_bp
    from qc_app.listings.views import bp as listings_bp
    from qc_app.merchants.views import bp as merchants_bp
    from qc_app.ops import logs
    from qc_app.ops import tasks as _ops_tasks  # noqa: F401  (registers them)
    from qc_app.ops import views as ops
    from qc_app.orders.views import bp as orders_bp
    from qc_app.outbox import tasks as outbox_tasks
    from qc_app.outbox.views import bp as outbox_bp
    from qc_app.verification.views import bp as verification_bp

    _connect_hooks()
    db.init_app(app, config.DATABASE_URL)
    web.init_app(app)
    # One store of files per app; services are handed it (web.files() in views).
    app.extensions["qc_storage"] = config.make_storage()
    logs.init_app(app, kind=config.LOG_FORMAT, sentry_dsn=config.SENTRY_DSN)
    ops.init_app(app)
    queue.init_app(app, config.QUEUE_URL, config.QUEUE_NAME)
    outbox_tasks.init_app(app)
    for blueprint in (
        auth_bp,
        listings_bp,
        intake_bp,
        inspection_bp,
        certificates_bp,
        orders_bp,
        verification_bp,
        claims_bp,
        api_bp,
        dashboard_bp,
        merchants_bp,
        labels_bp,
        outbox_bp,
    ):
        app.register_blueprint(blueprint)
    web.exempt_api(app, api_bp)
    cli.init_app(app)
    return app


def _connect_hooks() -> None:
    """Reactions across packages (STYLE.md 11): an order follows its item (packed, shipped,
    delivered, cancelled when the item fails); an upheld claim revokes its certificate and
    marks its order compensated; the item's timeline records claim decisions and its
    certificate's revocation; a
    merchant leaving the programme takes its listings' labels off; the outbox hears of the
    transitions the platform must act on. Each runs inside the
    transaction of the change that fires it. Connecting twice is a no-op."""
    from qc_app.certificates.hooks import revoke_for_upheld_claim
    from qc_app.certificates.workflow import MACHINE as CERTIFICATES
    from qc_app.claims.workflow import MACHINE as CLAIMS
    from qc_app.items import hooks as items
    from qc_app.listings import hooks as listings
    from qc_app.orders import hooks as orders
    from qc_app.platform_events import hooks as platform_events

    orders.connect()
    platform_events.connect()
    listings.connect()
    CLAIMS.changed.connect(revoke_for_upheld_claim, sender="uphold")
    CLAIMS.changed.connect(orders.compensate_for_upheld_claim, sender="uphold")
    for decision in ("uphold", "reject"):
        CLAIMS.changed.connect(items.claim_decided, sender=decision)
    for retired in ("revoke", "reissue"):
        CERTIFICATES.changed.connect(items.certificate_retired, sender=retired)
