"""Incremental occlusion against full passes: EfficientNet-Lite0, ResNet-18, ResNet-50, VGG-16.

One 224×224 photo (chelsea), window 16 stride 8 (729 windows) and window 8 stride 4 (3025
windows). Each test times, interleaved in the same run and repeated (``ROUNDS``):

- ``incremental``: attribkit's default call, ``Occlusion(model).attribute(x, k, strides=s,
  target=t)`` (exact incremental inference);
- ``full passes``: today's batched full passes, ``Occlusion(model, incremental=False)``;
- ``captum``: Captum's default call (``perturbations_per_eval=1``);
- ``approximate``: ``approximate=True`` (projective-field threshold and drill-down);

and once per model the best bare full passes: the fastest forward pass per image over batch
sizes and memory formats (``benchmarks/conftest.py::best_per_image_forward``) times the number
of windows plus one. Full-pass loops cost the same for every batch, so where a full run would
take longer than ``ATTRIBKIT_BENCH_BUDGET`` seconds (default 60) they are timed over their first
batches and extrapolated (the table says so); ``ATTRIBKIT_BENCH_BUDGET=inf`` runs them whole.
``ATTRIBKIT_BENCH_MODELS`` (comma-separated) and ``ATTRIBKIT_BENCH_ROUNDS`` (default 2) narrow a
quick run. It also records the error of the exact map (sampled window positions against full forward
passes, next to the float32 noise between two full-pass layouts) and the approximate map's
agreement with the exact one (correlation, top-10% overlap).

Run (one command; ``-s`` shows the table as it fills)::

    python -m pytest benchmarks/bench_occlusion_incremental.py -o addopts="" \\
        --benchmark-enable --benchmark-only --benchmark-json=occl.json -s
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torchvision
from captum.attr import Occlusion as CaptumOcclusion
from conftest import best_per_image_forward, record

import attribkit
from attribkit import Occlusion, sample_image
from attribkit.attr import count_occlusions
from attribkit.attr.incremental import WindowGrid, WindowScorer, map_agreement

ROUNDS = int(os.environ.get("ATTRIBKIT_BENCH_ROUNDS", "2"))
BUDGET = float(os.environ.get("ATTRIBKIT_BENCH_BUDGET", "60"))
CONFIGS = [(16, 8), (8, 4)]
MODELS = os.environ.get(
    "ATTRIBKIT_BENCH_MODELS", "efficientnet_lite0,resnet18,resnet50,vgg16"
).split(",")
ROWS: list[dict[str, Any]] = []
_BARE: dict[str, tuple[float, str]] = {}
_MODELS: dict[str, torch.nn.Module] = {}


def _model(name: str) -> torch.nn.Module:
    if name not in _MODELS:
        torch.manual_seed(0)
        if name == "efficientnet_lite0":
            model = attribkit.efficientnet_lite0()
        else:
            model = getattr(torchvision.models, name)(weights=None)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        _MODELS[name] = model
    return _MODELS[name]


def _bare(name: str) -> tuple[float, str]:
    if name not in _BARE:
        heavy = name in ("resnet50", "vgg16")
        _BARE[name] = best_per_image_forward(
            _model(name), (3, 224, 224), batch_sizes=(1, 2, 4, 8, 16),
            images_per_trial=8 if heavy else 32,
        )  # fmt: skip
    return _BARE[name]


class _Stop(Exception):
    pass


def _timed_loop(
    make: Callable[[Callable[..., Any]], Callable[[], Any]],
    model: torch.nn.Module,
    batches: int,
    skip: int,
    sample: int,
) -> tuple[float, bool]:
    """Seconds of a full-pass occlusion loop, and whether it was extrapolated.

    ``make(forward)`` returns the call; ``forward`` counts calls: ``skip`` calls before the
    first perturbed batch (probe, initial evaluation), then one per batch. The loop is first
    timed over ``sample`` batches; if the whole run is predicted to fit in ``BUDGET`` it is run
    whole.
    """
    stamps: list[float] = []

    def counting(x: torch.Tensor, limit: int | None) -> torch.Tensor:
        stamps.append(time.perf_counter())
        if limit is not None and len(stamps) > skip + limit:
            raise _Stop
        return model(x)  # type: ignore[no-any-return]

    stamps.clear()
    t0 = time.perf_counter()
    try:
        make(lambda x: counting(x, sample))()
    except _Stop:
        pass
    setup = stamps[skip] - t0
    per_batch = (stamps[skip + sample] - stamps[skip]) / sample
    predicted = setup + per_batch * batches
    if predicted > BUDGET:
        return predicted, True
    stamps.clear()
    t0 = time.perf_counter()
    make(lambda x: counting(x, None))()
    return time.perf_counter() - t0, False


def _sampled_error(model: torch.nn.Module, x: torch.Tensor, k: int, s: int, t: int) -> dict:
    """Max |incremental − full-pass| score drop over 48 window positions (corners included),
    relative to the largest drop; and the same between two full-pass memory formats."""
    grid = WindowGrid((3, 224, 224), (3, k, k), (3, s, s))
    scorer = WindowScorer(model, x, grid)
    g = torch.Generator().manual_seed(0)
    n = len(grid)
    pos = torch.cat([torch.tensor([0, n - 1]), torch.randperm(n, generator=g)[:46]])
    base = torch.zeros(3, 224, 224)
    inc = scorer.drops(x, base, (t,), pos)
    _, y0, x0 = grid.starts()
    occ = x.repeat(len(pos), 1, 1, 1)
    for i, p in enumerate(pos.tolist()):
        occ[i, :, y0[p] : y0[p] + k, x0[p] : x0[p] + k] = 0
    with torch.no_grad():
        f0 = model(x)[0, t]
        dense = torch.cat([f0 - model(b)[:, t] for b in occ.split(8)])
        cl = occ.contiguous(memory_format=torch.channels_last)
        other = torch.cat([f0 - model(b)[:, t] for b in cl.split(4)])
    scale = float(dense.abs().max())
    return {
        "error": float((inc - dense).abs().max()) / scale,
        "float32_noise": float((other - dense).abs().max()) / scale,
        "work_fraction": scorer.plan.work_fraction,
        "cache_mb": scorer.cache_bytes / 2**20,
        "batch": scorer.batch_size,
        "batch_mb": scorer.plan.batch_bytes(scorer.batch_size) / 2**20,
    }


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@pytest.fixture(scope="module", autouse=True)
def _table(request: pytest.FixtureRequest):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not ROWS:
        return
    reporter.write_line("")
    reporter.write_line(
        "| model | window/stride | incremental | full passes | captum | bare best | approx "
        "| inc vs bare | approx vs bare | corr | top-10% | error | f32 noise | load |"
    )
    reporter.write_line("|" + "---|" * 14)
    for r in ROWS:
        reporter.write_line(
            f"| {r['model']} | {r['window']}/{r['stride']} | {r['incremental']:.1f} s | "
            f"{r['full']:.1f} s{'*' if r['full_extrapolated'] else ''} | "
            f"{r['captum']:.1f} s{'*' if r['captum_extrapolated'] else ''} | "
            f"{r['bare']:.1f} s | {r['approximate']:.1f} s | **{r['speedup']:.2f}×** | "
            f"{r['approx_speedup']:.1f}× | {r['correlation']:.3f} | {r['top_overlap']:.2f} | "
            f"{r['error']:.1e} | {r['float32_noise']:.1e} | {r['load']} |"
        )


@pytest.mark.parametrize("window,stride", CONFIGS, ids=[f"w{k}s{s}" for k, s in CONFIGS])
@pytest.mark.parametrize("name", MODELS)
def test_occlusion_incremental(benchmark, name: str, window: int, stride: int) -> None:
    model = _model(name)
    x = sample_image("chelsea", size=224)
    with torch.no_grad():
        target = int(model(x).argmax())
    windows = count_occlusions((3, 224, 224), (3, window, window), (3, stride, stride))
    per_image, where = _bare(name)
    bare = per_image * (windows + 1)
    kwargs = {"sliding_window_shapes": window, "strides": stride, "target": target}
    cap_kwargs = {**kwargs, "sliding_window_shapes": (3, window, window)}
    rounds: list[dict[str, Any]] = []
    exact_map: list[torch.Tensor] = []

    def one_round() -> None:
        occ = Occlusion(model)
        t = time.perf_counter()
        exact = occ.attribute(x, **kwargs)
        t_inc = time.perf_counter() - t
        assert occ.last_method == "incremental", occ.last_reason
        exact_map[:] = [exact]
        full = Occlusion(model, incremental=False)
        ppe = full.choose_perturbations_per_eval((x,), (3, window, window), stride)
        t_full, full_x = _timed_loop(
            lambda f: lambda: Occlusion(f, incremental=False).attribute(x, **kwargs),
            model, math.ceil(windows / ppe), 2, 8,
        )  # fmt: skip
        t_cap, cap_x = _timed_loop(
            lambda f: lambda: CaptumOcclusion(f).attribute(x, **cap_kwargs),
            model, windows, 1, 24,
        )  # fmt: skip
        rounds.append(
            {"incremental": t_inc, "full": t_full, "captum": t_cap, "full_extrapolated": full_x,
             "captum_extrapolated": cap_x, "load": _load()}
        )  # fmt: skip

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    occ = Occlusion(model)
    t = time.perf_counter()
    approx = occ.attribute(x, approximate=True, **kwargs)
    t_approx = time.perf_counter() - t
    assert occ.last_method == "approximate", occ.last_reason
    agreement = map_agreement(approx, exact_map[0])
    checks = _sampled_error(model, x, window, stride, target)
    best = min(rounds, key=lambda r: r["incremental"])
    row = {
        "model": name, "window": window, "stride": stride, "windows": windows,
        "bare": bare, "bare_config": where, "approximate": t_approx,
        "incremental": best["incremental"],
        "full": min(r["full"] for r in rounds), "captum": min(r["captum"] for r in rounds),
        "full_extrapolated": best["full_extrapolated"],
        "captum_extrapolated": best["captum_extrapolated"],
        "speedup": bare / best["incremental"], "approx_speedup": bare / t_approx,
        "speedups_per_round": [bare / r["incremental"] for r in rounds],
        "correlation": agreement.correlation, "top_overlap": agreement.top_overlap,
        "load": best["load"], "rounds": rounds, **checks,
    }  # fmt: skip
    ROWS.append(row)
    record(benchmark, "ours", **row)
    print(
        f"\n{name} w{window}s{stride}: incremental {row['incremental']:.1f} s, full passes "
        f"{row['full']:.1f} s, captum {row['captum']:.1f} s, bare {bare:.1f} s ({where}), "
        f"approx {t_approx:.1f} s; {row['speedup']:.2f}x bare, approx {row['approx_speedup']:.1f}x"
        f" (corr {agreement.correlation:.3f}, top-10% {agreement.top_overlap:.2f}); error "
        f"{checks['error']:.1e} (float32 noise {checks['float32_noise']:.1e}); load {_load()}"
    )
    assert checks["error"] <= max(1e-4, 10 * checks["float32_noise"])
