"""The optimization loop on EfficientNet-Lite0.

Groups (each compares, in one run, ours against the peer and/or the bare network cost):

- ``optvis-loop-<size>``: ``optimize`` (pixel image, Adam, class logit, no transforms) vs the
  bare forward+backward(+Adam step) for the same number of steps on one image.
- ``optvis-16ch-<size>``: 16 channels of ``_blocks.10`` as one batch of 16 vs 16 sequential runs.
- ``optvis-lucent-224``: ``optimize`` vs Lucent's ``render_vis`` with the same FFT decorrelated
  image, transforms (Lucent's standard set without the rotation, whose kornia call is gone from
  current kornia: pad 12, jitter 8, scale 0.9–1.1, jitter 4), objective (channel 3 of
  ``_blocks.10``), Adam lr 0.05 and steps.

Run::

    OMP_NUM_THREADS=2 .venv/bin/python -m pytest benchmarks/bench_optvis.py --benchmark-only \
        --benchmark-json=bench-optvis.json
    .venv/bin/python benchmarks/report.py bench-optvis.json
"""

from __future__ import annotations

import pytest
import torch
from conftest import record

from attribkit.optvis import (
    Compose,
    DecorrelatedColor,
    FFTImage,
    Jitter,
    Pad,
    PixelImage,
    RandomScale,
    channel,
    class_logit,
    optimize,
)

SIZE, STEPS = 128, 10
CH_SIZE, CH_STEPS, N_CH = 64, 5, 16


def test_loop_ours(benchmark, lite0):
    benchmark.group = f"optvis-loop-{SIZE}"

    def run() -> None:
        optimize(
            lite0,
            class_logit(285),
            PixelImage((1, 3, SIZE, SIZE), seed=0),
            steps=STEPS,
            show_progress=False,
            seed=0,
        )

    run()  # warm-up
    benchmark.pedantic(run, rounds=3, iterations=1)
    record(benchmark, "ours", steps=STEPS, size=SIZE)


def test_loop_bare(benchmark, lite0):
    benchmark.group = f"optvis-loop-{SIZE}"
    x = torch.rand(1, 3, SIZE, SIZE).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.05)

    def run() -> None:
        for _ in range(STEPS):
            opt.zero_grad()
            (-lite0(x)[:, 285].sum()).backward()
            opt.step()

    run()
    benchmark.pedantic(run, rounds=3, iterations=1)
    record(benchmark, "bare", steps=STEPS, size=SIZE, what="forward+backward+Adam, same batch")


def test_channels_batched(benchmark, lite0):
    benchmark.group = f"optvis-16ch-{CH_SIZE}"

    def run() -> None:
        optimize(
            lite0,
            channel("_blocks.10", list(range(N_CH))),
            PixelImage((N_CH, 3, CH_SIZE, CH_SIZE), seed=0),
            steps=CH_STEPS,
            show_progress=False,
            seed=0,
        )

    run()
    benchmark.pedantic(run, rounds=2, iterations=1)
    record(benchmark, "ours", channels=N_CH, steps=CH_STEPS, mode="one batch of 16")


def test_channels_sequential(benchmark, lite0):
    benchmark.group = f"optvis-16ch-{CH_SIZE}"

    def run() -> None:
        for c in range(N_CH):
            optimize(
                lite0,
                channel("_blocks.10", c),
                PixelImage((1, 3, CH_SIZE, CH_SIZE), seed=0),
                steps=CH_STEPS,
                show_progress=False,
                seed=0,
            )

    benchmark.pedantic(run, rounds=2, iterations=1)
    record(benchmark, "peer", channels=N_CH, steps=CH_STEPS, mode="16 sequential runs")


LUCENT_STEPS = 8
SCALES = [1 + (i - 5) / 50 for i in range(11)]


def test_vs_lucent_ours(benchmark, lite0):
    benchmark.group = "optvis-lucent-224"

    def run() -> None:
        param = DecorrelatedColor(FFTImage((1, 3, 224, 224), seed=0))
        tf = Compose(Pad(12, mode="constant", value=0.5), Jitter(8), RandomScale(SCALES), Jitter(4))
        optimize(
            lite0,
            channel("_blocks.10", 3),
            param,
            transforms=tf,
            steps=LUCENT_STEPS,
            optimizer="adam",
            lr=0.05,
            show_progress=False,
            seed=0,
        )

    run()
    benchmark.pedantic(run, rounds=2, iterations=1)
    record(benchmark, "ours", steps=LUCENT_STEPS)


def test_vs_lucent_render_vis(benchmark):
    render = pytest.importorskip("lucent.optvis.render")
    lparam = pytest.importorskip("lucent.optvis.param")
    ltf = pytest.importorskip("lucent.optvis.transform")
    from attribkit import efficientnet_lite0

    model = efficientnet_lite0()  # Lucent leaves hooks on the model: give it its own copy
    benchmark.group = "optvis-lucent-224"

    def run() -> None:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            tfs = [
                ltf.pad(12, mode="constant", constant_value=0.5),
                ltf.jitter(8),
                ltf.random_scale(SCALES),
                ltf.jitter(4),
            ]
            render.render_vis(
                model,
                "_blocks_10:3",
                lambda: lparam.image(224),
                transforms=tfs,
                thresholds=(LUCENT_STEPS,),
                preprocess=False,
                progress=False,
                show_image=False,
            )

    run()
    benchmark.pedantic(run, rounds=2, iterations=1)
    record(benchmark, "peer", steps=LUCENT_STEPS, note="hooks every module, full forward")
