"""The `tcpr` command line (DESIGN.md §8): serve, token create, replay, simulate, watch,
verify-audit, backup, restore, migrate. Each module here holds one group of commands and
declares its own arguments; this one puts them together in the order `tcpr --help` lists them."""

from __future__ import annotations

import argparse
import logging
import os

from service.cli import audit, backup, prompts, recordings, server, tokens, watch
from service.log_format import formatter


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tcpr", description="T-CPR call-taker assist service")
    commands = parser.add_subparsers(dest="command", required=True)
    server.add_serve(commands)
    tokens.add_commands(commands)
    recordings.add_commands(commands)
    watch.add_commands(commands)

    from cad_adapters.cli import add_commands as add_adapter_commands

    add_adapter_commands(commands)
    audit.add_commands(commands)
    backup.add_commands(commands)
    prompts.add_commands(commands)
    server.add_migrate(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    handler = logging.StreamHandler()
    json_lines = os.environ.get("TCPR_LOG_FORMAT", "text").strip().lower() == "json"
    handler.setFormatter(formatter("json" if json_lines else "text"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    args = build_parser().parse_args(argv)
    return int(args.run(args))
