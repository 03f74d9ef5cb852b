"""Fast style transfer: stylizing speed vs the bare network and vs optimization-based transfer.

Run (2-core CPU):

    OMP_NUM_THREADS=2 .venv/bin/pytest benchmarks/bench_faststyle.py --benchmark-enable \
        --benchmark-columns=min,median,rounds -p no:cacheprovider

Compared in the same run, per image at 256, 512 and 1024 px:

* ``stylize`` — :func:`attribkit.style.stylize` with the shipped network (padding, checks,
  state handling included);
* ``bare_net`` — the same network's forward pass alone, the best of batch sizes 1 and 4 (1 only
  at 1024 px) and of the contiguous and channels-last memory formats, per call (divide by the
  batch for per-image figures: pytest-benchmark times the call);
* ``convs_only`` — only the network's convolutions on tensors of their input shapes (a lower
  bound: no normalization, padding, upsampling or activation);
* ``optimization`` — optimization-based transfer (Gatys) on the same content, style and size
  with the same backbone and losses: ``FASTSTYLE_BENCH_OPT_STEPS`` L-BFGS steps (default 300).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attribkit.style import MultiStyleNet, load_shipped_model, stylize

SIZES = (256, 512, 1024)
OPT_STEPS = int(os.environ.get("FASTSTYLE_BENCH_OPT_STEPS", "300"))


@pytest.fixture(scope="module")
def net() -> MultiStyleNet:
    try:
        return load_shipped_model()
    except FileNotFoundError:  # before the model is trained: same architecture, same cost
        return MultiStyleNet(4, width=16, n_residual=5).eval()


def _image(size: int) -> torch.Tensor:
    from attribkit.data import sample_image

    return sample_image("chelsea", size=size)


def _best_bare(
    net: MultiStyleNet, size: int
) -> tuple[torch.memory_format, int, Callable[[], None]]:
    """The fastest (batch size, memory format) for the bare forward, per image.

    Returns the memory format the network must be in, and the call to time.
    """
    best: tuple[float, torch.memory_format, int, Callable[[], None]] | None = None
    for batch in (1,) if size >= 1024 else (1, 4):
        for fmt in (torch.contiguous_format, torch.channels_last):
            x = torch.rand(batch, 3, size, size).contiguous(memory_format=fmt)
            w = torch.zeros(batch, net.n_styles)
            w[:, 0] = 1

            def run(x: torch.Tensor = x, w: torch.Tensor = w) -> None:
                with torch.no_grad():
                    net(x, w)

            net.to(memory_format=fmt)
            run()
            t = time.perf_counter()
            run()
            per_image = (time.perf_counter() - t) / batch
            if best is None or per_image < best[0]:
                best = (per_image, fmt, batch, run)
    net.to(memory_format=torch.contiguous_format)
    assert best is not None
    return best[1], best[2], best[3]


def _convs_only(net: MultiStyleNet, size: int) -> Callable[[], None]:
    shapes: list[tuple[nn.Conv2d, tuple[int, ...]]] = []
    hooks = [
        m.register_forward_hook(lambda mod, inp, _o: shapes.append((mod, tuple(inp[0].shape))))
        for m in net.modules()
        if isinstance(m, nn.Conv2d)
    ]
    try:
        with torch.no_grad():
            net(torch.rand(1, 3, size, size), 0)
    finally:
        for h in hooks:
            h.remove()
    inputs = [(conv, torch.rand(shape)) for conv, shape in shapes]

    def run() -> None:
        with torch.no_grad():
            for conv, x in inputs:
                F.conv2d(x, conv.weight, conv.bias, conv.stride)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_stylize(benchmark, net: MultiStyleNet, size: int) -> None:  # noqa: ANN001
    x = _image(size)
    out = benchmark.pedantic(lambda: stylize(net, x, 0), rounds=3, warmup_rounds=1)
    assert out.shape == x.shape


@pytest.mark.parametrize("size", SIZES)
def test_bare_net(benchmark, net: MultiStyleNet, size: int) -> None:  # noqa: ANN001
    fmt, batch, run = _best_bare(net, size)
    benchmark.extra_info.update(batch=batch, memory_format=str(fmt))
    net.to(memory_format=fmt)
    try:
        benchmark.pedantic(run, rounds=3, warmup_rounds=0)
    finally:
        net.to(memory_format=torch.contiguous_format)


@pytest.mark.parametrize("size", SIZES)
def test_convs_only(benchmark, net: MultiStyleNet, size: int) -> None:  # noqa: ANN001
    benchmark.pedantic(_convs_only(net, size), rounds=3, warmup_rounds=1)


def test_optimization_256(benchmark) -> None:  # noqa: ANN001
    """Gatys transfer at 256 px: ``attribkit.style.StyleTransfer`` (L-BFGS) when present, else a
    plain L-BFGS loop over the same ``PerceptualLoss`` the network was trained with."""
    from attribkit.data import sample_image
    from attribkit.models import efficientnet_lite0

    bb = efficientnet_lite0()
    content = _image(256)
    style = sample_image("starry_night", size=256, crop=None)
    try:
        from attribkit.style.transfer import StyleTransfer
    except ImportError:
        StyleTransfer = None  # noqa: N806
    if StyleTransfer is not None:
        st = StyleTransfer(bb)

        def run() -> torch.Tensor:
            return st.transfer(content, style, steps=OPT_STEPS, show_progress=False, seed=0)

    else:
        from attribkit.style.losses import PerceptualLoss
        from attribkit.style.train import EFFICIENTNET_CONTENT_LAYERS, EFFICIENTNET_STYLE_LAYERS

        loss = PerceptualLoss(
            bb,
            EFFICIENTNET_CONTENT_LAYERS,
            EFFICIENTNET_STYLE_LAYERS,
            style_weight=100.0,
            tv_weight=10.0,
        )
        loss.set_content(content)
        loss.set_style(style)

        def run() -> torch.Tensor:
            x = content.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
            opt = torch.optim.LBFGS(
                [x], max_iter=OPT_STEPS, tolerance_grad=0.0, tolerance_change=0.0
            )

            def closure() -> torch.Tensor:
                opt.zero_grad()
                total = loss(x.clamp(0, 1)).total.sum()
                total.backward()
                return total

            opt.step(closure)
            return x.detach().clamp(0, 1)

    out = benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    assert out.shape == content.shape
