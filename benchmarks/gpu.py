"""GPU figures (issue #15): every headline ratio of attribkit, peers timed in the same process.

Run on the accelerator (about 3 minutes on an H200 by the issue's anchors, see
``gpu_timing.ESTIMATE``)::

    python benchmarks/gpu.py                       # --device cuda
    python benchmarks/gpu.py --rows occlusion,saliency --rounds 7

It writes ``benchmarks/results/gpu.json`` (each row's times, ratios and target; the device;
torch, CUDA, cuDNN and driver versions) and prints the markdown table of
``docs/performance.md``. ``--device cpu --quick`` is a smoke run of the same code on tiny sizes
and few steps (a few minutes on 2 cores): it writes ``benchmarks/results/gpu-cpu-smoke.json``
and says on every line that its numbers are not GPU figures.

Rows (issue #15's table), each compared in one interleaved loop (median of ``--rounds``):

- ``occlusion-resnet50-{fp32,bf16}``, ``occlusion-lite0-fp32``: attribkit's default
  ``Occlusion`` call (and ``incremental=False`` where the option exists) vs Captum's default
  (one perturbation per pass, fp32) vs the bare cost of the same forward passes at the best
  batch size and memory format (input and model layouts).
- ``saliency-resnet50``: ``Saliency`` vs Captum's vs one bare forward + backward to the input.
- ``featvis-resnet50-layer3``: 16 channels as one batch (``optimize``, FFT decorrelated image,
  Lucent's transforms without rotation) vs Lucent ``render_vis`` of one channel vs the bare
  forward to ``layer3`` + backward + Adam at batch 1 and 16.
- ``gatys-{vgg19,lite0}-{adam,lbfgs}``: ``StyleTransfer``'s time per loss evaluation (between
  callbacks; L-BFGS's line search evaluates about twice a step) vs the bare forward to the
  deepest layer + backward on the same padded input.
- ``faststyle-transformer-{512,1024}``, ``faststyle-multistyle-512``: ``stylize`` per image vs
  the network's bare forward (best batch and memory format); ``half=True`` (CUDA) with its
  PSNR against fp32.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).parent))
if TYPE_CHECKING:  # torch and the rows load after the arguments are checked (fast refusals)
    import torch
    from gpu_timing import Result

RESULTS = Path(__file__).parent / "results"
#: The row groups, in run order (the keys of ``gpu_rows.ROWS``).
ROW_NAMES = ("occlusion", "saliency", "featvis", "gatys", "faststyle")
SMOKE_BANNER = "CPU SMOKE RUN (tiny sizes, few steps): these are NOT GPU figures"


def _driver() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def environment(dev: torch.device) -> dict[str, Any]:
    """Device name and the versions that decide the figures."""
    import torch

    cuda = dev.type == "cuda"
    return {
        "device": torch.cuda.get_device_name(dev) if cuda else f"CPU ({platform.machine()})",
        "device_type": dev.type,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "driver": _driver() if cuda else None,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "captum": _version("captum"),
        "torch_lucent": _version("torch-lucent"),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average": os.getloadavg(),
    }


def _fmt(seconds: float | None, unit: str) -> str:
    if seconds is None:
        return "—"
    per = unit[1:]  # "s" → "", "s/eval" → "/eval" (seconds per forward + backward)
    return f"{seconds * 1e3:.2f} ms{per}" if seconds < 1 else f"{seconds:.2f} s{per}"


def markdown(results: list[Result], info: dict[str, Any], smoke: bool) -> str:
    """The table for ``docs/performance.md``: ours, peer, bare, ratios, target, met."""
    lines = []
    if smoke:
        lines.append(f"> **{SMOKE_BANNER}.**\n")
    lines += [
        f"Measured on {info['device']}, torch {info['torch']}, CUDA {info['cuda']}, "
        f"cuDNN {info['cudnn']}, driver {info['driver']}; median of interleaved rounds.\n",
        "| row | work | ours | peer | bare | ratios | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours = {k: v for k, v in r.times.items() if k.startswith("ours")}
        peer = {k: v for k, v in r.times.items() if k.split()[0] in ("captum", "lucent")}
        bare = {k: v for k, v in r.times.items() if k.startswith("bare")}

        def cell(group: dict[str, float], unit: str = r.unit) -> str:
            return "<br>".join(f"{k}: {_fmt(v, unit)}" for k, v in group.items()) or "—"

        ratios = "<br>".join(f"{k} {v:.2f}" for k, v in r.ratios.items()) or "—"
        met = "smoke" if smoke else {True: "yes", False: "**no**", None: "—"}[r.meets]
        if r.notes and r.notes[0].startswith("error"):
            met = f"error: {r.notes[0][6:80]}"
        lines.append(
            f"| {r.key} | {r.work} | {cell(ours)} | {cell(peer)} | {cell(bare)} | {ratios} "
            f"| {r.target} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the selected rows, write the JSON after each, print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:1 or cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few steps (smoke)")
    parser.add_argument("--rows", default=",".join(ROW_NAMES), help=f"any of {','.join(ROW_NAMES)}")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per row (default 5)")
    parser.add_argument("--out", type=Path, help="JSON path (default benchmarks/results/…)")
    args = parser.parse_args(argv)
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(rows) - set(ROW_NAMES))
    if unknown or not rows:
        parser.error(f"unknown rows {unknown}; choose from {','.join(ROW_NAMES)}")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    import torch

    try:
        dev = torch.device(args.device)
    except RuntimeError as err:
        parser.error(f"--device: {err}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but CUDA is not available; use --device cpu --quick")
    from gpu_rows import ROWS
    from gpu_timing import ESTIMATE, QUICK, Result, Sizes

    assert tuple(ROWS) == ROW_NAMES, "ROW_NAMES must list gpu_rows.ROWS"
    sizes = QUICK if args.quick else Sizes()
    if args.rounds is not None:
        sizes = dataclasses.replace(sizes, rounds=args.rounds)
    smoke = dev.type != "cuda"
    out = args.out or RESULTS / ("gpu-cpu-smoke.json" if smoke else "gpu.json")
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if smoke:
        print(SMOKE_BANNER, flush=True)
    estimate = sum(ESTIMATE[r] for r in rows)
    print(f"rows: {', '.join(rows)}; H200 estimate at full sizes ≈ {estimate / 60:.1f} min",
          flush=True)  # fmt: skip
    info = environment(dev)
    record: dict[str, Any] = {
        "smoke": smoke,
        "note": SMOKE_BANNER if smoke else "GPU figures",
        "command": " ".join(["python", "benchmarks/gpu.py", *(argv or sys.argv[1:])]),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "sizes": dataclasses.asdict(sizes),
        **info,
        "rows": [],
    }
    results: list[Result] = []
    t_all = time.perf_counter()
    for name in rows:
        t0 = time.perf_counter()
        try:
            new = ROWS[name](dev, sizes)
        except Exception as err:  # noqa: BLE001 - one broken row must not lose the others
            new = [Result(name, name, "—", notes=[f"error {type(err).__name__}: {err}"])]
        results += new
        for r in new:
            ratios = ", ".join(f"{k} {v:.2f}" for k, v in r.ratios.items())
            print(f"{'[CPU smoke] ' if smoke else ''}{r.key}: {ratios or r.notes}", flush=True)
        record["rows"] = [dataclasses.asdict(r) for r in results]
        record[f"wall_s_{name}"] = round(time.perf_counter() - t0, 2)
        record["wall_s"] = round(time.perf_counter() - t_all, 2)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {out} in {record['wall_s']:.0f} s\n")
    print(markdown(results, info, smoke))
    return 1 if any(r.notes and r.notes[0].startswith("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
