"""Style transfer and Efros–Leung timings.

Style transfer (EfficientNet-Lite0, style = stem activation + _blocks.0,2,4,7,10, content
_blocks.4, reflect pad 16): time per optimizer step of ``StyleTransfer.transfer`` (measured
between consecutive callbacks, so target extraction is excluded) against the bare
forward+backward of the network truncated after ``_blocks.10`` on the same padded input
(role ``bare``), and against a plain hand-written Gatys loop that runs the whole network with
hooks (role ``peer``), at 256 and 512 px.

Efros–Leung: the vectorized :func:`attribkit.style.efros_leung` against the straightforward
reference loop below (one Python loop over sample windows per pixel), on the same problem.

OMP_NUM_THREADS=1 .venv/bin/python -m pytest benchmarks/bench_style.py -o addopts="" \
    --benchmark-enable --benchmark-json=bench-style.json
.venv/bin/python benchmarks/report.py bench-style.json
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import record

from attribkit.data import sample_image
from attribkit.layers import forward_to
from attribkit.style import StyleTransfer, efros_leung, gram_matrix

STEPS = 6
STYLE = ["stem_act", "_blocks.0", "_blocks.2", "_blocks.4", "_blocks.7", "_blocks.10"]


def _images(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    return sample_image("chelsea", size=size), sample_image("starry_night", size=size)


def _step_times() -> tuple[list[float], object]:
    times: list[float] = []

    def cb(step: int, state: object) -> None:
        times.append(time.perf_counter())

    return times, cb


@pytest.mark.parametrize("size", [256, 512])
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_style_step_attribkit(benchmark, lite0, size, optimizer):
    content, style = _images(size)
    st = StyleTransfer(lite0)
    per_step: list[float] = []

    def run() -> None:
        times, cb = _step_times()
        st.transfer(content, style, steps=STEPS, optimizer=optimizer, callbacks=[cb],
                    show_progress=False, seed=0)
        per_step.extend(b - a for a, b in zip(times, times[1:]))

    benchmark.group = f"style-step-{size}-{optimizer}"
    benchmark.pedantic(run, rounds=2, iterations=1)
    record(benchmark, "ours", steps=STEPS, per_step_s=statistics.median(per_step))


@pytest.mark.parametrize("size", [256, 512])
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_style_step_bare_truncated(benchmark, lite0, size, optimizer):
    content, _ = _images(size)
    x = F.pad(content, (16,) * 4, mode="reflect").requires_grad_(True)

    def once() -> None:
        acts = forward_to(lite0, x, STYLE)
        sum(a.pow(2).mean() for a in acts.values()).backward()  # type: ignore[union-attr]
        x.grad = None

    once()
    times = []

    def run() -> None:
        for _ in range(STEPS):
            t0 = time.perf_counter()
            once()
            times.append(time.perf_counter() - t0)

    benchmark.group = f"style-step-{size}-{optimizer}"
    benchmark.pedantic(run, rounds=2, iterations=1)
    record(benchmark, "bare", steps=STEPS, per_step_s=statistics.median(times),
           what="forward_to(_blocks.10) + backward, same padded input")


@pytest.mark.parametrize("size", [256])
def test_style_step_plain_gatys_loop(benchmark, lite0, size):
    """What one writes by hand: hooks, the whole network, Adam on the pixels."""
    content, style = _images(size)
    pad = (16,) * 4

    def feats(img: torch.Tensor) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        handles = [dict(lite0.named_modules())[n].register_forward_hook(
            lambda m, i, o, n=n: out.__setitem__(n, o)) for n in STYLE]
        try:
            lite0(F.pad(img, pad, mode="reflect"))
        finally:
            for h in handles:
                h.remove()
        return out

    with torch.no_grad():
        gs = {k: gram_matrix(v) for k, v in feats(style).items()}
        fc = feats(content)["_blocks.4"]
    times: list[float] = []

    def run() -> None:
        x = content.clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=0.02)
        for _ in range(STEPS):
            t0 = time.perf_counter()
            f = feats(x.clamp(0, 1))
            loss = sum(((gram_matrix(f[k]) - gs[k]) ** 2).sum() / (gs[k] ** 2).sum()
                       for k in STYLE) * 100 / len(STYLE)
            loss = loss + ((f["_blocks.4"] - fc) ** 2).sum() / (fc**2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)

    benchmark.group = f"style-step-{size}-adam"
    benchmark.pedantic(run, rounds=2, iterations=1)
    record(benchmark, "peer", steps=STEPS, per_step_s=statistics.median(times),
           what="hand-written loop, full network with hooks")


def reference_efros_leung(sample: np.ndarray, size: int, window: int, seed: int = 0,
                          epsilon: float = 0.1, max_error: float = 0.3) -> np.ndarray:
    """The straightforward algorithm: for each pixel, loop over every sample window."""
    rng = np.random.default_rng(seed)
    c, sh, sw = sample.shape
    half = window // 2
    r = np.arange(window) - (window - 1) / 2
    sigma = window / 6.4
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    out = np.zeros((c, size + 2 * half, size + 2 * half))
    known = np.zeros((size + 2 * half, size + 2 * half), dtype=bool)
    o = half + (size - 3) // 2
    out[:, o : o + 3, o : o + 3] = sample[:, 10:13, 10:13]
    known[o : o + 3, o : o + 3] = True
    threshold = max_error
    while known[half:-half, half:-half].sum() < size * size:
        progress = False
        ys, xs = np.nonzero(~known)
        frontier = [(y, x) for y, x in zip(ys, xs)
                    if half <= y < size + half and half <= x < size + half
                    and known[y - 1 : y + 2, x - 1 : x + 2].any()]
        for y, x in frontier:
            tmpl = out[:, y - half : y + half + 1, x - half : x + half + 1]
            wts = g * known[y - half : y + half + 1, x - half : x + half + 1]
            total = wts.sum() * c
            ssd = []
            for py in range(sh - window + 1):
                for px in range(sw - window + 1):
                    patch = sample[:, py : py + window, px : px + window]
                    ssd.append(float((((patch - tmpl) ** 2) * wts).sum() / total))
            ssd_a = np.array(ssd)
            cand = np.nonzero(ssd_a <= ssd_a.min() * (1 + epsilon))[0]
            k = int(rng.choice(cand))
            if ssd_a[k] <= threshold:
                py, px = divmod(k, sw - window + 1)
                out[:, y, x] = sample[:, py + half, px + half]
                known[y, x] = True
                progress = True
        if not progress:
            threshold *= 1.1
    return out[:, half:-half, half:-half]


EL_SIZE = 24  # the reference loop needs minutes beyond this


def _el_sample() -> torch.Tensor:
    return sample_image("gravel", size=64)[:, :1]


def test_efros_leung_attribkit(benchmark):
    s = _el_sample()
    benchmark.group = f"efros-leung-{EL_SIZE}px-from-64px-w11"
    benchmark.pedantic(lambda: efros_leung(s, EL_SIZE, 11, seed=0, show_progress=False),
                       rounds=3, iterations=1)
    record(benchmark, "ours")


def test_efros_leung_attribkit_64(benchmark):
    s = _el_sample()
    benchmark.group = "efros-leung-64px-from-64px-w11"
    benchmark.pedantic(lambda: efros_leung(s, 64, 11, seed=0, show_progress=False),
                       rounds=1, iterations=1)
    record(benchmark, "ours", pixels=64 * 64)


def test_efros_leung_reference_loop(benchmark):
    s = _el_sample()[0].double().numpy()
    benchmark.group = f"efros-leung-{EL_SIZE}px-from-64px-w11"
    benchmark.pedantic(lambda: reference_efros_leung(s, EL_SIZE, 11), rounds=1, iterations=1)
    record(benchmark, "peer", what="reference loop over sample windows (numpy)",
           pixels=EL_SIZE * EL_SIZE, windows=(64 - 10) ** 2)
    assert math.isfinite(benchmark.stats.stats.median)
