"""Maximally activating patches: per channel, the top-k data set crops by a streaming scan.

The scan keeps, per channel, only ``k`` hits as plain tensors (``values``, global image
``index``, ``y``, ``x``), so its memory is ``O(channels × k)`` whatever the data set's size.
:func:`merge_topk` merges two such states exactly, breaking ties by (value descending, global
image index ascending, y ascending, x ascending): scans of disjoint shards merged in any order
give the same answer as one scan, which is what a distributed run needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._progress import progress_bar
from attribkit.layers.features import iter_batches
from attribkit.layers.hooks import LayerRef, forward_to, layer_name, resolve_layer
from attribkit.layers.receptive_field import ReceptiveField, receptive_field
from attribkit.layers.state import frozen

__all__ = [
    "TopK",
    "merge_topk",
    "batch_topk",
    "MaxActivatingPatches",
    "crop_box",
    "random_crops",
]


@dataclass
class TopK:
    """Per-channel top-k hits: four ``C×k`` tensors, best first.

    Empty slots hold ``value = -inf`` and ``index = y = x = -1``.
    """

    values: torch.Tensor
    index: torch.Tensor
    y: torch.Tensor
    x: torch.Tensor

    @classmethod
    def empty(
        cls,
        channels: int,
        k: int,
        device: torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> TopK:
        """A state with no hits."""
        v = torch.full((channels, k), -math.inf, device=device, dtype=dtype)
        i = torch.full((channels, k), -1, device=device, dtype=torch.long)
        return cls(v, i, i.clone(), i.clone())

    @property
    def k(self) -> int:
        """Slots per channel."""
        return int(self.values.shape[1])

    def numel(self) -> int:
        """Elements stored (the memory of the scan; independent of the data set's size)."""
        return sum(t.numel() for t in (self.values, self.index, self.y, self.x))

    def filled(self) -> torch.Tensor:
        """Per channel, how many slots hold a hit."""
        return (self.index >= 0).sum(dim=1)

    def to(self, device: torch.device | str) -> TopK:
        """The same state on ``device`` (e.g. before an ``all_gather``)."""
        return TopK(*(t.to(device) for t in (self.values, self.index, self.y, self.x)))


def _order(
    values: torch.Tensor, index: torch.Tensor, y: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """Column permutation per row sorting by (value desc, index asc, y asc, x asc); empty last."""
    # empty slots (index -1) go last: give them the largest keys
    big = torch.iinfo(torch.long).max
    idx_key = torch.where(index < 0, torch.full_like(index, big), index)
    perm = torch.argsort(x, dim=1, stable=True)
    for key, desc in ((y, False), (idx_key, False), (values, True)):
        k = torch.gather(key, 1, perm)
        perm = torch.gather(perm, 1, torch.argsort(k, dim=1, descending=desc, stable=True))
    return perm


def merge_topk(a: TopK, b: TopK, k: int | None = None) -> TopK:
    """Exact top-``k`` of the union of two states (ties: lower image index, then y, then x).

    The result does not depend on the order of the arguments, so shards can be merged in any
    order (e.g. after ``torch.distributed.all_gather``).

    Examples:
        >>> import torch
        >>> a = TopK(torch.tensor([[3., 1.]]), torch.tensor([[5, 2]]), torch.zeros(1, 2,
        ...          dtype=torch.long), torch.zeros(1, 2, dtype=torch.long))
        >>> b = TopK(torch.tensor([[3., 2.]]), torch.tensor([[4, 9]]), torch.zeros(1, 2,
        ...          dtype=torch.long), torch.zeros(1, 2, dtype=torch.long))
        >>> merge_topk(a, b).index.tolist()
        [[4, 5]]
    """
    if a.values.shape[0] != b.values.shape[0]:
        raise ValueError(
            f"cannot merge states with {a.values.shape[0]} and {b.values.shape[0]} channels"
        )
    k = k if k is not None else max(a.k, b.k)
    v = torch.cat([a.values, b.values.to(a.values)], 1)
    i = torch.cat([a.index, b.index.to(a.index)], 1)
    y = torch.cat([a.y, b.y.to(a.y)], 1)
    x = torch.cat([a.x, b.x.to(a.x)], 1)
    perm = _order(v, i, y, x)[:, :k]
    out = TopK(*(torch.gather(t, 1, perm) for t in (v, i, y, x)))
    if out.k < k:  # fewer candidates than k: pad with empty slots
        pad = TopK.empty(v.shape[0], k - out.k, v.device, v.dtype)
        out = TopK(
            *(
                torch.cat([p, q], 1)
                for p, q in zip(
                    (out.values, out.index, out.y, out.x), (pad.values, pad.index, pad.y, pad.x)
                )
            )
        )
    return out


def batch_topk(acts: torch.Tensor, start_index: int, k: int, one_per_image: bool = True) -> TopK:
    """Top-``k`` hits per channel of one batch of activations ``B×C×h×w``.

    Args:
        acts: the layer's output for images ``start_index … start_index + B - 1``.
        start_index: global index of the batch's first image.
        k: hits to keep per channel.
        one_per_image: count each image at most once per channel (its best position, the
            first in row-major order on ties); else every position competes.

    Examples:
        >>> import torch
        >>> a = torch.zeros(2, 1, 2, 2); a[1, 0, 1, 0] = 5.0
        >>> t = batch_topk(a, 10, 1)
        >>> t.values.item(), t.index.item(), t.y.item(), t.x.item()
        (5.0, 11, 1, 0)
    """
    b, c, h, w = acts.shape
    dev = acts.device
    if one_per_image:
        flat = acts.reshape(b, c, h * w)
        vals, pos = flat.max(dim=2)  # first maximal position on ties
        v = vals.t()  # C×B
        idx = (torch.arange(b, device=dev) + start_index).expand(c, b)
        y, x = (pos // w).t(), (pos % w).t()
        # B candidates per channel, already in index order: a stable sort gives exact ties
        kk = min(k, b)
        perm = torch.argsort(v, dim=1, descending=True, stable=True)[:, :kk]
        return TopK(
            torch.gather(v, 1, perm),
            torch.gather(idx, 1, perm),
            torch.gather(y, 1, perm),
            torch.gather(x, 1, perm),
        )
    flat = acts.permute(1, 0, 2, 3).reshape(c, b * h * w)  # row-major (image, y, x)
    kk = min(k, flat.shape[1])
    thresh = torch.topk(flat, kk, dim=1).values[:, -1:]
    # every element >= the k-th value is a candidate; the exact tie order is then fixed by a
    # stable sort of this small set, which is in (image, y, x) order already
    cand = torch.nonzero(flat >= thresh)  # rows sorted by (channel, flat position)
    ch, pos = cand[:, 0], cand[:, 1]
    vals = flat[ch, pos]
    order = torch.argsort(vals, descending=True, stable=True)
    order = order[torch.argsort(ch[order], stable=True)]
    ch, pos, vals = ch[order], pos[order], vals[order]
    counts = torch.bincount(ch, minlength=c)
    starts = torch.cumsum(counts, 0) - counts
    take = (starts.view(c, 1) + torch.arange(kk, device=dev).view(1, kk)).flatten()
    pos, vals = pos[take].view(c, kk), vals[take].view(c, kk)
    img, rem = pos // (h * w), pos % (h * w)
    return TopK(vals, img + start_index, rem // w, rem % w)


def crop_box(
    image: torch.Tensor, box: tuple[int, int, int, int], pad_value: float = 0.0
) -> torch.Tensor:
    """Crop ``(top, left, bottom, right)`` from a ``C×H×W`` image, padding outside it.

    Examples:
        >>> import torch
        >>> crop_box(torch.ones(1, 4, 4), (-1, -1, 2, 2))[0]
        tensor([[0., 0., 0.],
                [0., 1., 1.],
                [0., 1., 1.]])
    """
    c, h, w = image.shape
    top, left, bottom, right = box
    if bottom <= top or right <= left:
        raise ValueError(f"empty box {box}")
    out = torch.full(
        (c, bottom - top, right - left), float(pad_value), dtype=image.dtype, device=image.device
    )
    t0, l0, b0, r0 = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if b0 > t0 and r0 > l0:
        out[:, t0 - top : b0 - top, l0 - left : r0 - left] = image[:, t0:b0, l0:r0]
    return out


def random_crops(
    images: torch.Tensor | Sequence[torch.Tensor], per_image: int, size: int, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_image`` random ``size × size`` crops of each image: a data set for a patch scan.

    Args:
        images: ``N×C×H×W`` or a list of ``[1×]C×H×W`` images (sizes may differ), each at
            least ``size`` on both sides.
        per_image: crops per image.
        size: crop side in pixels.
        seed: seed of a local generator (the global RNG is not touched).

    Returns:
        ``(crops M×C×size×size, source image index M)``.

    Examples:
        >>> import torch
        >>> crops, src = random_crops(torch.rand(2, 3, 10, 12), 3, 8)
        >>> tuple(crops.shape), src.tolist()
        ((6, 3, 8, 8), [0, 0, 0, 1, 1, 1])
    """
    imgs = list(images.unbind(0)) if isinstance(images, torch.Tensor) else list(images)
    if isinstance(per_image, bool) or not isinstance(per_image, int) or per_image <= 0:
        raise ValueError(f"per_image must be a positive integer, got {per_image!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    gen = torch.Generator().manual_seed(seed)
    crops, src = [], []
    for j, img in enumerate(imgs):
        img = img[0] if img.ndim == 4 else img
        if img.ndim != 3 or img.shape[1] < size or img.shape[2] < size:
            raise ValueError(
                f"image {j} has shape {tuple(img.shape)}; crops of {size} px need "
                "C×H×W images at least that large"
            )
        for _ in range(per_image):
            y = int(torch.randint(0, img.shape[1] - size + 1, (1,), generator=gen))
            x = int(torch.randint(0, img.shape[2] - size + 1, (1,), generator=gen))
            crops.append(img[:, y : y + size, x : x + size])
            src.append(j)
    if not crops:
        raise ValueError("images is empty")
    return torch.stack(crops), torch.tensor(src)


def _image_at(images: Any, i: int) -> torch.Tensor:
    item = images[i]
    if isinstance(item, (tuple, list)):
        item = item[0]
    if not isinstance(item, torch.Tensor):
        raise TypeError(f"images[{i}] is a {type(item).__name__}, not an image tensor")
    return item[0] if item.ndim == 4 else item


class MaxActivatingPatches:
    """Find, per channel of a layer, the ``k`` data set patches that excite it most.

    Springenberg et al. (2015): scan a data set, keep the strongest responses of each channel
    and show the input region each one sees (its receptive field). The scan is streaming:
    only the per-channel top-k state (:class:`TopK`) and one batch of activations are alive.

    Args:
        model: the network (images in its input range); run in eval mode, restored after.
        layer: a layer with a spatial output ``N×C×h×w``.
        k: hits kept per channel.
        one_per_image: an image counts at most once per channel (its best position).
        batch_size: slice size when a tensor is scanned.
        channels_last: feed batches in channels-last memory format (often faster on CPUs).
        show_progress: progress bar during scans.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU())
        >>> mp = MaxActivatingPatches(net, "1", k=2, show_progress=False)
        >>> data = torch.rand(6, 1, 8, 8)
        >>> mp.scan(data).values.shape
        torch.Size([2, 2])
        >>> mp.grid(data).shape[0]
        3
    """

    def __init__(
        self,
        model: nn.Module,
        layer: LayerRef,
        k: int = 9,
        *,
        one_per_image: bool = True,
        batch_size: int = 32,
        channels_last: bool = False,
        show_progress: bool | None = None,
    ) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k <= 0:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        resolve_layer(model, layer)
        self.model = model
        self.layer = layer
        self.layer_name = layer_name(model, layer)
        self.k = k
        self.one_per_image = one_per_image
        self.batch_size = batch_size
        self.channels_last = channels_last
        self.show_progress = show_progress
        self.state: TopK | None = None
        self.n_images = 0
        self.input_size: tuple[int, int] | None = None
        self.output_size: tuple[int, int] | None = None
        self._rf: ReceptiveField | None = None

    # -- scanning ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every hit (start a new scan)."""
        self.state, self.n_images = None, 0
        self.input_size = self.output_size = None
        self._rf = None

    @property
    def stored_elements(self) -> int:
        """Elements held by the top-k state; it does not grow with the data scanned."""
        return 0 if self.state is None else self.state.numel()

    def update(self, batch: torch.Tensor, start_index: int | None = None) -> TopK:
        """Fold one batch into the state; ``start_index`` defaults to the images seen so far.

        Raises:
            ValueError: the layer's output is not spatial, or the image size changed.
        """
        if not isinstance(batch, torch.Tensor) or batch.ndim != 4:
            raise ValueError(
                "each batch must be an N×C×H×W tensor, got "
                f"{tuple(batch.shape) if isinstance(batch, torch.Tensor) else type(batch)}"
            )
        if not batch.is_floating_point() or not bool(torch.isfinite(batch).all()):
            raise ValueError("batches must be finite floating-point images")
        hw = (int(batch.shape[2]), int(batch.shape[3]))
        if self.input_size is not None and hw != self.input_size:
            raise ValueError(
                f"all images must have the same size for one scan: got {hw} after "
                f"{self.input_size}; resize or crop them first"
            )
        p = next(iter(self.model.parameters()), None)
        if p is not None:
            batch = batch.to(p.device)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        start = self.n_images if start_index is None else int(start_index)
        with frozen(self.model), torch.no_grad():
            a = next(iter(forward_to(self.model, batch, [self.layer], detach=True).values()))
        if a.ndim != 4:
            raise ValueError(
                f"layer {self.layer_name!r} has output shape {tuple(a.shape)}; maximally "
                "activating patches need a spatial N×C×h×w output (pick a conv or block layer)"
            )
        if not bool(torch.isfinite(a).all()):
            raise ValueError(f"layer {self.layer_name!r} produced NaN or infinite activations")
        top = batch_topk(a.float(), start, self.k, self.one_per_image)
        if self.state is None:
            self.state = TopK.empty(a.shape[1], self.k, a.device)
        self.state = merge_topk(self.state, top, self.k)
        self.input_size, self.output_size = hw, (int(a.shape[2]), int(a.shape[3]))
        self.n_images = max(self.n_images, start + batch.shape[0])
        return self.state

    def scan(
        self,
        data: torch.Tensor | Iterable[Any],
        *,
        reset: bool = True,
        distributed: bool | None = None,
    ) -> TopK:
        """Scan a tensor ``N×C×H×W``, a DataLoader or an iterable of batches.

        Under ``torch.distributed`` (``distributed=None``: whenever a process group of more
        than one process is initialised) every rank scans its own exact shard of whole
        batches (see :mod:`attribkit.layers.distributed`), keeps its local top-k per channel,
        and the ranks all-gather the ``k`` candidates per channel and merge them with
        :func:`merge_topk`: every rank ends with exactly the one-process state, ties
        included. ``data`` must then be a tensor, a Dataset or a loader from
        :func:`attribkit.layers.distributed.image_folder_loader`.

        Raises:
            ValueError: fewer images (or positions) than ``k``, a layer without spatial
                output, or mixed image sizes.
            RuntimeError: in a distributed run, another rank failed or died.
        """
        from attribkit.layers.distributed import gather_results, is_distributed, local_shard

        if reset:
            self.reset()
        use_dist = is_distributed() if distributed is None else (distributed and is_distributed())
        if use_dist:
            return self._scan_distributed(data, local_shard, gather_results)
        if isinstance(data, torch.Tensor) and self.one_per_image:
            self._check_k(data.shape[0] if data.ndim == 4 else 0, None)
        self._scan_local(data, None)
        if self.state is None:
            raise ValueError("data is empty: no batch was produced")
        self._check_k(self.n_images, self.output_size)
        return self.state

    def _scan_local(self, data: Any, start: int | None) -> None:
        total = None
        if isinstance(data, torch.Tensor):
            total = -(-data.shape[0] // self.batch_size)
        elif hasattr(data, "__len__"):
            total = len(data)
        bar = progress_bar(
            iter_batches(data, self.batch_size),
            total=total,
            desc="top-k scan",
            show_progress=self.show_progress,
        )
        pos = start
        for batch in bar:
            self.update(batch, pos)
            if pos is not None:
                pos += batch.shape[0]

    def _scan_distributed(self, data: Any, local_shard: Any, gather_results: Any) -> TopK:
        part, start, n = local_shard(data, self.batch_size)
        if isinstance(data, torch.Tensor) and self.one_per_image:
            self._check_k(n if data.ndim == 4 else 0, None)

        def _local() -> tuple[TopK | None, tuple[int, int] | None, tuple[int, int] | None]:
            self._scan_local(part, start)
            st = None if self.state is None else self.state.to("cpu")
            return st, self.input_size, self.output_size

        parts = gather_results(_local)
        sizes = {p[1] for p in parts if p[0] is not None}
        if len(sizes) > 1:
            raise ValueError(
                f"all images must have the same size for one scan: the ranks saw {sorted(sizes)}"
            )
        merged: TopK | None = None
        for st, in_hw, out_hw in parts:
            if st is None:
                continue
            merged = st if merged is None else merge_topk(merged, st, self.k)
            self.input_size, self.output_size = in_hw, out_hw
        if merged is None:
            raise ValueError("data is empty: no batch was produced on any rank")
        p = next(iter(self.model.parameters()), None)
        self.state = merged.to(p.device) if p is not None else merged
        self.n_images = n
        self._rf = None
        self._check_k(self.n_images, self.output_size)
        return self.state

    def _check_k(self, n: int, out_hw: tuple[int, int] | None) -> None:
        avail = n if self.one_per_image or out_hw is None else n * out_hw[0] * out_hw[1]
        if self.k > avail:
            what = "images" if self.one_per_image else "positions"
            raise ValueError(
                f"k={self.k} is larger than the data set ({avail} {what}); "
                "lower k or scan more images"
            )

    # -- pictures ---------------------------------------------------------------------------
    def receptive_field(self) -> ReceptiveField:
        """The layer's receptive field at the scanned image size (computed once)."""
        if self.input_size is None:
            raise ValueError("scan a data set first")
        if self._rf is None:
            self._rf = receptive_field(self.model, self.layer, self.input_size)
        return self._rf

    def top_channels(self, n: int) -> list[int]:
        """The ``n`` channels whose best hit is strongest (a good default for pictures)."""
        if self.state is None:
            raise ValueError("scan a data set first")
        return torch.argsort(self.state.values[:, 0], descending=True, stable=True)[:n].tolist()

    def patches(
        self,
        images: Any,
        channels: Sequence[int] | None = None,
        *,
        size: int | None = None,
        pad_value: float = 0.0,
    ) -> torch.Tensor:
        """Crop every hit's receptive-field box: ``len(channels)×k×C×s×s`` in input range.

        Args:
            images: the scanned data, indexable by global image index (a tensor, a list, a
                Dataset returning images or ``(image, label)``).
            channels: channels to crop (default all).
            size: resize each crop to ``size`` pixels (default: the box size).
            pad_value: fill for the parts of a box outside the image.
        """
        if self.state is None:
            raise ValueError("scan a data set first")
        rf = self.receptive_field()
        chans = list(range(self.state.values.shape[0])) if channels is None else list(channels)
        nc = self.state.values.shape[0]
        bad = [c for c in chans if not 0 <= int(c) < nc]
        if bad:
            raise ValueError(f"channel {bad[0]} is out of range: the layer has {nc} channels")
        rows = []
        for c in chans:
            row = []
            for j in range(self.k):
                i = int(self.state.index[c, j])
                if i < 0:
                    raise ValueError(f"channel {c} has fewer than k={self.k} hits")
                img = _image_at(images, i).detach().float().cpu()
                y, x = int(self.state.y[c, j]), int(self.state.x[c, j])
                patch = crop_box(img, rf.box(y, x), pad_value)
                if size is not None:
                    patch = F.interpolate(
                        patch[None], size=(size, size), mode="bilinear", align_corners=False
                    )[0]
                row.append(patch)
            rows.append(torch.stack(row))
        return torch.stack(rows)

    def grid(
        self,
        images: Any,
        channels: Sequence[int] | None = None,
        *,
        size: int | None = 48,
        padding: int = 2,
        pad_value: float = 0.0,
        path: str | Path | None = None,
    ) -> torch.Tensor:
        """One row per channel, ``k`` patches per row, as a ``3×H×W`` image in [0, 1].

        Args:
            images: the scanned data (see :meth:`patches`).
            channels: the rows (default: all channels).
            size: tile size in pixels (``None`` keeps the receptive-field size).
            padding: white pixels between tiles.
            pad_value: fill for the parts of a box outside the image.
            path: also save the picture there.
        """
        from attribkit.viz import make_grid

        p = self.patches(images, channels, size=size, pad_value=pad_value)
        grid = make_grid(p.flatten(0, 1).clamp(0, 1), nrow=self.k, padding=padding)
        if path is not None:
            from attribkit.io import save_image

            save_image(grid, path)
        return grid
