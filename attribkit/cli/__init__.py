"""The ``attribkit`` command: ``attribkit demo`` and one command per technique.

Every command takes the same options where they apply (``--model``, ``--layer``, ``--target``
given as an index or an ImageNet class name, ``--steps``, ``--size``, ``--seed``, ``--out``,
``--device``, ``--no-progress``), writes PNGs, and prints where. Bad arguments get a message
and exit code 2, never a traceback. Each command group lives in its own module (parsing plus
the recipe's calls); this module puts them together.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence

from attribkit.cli import attribution, demo, faststyle, inside, style, synthesis
from attribkit.cli.common import Command, UsageError, add_common, check_numbers

__all__ = ["main", "build_parser", "COMMANDS", "Command", "UsageError"]

#: Every sub-command, in the order ``attribkit --help`` lists them.
COMMANDS: list[Command] = [
    *demo.COMMANDS,
    *attribution.COMMANDS,
    *inside.COMMANDS,
    *synthesis.COMMANDS,
    *style.COMMANDS,
    *faststyle.COMMANDS,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="attribkit",
        description="Visualize and understand convolutional networks (offline).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  attribkit demo --quick\n  attribkit saliency chelsea\n"
        "  attribkit COMMAND --help",
    )
    from attribkit import __version__

    parser.add_argument("--version", action="version", version=f"attribkit {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS:
        sp = subs.add_parser(
            cmd.name,
            help=cmd.help,
            description=cmd.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog="examples:\n" + textwrap.indent(cmd.examples, "  "),
        )
        add_common(sp, cmd.options, 224)
        if cmd.add_arguments:
            cmd.add_arguments(sp)
        sp.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        check_numbers(args)
        return int(args._run(args))
    except (UsageError, ValueError, TypeError, FileNotFoundError) as err:
        print(f"attribkit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
