"""Fooling images on EfficientNet-Lite0: our ``FoolingImage`` (PGD update, no early stop) vs
``captum.robust.PGD`` vs the bare forward+backward cost, 10 steps on two 224 px photos.

Run::

    OMP_NUM_THREADS=2 .venv/bin/python -m pytest benchmarks/bench_adversarial.py --benchmark-only \
        --benchmark-json=bench-adv.json && .venv/bin/python benchmarks/report.py bench-adv.json
"""

from __future__ import annotations

import torch
from captum.robust import PGD
from conftest import record
from torch import nn

from attribkit.adversarial import FoolingImage
from attribkit.data import sample_image

STEPS, TARGET = 10, 948


def _photos() -> torch.Tensor:
    return torch.cat([sample_image(n, size=224) for n in ("chelsea", "coffee")])


def test_fool_ours(benchmark, lite0):
    benchmark.group = "fool-pgd-224"
    x = _photos()
    f = FoolingImage(lite0)
    benchmark.pedantic(
        lambda: f.perturb(x, TARGET, steps=STEPS, method="pgd", threshold=1.0, show_progress=False),
        rounds=2,
        iterations=1,
        warmup_rounds=1,
    )
    record(benchmark, "ours", steps=STEPS, batch=2)


def test_fool_captum(benchmark, lite0):
    benchmark.group = "fool-pgd-224"
    x = _photos()
    pgd = PGD(lite0, nn.CrossEntropyLoss(reduction="none"), lower_bound=0.0, upper_bound=1.0)
    benchmark.pedantic(
        lambda: pgd.perturb(
            x,
            radius=8 / 255,
            step_size=0.8 / 255,
            step_num=STEPS,
            target=torch.full((2,), TARGET),
            targeted=True,
        ),
        rounds=2,
        iterations=1,
        warmup_rounds=1,
    )
    record(benchmark, "peer", steps=STEPS, batch=2)


def test_fool_bare(benchmark, lite0):
    benchmark.group = "fool-pgd-224"
    x = _photos()

    def run() -> None:
        for _ in range(STEPS):
            xg = x.clone().requires_grad_(True)
            lite0(xg)[:, TARGET].sum().backward()

    benchmark.pedantic(run, rounds=2, iterations=1, warmup_rounds=1)
    record(benchmark, "bare", steps=STEPS, batch=2, what="forward+backward wrt input")
