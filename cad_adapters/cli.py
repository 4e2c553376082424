"""`tcpr adapter run|check|status CONFIG`: the CAD adapters' command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any


def _config(args: argparse.Namespace) -> Any:
    from cad_adapters.config import ConfigError, load

    try:
        return load(Path(args.config))
    except ConfigError as exc:
        print(f"tcpr adapter: {exc}", file=sys.stderr)
        return None


def _run(args: argparse.Namespace) -> int:
    from cad_adapters.config import ConfigError
    from cad_adapters.runner import run

    config = _config(args)
    if config is None:
        return 2

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        report = await run(config, stop)
        print(report.json(), flush=True)
        # 1: something needs a look (bad records kept as rejects, refusals in the dead-letter
        # file, entries still spooled); nothing is lost either way.
        return 0 if report.spooled == report.refused == report.bad == 0 else 1

    try:
        return asyncio.run(main())
    except ConfigError as exc:
        print(f"tcpr adapter: {exc}", file=sys.stderr)
        return 2


def _check(args: argparse.Namespace) -> int:
    from cad_adapters.runner import check

    config = _config(args)
    if config is None:
        return 2
    try:
        results = check(config, Path(args.sample), args.limit)
    except Exception as exc:  # a mapping that does not load: say so, plainly
        print(f"tcpr adapter check: {exc}", file=sys.stderr)
        return 2
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    return 1 if any("error" in r for r in results) else 0


def _status(args: argparse.Namespace) -> int:
    from cad_adapters.runner import status

    config = _config(args)
    if config is None:
        return 2
    print(json.dumps(status(config), indent=2, default=str))
    return 0


def add_commands(commands: Any) -> None:
    adapter = commands.add_parser("adapter", help="attach a CAD: run an adapter from its config")
    sub = adapter.add_subparsers(dest="adapter_command", required=True)
    run = sub.add_parser("run", help="read the configured source and deliver it to the service")
    run.add_argument("config", help="the adapter's TOML configuration file")
    run.set_defaults(run=_run)
    check = sub.add_parser("check", help="parse a sample file and print its events or errors")
    check.add_argument("config")
    check.add_argument("sample", help="a sample of the CAD's output")
    check.add_argument("--limit", type=int, default=None, help="stop after this many records")
    check.set_defaults(run=_check)
    state = sub.add_parser("status", help="what waits in the spool and the dead-letter file")
    state.add_argument("config")
    state.set_defaults(run=_status)
