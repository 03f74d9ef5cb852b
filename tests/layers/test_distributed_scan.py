"""Sharded scans on torch.distributed: 2 gloo processes on loopback equal one process.

The 2-process runs are spawned by the tests themselves (``spawn`` start method, gloo, a free
port on 127.0.0.1), write what rank 0 got to a temporary folder, and are joined (and killed
if they hang) before the test ends.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import traceback
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from attribkit.embed import FeatureBank
from attribkit.layers import MaxActivatingPatches, extract_features
from attribkit.layers.distributed import (
    ImageFiles,
    ShardSampler,
    atomic_path,
    dist_info,
    gather_images,
    gather_results,
    image_folder_loader,
    is_main_process,
    local_shard,
    process_group_from_env,
    quiet_unless_main,
    rank_device,
    shard_range,
)
from attribkit.testing import snapshot_world

K = 5


def _net() -> nn.Sequential:
    """Integer weights on images with values in {0, .5, 1}: sums are exact, ties are many."""
    c1 = nn.Conv2d(1, 3, 3, padding=1, bias=False)
    c2 = nn.Conv2d(3, 4, 3, bias=False)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        c1.weight.copy_(torch.randint(-1, 2, c1.weight.shape, generator=g).float())
        c2.weight.copy_(torch.randint(-1, 2, c2.weight.shape, generator=g).float())
    return nn.Sequential(c1, nn.ReLU(), c2, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _data(n: int = 37, size: int = 8) -> torch.Tensor:
    g = torch.Generator().manual_seed(2)
    return torch.randint(0, 3, (n, 1, size, size), generator=g).float() / 2


def _write_pngs(folder: Path, n: int = 7) -> None:
    from PIL import Image

    g = torch.Generator().manual_seed(3)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        arr = (torch.randint(0, 3, (12, 12, 3), generator=g) * 127).to(torch.uint8).numpy()
        Image.fromarray(arr).save(folder / f"img{i:02d}.png")


def _results(model: nn.Module, x: torch.Tensor, folder: Path) -> dict[str, Any]:
    """Everything compared between 1 and 2 processes (the same code runs in both)."""
    out: dict[str, Any] = {}
    for opi in (True, False):
        mp_ = MaxActivatingPatches(
            model, "3", k=K, batch_size=8, one_per_image=opi, show_progress=False
        )
        st = mp_.scan(x)
        out[f"top{opi}"] = (st.values, st.index, st.y, st.x, mp_.n_images)
    out["feats"] = extract_features(
        model, x, ["1", "5"], batch_size=8, pool="avg", show_progress=False
    )
    bank = FeatureBank.from_model(model, x, "3", pool="max", batch_size=8, show_progress=False)
    out["bank"] = bank.features
    for metric in ("cosine", "euclidean"):
        nb = bank.nearest(list(range(0, 37, 4)), k=4, metric=metric)
        out[f"nn-{metric}"] = (nb.indices, nb.distances)
    # fewer batches than ranks: rank 1 gets nothing
    small = MaxActivatingPatches(model, "3", k=2, batch_size=4, show_progress=False)
    out["small"] = small.scan(x[:3]).index
    # an image folder read with a sharded DataLoader (7 images, batches of 2: uneven)
    loader = image_folder_loader(folder, 12, batch_size=2)
    gray = nn.Sequential(nn.Conv2d(3, 1, 1, bias=False), _net())
    with torch.no_grad():
        gray[0].weight.fill_(1.0)
    fp = MaxActivatingPatches(gray, "1.3", k=3, batch_size=2, show_progress=False)
    st = fp.scan(loader)
    out["folder"] = (st.values, st.index, st.y, st.x)
    if is_main_process():  # crop on rank 0 from the data set, by global index
        out["folder_patches"] = fp.patches(loader.dataset, [0, 1])
    out["folder_bank"] = FeatureBank.from_model(gray, loader, "1.5", show_progress=False).features
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, world: int, port: int, outdir: str, payload: Any) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=30),
    )
    try:
        # one group for both jobs (starting processes costs more than the work)
        model, x = payload
        res = _results(model, x, Path(outdir) / "imgs")
        if rank == 0:
            with atomic_path(Path(outdir) / "dist.pt") as tmp:
                torch.save(res, tmp)
        shard = FeatureBank.from_model(
            model, x, "3", pool="max", batch_size=8, show_progress=False, gather=False
        )
        shard.save_shards(Path(outdir) / "shards")  # per-rank files + index.json by rank 0
        _crash_job(rank, outdir, (model, x[:20]))  # rank 1 dies there: keep it last
    finally:
        dist.destroy_process_group()


class _Bomb(nn.Module):
    """Raises (mode 'raise') or kills its process (mode 'die') on its 2nd call on rank 1."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode, self.calls = mode, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if dist_info()[0] == 1 and self.calls == 2:
            if self.mode == "die":
                os._exit(3)
            raise ValueError("bomb went off")
        return x


def _crash_job(rank: int, outdir: str, payload: Any) -> None:
    model, x = payload
    for mode in ("raise", "die"):
        net = nn.Sequential(_Bomb(mode), model)
        mp_ = MaxActivatingPatches(net, "1.3", k=K, batch_size=4, show_progress=False)
        snap = snapshot_world(net, x)
        try:
            st = mp_.scan(x)
            with atomic_path(Path(outdir) / f"result-{mode}.pt") as tmp:
                torch.save(st, tmp)
                if mode == "die":  # only reached if the crash went unnoticed
                    raise AssertionError("the scan survived a dead rank")
        except Exception as err:  # record what each rank saw
            snap.assert_unchanged()  # hooks removed, modes and flags restored on every rank
            (Path(outdir) / f"error-{mode}-{rank}.txt").write_text(
                f"{type(err).__name__}: {err}\n{traceback.format_exc()}"
            )
            if mode == "die":
                return


def _run2(outdir: Path, payload: Any, timeout: float = 120.0) -> list[int | None]:
    ctx = mp.get_context("spawn")
    port = _free_port()
    procs = [ctx.Process(target=_worker, args=(r, 2, port, str(outdir), payload)) for r in range(2)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join(timeout)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
    return [p.exitcode for p in procs]


def _same(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype, where
        assert torch.equal(a, b), f"{where} differs"
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (p, q) in enumerate(zip(a, b)):
            _same(p, q, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    else:
        assert a == b, where


# ------------------------------------------------------------------ without processes


def test_shard_range_exact_uneven() -> None:
    for n, world, block in [(37, 2, 8), (10, 3, 2), (3, 2, 4), (0, 2, 1), (5, 4, 1)]:
        ranges = [shard_range(n, r, world, block) for r in range(world)]
        covered = [i for a, b in ranges for i in range(a, b)]
        assert covered == list(range(n))  # every item once, in order, no padding
        assert all(a % block == 0 or a == n for a, _ in ranges)  # whole batches
    assert [shard_range(37, r, 2, 8) for r in range(2)] == [(0, 24), (24, 37)]


def test_shard_exception() -> None:
    with pytest.raises(ValueError, match="rank"):
        shard_range(4, 2, 2)
    with pytest.raises(ValueError, match="block"):
        shard_range(4, 0, 2, block=0)
    with pytest.raises(ValueError, match="not a folder"):
        ImageFiles("/nonexistent-folder-xyz", 8)


def test_sampler_and_local_shard_one_process() -> None:
    s = ShardSampler(5, rank=1, world_size=2, block=2)
    assert (list(s), len(s), s.start) == ([4], 1, 4)
    x = torch.zeros(6, 1, 2, 2)
    part, start, n = local_shard(x, 4)
    assert part is x or torch.equal(part, x)
    assert (start, n) == (0, 6)
    with pytest.raises(ValueError, match="cannot be split"):
        local_shard(iter([x]), 4)
    with pytest.raises(ValueError, match="plain DataLoader"):
        local_shard(torch.utils.data.DataLoader(x), 4)
    assert gather_results(lambda: 7) == [7]


def test_atomic_path(tmp_path: Path) -> None:
    target = tmp_path / "out.pt"
    with pytest.raises(RuntimeError, match="midway"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("midway")
    assert list(tmp_path.iterdir()) == []  # neither the result nor the temporary file
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pt"]


def test_image_folder_loader_one_process(tmp_path: Path) -> None:
    _write_pngs(tmp_path, 5)
    loader = image_folder_loader(tmp_path, 12, batch_size=2)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [2, 2, 1]
    assert torch.cat([b[1] for b in batches]).tolist() == list(range(5))
    crops = ImageFiles(tmp_path, 8, crops_per_image=3, load_size=12, seed=1)
    assert len(crops) == 15 and crops[4][0].shape == (3, 8, 8)
    assert torch.equal(crops[4][0], crops[4][0])  # deterministic per (seed, file)
    model = _net()
    gray = nn.Sequential(nn.Conv2d(3, 1, 1), model)
    snap = snapshot_world(gray)
    feats = extract_features(gray, loader, "1.5", show_progress=False)
    assert feats.shape == (5, 4)
    snap.assert_unchanged()


def test_distributed_flag_without_group_is_local() -> None:
    model, x = _net(), _data(9)
    snap = snapshot_world(model, x)
    a = extract_features(model, x, "5", batch_size=4, show_progress=False, distributed=True)
    b = extract_features(model, x, "5", batch_size=9, show_progress=False)
    assert torch.equal(a, b)
    mp_ = MaxActivatingPatches(model, "3", k=2, show_progress=False)
    assert torch.equal(mp_.scan(x, distributed=True).index, mp_.scan(x).index)
    snap.assert_unchanged()


def test_env_helpers_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with process_group_from_env() as (rank, world), quiet_unless_main() as main:
        print("visible")
    assert (rank, world, main) == (0, 1, True)
    assert "visible" in capsys.readouterr().out
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert rank_device("cuda") == torch.device("cuda", 1)
    assert rank_device("cpu") == torch.device("cpu")
    _write_pngs(tmp_path, 3)
    imgs = gather_images(image_folder_loader(tmp_path, 12, batch_size=2))
    assert imgs.shape == (3, 3, 12, 12) and float(imgs.max()) <= 1.0


def test_bank_shards_one_process(tmp_path: Path) -> None:
    model, x = _net(), _data(9)
    bank = FeatureBank.from_model(model, x, "3", show_progress=False, gather=False)
    bank.save_shards(tmp_path / "b")
    back = FeatureBank.load(tmp_path / "b")
    assert torch.equal(back.features, bank.features)
    assert torch.equal(back.indices, bank.indices)
    (tmp_path / "b" / "index.json").unlink()  # as if rank 0 died before the index
    with pytest.raises(ValueError, match="no index.json"):
        FeatureBank.load(tmp_path / "b")


# ------------------------------------------------------------------ two gloo processes


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int | None]]:
    """One 2-process run (equality job, then the crash job), shared by the tests below."""
    out = tmp_path_factory.mktemp("dist")
    model, x = _net(), _data()
    _write_pngs(out / "imgs", 7)
    snap = snapshot_world(model, x)
    codes = _run2(out, (model, x))
    snap.assert_unchanged()
    return out, codes


@pytest.mark.slow
def test_two_processes_equal_one(two_ranks: tuple[Path, list[int | None]]) -> None:
    out, _ = two_ranks
    model, x = _net(), _data()
    dist_res = torch.load(out / "dist.pt", weights_only=False)
    one = _results(model, x, out / "imgs")
    _same(one, dist_res, "result")
    # the test data really has ties (so the tie order is checked), incl. across ranks
    vals, idx = one["topFalse"][0], one["topFalse"][1]
    assert bool((vals[:, :-1] == vals[:, 1:]).any())
    assert bool((idx < 24).any()) and bool((idx >= 24).any())  # rank 1 owns 24..36
    assert one["topTrue"][4] == 37
    # per-rank shards on disk read back as the one-process bank
    loaded = FeatureBank.load(out / "shards")
    assert torch.equal(loaded.features, one["bank"])
    assert loaded.indices.tolist() == list(range(37))
    index = json.loads((out / "shards" / "index.json").read_text())
    assert [sh["rows"] for sh in index["shards"]] == [24, 13]


@pytest.mark.slow
def test_rank_dying_midscan_fails_clearly(two_ranks: tuple[Path, list[int | None]]) -> None:
    out, codes = two_ranks
    assert codes[1] == 3  # rank 1 died (os._exit mid-scan)
    assert codes[0] == 0  # rank 0 got a clear error, recorded it and exited cleanly
    raised0 = (out / "error-raise-0.txt").read_text()
    raised1 = (out / "error-raise-1.txt").read_text()
    assert "rank 1 failed" in raised0 and "bomb went off" in raised0
    assert raised1.startswith("ValueError: bomb went off")
    died0 = (out / "error-die-0.txt").read_text()
    assert died0.startswith("RuntimeError: rank 0 of 2: the distributed")
    assert "crashed or was killed" in died0
    names = sorted(p.name for p in out.iterdir())
    assert not [n for n in names if n.startswith(("result", ".result"))], names
