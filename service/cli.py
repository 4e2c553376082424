"""The `tcpr` command line (DESIGN.md §8): serve, token create, replay, simulate, watch,
verify-audit, migrate."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from service.settings import Settings

if TYPE_CHECKING:
    import httpx

    from service.identity import Identities
    from service.store.tokens import TokenInfo


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = Settings()
    if args.no_migrate:
        settings.migrate_on_start = False
    if args.demo:
        if settings.migrate_on_start:
            from service.store.db import migrate

            migrate(settings.database_url)
        token = asyncio.run(_create_token(settings, "supervisor", ["DEMO"], "demo-supervisor"))
        # The demo's calls are answered by tc-114, tc-207...: this console is tc-114's.
        console = asyncio.run(_create_token(settings, "telecommunicator", ["DEMO"], "tc-114"))
        reviewer = asyncio.run(_create_token(settings, "qi", ["DEMO"], "demo-qi"))
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        print(
            f"demo: agency DEMO, supervisor token {token}\n"
            f"demo: open http://{host}:{args.port}/ui/#token={token} (supervisor board)\n"
            f"demo: open http://{host}:{args.port}/ui/panel.html#token={console} "
            "(telecommunicator tc-114)\n"
            f"demo: open http://{host}:{args.port}/ui/qi.html#token={reviewer} "
            "(QI review and measures)",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(settings, demo=args.demo)
    uvicorn.run(
        app,
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


async def _create_token(
    settings: Settings,
    role: str,
    agencies: list[str],
    name: str | None,
    expires_at: datetime | None = None,
) -> str:
    async with _identities(settings) as identities:
        _, token = await identities.tokens.issue(
            role, agencies, name, expires_at, created_by=_operator()
        )
        return token


@contextlib.asynccontextmanager
async def _identities(settings: Settings) -> AsyncIterator[Identities]:
    """The token and session stores over the configured database, for one command."""
    from service.identity import Identities
    from service.store.browser_sessions import BrowserSessionStore
    from service.store.db import create_engine, sessionmaker
    from service.store.tokens import TokenStore

    engine = create_engine(settings.database_url)
    try:
        tokens = TokenStore(sessionmaker(engine))
        lifetime = timedelta(hours=settings.session_hours)
        yield Identities(tokens, BrowserSessionStore(sessionmaker(engine), tokens, lifetime))
    finally:
        await engine.dispose()


def _operator() -> str:
    """Who issued a token from the command line, for `created_by`."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _token_create(args: argparse.Namespace) -> int:
    from service.store.db import migrate

    if args.expires_at is not None and args.expires_at.tzinfo is None:
        print("tcpr token create: --expires-at needs a UTC offset (e.g. Z)", file=sys.stderr)
        return 2
    expires_at = args.expires_at or (
        datetime.now(UTC) + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    )
    if expires_at is not None and expires_at <= datetime.now(UTC):
        print("tcpr token create: --expires-at must be in the future", file=sys.stderr)
        return 2
    settings = Settings()
    migrate(settings.database_url)
    try:
        token = asyncio.run(_create_token(settings, args.role, args.agency, args.name, expires_at))
    except ValueError as exc:
        print(f"tcpr token create: {exc}", file=sys.stderr)
        return 2
    print(token)  # only the token (DESIGN.md §8)
    return 0


def _token_list(args: argparse.Namespace) -> int:
    """One JSON object a line per token (never a secret or hash), revoked ones included."""

    async def run() -> list[TokenInfo]:
        async with _identities(Settings()) as identities:
            return await identities.tokens.listing()

    for info in asyncio.run(run()):
        if args.agency is None or args.agency in info.agencies:
            print(json.dumps(info.as_json()))
    return 0


async def _broadcast_revocation(token_id: int) -> None:
    """Tell running services through a shared broker (Redis, NATS), so they close the token's
    websockets at once; with the in-process broker they find it by their periodic check."""
    from service.broker import broker_for
    from service.revocations import channel, message

    settings = Settings()
    if settings.broker_url.startswith("memory:"):
        return
    broker = broker_for(settings.broker_url)
    await broker.connect()
    try:
        await broker.publish(channel(settings), message(token_id=token_id))
    finally:
        await broker.disconnect()


def _token_revoke(args: argparse.Namespace) -> int:
    """Revoke a token and end its sessions; running services see it within seconds."""

    async def run() -> bool:
        async with _identities(Settings()) as identities:
            if await identities.tokens.get(args.id) is None:
                return False
            await identities.revoke_token(args.id)
            await _broadcast_revocation(args.id)
            return True

    if not asyncio.run(run()):
        print(f"tcpr token revoke: no token {args.id}", file=sys.stderr)
        return 1
    print(f"tcpr token revoke: token {args.id} revoked", file=sys.stderr)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from service.store.db import migrate

    migrate(Settings().database_url, args.revision)
    return 0


def _prompts_check(args: argparse.Namespace) -> int:
    """Check a protocol pack (or a folder of packs) before a director's version goes live."""
    from service.protocols import check, load

    folder = Path(args.dir)
    folders = (
        [folder]
        if (folder / "manifest.json").exists()
        else sorted(f for f in folder.iterdir() if f.is_dir())
        if folder.is_dir()
        else []
    )
    if not folders:
        print(
            f"tcpr prompts check: {folder}: no pack (a folder with manifest.json)", file=sys.stderr
        )
        return 1
    failed = 0
    for pack_folder in folders:
        problems = check(pack_folder)
        if problems:
            failed += 1
            for problem in problems:
                print(f"{pack_folder}: {problem}", file=sys.stderr)
            continue
        pack = load(pack_folder)
        signed = (
            "a sample, signed by no medical director"
            if pack.sample
            else f"signed by {pack.signed_by} at {pack.signed_at.isoformat()}"
        )
        print(
            f"{pack_folder}: ok: {pack.protocol} ({pack.language}), {signed}, in force from "
            f"{pack.effective_from.isoformat()}"
        )
    return 1 if failed else 0


def _verify_audit(args: argparse.Namespace) -> int:
    """Re-compute each agency's event hash chain; name the first event where one breaks."""
    from service.store.chain_store import verify
    from service.store.db import create_engine

    settings = Settings()
    url = args.database_url or settings.database_url

    async def run() -> int:
        engine = create_engine(url)
        try:
            verdicts = await verify(engine, settings.chain_key, args.agency)
        finally:
            await engine.dispose()
        for v in verdicts:
            if v.broken is None:
                print(f"{v.agency}: {v.count} events, head {v.head}, ok")
                continue
            b = v.broken
            where = f"seq {b.seq} (event_id {b.event_id!r}, call_id {b.call_id!r})"
            print(
                f"{v.agency}: FAILED at {where if b.seq is not None else 'the head'}: "
                f"{b.problem}: {b.detail}"
            )
        if not verdicts:
            print("no events and no chain heads")
        return 0 if all(v.ok for v in verdicts) else 1

    return asyncio.run(run())


def retry_after(response: httpx.Response, default: float) -> float:
    """The seconds a 429's Retry-After asks for (capped at a minute), else `default`."""
    value = response.headers.get("retry-after", "")
    return min(float(value), 60.0) if value.isdigit() else default


def _play_into(
    command: str, records: list[dict[str, object]], url: str, token: str, speed: float
) -> tuple[int, int]:
    """Play records into the service at `url` with their recorded gaps divided by `speed`;
    returns (sent, refused). Used by `tcpr replay` and `tcpr simulate --url`."""
    import httpx

    from service.replay import play

    refused = 0

    async def run() -> int:
        nonlocal refused
        endpoint = url.rstrip("/") + "/api/v1/events"
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(timeout=30) as client:

            async def send(batch: list[dict[str, object]]) -> None:
                nonlocal refused
                for attempt in range(10):
                    try:
                        response = await client.post(endpoint, json=batch, headers=headers)
                    except httpx.TransportError as exc:
                        print(f"tcpr {command}: {exc}; retrying", file=sys.stderr)
                        await asyncio.sleep(min(2**attempt * 0.2, 5))
                        continue
                    if response.status_code >= 500 or response.status_code == 429:
                        # Over a rate limit: not refused, only early; wait as told.
                        await asyncio.sleep(retry_after(response, min(2**attempt * 0.2, 5)))
                        continue
                    if response.status_code != 200 and len(batch) > 1:
                        # A batch is all-or-nothing: send its events one by one so only the
                        # bad one is refused (and kept by the service) and the feed goes on.
                        for one in batch:
                            await send([one])
                        return
                    if response.status_code != 200:
                        refused += len(batch)
                        print(
                            f"tcpr {command}: refused {response.status_code}: {response.text}",
                            file=sys.stderr,
                        )
                    return
                raise SystemExit(f"tcpr {command}: giving up on {endpoint}")

            return await play(records, send, speed)

    sent = asyncio.run(run())
    return sent, refused


def _replay(args: argparse.Namespace) -> int:
    from service.replay import RecordingError, load_jsonl, retime

    token = args.token or os.environ.get("TCPR_TOKEN")
    if not token:
        print("tcpr replay: give --token or set TCPR_TOKEN (an adapter token)", file=sys.stderr)
        return 2
    try:
        records = load_jsonl(Path(args.file))
    except (OSError, RecordingError) as exc:
        print(f"tcpr replay: {exc}", file=sys.stderr)
        return 2
    if args.retime:
        suffix = datetime.now(UTC).strftime("-%Y%m%d%H%M%S") if args.unique else ""
        records = retime(records, datetime.now(UTC), suffix)
    sent, refused = _play_into("replay", records, args.url, token, args.speed)
    print(json.dumps({"sent": sent, "refused": refused}))
    return 1 if refused else 0


def _simulate(args: argparse.Namespace) -> int:
    """Write simulated calls as JSON lines (`--out`, else stdout) and, with `--url`, play them."""
    from cad_adapters.simulator import simulate

    token = args.token or os.environ.get("TCPR_TOKEN")
    if args.url and not token:
        print("tcpr simulate: with --url give --token or set TCPR_TOKEN", file=sys.stderr)
        return 2
    start = args.start or datetime.now(UTC).replace(microsecond=0)
    if start.tzinfo is None:
        print("tcpr simulate: --start needs a UTC offset (e.g. +00:00 or Z)", file=sys.stderr)
        return 2
    records = simulate(
        start,
        calls=args.calls,
        rate_per_hour=args.rate,
        agency=args.agency,
        seed=args.seed,
        cad_only=args.cad_only,
        zone=start.tzinfo,
    )
    try:
        played = list(records) if args.url else None  # play() needs them all; else stream
        lines = (json.dumps(r) + "\n" for r in (records if played is None else played))
        if args.out:
            with open(args.out, "w", encoding="utf-8") as out:
                out.writelines(lines)
        elif played is None:
            sys.stdout.writelines(lines)
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader had enough (`tcpr simulate | head`): not an error. Point stdout at
        # /dev/null so the interpreter's own final flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, ValueError) as exc:
        print(f"tcpr simulate: {exc}", file=sys.stderr)
        return 2
    if played is None:
        return 0
    sent, refused = _play_into("simulate", played, args.url, token or "", args.speed)
    print(json.dumps({"sent": sent, "refused": refused}))
    return 1 if refused else 0


def _watch(args: argparse.Namespace) -> int:
    """Print what a panel receives, one JSON message a line (for people and scripts)."""
    import websockets

    token = args.token or os.environ.get("TCPR_TOKEN")
    if not token:
        print("tcpr watch: give --token or set TCPR_TOKEN", file=sys.stderr)
        return 2
    url = args.url.rstrip("/")
    url = url.replace("http://", "ws://").replace("https://", "wss://")
    url = url if url.endswith("/ws") else url + "/ws"

    async def run() -> int:
        async with websockets.connect(url, max_size=None) as ws:
            auth: dict[str, object] = {"type": "auth", "token": token}
            if args.since is not None:
                auth["since"] = args.since
            await ws.send(json.dumps(auth))
            try:
                async for message in ws:
                    print(message, flush=True)
            except websockets.ConnectionClosedError as exc:
                reason = exc.rcvd.reason if exc.rcvd else "connection lost"
                print(f"tcpr watch: closed: {reason}", file=sys.stderr)
                return 1
        return 0

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        return 0


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tcpr", description="T-CPR call-taker assist service")
    commands = parser.add_subparsers(dest="command", required=True)

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

    token = commands.add_parser("token", help="manage bearer tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="print a new bearer token")
    create.add_argument(
        "--role",
        required=True,
        choices=["telecommunicator", "supervisor", "qi", "admin", "adapter"],
    )
    create.add_argument("--agency", required=True, action="append", help="repeat for several")
    create.add_argument("--name")
    expiry = create.add_mutually_exclusive_group()
    expiry.add_argument(
        "--expires-in-days", "--expires-days", dest="expires_in_days", type=_positive
    )
    expiry.add_argument("--expires-at", type=datetime.fromisoformat, help="RFC 3339 with offset")
    create.set_defaults(run=_token_create)
    listing = token_commands.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--agency", help="only tokens naming this agency")
    listing.set_defaults(run=_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token and end its sessions")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=_token_revoke)

    replay = commands.add_parser("replay", help="play a JSON-lines recording into a service")
    replay.add_argument("file")
    replay.add_argument("--url", default="http://127.0.0.1:8000")
    replay.add_argument(
        "--speed", type=_positive, default=1.0, help="recorded gaps divided by this"
    )
    replay.add_argument("--token", help="adapter token (default: $TCPR_TOKEN)")
    replay.add_argument(
        "--retime", action="store_true", help="shift times so the first event is now"
    )
    replay.add_argument(
        "--unique", action="store_true", help="with --retime: suffix ids to make new calls"
    )
    replay.set_defaults(run=_replay)

    sim = commands.add_parser(
        "simulate", help="write (or play) realistic simulated calls as JSON lines"
    )
    sim.add_argument("--calls", type=int, default=10, help="how many calls (default 10)")
    sim.add_argument(
        "--rate", type=_positive, help="calls per hour, a Poisson process (default 12)"
    )
    sim.add_argument(
        "--seed", type=int, default=911, help="the same seed and start, the same calls"
    )
    sim.add_argument("--agency", default="SIM")
    sim.add_argument(
        "--cad-only", action="store_true", help="only what a CAD sends (training: work the panel)"
    )
    sim.add_argument(
        "--start",
        type=datetime.fromisoformat,
        help="the first call's T0, RFC 3339 with offset (default now); times are in its offset",
    )
    sim.add_argument("--out", help="write the JSON lines here (default stdout)")
    sim.add_argument("--url", help="also play them into this service, like tcpr replay")
    sim.add_argument("--token", help="with --url: adapter token (default: $TCPR_TOKEN)")
    sim.add_argument(
        "--speed", type=_positive, default=1.0, help="with --url: gaps divided by this"
    )
    sim.set_defaults(run=_simulate)

    watch = commands.add_parser("watch", help="print the websocket messages a panel receives")
    watch.add_argument("--url", default="http://127.0.0.1:8000")
    watch.add_argument("--token", help="a watching token (default: $TCPR_TOKEN)")
    watch.add_argument("--since", type=int, help="resume after this sequence")
    watch.set_defaults(run=_watch)

    from cad_adapters.cli import add_commands as add_adapter_commands

    add_adapter_commands(commands)

    audit = commands.add_parser(
        "verify-audit",
        help="re-compute the event hash chains; name the first altered or missing event",
    )
    audit.add_argument("--agency", action="append", help="only this agency (repeat for several)")
    audit.add_argument("--database-url", help="default: $TCPR_DATABASE_URL")
    audit.set_defaults(run=_verify_audit)

    prompts = commands.add_parser("prompts", help="T-CPR protocol packs")
    prompt_commands = prompts.add_subparsers(dest="prompts_command", required=True)
    prompt_check = prompt_commands.add_parser(
        "check", help="check a pack folder (manifest and texts), or each pack in a folder"
    )
    prompt_check.add_argument("dir")
    prompt_check.set_defaults(run=_prompts_check)

    mig = commands.add_parser("migrate", help="migrate the database (once, before replicas)")
    mig.add_argument("revision", nargs="?", default="head")
    mig.set_defaults(run=_migrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
