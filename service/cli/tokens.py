"""`tcpr token create|list|revoke`: bearer tokens, straight in the configured database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from service.cli.arguments import Commands, positive
from service.settings import Settings

if TYPE_CHECKING:
    from service.identity import Identities
    from service.store.tokens import TokenInfo


async def create_token(
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
    from service.store.db import create_engine, dispose, sessionmaker
    from service.store.tokens import TokenStore

    engine = create_engine(settings.database_url)
    try:
        tokens = TokenStore(sessionmaker(engine))
        lifetime = timedelta(hours=settings.session_hours)
        yield Identities(tokens, BrowserSessionStore(sessionmaker(engine), tokens, lifetime))
    finally:
        await dispose(engine)


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
        token = asyncio.run(create_token(settings, args.role, args.agency, args.name, expires_at))
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


def add_commands(commands: Commands) -> None:
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
        "--expires-in-days", "--expires-days", dest="expires_in_days", type=positive
    )
    expiry.add_argument("--expires-at", type=datetime.fromisoformat, help="RFC 3339 with offset")
    create.set_defaults(run=_token_create)
    listing = token_commands.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--agency", help="only tokens naming this agency")
    listing.set_defaults(run=_token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token and end its sessions")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=_token_revoke)
