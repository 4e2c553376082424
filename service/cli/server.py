"""`tcpr serve` (with `--demo`, which mints the demo's tokens first) and `tcpr migrate`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from service.cli.arguments import Commands
from service.cli.tokens import create_token
from service.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app
    from service.log_format import uvicorn_config

    settings = Settings()
    if args.no_migrate:
        settings.migrate_on_start = False
    if args.demo:
        from service.demo import DEMO_AGENCY, DEMO_TRAINING_AGENCY

        # A training agency beside the demo's, unless the operator configured one of that name.
        settings.agencies.setdefault(DEMO_TRAINING_AGENCY, {"training": True})
        if settings.migrate_on_start:
            from service.store.db import migrate

            migrate(settings.database_url)
        token = asyncio.run(create_token(settings, "supervisor", ["DEMO"], "demo-supervisor"))
        # The demo's calls are answered by tc-114, tc-207...: this console is tc-114's.
        console = asyncio.run(create_token(settings, "telecommunicator", ["DEMO"], "tc-114"))
        reviewer = asyncio.run(create_token(settings, "qi", ["DEMO"], "demo-qi"))
        both = [DEMO_AGENCY, DEMO_TRAINING_AGENCY]
        trainer = asyncio.run(create_token(settings, "supervisor", both, "demo-trainer"))
        trainee = asyncio.run(create_token(settings, "telecommunicator", both, "demo-trainee"))
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        print(
            f"demo: agency DEMO, supervisor token {token}\n"
            f"demo: open http://{host}:{args.port}/ui/#token={token} (supervisor board)\n"
            f"demo: open http://{host}:{args.port}/ui/panel.html#token={console} "
            "(telecommunicator tc-114)\n"
            f"demo: open http://{host}:{args.port}/ui/qi.html#token={reviewer} "
            "(QI review and measures)\n"
            f"demo: open http://{host}:{args.port}/ui/trainer.html#token={trainer} "
            f"(trainer: training agency {DEMO_TRAINING_AGENCY}, trainee demo-trainee)\n"
            f"demo: open http://{host}:{args.port}/ui/panel.html#token={trainee} "
            "(the trainee's panel)",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(settings, demo=args.demo)
    uvicorn.run(
        app,
        log_config=uvicorn_config(settings.log_format),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ws="websockets-sansio",
        # X-Forwarded-Proto decides the service's own origin (the CSRF and websocket Origin
        # checks): believe it only where a proxy in front is said to set it.
        proxy_headers=settings.trust_proxy_headers,
        # Panel messages are small and go to many sockets: compressing each one per socket
        # costs more CPU than it saves on a LAN.
        ws_per_message_deflate=False,
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from service.store.db import migrate

    migrate(Settings().database_url, args.revision)
    return 0


def add_serve(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="also play the recorded demo feed")
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not migrate the database on start (replicas sharing a database)",
    )
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)


def add_migrate(commands: Commands) -> None:
    mig = commands.add_parser("migrate", help="migrate the database (once, before replicas)")
    mig.add_argument("revision", nargs="?", default="head")
    mig.set_defaults(run=_migrate)
