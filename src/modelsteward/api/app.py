"""The ASGI application: API routers, web pages and the middleware around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from modelsteward import __version__
from modelsteward.alerting.prometheus import AlertCollector
from modelsteward.api.errors import install_error_handlers
from modelsteward.api.middleware import BodyLimitMiddleware, BodyLimits, RequestIdMiddleware
from modelsteward.api.routes import (
    alerts,
    aliases,
    audit,
    bundles,
    channels,
    deployments,
    events,
    inference,
    lifecycles,
    models,
    monitoring,
    observability,
    reports,
    system,
    tasks,
    training,
    users,
    versions,
)
from modelsteward.api.uploads import upload_routes
from modelsteward.background import background_work
from modelsteward.context import Steward
from modelsteward.events.dispatcher import Dispatcher
from modelsteward.events.metrics import EventCollector
from modelsteward.identity.users import ensure_bootstrap_admin
from modelsteward.lifecycle.store import ensure_library
from modelsteward.monitoring.prometheus import MonitorCollector
from modelsteward.serving.service import Serving

# Multipart framing and the spec field ride on top of the artifact bytes.
_ENVELOPE_BYTES = 2 * 1024 * 1024


def create_app(steward: Steward | None = None) -> FastAPI:
    owned = steward is None
    steward = steward or Steward()
    ensure_bootstrap_admin(steward)
    ensure_library(steward)

    serving = Serving(steward)
    serving.metrics.registry.register(MonitorCollector(steward))
    serving.metrics.registry.register(EventCollector(steward))
    serving.metrics.registry.register(AlertCollector(steward))

    scheduler = background_work(steward)
    # Cluster subscribers are delivered where background work runs; process ones here.
    dispatcher = Dispatcher(
        steward, scopes=("cluster", "process") if scheduler.enabled else ("process",)
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        serving.start()
        scheduler.start()
        dispatcher.start()
        yield
        dispatcher.stop()
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
    app.state.dispatcher = dispatcher
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
        events.router,
        channels.router,
        channels.log_router,
        alerts.router,
        alerts.rules_router,
        alerts.silences_router,
        training.router,
        training.runs_router,
    ):
        app.include_router(router)
    _mount_web(app)
    limits = BodyLimits(
        json_bytes=steward.settings.max_json_bytes,
        upload_bytes=steward.settings.max_upload_bytes + _ENVELOPE_BYTES,
        uploads=upload_routes(app.routes),
    )
    app.add_middleware(BodyLimitMiddleware, limits=limits)
    # A Host outside STEWARD_ALLOWED_HOSTS is refused before anything reads the request:
    # a DNS-rebinding page cannot reach a local server under its own name.
    app.add_middleware(
        TrustedHostMiddleware,
        allowed_hosts=list(steward.settings.allowed_hosts),
        www_redirect=False,
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def _mount_web(app: FastAPI) -> None:
    try:
        from modelsteward.web.app import mount
    except ImportError:
        return
    mount(app)
