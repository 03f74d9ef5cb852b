"""Helpers for running scans under ``torch.distributed`` (``torchrun``, SLURM, spawn).

attribkit never runs its own process group: it uses the one the caller (or ``torchrun``)
initialised, with any backend (gloo on CPUs, NCCL on GPUs). The data set is split into
contiguous, exact shards — whole batches of ``batch_size`` images, no padding duplicates — so
every image is processed once, in the same batch as in a one-process run, and the gathered
results are identical to the one-process ones. Results are written by rank 0 only, to a
temporary name that is renamed when complete, so a crash never leaves a file that looks done.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, Sampler

from attribkit.layers.batches import iter_batches

__all__ = [
    "dist_info",
    "is_distributed",
    "is_main_process",
    "shard_range",
    "ShardSampler",
    "all_gather_objects",
    "gather_cat",
    "atomic_path",
    "ImageFiles",
    "image_folder_loader",
    "local_shard",
    "gather_results",
    "barrier",
    "process_group_from_env",
    "rank_device",
    "gather_images",
    "quiet_unless_main",
    "all_reduce_mean",
    "loader_generator",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def dist_info() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised process group, else ``(0, 1)``.

    Examples:
        >>> dist_info()
        (0, 1)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_distributed() -> bool:
    """Whether a process group with more than one process is initialised."""
    return dist_info()[1] > 1


def is_main_process() -> bool:
    """True on rank 0 (and in a plain one-process run): the process that writes results."""
    return dist_info()[0] == 0


def shard_range(n: int, rank: int, world_size: int, block: int = 1) -> tuple[int, int]:
    """The contiguous slice ``[start, stop)`` of ``n`` items that ``rank`` owns.

    The items are cut into blocks of ``block`` (the batch size) and the blocks are dealt out
    in contiguous runs, the first ranks taking one more when they do not divide evenly. No
    item is repeated or dropped; a rank may get nothing when there are fewer blocks than ranks.

    Examples:
        >>> [shard_range(10, r, 3, block=2) for r in range(3)]
        [(0, 4), (4, 8), (8, 10)]
    """
    for nm, v in (("n", n), ("world_size", world_size), ("block", block)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (0 if nm == "n" else 1):
            raise ValueError(
                f"{nm} must be a {'non-negative' if nm == 'n' else 'positive'} integer, got {v!r}"
            )
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in 0..{world_size - 1}, got {rank}")
    blocks = -(-n // block)
    per, extra = divmod(blocks, world_size)
    b0 = rank * per + min(rank, extra)
    b1 = b0 + per + (1 if rank < extra else 0)
    return min(b0 * block, n), min(b1 * block, n)


class ShardSampler(Sampler[int]):
    """Sampler over this rank's exact contiguous shard (see :func:`shard_range`).

    Unlike ``torch.utils.data.DistributedSampler`` it never pads with duplicates, and the
    shards are whole batches, so the concatenation of the ranks' outputs is the one-process
    output. ``start`` is the global index of the shard's first item.

    Args:
        n: items in the data set.
        rank: this process (default: from the process group).
        world_size: processes (default: from the process group).
        block: the batch size (shards are whole batches).

    Examples:
        >>> list(ShardSampler(5, rank=1, world_size=2, block=2))
        [4]
    """

    def __init__(
        self, n: int, rank: int | None = None, world_size: int | None = None, block: int = 1
    ) -> None:
        r, w = dist_info()
        self.rank = r if rank is None else rank
        self.world_size = w if world_size is None else world_size
        self.n = n
        self.start, self.stop = shard_range(n, self.rank, self.world_size, block)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start


def _collective(what: str, fn: Any, *args: Any) -> Any:
    """Run a collective; a peer that died becomes a clear RuntimeError."""
    rank, world = dist_info()
    try:
        return fn(*args)
    except Exception as err:  # gloo/NCCL raise RuntimeError or DistBackendError
        raise RuntimeError(
            f"rank {rank} of {world}: the distributed {what} failed ({err}). Another rank "
            "probably crashed or was killed; see its error above. No result was written."
        ) from err


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order (``[obj]`` without a process group)."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    _collective("all_gather", dist.all_gather_object, out, obj)
    return out


def gather_cat(parts: list[torch.Tensor | None]) -> torch.Tensor:
    """Concatenate gathered shards along dim 0, skipping ranks that had no data."""
    keep = [p for p in parts if p is not None]
    if not keep:
        raise ValueError("data is empty: no batch was produced on any rank")
    return torch.cat(keep)


def barrier() -> None:
    """Wait for every rank (no-op without a process group)."""
    if is_distributed():
        _collective("barrier", dist.barrier)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success.

    On an exception (or if the process dies) the final name is never created, and the
    temporary file is removed when Python still can.

    Examples:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_path(d / "r.txt") as tmp:
        ...     _ = tmp.write_text("done")
        >>> (d / "r.txt").read_text()
        'done'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.stem}.tmp-{os.getpid()}{p.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file {tmp}")
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()


class ImageFiles(Dataset[tuple[torch.Tensor, int]]):
    """The images of a folder (searched recursively, sorted by path) as square tensors.

    Item ``i`` is ``(C×size×size image in [0, 1], i)``. With ``crops_per_image > 1`` each file
    gives that many random ``size`` crops of the file resized to ``load_size`` (shorter side),
    drawn from a generator seeded by ``(seed, file)``, so any process yields the same crops.

    Args:
        folder: a folder of ``.jpg/.jpeg/.png/.bmp`` files.
        size: side of the returned images.
        crops_per_image: items per file (1: the resized centre crop).
        load_size: shorter side before cropping (default ``max(size, 256)`` with crops).
        seed: seed of the crops.
    """

    def __init__(
        self,
        folder: str | Path,
        size: int,
        *,
        crops_per_image: int = 1,
        load_size: int | None = None,
        seed: int = 0,
    ) -> None:
        root = Path(folder)
        if not root.is_dir():
            raise ValueError(f"{root} is not a folder")
        for nm, v in (("size", size), ("crops_per_image", crops_per_image)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{nm} must be a positive integer, got {v!r}")
        self.files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.files:
            raise ValueError(f"{root} holds no {'/'.join(IMAGE_SUFFIXES)} images")
        self.size = size
        self.crops = crops_per_image
        self.load_size = load_size or (size if crops_per_image == 1 else max(size, 256))
        self.seed = seed

    def __len__(self) -> int:
        return len(self.files) * self.crops

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from attribkit.io import load_image

        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} images")
        f, c = divmod(i, self.crops)
        if self.crops == 1:
            return load_image(self.files[f], size=self.load_size, crop=self.size)[0], i
        img = load_image(self.files[f], size=self.load_size)[0]
        h, w = img.shape[1:]
        if h < self.size or w < self.size:
            raise ValueError(f"{self.files[f]} is smaller than {self.size} px after resizing")
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + f)
        ys = torch.randint(0, h - self.size + 1, (self.crops,), generator=gen)
        xs = torch.randint(0, w - self.size + 1, (self.crops,), generator=gen)
        y, x = int(ys[c]), int(xs[c])
        return img[:, y : y + self.size, x : x + self.size].contiguous(), i


def image_folder_loader(
    folder: str | Path,
    size: int,
    batch_size: int = 32,
    workers: int = 0,
    *,
    crops_per_image: int = 1,
    seed: int = 0,
) -> DataLoader[Any]:
    """A DataLoader over this rank's shard of a folder of images (all of it in one process).

    The loader's sampler is a :class:`ShardSampler` of whole batches, so
    :func:`attribkit.layers.extract_features`, :class:`attribkit.layers.MaxActivatingPatches`
    and :meth:`attribkit.embed.FeatureBank.from_model` know each image's global index and
    gather exactly the one-process result. ``loader.dataset`` (an :class:`ImageFiles`) gives
    any image by its global index, e.g. for cropping patches on rank 0.

    Args:
        folder: the image folder (recursive).
        size: image side in pixels.
        batch_size: images per batch.
        workers: DataLoader worker processes.
        crops_per_image: random crops per file (see :class:`ImageFiles`).
        seed: seed of the crops.
    """
    ds = ImageFiles(folder, size, crops_per_image=crops_per_image, seed=seed)
    sampler = ShardSampler(len(ds), block=batch_size)
    return DataLoader(
        ds,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=False,
        generator=loader_generator(seed),
    )


def loader_generator(seed: int = 0) -> torch.Generator:
    """A local generator for a DataLoader, so that iterating it never draws from the global
    torch generator (a DataLoader without one draws its workers' base seed from it).

    Examples:
        >>> loader_generator(3).initial_seed()
        3
    """
    return torch.Generator().manual_seed(seed)


def local_shard(data: Any, batch_size: int) -> tuple[Any, int, int]:
    """This rank's part of ``data`` for a sharded scan: ``(data_part, start, n_total)``.

    ``data`` may be an ``N×…`` tensor (sliced by whole batches), a map-style Dataset (wrapped
    in a DataLoader over a :class:`ShardSampler`), or a DataLoader whose sampler is a
    :class:`ShardSampler` (used as it is). ``start`` is the global index of the part's first
    item.

    Raises:
        ValueError: any other iterable (its items cannot be split exactly across ranks).
    """
    rank, world = dist_info()
    if isinstance(data, torch.Tensor):
        a, b = shard_range(int(data.shape[0]), rank, world, batch_size)
        return data[a:b], a, int(data.shape[0])
    if isinstance(data, DataLoader):
        s = data.sampler
        if isinstance(s, ShardSampler):
            if (s.rank, s.world_size) != (rank, world):
                raise ValueError(
                    f"the loader's ShardSampler is for rank {s.rank} of {s.world_size}, but "
                    f"this is rank {rank} of {world}; build it after init_process_group"
                )
            return data, s.start, s.n
        raise ValueError(
            "under torch.distributed, pass a tensor, a Dataset, or a DataLoader built with "
            "attribkit.layers.distributed.image_folder_loader / a ShardSampler, so that each "
            "rank scans its own exact shard (a plain DataLoader would be scanned by every rank)"
        )
    if isinstance(data, Dataset) and hasattr(data, "__len__"):
        sampler = ShardSampler(len(data), rank, world, batch_size)
        loader = DataLoader(
            data, batch_size=batch_size, sampler=sampler, generator=loader_generator()
        )
        return loader, sampler.start, len(data)
    raise ValueError(
        f"under torch.distributed, data must be a tensor, a Dataset or a sharded DataLoader; "
        f"got {type(data).__name__}, whose items cannot be split exactly across ranks "
        "(pass distributed=False to scan it whole on every rank)"
    )


class _Failed:
    """A rank's exception, sent to the others so that every rank stops with the same story."""

    def __init__(self, err: BaseException) -> None:
        self.message = f"{type(err).__name__}: {err}"


def gather_results(compute: Any) -> list[Any]:
    """Run ``compute()`` on every rank and all-gather the results, in rank order.

    If ``compute`` raises on any rank, every rank raises: the failing one its own exception,
    the others a RuntimeError naming the failed rank. If a rank dies (killed, out of memory),
    the collective fails and the others raise a RuntimeError saying so.
    """
    try:
        local: Any = compute()
        err: BaseException | None = None
    except Exception as e:  # reported to the peers, then re-raised here
        local, err = _Failed(e), e
    parts = all_gather_objects(local)
    if err is not None:
        raise err
    for r, p in enumerate(parts):
        if isinstance(p, _Failed):
            raise RuntimeError(f"rank {r} failed during the distributed scan: {p.message}")
    return parts


def rank_device(device: torch.device | str) -> torch.device:
    """The device this rank should use: ``cuda`` becomes ``cuda:LOCAL_RANK`` under torchrun.

    Examples:
        >>> rank_device("cpu")
        device(type='cpu')
    """
    dev = torch.device(device)
    local = os.environ.get("LOCAL_RANK")
    if dev.type == "cuda" and dev.index is None and local is not None:
        return torch.device("cuda", int(local))
    return dev


@contextmanager
def process_group_from_env(
    device: torch.device | str = "cpu", timeout_s: float = 1800.0
) -> Iterator[tuple[int, int]]:
    """Join the process group that ``torchrun`` describes in the environment, for a block.

    With ``WORLD_SIZE`` > 1 in the environment (``torchrun``, or ``srun`` with the variables
    set) and no group yet, this calls ``torch.distributed.init_process_group`` (``env://``;
    NCCL for a CUDA device, else gloo) and destroys the group on exit. Otherwise it does
    nothing, so the same code runs in one process. Yields ``(rank, world_size)``.

    Examples:
        >>> with process_group_from_env() as (rank, world):
        ...     print(rank, world)
        0 1
    """
    import datetime

    world = int(os.environ.get("WORLD_SIZE", "1"))
    created = False
    if world > 1 and dist.is_available() and not dist.is_initialized():
        dev = rank_device(device)
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(
            backend, init_method="env://", timeout=datetime.timedelta(seconds=timeout_s)
        )
        created = True
    try:
        yield dist_info()
    finally:
        if created and dist.is_initialized():
            dist.destroy_process_group()


def gather_images(loader: Any, batch_size: int = 32) -> torch.Tensor:
    """All images of a (sharded) loader, tensor or Dataset, gathered in global order.

    Every rank reads only its own shard; the result is the whole ``N×C×H×W`` data set on
    every rank (for pixel-space neighbours and pictures of small data sets).

    Examples:
        >>> gather_images(torch.zeros(5, 3, 2, 2), batch_size=2).shape
        torch.Size([5, 3, 2, 2])
    """
    part = local_shard(loader, batch_size)[0] if is_distributed() else loader

    def _local() -> torch.Tensor | None:
        batches = [b.cpu() for b in iter_batches(part, batch_size)]
        return torch.cat(batches) if batches else None

    return gather_cat(gather_results(_local))


def all_reduce_mean(t: torch.Tensor) -> torch.Tensor:
    """The mean of ``t`` over the ranks (``t`` itself without a process group).

    Examples:
        >>> all_reduce_mean(torch.tensor([1.0, 2.0]))
        tensor([1., 2.])
    """
    if not is_distributed():
        return t
    out = t.detach().clone()
    _collective("all_reduce", dist.all_reduce, out)
    return out / dist.get_world_size()


@contextmanager
def quiet_unless_main() -> Iterator[bool]:
    """Silence ``print`` (stdout) on ranks other than 0; yields whether this is rank 0."""
    import contextlib
    import io

    if is_main_process():
        yield True
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield False
