"""What the command modules share to declare their arguments."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# The `tcpr` subcommands each module adds its own to.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return number
