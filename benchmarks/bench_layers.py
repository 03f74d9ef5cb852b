"""Looking inside: feature extraction and the top-k patch scan vs the bare forward pass.

Run (2-core CPU):

    OMP_NUM_THREADS=1 .venv/bin/pytest benchmarks/bench_layers.py --benchmark-enable \
        --benchmark-columns=min,median,rounds -p no:cacheprovider

EfficientNet-Lite0, 32 random 160 px crops of the bundled photos, batches of 8, under
``no_grad``. Compared in the same run:

* ``extract_head`` — :func:`attribkit.layers.extract_features` of ``_bn1`` (the last conv
  map, average-pooled): hooks, checks, pooling and state handling included;
* ``bare_full`` — ``model(batch)`` over the same batches (the bare network cost of that work);
* ``bare_full_channels_last`` — the same in channels-last memory format (the faster format
  on some CPUs: the platform's best for the work is the smaller of the two);
* ``extract_block4`` / ``topk_scan_block4`` — features of ``_blocks.4``, and the streaming
  top-k scan of :class:`attribkit.layers.MaxActivatingPatches` (k = 9, one hit per image);
* ``bare_to_block4`` — the plain module calls from the input to ``_blocks.4`` (the network
  work both need: the rest of the network never runs in either).
* ``interleaved_ratios`` — on a shared machine the load changes between tests, so this one
  alternates all workloads round by round (5 rounds), also with the batches in channels-last
  format (``_cl``; the model is untouched), and prints and records in ``extra_info`` the
  ratios of the per-workload minima: extraction / bare full forward (target ≤ 1.1), scan /
  bare forward to ``_blocks.4`` (target ≤ 1.2), each against the same format and against the
  best bare format.
"""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from attribkit.data import sample_image, sample_names
from attribkit.layers import MaxActivatingPatches, extract_features, random_crops
from attribkit.models import efficientnet_lite0

N, SIZE, BATCH = 16, 160, 8


@pytest.fixture(scope="module")
def model() -> nn.Module:
    return efficientnet_lite0()


@pytest.fixture(scope="module")
def data() -> torch.Tensor:
    photos = [sample_image(n, size=256) for n in sample_names("photos")]
    crops, _ = random_crops(photos, -(-N // len(photos)), SIZE, seed=0)
    return crops[:N].contiguous()


def _bare_to_block4(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    m: nn.Module = model
    x = m.stem_act(m._bn0(m._conv_stem(m.normalize(x))))  # type: ignore[operator]
    for block in list(m._blocks)[:5]:  # type: ignore[call-overload]
        x = block(x)
    return x


def test_extract_head(benchmark, model, data) -> None:
    benchmark.group = "features of _bn1 (full network)"
    out = benchmark.pedantic(
        lambda: extract_features(
            model, data, "_bn1", pool="avg", batch_size=BATCH, show_progress=False
        ),
        rounds=5,
        warmup_rounds=1,
    )
    assert out.shape == (N, 1280)


def test_bare_full(benchmark, model, data) -> None:
    benchmark.group = "features of _bn1 (full network)"

    def run() -> None:
        with torch.no_grad():
            for i in range(0, N, BATCH):
                model(data[i : i + BATCH])

    benchmark.pedantic(run, rounds=5, warmup_rounds=1)


def test_bare_full_channels_last(benchmark, model, data) -> None:
    benchmark.group = "features of _bn1 (full network)"
    m = efficientnet_lite0().to(memory_format=torch.channels_last)
    x = data.contiguous(memory_format=torch.channels_last)

    def run() -> None:
        with torch.no_grad():
            for i in range(0, N, BATCH):
                m(x[i : i + BATCH])

    benchmark.pedantic(run, rounds=5, warmup_rounds=1)


def test_extract_block4(benchmark, model, data) -> None:
    benchmark.group = "up to _blocks.4"
    out = benchmark.pedantic(
        lambda: extract_features(
            model, data, "_blocks.4", pool="avg", batch_size=BATCH, show_progress=False
        ),
        rounds=5,
        warmup_rounds=1,
    )
    assert out.shape == (N, 40)


def test_topk_scan_block4(benchmark, model, data) -> None:
    benchmark.group = "up to _blocks.4"
    mp = MaxActivatingPatches(model, "_blocks.4", k=9, batch_size=BATCH, show_progress=False)
    state = benchmark.pedantic(lambda: mp.scan(data), rounds=5, warmup_rounds=1)
    assert state.values.shape == (40, 9)


def test_bare_to_block4(benchmark, model, data) -> None:
    benchmark.group = "up to _blocks.4"

    def run() -> None:
        with torch.no_grad():
            for i in range(0, N, BATCH):
                _bare_to_block4(model, data[i : i + BATCH])

    benchmark.pedantic(run, rounds=5, warmup_rounds=1)


def test_interleaved_ratios(benchmark, model, data) -> None:
    benchmark.group = "interleaved ratios"
    cl = data.contiguous(memory_format=torch.channels_last)

    def bare(x: torch.Tensor, to_block4: bool):
        def run() -> None:
            with torch.no_grad():
                for i in range(0, N, BATCH):
                    if to_block4:
                        _bare_to_block4(model, x[i : i + BATCH])
                    else:
                        model(x[i : i + BATCH])

        return run

    def extract(layer: str, channels_last: bool):
        return lambda: extract_features(
            model,
            data,
            layer,
            pool="avg",
            batch_size=BATCH,
            channels_last=channels_last,
            show_progress=False,
        )

    def scan(channels_last: bool):
        mp = MaxActivatingPatches(
            model,
            "_blocks.4",
            k=9,
            batch_size=BATCH,
            channels_last=channels_last,
            show_progress=False,
        )
        return lambda: mp.scan(data)

    work = {
        "bare_full": bare(data, False),
        "bare_full_cl": bare(cl, False),
        "extract_head": extract("_bn1", False),
        "extract_head_cl": extract("_bn1", True),
        "bare_to_block4": bare(data, True),
        "bare_to_block4_cl": bare(cl, True),
        "extract_block4": extract("_blocks.4", False),
        "topk_scan_block4": scan(False),
        "topk_scan_block4_cl": scan(True),
    }
    times: dict[str, list[float]] = {k: [] for k in work}

    def run() -> None:
        for _ in range(5):
            for name, fn in work.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)

    benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    b = {k: min(v) for k, v in times.items()}
    info = benchmark.extra_info
    for k, v in b.items():
        info[f"min_s_{k}"] = round(v, 4)
    best_full = min(b["bare_full"], b["bare_full_cl"])
    best_b4 = min(b["bare_to_block4"], b["bare_to_block4_cl"])
    ratios = {
        "extract_head / bare_full (same format)": b["extract_head"] / b["bare_full"],
        "extract_head / best bare": b["extract_head"] / best_full,
        "extract_head_cl / best bare": b["extract_head_cl"] / best_full,
        "extract_block4 / bare_to_block4": b["extract_block4"] / b["bare_to_block4"],
        "scan / bare_to_block4 (same format)": b["topk_scan_block4"] / b["bare_to_block4"],
        "scan / best bare to block4": b["topk_scan_block4"] / best_b4,
        "scan_cl / best bare to block4": b["topk_scan_block4_cl"] / best_b4,
    }
    for k, v in ratios.items():
        info[f"ratio {k}"] = round(v, 3)
    print()
    for k, v in {**{f"min {k}": v for k, v in b.items()}, **ratios}.items():
        print(f"{k}: {v:.3f}")
