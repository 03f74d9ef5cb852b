"""Scaling from 1 to 2 processes (torch.distributed, gloo) on this machine's CPU cores.

Run (2-core CPU):

    .venv/bin/pytest benchmarks/bench_distributed.py --benchmark-enable \
        --benchmark-columns=min,median,rounds -p no:cacheprovider -s

EfficientNet-Lite0, N random 128 px crops of the bundled photos, batches of 8, ``no_grad``.
Two workloads: the exact top-k patch scan of ``_blocks.4`` (:class:`MaxActivatingPatches`,
k = 9) and a neighbour bank of ``_bn1`` (:meth:`FeatureBank.from_model`, average-pooled).
Compared in the same run:

* ``one_process_1thread`` / ``one_process_2threads`` — both workloads in this process;
* ``bare_forward_best`` — the bare network cost of the same images (full forward, the best of
  1 and 2 threads and of both memory formats: the platform's best for the work);
* ``two_processes`` — 2 gloo processes × 1 thread on 127.0.0.1, each scanning its shard, the
  top-k candidates and the features all-gathered. The benchmark's time is the whole run,
  process start-up included; ``extra_info`` records the time inside the workers from a
  barrier to the merged result (the part that scales) and checks the results equal the
  one-process ones.
"""

from __future__ import annotations

import datetime
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from attribkit.data import sample_image, sample_names
from attribkit.embed import FeatureBank
from attribkit.layers import MaxActivatingPatches, random_crops
from attribkit.models import efficientnet_lite0

N, SIZE, BATCH = 48, 128, 8


def _data() -> torch.Tensor:
    photos = [sample_image(n, size=256) for n in sample_names("photos")]
    crops, _ = random_crops(photos, -(-N // len(photos)), SIZE, seed=0)
    return crops[:N].contiguous()


def _work(model: nn.Module, x: torch.Tensor) -> dict[str, Any]:
    t0 = time.perf_counter()
    mp_ = MaxActivatingPatches(model, "_blocks.4", k=9, batch_size=BATCH, show_progress=False)
    st = mp_.scan(x)
    t1 = time.perf_counter()
    bank = FeatureBank.from_model(model, x, "_bn1", batch_size=BATCH, show_progress=False)
    t2 = time.perf_counter()
    return {
        "scan_s": t1 - t0,
        "bank_s": t2 - t1,
        "top": (st.values, st.index, st.y, st.x),
        "bank": bank.features,
    }


def _worker(rank: int, port: int, outdir: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=300),
    )
    try:
        model, x = efficientnet_lite0(), _data()
        dist.barrier()
        res = _work(model, x)
        dist.barrier()
        if rank == 0:
            torch.save(res, Path(outdir) / "two.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def setup() -> tuple[nn.Module, torch.Tensor]:
    return efficientnet_lite0(), _data()


@pytest.fixture(scope="module")
def reference(setup: tuple[nn.Module, torch.Tensor]) -> dict[str, Any]:
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _work(*setup)
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("threads", [1, 2])
def test_one_process(benchmark: Any, setup: tuple[nn.Module, torch.Tensor], threads: int) -> None:
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        res = benchmark.pedantic(lambda: _work(*setup), rounds=2, iterations=1)
    finally:
        torch.set_num_threads(old)
    benchmark.extra_info.update(scan_s=res["scan_s"], bank_s=res["bank_s"])
    print(
        f"\n1 process x {threads} thread(s): scan {res['scan_s']:.2f} s, bank {res['bank_s']:.2f} s"
    )


def test_bare_forward_best(benchmark: Any, setup: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = setup
    old = torch.get_num_threads()
    best = float("inf")

    def run(cl: bool) -> None:
        with torch.no_grad():
            for i in range(0, N, BATCH):
                b = x[i : i + BATCH]
                model(b.contiguous(memory_format=torch.channels_last) if cl else b)

    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for cl in (False, True):
                t = time.perf_counter()
                run(cl)
                best = min(best, time.perf_counter() - t)
    finally:
        torch.set_num_threads(old)
    benchmark.pedantic(lambda: None, rounds=1)
    benchmark.extra_info["bare_full_forward_s"] = best
    print(f"\nbare full forward of the {N} images (best of threads/formats): {best:.2f} s")


def test_two_processes(benchmark: Any, tmp_path: Path, reference: dict[str, Any]) -> None:
    ctx = mp.get_context("spawn")

    def run() -> None:
        port = _free_port()
        procs = [ctx.Process(target=_worker, args=(r, port, str(tmp_path))) for r in range(2)]
        for p in procs:
            p.start()
        try:
            for p in procs:
                p.join(600)
        finally:
            for p in procs:
                if p.is_alive():
                    p.kill()
                    p.join()
        assert [p.exitcode for p in procs] == [0, 0]

    benchmark.pedantic(run, rounds=1, iterations=1)
    res = torch.load(tmp_path / "two.pt", weights_only=False)
    for a, b in zip(res["top"], reference["top"]):
        assert torch.equal(a, b)
    assert torch.equal(res["bank"], reference["bank"])
    benchmark.extra_info.update(scan_s=res["scan_s"], bank_s=res["bank_s"], identical=True)
    print(
        f"\n2 processes x 1 thread: scan {res['scan_s']:.2f} s, bank {res['bank_s']:.2f} s "
        f"(in the workers; identical to 1 process)"
    )
