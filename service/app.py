"""The one place that wires everything: `create_app(settings)` plus its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import ui
from contract import logs
from contract.event import Event
from contract.wire import CanonicalEvent
from service import __version__
from service.api import (
    access_log,
    audits,
    board,
    debriefs,
    docs,
    eido,
    ems,
    events,
    feedback,
    feeds,
    health,
    metrics,
    protocols,
    rejects,
    reports,
    signin,
    tokens,
    training_hours,
    training_sessions,
    ws,
)
from service.api.deps import Services
from service.api.headers import SecurityHeaders
from service.api.nul_guard import RefuseNul
from service.api.ratelimit import Limits
from service.api.request_ids import RequestIds
from service.broker import broker_for
from service.clock import Clock, system_clock
from service.feeds import FeedWatch
from service.hub import Hub
from service.identity import Identities
from service.live import LiveView
from service.metrics import LiveState, Metrics
from service.oidc import OidcVerifier
from service.protocols import Library
from service.revocations import Revocations
from service.scheduler import AlertScheduler
from service.settings import Settings
from service.store.browser_sessions import BrowserSessionStore
from service.store.db import create_engine, dispose, is_sqlite, migrate, sessionmaker
from service.store.events import EventStore
from service.store.rejects import RejectStore
from service.store.tokens import TokenStore
from service.store.training_sessions import TrainingSessions
from service.training.sessions import Training
from service.triage.call_state import CallState

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, demo: bool = False, clock: Clock = system_clock
) -> FastAPI:
    """The service; `clock` is what the live view, alert timers, hub and feed watch read as now
    (the system clock; a test's clock makes deadlines fall due without waiting them out)."""
    settings = settings or Settings()
    logs.install()
    meters = Metrics()  # this app's own registry: each replica, each test's app, its own figures

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        oidc = await _oidc(settings)  # first: a misconfiguration stops the start, holding nothing
        protocols = Library(settings.prompts_dir)  # a bad pack stops the start, naming it
        if settings.migrate_on_start:
            await asyncio.to_thread(
                migrate, settings.database_url, "head", settings.chain_key, settings.agency_config
            )
        engine = create_engine(settings.database_url)
        sessions = sessionmaker(engine)
        store = EventStore(
            sessions,
            postgres=not is_sqlite(settings.database_url),
            config_for=settings.agency_config,
            chain_key=settings.chain_key,
            writer_thread=settings.sqlite_writer_thread,
        )
        broker = broker_for(settings.broker_url)
        await broker.connect()
        live = LiveView(store, broker, settings, clock=clock)
        hub = Hub(settings, clock=clock)
        scheduler = AlertScheduler(live, store, settings, clock=clock, metrics=meters)
        live.listen(hub.on_update)
        live.on_gone(hub.on_gone)
        live.listen(scheduler.on_update)

        async def committed(
            events: list[Event], new_calls: set[tuple[str, str]], states: list[CallState]
        ) -> None:
            meters.committed(events)
            await live.committed(events, new_calls, states)

        store.on_commit = committed
        token_store = TokenStore(sessions)
        identities = Identities(
            token_store,
            BrowserSessionStore(sessions, token_store, timedelta(hours=settings.session_hours)),
            oidc,
        )
        services = Services(
            settings=settings,
            store=store,
            rejects=RejectStore(sessions, meters.refused),
            tokens=token_store,
            broker=broker,
            live=live,
            hub=hub,
            scheduler=scheduler,
            sessions=sessions,
            limits=Limits(settings),
            identities=identities,
            revocations=Revocations(identities, hub, broker, settings),
            feeds=FeedWatch(settings, broker, hub.broadcast, clock=clock),
            protocols=protocols,
            metrics=meters,
            clock=clock,
            training=Training(store, TrainingSessions(sessions), clock=clock),
        )
        live.listen(services.feeds.on_update)
        unwatch = meters.watch(
            LiveState(
                clock=clock,
                panels=lambda: len(hub.panels()),
                gap_fills=lambda: live.gap_fills,
                live_calls=lambda: len(live.calls),
                feeds=lambda: services.feeds.agencies.items(),
            )
        )
        app.state.services = services
        await live.start()
        scheduler.start()
        await services.revocations.start()
        await services.feeds.start(await store.last_feed_events())
        demo_task = None
        if demo:
            from service.demo import run_demo

            demo_task = asyncio.create_task(run_demo(store), name="demo-feed")
        # What start-up built (modules, settings, the live calls rebuilt from the log) lives as
        # long as the process: frozen out of the collector's sight, so a full collection under
        # load walks only what the traffic made. Measured: push p99 to 50 panels 80-87 ms
        # without, 43-46 ms with (bench push, 200 ev/s).
        gc.collect()
        gc.freeze()
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            unwatch()
            if demo_task is not None:
                demo_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await demo_task
            await services.training.close()
            await services.feeds.stop()
            await services.revocations.stop()
            await scheduler.stop()
            await live.stop()
            await broker.disconnect()
            await store.close()
            await dispose(engine)

    app = FastAPI(
        title="tcpr-assist",
        version=__version__,
        summary="Real-time telecommunicator CPR assist: CAD events in, prompts, alerts, audits.",
        lifespan=lifespan,
        # /docs is served by service.api.docs from installed files, never a CDN. ReDoc needs
        # inline styles (styled-components), which the content security policy refuses; /docs
        # (Swagger UI) describes the same API.
        docs_url=None,
        redoc_url=None,
    )
    app.state.ready = False
    app.include_router(health.router)
    app.include_router(metrics.router)
    events.install(app)
    app.include_router(rejects.router)
    app.include_router(board.router)
    app.include_router(audits.router)
    app.include_router(feedback.router)
    app.include_router(debriefs.router)
    app.include_router(reports.router)
    app.include_router(ems.router)
    app.include_router(eido.router)
    app.include_router(access_log.router)
    app.include_router(signin.router)
    app.include_router(tokens.router)
    app.include_router(training_hours.router)
    app.include_router(ws.router)
    app.include_router(feeds.router)
    app.include_router(protocols.router)
    app.include_router(training_sessions.router)
    app.include_router(docs.router)
    app.mount(docs.ASSETS_PATH, docs.assets(), name="docs-assets")
    app.add_middleware(RefuseNul)
    # The wire model is referenced by the hand-written request body schema of POST /events.
    app.openapi_schema = None
    _register_schema(app)
    ui_dir = Path(ui.__file__).parent
    app.mount("/ui", StaticFiles(directory=ui_dir, html=True), name="ui")
    app.add_middleware(
        SecurityHeaders, hsts_seconds=settings.hsts_seconds, docs_path=docs.DOCS_PATH
    )
    app.add_middleware(RequestIds)  # outermost: every answer, refusals from the others too
    return app


async def _oidc(settings: Settings) -> OidcVerifier | None:
    """The OpenID Connect verifier with its keys loaded, when an issuer is configured."""
    if not settings.oidc_issuer:
        return None
    verifier = OidcVerifier(settings)
    await verifier.load()
    return verifier


def _register_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["CanonicalEvent"] = CanonicalEvent.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
