"""Shared helpers for the benchmarks: the bare network cost, measured as the platform's best.

Run all benchmarks with::

    python -m pytest benchmarks --benchmark-only --benchmark-json=bench.json
    python benchmarks/report.py bench.json
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import pytest
import torch


def best_per_image_forward(
    model: torch.nn.Module,
    image_shape: Sequence[int],
    batch_sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
    images_per_trial: int = 64,
    grad: bool = False,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> tuple[float, str]:
    """Seconds per image of the bare forward (or forward+backward) pass, minimised over batch
    sizes and memory formats, and the winning configuration.

    ``device`` and ``dtype`` are those of the input (the model must already be there); on
    CUDA the clock waits for the device (:func:`synchronize`)."""
    best, where = float("inf"), ""
    for channels_last in (False, True):
        for bs in batch_sizes:
            x = torch.rand(bs, *image_shape, device=device, dtype=dtype)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            if grad:
                x.requires_grad_(True)
            runs = max(1, images_per_trial // bs)

            def once(x: torch.Tensor = x) -> None:
                if grad:
                    model(x).sum().backward()
                else:
                    with torch.no_grad():
                        model(x)

            once()  # warm-up
            synchronize(device)
            t0 = time.perf_counter()
            for _ in range(runs):
                once()
            synchronize(device)
            per_image = (time.perf_counter() - t0) / (runs * bs)
            if per_image < best:
                best = per_image
                where = f"batch {bs}{', channels_last' if channels_last else ''}"
    return best, where


def synchronize(device: torch.device | str) -> None:
    """Wait for queued work on a CUDA ``device`` (a no-op elsewhere), so a clock reads true."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def best_config(
    model: torch.nn.Module, image_shape: Sequence[int], **options: object
) -> tuple[int, bool, str]:
    """``(batch size, channels_last, description)`` of the fastest bare forward per image
    (``options``: the keywords of :func:`best_per_image_forward`)."""
    _, where = best_per_image_forward(model, image_shape, **options)  # type: ignore[arg-type]
    bs = int(where.split()[1].rstrip(","))
    return bs, "channels_last" in where, where


def bare_forwards(
    model: torch.nn.Module,
    image_shape: Sequence[int],
    n: int,
    batch: int,
    channels_last: bool,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Callable[[], None]:
    """A function running ``n`` bare forward passes under no_grad at the given configuration
    (on CUDA it returns once the device is done)."""
    x = torch.rand(batch, *image_shape, device=device, dtype=dtype)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)

    def run() -> None:
        with torch.no_grad():
            done = 0
            while done < n:
                k = min(batch, n - done)
                model(x[:k])
                done += k
        synchronize(device)

    return run


@pytest.fixture(scope="session")
def lite0() -> torch.nn.Module:
    from attribkit import efficientnet_lite0

    model = efficientnet_lite0()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def record(benchmark: object, role: str, **info: object) -> None:
    """Tag a benchmark with its role (``ours``, ``peer``, ``bare``) for benchmarks/report.py."""
    extra = getattr(benchmark, "extra_info")  # noqa: B009
    extra["role"] = role
    extra.update(info)


Runner = Callable[[], object]
