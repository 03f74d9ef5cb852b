"""Sizes, rows and timing helpers of ``benchmarks/gpu.py`` (issue #15).

:func:`interleave` times ours, the peer and the bare cost round by round; :func:`best_bare`
finds the bare network's best batch size and memory format (input and model layouts) with
``conftest.best_per_image_forward``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from conftest import best_per_image_forward, synchronize  # noqa: E402

__all__ = ["ESTIMATE", "QUICK", "Result", "Sizes", "best_bare", "config_of", "dtype_name",
           "guarded", "interleave", "void"]  # fmt: skip

ESTIMATE = {
    # Captum's default twice per model (4.29 s, 3.02 s); ours, bare and the bare search ~20 s
    "occlusion": 4.29 * 2 + 3.02 * 2 + 20,
    "saliency": 2,
    # two rounds of: Lucent 1 channel, ours 16 channels, bare 1 and 16 channels, 512 steps
    "featvis": (13.2 + 11.1 + 8.4 + 11.1) * 2 + 5,
    # 60 steps, ours and bare, warm-up + 5 rounds, two optimizers, VGG-19 and Lite0
    "gatys": 60 * (3.4 + 10.6) * 1e-3 * 2 * 6 * 2 + 10,
    "faststyle": 15,
}


@dataclass(frozen=True)
class Sizes:
    """Image sizes, windows, steps and rounds of one run (full GPU sizes or ``--quick``)."""

    occ: int = 224
    sal: int = 224
    fv: int = 128
    fv_steps: int = 512
    fv_channels: int = 16
    gatys: int = 512
    gatys_steps: int = 60
    fast: tuple[int, ...] = (512, 1024)
    rounds: int = 5
    peer_rounds: int = 2
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)


QUICK = Sizes(
    occ=64, sal=64, fv=48, fv_steps=3, fv_channels=4, gatys=64, gatys_steps=4,
    fast=(32, 64), rounds=2, peer_rounds=1, batch_sizes=(1, 4),
)  # fmt: skip


@dataclass
class Result:
    """One row of the table: medians in seconds (or seconds per step), ratios, the target."""

    key: str
    work: str
    target: str
    unit: str = "s"
    times: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    meets: bool | None = None
    notes: list[str] = field(default_factory=list)


def interleave(
    calls: dict[str, Callable[[], float | None]],
    rounds: int,
    device: torch.device,
    peers: Sequence[str] = (),
    peer_rounds: int = 1,
    warm: bool = True,
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Time the calls round by round (so load drifts hit all alike); medians and samples.

    A call returning a float reports its own time (per step, say); else the wall time counts.
    Calls named in ``peers`` run only in the first ``peer_rounds`` rounds and get no warm-up;
    ``warm=False``: none does (the caller warmed them up more cheaply).
    """
    for name, call in calls.items():
        if warm and name not in peers:
            call()  # warm-up (cuDNN autotuning, allocator)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for r in range(rounds):
        for name, call in calls.items():
            if name in peers and r >= peer_rounds:
                continue
            synchronize(device)
            t0 = time.perf_counter()
            own = call()
            synchronize(device)
            samples[name].append(own if own is not None else time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in samples.items()}, samples


def best_bare(
    model: nn.Module, shape: Sequence[int], dev: torch.device, batch_sizes: Sequence[int],
    **kw: Any,
) -> tuple[float, str]:
    """Best bare seconds per image over batch sizes, input layouts and model layouts."""
    best = (math.inf, "")
    for model_cl in (False, True):
        if model_cl:
            model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        try:
            t, where = best_per_image_forward(
                model, shape, batch_sizes, max(batch_sizes), device=dev, **kw
            )
        finally:
            model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
        if t < best[0]:
            best = (t, where + (", model channels_last" if model_cl else ""))
    return best


def config_of(where: str) -> tuple[int, bool, bool]:
    """``(batch, input channels_last, model channels_last)`` of a :func:`best_bare` answer."""
    parts = [p.strip() for p in where.split(",")]
    return int(parts[0].split()[1]), "channels_last" in parts, "model channels_last" in parts


def guarded(key: str, make: Callable[[], Result]) -> Result:
    """``make()``, or a row that carries the error (one broken case must not lose the rest)."""
    try:
        return make()
    except Exception as err:  # noqa: BLE001 - reported in the row, the table and the JSON
        return Result(key, key, "—", notes=[f"error {type(err).__name__}: {err}"])


def dtype_name(dtype: torch.dtype) -> str:
    return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def void(call: Callable[[], object]) -> Callable[[], None]:
    """``call`` with its result dropped (the wall time of the call is what counts)."""

    def run() -> None:
        call()

    return run
