"""``oson-operator`` subcommands: access."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to the ``oson-operator`` parser."""


def run(args: argparse.Namespace) -> int | None:
    """Run the chosen subcommand if it is one of this module's; None otherwise."""
    return None
