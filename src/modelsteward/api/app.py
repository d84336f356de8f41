"""The ASGI application: API routers, web pages and the middleware around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modelsteward import __version__
from modelsteward.api.errors import install_error_handlers
from modelsteward.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from modelsteward.api.routes import (
    aliases,
    audit,
    bundles,
    deployments,
    inference,
    lifecycles,
    models,
    monitoring,
    observability,
    reports,
    system,
    tasks,
    users,
    versions,
)
from modelsteward.context import Steward
from modelsteward.governance.identity import ensure_bootstrap_admin
from modelsteward.lifecycle import engine as lifecycle_engine
from modelsteward.lifecycle.instances import start_pending_instances
from modelsteward.lifecycle.store import ensure_library
from modelsteward.lifecycle.timers import fire_due_timers
from modelsteward.monitoring import defaults as monitor_defaults
from modelsteward.monitoring.prometheus import MonitorCollector
from modelsteward.monitoring.runner import run_due_monitors
from modelsteward.scheduler import Scheduler
from modelsteward.serving.compaction import scheduled_compaction
from modelsteward.serving.service import Serving

# Multipart framing and the spec field ride on top of the artifact bytes.
_ENVELOPE_BYTES = 2 * 1024 * 1024


def create_app(steward: Steward | None = None) -> FastAPI:
    owned = steward is None
    steward = steward or Steward()
    ensure_bootstrap_admin(steward)
    ensure_library(steward)
    lifecycle_engine.attach(steward)

    serving = Serving(steward)
    monitor_defaults.attach(steward)
    serving.metrics.registry.register(MonitorCollector(steward))

    scheduler = background_work(steward)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        serving.start()
        scheduler.start()
        yield
        scheduler.stop()
        serving.stop()  # flushes the prediction log: a clean shutdown loses nothing
        if owned:
            steward.close()

    app = FastAPI(
        title="modelsteward",
        version=__version__,
        description="ModelOps: inventory, life cycles, serving, monitoring and governance.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url="/api/v1/docs/oauth2-redirect",
        lifespan=lifespan,
    )
    app.state.steward = steward
    app.state.scheduler = scheduler
    serving.attach(app)
    install_error_handlers(app)
    for router in (
        system.router,
        models.router,
        versions.router,
        aliases.router,
        bundles.router,
        deployments.router,
        inference.router,
        lifecycles.router,
        tasks.router,
        monitoring.router,
        observability.router,
        reports.router,
        users.router,
        audit.router,
    ):
        app.include_router(router)
    _mount_web(app)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=steward.settings.max_upload_bytes + _ENVELOPE_BYTES
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def background_work(steward: Steward) -> Scheduler:
    """Due life cycle timers, monitor runs and prediction-log compaction, in every server process.

    Each job claims its items with a compare-and-set, so N processes do each item once.
    """
    scheduler = Scheduler(tick_s=steward.settings.scheduler_tick_s)
    scheduler.add("lifecycle-timers", lambda: fire_due_timers(steward))
    scheduler.add("lifecycle-starts", lambda: start_pending_instances(steward))
    scheduler.add("monitors", lambda: run_due_monitors(steward))
    settings = steward.settings
    if settings.log_compact_minutes > 0:  # each hour folder is claimed, so N processes are safe
        scheduler.add(
            "log-compaction",
            lambda: scheduled_compaction(settings.logs_url, settings.log_compact_grace_minutes),
            interval_s=settings.log_compact_minutes * 60,
        )
    return scheduler


def _mount_web(app: FastAPI) -> None:
    try:
        from modelsteward.web.app import mount
    except ImportError:
        return
    mount(app)
