"""`tcpr prompts check`: check a protocol pack before a medical director's version goes live."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.cli.arguments import Commands


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


def add_commands(commands: Commands) -> None:
    prompts = commands.add_parser("prompts", help="T-CPR protocol packs")
    prompt_commands = prompts.add_subparsers(dest="prompts_command", required=True)
    prompt_check = prompt_commands.add_parser(
        "check", help="check a pack folder (manifest and texts), or each pack in a folder"
    )
    prompt_check.add_argument("dir")
    prompt_check.set_defaults(run=_prompts_check)
