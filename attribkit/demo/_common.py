"""Small helpers shared by the demo sections."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from attribkit.demo import DemoContext
from attribkit.models.imagenet import Prediction, predict

__all__ = ["demo_photos", "top1", "timed"]


def demo_photos(ctx: DemoContext) -> list[str]:
    """Photos a section shows: two in quick mode, four in full mode."""
    return ["chelsea", "coffee"] if ctx.quick else ["chelsea", "coffee", "grace_hopper", "china"]


def top1(ctx: DemoContext, image: torch.Tensor) -> Prediction:
    """The model's top class for one image."""
    return predict(ctx.model, image, topk=1)[0][0]


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` holds the seconds taken."""
    out = [0.0]
    start = time.perf_counter()
    try:
        yield out
    finally:
        out[0] = time.perf_counter() - start
