"""`tcpr watch`: print what a panel receives, one JSON message a line (for people and scripts)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from service.cli.arguments import Commands


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


def add_commands(commands: Commands) -> None:
    watch = commands.add_parser("watch", help="print the websocket messages a panel receives")
    watch.add_argument("--url", default="http://127.0.0.1:8000")
    watch.add_argument("--token", help="a watching token (default: $TCPR_TOKEN)")
    watch.add_argument("--since", type=int, help="resume after this sequence")
    watch.set_defaults(run=_watch)
