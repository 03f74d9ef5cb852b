"""Incremental occlusion against full passes: EfficientNet-Lite0, ResNet-18, ResNet-50, VGG-16.

One 224×224 photo (chelsea), window 16 stride 8 (729 windows) and window 8 stride 4 (3025
windows). Each test times, interleaved in the same run and repeated (``ROUNDS``):

- ``incremental``: attribkit's default call, ``Occlusion(model).attribute(x, k, strides=s,
  target=t)`` (exact incremental inference);
- ``full passes``: today's batched full passes, ``Occlusion(model, incremental=False)``;
- ``captum``: Captum's default call (``perturbations_per_eval=1``);
- ``bare best``: the best bare full passes, the fastest forward pass per image over batch sizes
  and memory formats (``benchmarks/conftest.py::best_per_image_forward``) times the number of
  windows plus one;

and once ``approximate=True`` (adaptive drill-down). The speed-up over the bare passes is the
median over rounds of the ratio within each round; times are the minimum over rounds.

Occlusion loops cost the same for every batch (full passes, and incremental batches, whose
boxes all have the same size), so where a whole run would take longer than
``ATTRIBKIT_BENCH_BUDGET`` seconds (default 60) a loop is timed over its first batches and
extrapolated (marked ``*``); the first round always runs the default call whole (its map is the
exact reference); ``ATTRIBKIT_BENCH_BUDGET=inf`` runs everything whole.
``ATTRIBKIT_BENCH_MODELS`` (comma-separated; any torchvision classifier name, e.g.
``mobilenet_v2``), ``ATTRIBKIT_BENCH_CONFIGS`` (``window/stride`` pairs, default
``16/8,8/4``) and ``ATTRIBKIT_BENCH_ROUNDS`` (default 2) narrow a quick run;
``ATTRIBKIT_BENCH_THREADS`` sets torch's CPU threads (default: torch's). Each
test also records the exact map's error (sampled window positions against full forward
passes, next to the float32 noise between two full-pass memory formats), the approximate map's
agreement with the exact one (correlation, top-10% overlap), the cached activations of one
image and the peak activations of one batch.

Run (one command; ``-s`` shows the table as it fills)::

    python -m pytest benchmarks/bench_occlusion_incremental.py -o addopts="" \\
        --benchmark-enable --benchmark-only --benchmark-json=occl.json -s
"""

from __future__ import annotations

import math
import os
import statistics
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
from attribkit.attr.incremental import Plan, WindowGrid, WindowScorer, map_agreement

ROUNDS = int(os.environ.get("ATTRIBKIT_BENCH_ROUNDS", "2"))
if "ATTRIBKIT_BENCH_THREADS" in os.environ:  # e.g. 1 on a machine shared with others
    torch.set_num_threads(int(os.environ["ATTRIBKIT_BENCH_THREADS"]))
BUDGET = float(os.environ.get("ATTRIBKIT_BENCH_BUDGET", "60"))
CONFIGS = [
    (int(k), int(s))
    for k, s in (
        c.split("/") for c in os.environ.get("ATTRIBKIT_BENCH_CONFIGS", "16/8,8/4").split(",")
    )
]
MODELS = os.environ.get(
    "ATTRIBKIT_BENCH_MODELS", "efficientnet_lite0,resnet18,resnet50,vgg16"
).split(",")
ROWS: list[dict[str, Any]] = []
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
    """Seconds per image of the best bare forward pass (measured in every round)."""
    heavy = name in ("resnet50", "vgg16")
    return best_per_image_forward(
        _model(name), (3, 224, 224), batch_sizes=(1, 2, 4, 8, 16),
        images_per_trial=8 if heavy else 32,
    )  # fmt: skip


class _Stop(BaseException):  # not an Exception: the incremental path must not catch it
    pass


def _timed(run: Callable[[Callable[[], None]], Any], batches: int, skip: int, sample: int):
    """Seconds of an occlusion loop, and whether they were extrapolated.

    ``run(tick)`` runs the loop and calls ``tick()`` before each evaluation: ``skip`` of them
    before the first occluded batch (size probe, unoccluded image), then one per batch. The
    loop is first timed over ``sample`` batches; if the whole is predicted to take at most
    ``BUDGET`` seconds it is run whole and timed, else the prediction is returned.
    """
    stamps: list[float] = []

    def tick(limit: int | None) -> None:
        stamps.append(time.perf_counter())
        if limit is not None and len(stamps) > skip + limit:
            raise _Stop

    t0 = time.perf_counter()
    try:
        run(lambda: tick(sample))
    except _Stop:
        pass
    if len(stamps) <= skip + sample:  # fewer batches than the sample: it ran whole
        return time.perf_counter() - t0, False
    per_batch = (stamps[skip + sample] - stamps[skip]) / sample
    predicted = (stamps[skip] - t0) + per_batch * batches
    if predicted > BUDGET:
        return predicted, True
    stamps.clear()
    t0 = time.perf_counter()
    run(lambda: tick(None))
    return time.perf_counter() - t0, False


def _full_pass_loop(make: Callable[[Callable[..., Any]], Callable[[], Any]], model):
    """``run(tick)`` for a full-pass occlusion call built by ``make(forward)``."""

    def run(tick: Callable[[], None]) -> None:
        def forward(x: torch.Tensor) -> torch.Tensor:
            tick()
            return model(x)  # type: ignore[no-any-return]

        make(forward)()

    return run


def _incremental_loop(call: Callable[[], Any]):
    """``run(tick)`` for an incremental call: ``tick`` before each batch of copies."""

    def run(tick: Callable[[], None]) -> None:
        original = Plan.evaluate

        def counted(self: Plan, *args: Any, **kwargs: Any) -> Any:
            tick()
            return original(self, *args, **kwargs)

        Plan.evaluate = counted  # type: ignore[method-assign]
        try:
            call()
        finally:
            Plan.evaluate = original  # type: ignore[method-assign]

    return run


def _sampled_error(model: torch.nn.Module, x: torch.Tensor, k: int, s: int, t: int) -> dict:
    """Max |incremental − full-pass| score drop over 48 window positions (corners included),
    relative to the largest drop and to the unoccluded score; and the first between two
    full-pass memory formats (the float32 noise floor)."""
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
        "error_vs_score": float((inc - dense).abs().max()) / abs(float(f0)),
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
            f"| {r['model']} | {r['window']}/{r['stride']} | {r['incremental']:.1f} s"
            f"{'*' if r['incremental_extrapolated'] else ''} | "
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
    kwargs = {"sliding_window_shapes": window, "strides": stride, "target": target}
    cap_kwargs = {**kwargs, "sliding_window_shapes": (3, window, window)}
    rounds: list[dict[str, Any]] = []
    exact_map: list[torch.Tensor] = []

    def one_round() -> None:
        per_image, where = _bare(name)
        occ = Occlusion(model)
        if not exact_map:  # the first round runs the default call whole: its map is needed
            t = time.perf_counter()
            exact_map.append(occ.attribute(x, **kwargs))
            t_inc, inc_x = time.perf_counter() - t, False
            assert occ.last_method == "incremental", occ.last_reason
        else:
            batches = math.ceil(windows / rounds[0]["batch"])
            t_inc, inc_x = _timed(
                _incremental_loop(lambda: occ.attribute(x, **kwargs)), batches, 0, 4
            )
        ppe = Occlusion(model).choose_perturbations_per_eval((x,), (3, window, window), stride)
        t_full, full_x = _timed(
            _full_pass_loop(
                lambda f: lambda: Occlusion(f, incremental=False).attribute(x, **kwargs), model
            ),
            math.ceil(windows / ppe), 2, 8,
        )  # fmt: skip
        t_cap, cap_x = _timed(
            _full_pass_loop(lambda f: lambda: CaptumOcclusion(f).attribute(x, **cap_kwargs), model),
            windows, 1, 24,
        )  # fmt: skip
        rounds.append(
            {"bare": per_image * (windows + 1), "bare_config": where, "incremental": t_inc,
             "full": t_full, "captum": t_cap, "incremental_extrapolated": inc_x,
             "full_extrapolated": full_x, "captum_extrapolated": cap_x, "load": _load(),
             "batch": occ.last_perturbations_per_eval or rounds[0]["batch"]}
        )  # fmt: skip

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    occ = Occlusion(model)
    t = time.perf_counter()
    approx = occ.attribute(x, approximate=True, **kwargs)
    t_approx = time.perf_counter() - t
    assert occ.last_method == "approximate", occ.last_reason
    agreement = map_agreement(approx, exact_map[0])
    checks = _sampled_error(model, x, window, stride, target)
    speedups = sorted(r["bare"] / r["incremental"] for r in rounds)
    row = {
        "model": name, "window": window, "stride": stride, "windows": windows,
        "approximate": t_approx, "rounds": rounds,
        **{k: min(r[k] for r in rounds) for k in ("bare", "incremental", "full", "captum")},
        **{f"{k}_extrapolated": any(r[f"{k}_extrapolated"] for r in rounds)
           for k in ("incremental", "full", "captum")},
        "bare_config": min(rounds, key=lambda r: r["bare"])["bare_config"],
        "speedup": statistics.median(speedups),  # over rounds, each ratio within its round
        "speedups_per_round": [r["bare"] / r["incremental"] for r in rounds],
        "full_over_incremental_per_round": [r["full"] / r["incremental"] for r in rounds],
        "approx_speedup": min(r["bare"] for r in rounds) / t_approx,
        "correlation": agreement.correlation, "top_overlap": agreement.top_overlap,
        "load": rounds[-1]["load"], "threads": torch.get_num_threads(), **checks,
    }  # fmt: skip
    ROWS.append(row)
    record(benchmark, "ours", **row)
    print(
        f"\n{name} w{window}s{stride}: incremental {row['incremental']:.1f} s, full passes "
        f"{row['full']:.1f} s, captum {row['captum']:.1f} s, bare {row['bare']:.1f} s "
        f"({row['bare_config']}), "
        f"approx {t_approx:.1f} s; {row['speedup']:.2f}x bare, approx {row['approx_speedup']:.1f}x"
        f" (corr {agreement.correlation:.3f}, top-10% {agreement.top_overlap:.2f}); error "
        f"{checks['error']:.1e} (float32 noise {checks['float32_noise']:.1e}); load {_load()}"
    )
    assert checks["error"] <= max(1e-4, 10 * checks["float32_noise"])
