"""`tcpr replay` and `tcpr simulate`: recorded or simulated calls, as JSON lines, played into a
running service through its events API the way an adapter posts them."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from service.cli.arguments import Commands, positive

# Tries at one batch before the command gives up on the service.
MAX_TRIES = 10
# The longest wait between two tries at a batch.
MAX_WAIT_S = 5.0


def _play_into(
    command: str, records: list[dict[str, object]], url: str, token: str, speed: float
) -> tuple[int, int]:
    """Play records into the service at `url` with their recorded gaps divided by `speed`;
    returns (sent, refused). Used by `tcpr replay` and `tcpr simulate --url`."""
    import httpx

    from cad_adapters.waiting import Backoff, gave_no_verdict, retry_after
    from service.replay import play

    refused = 0

    async def run() -> int:
        nonlocal refused
        endpoint = url.rstrip("/") + "/api/v1/events"
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(timeout=30) as client:

            async def send(batch: list[dict[str, object]]) -> None:
                nonlocal refused
                backoff = Backoff(MAX_WAIT_S)
                for _ in range(MAX_TRIES):
                    try:
                        response = await client.post(endpoint, json=batch, headers=headers)
                    except httpx.TransportError as exc:
                        print(f"tcpr {command}: {exc}; retrying", file=sys.stderr)
                        await asyncio.sleep(backoff.next())
                        continue
                    if gave_no_verdict(response.status_code):
                        # Down or over a rate limit: not refused, only early; wait as told.
                        await asyncio.sleep(retry_after(response, backoff.next()))
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


def add_commands(commands: Commands) -> None:
    replay = commands.add_parser("replay", help="play a JSON-lines recording into a service")
    replay.add_argument("file")
    replay.add_argument("--url", default="http://127.0.0.1:8000")
    replay.add_argument("--speed", type=positive, default=1.0, help="recorded gaps divided by this")
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
    sim.add_argument("--rate", type=positive, help="calls per hour, a Poisson process (default 12)")
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
    sim.add_argument("--speed", type=positive, default=1.0, help="with --url: gaps divided by this")
    sim.set_defaults(run=_simulate)
