"""`tcpr verify-audit`: re-compute each agency's event hash chain from the database."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable

from service.cli.arguments import Commands
from service.settings import Settings


async def chains_hold(url: str, key: bytes | None, agencies: Iterable[str] | None = None) -> bool:
    """Re-compute each agency's chain and print one line per agency, naming the first event
    where one breaks; whether every chain held. `tcpr backup` and `restore` check with it too."""
    from service.store.chain_store import verify
    from service.store.db import create_engine, dispose

    engine = create_engine(url)
    try:
        verdicts = await verify(engine, key, agencies)
    finally:
        await dispose(engine)
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
    return all(v.ok for v in verdicts)


def _verify_audit(args: argparse.Namespace) -> int:
    """Re-compute each agency's hash chain; name the first event where one breaks."""
    settings = Settings()
    url = args.database_url or settings.database_url
    return 0 if asyncio.run(chains_hold(url, settings.chain_key, args.agency)) else 1


def add_commands(commands: Commands) -> None:
    audit = commands.add_parser(
        "verify-audit",
        help="re-compute the event hash chains; name the first altered or missing event",
    )
    audit.add_argument("--agency", action="append", help="only this agency (repeat for several)")
    audit.add_argument("--database-url", help="default: $TCPR_DATABASE_URL")
    audit.set_defaults(run=_verify_audit)
