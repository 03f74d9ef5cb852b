"""Command ``demo``: every technique's recipe, offline, into one HTML report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from attribkit.cli.common import Command, UsageError, device_arg, model_arg

__all__ = ["COMMANDS"]


def _run_demo(args: argparse.Namespace) -> int:
    from attribkit.demo import run_demo, section_keys

    keys = section_keys()
    if args.only:
        unknown = [k for k in args.only if k not in keys]
        if unknown:
            raise UsageError(f"--only: unknown section(s) {unknown}; choose from {keys}")
    model, name = model_arg(args)
    report = run_demo(
        args.out,
        quick=args.quick,
        only=args.only,
        model=model,
        model_name=name,
        seed=args.seed,
        device=device_arg(args),
        show_progress=args.progress,
    )
    print(f"wrote {Path(args.out) / 'index.html'}")
    for sec in report.failed:
        first = (sec.error or "").splitlines()[0]
        print(f"section {sec.key} failed: {first}", file=sys.stderr)
    return 1 if report.failed else 0


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small step counts (minutes on a CPU)")
    p.add_argument("--only", nargs="+", metavar="SECTION", help="run only these sections")
    p.set_defaults(out="demo-out")


COMMANDS: list[Command] = [
    Command(
        "demo",
        "run every technique offline and write an HTML report",
        "attribkit demo --quick --out demo-out\nattribkit demo --only saliency occlusion",
        ("model", "seed", "out", "device", "no-progress"),
        _run_demo,
        _demo_arguments,
    )
]
