"""Maximally activating patches: per channel, the top-k data set crops by a streaming scan.

The per-channel state and its exact merge live in :mod:`attribkit.layers.topk`; this module
scans data sets into it (in one process or sharded across ranks) and crops the receptive-field
box of every hit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import (
    check_finite,
    check_finite_number,
    check_model_input,
    check_non_negative_int,
    check_positive_int,
    describe,
)
from attribkit._progress import progress_bar
from attribkit.layers.batches import batch_count, iter_batches, model_device
from attribkit.layers.distributed import gather_results, is_distributed, local_shard
from attribkit.layers.filters import tile
from attribkit.layers.hooks import LayerRef, forward_to, layer_name, resolve_layer
from attribkit.layers.receptive_field import ReceptiveField, receptive_field
from attribkit.layers.state import frozen
from attribkit.layers.topk import TopK, batch_topk, merge_topk

__all__ = ["MaxActivatingPatches", "crop_box", "random_crops"]


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
    if not isinstance(image, torch.Tensor) or image.ndim != 3:
        raise ValueError(f"image must be one C×H×W tensor, got {describe(image)}")
    if (
        not isinstance(box, (tuple, list))
        or len(box) != 4
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in box)
    ):
        raise ValueError(f"box must be (top, left, bottom, right) integers, got {box!r:.60}")
    check_finite_number(pad_value, "pad_value")
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
    check_positive_int(per_image, "per_image")
    check_positive_int(size, "size")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    for j, img in enumerate(imgs):
        if not isinstance(img, torch.Tensor):
            raise TypeError(f"image {j} is a {type(img).__name__}, not a tensor")
        check_finite(img, f"image {j}")
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
        check_positive_int(k, "k")
        check_positive_int(batch_size, "batch_size")
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
        check_model_input(self.model, batch, "each batch")
        device = model_device(self.model)
        if device is not None:
            batch = batch.to(device)
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
        if reset:
            self.reset()
        use_dist = is_distributed() if distributed is None else (distributed and is_distributed())
        if use_dist:
            return self._scan_distributed(data)
        if isinstance(data, torch.Tensor) and self.one_per_image:
            self._check_k(data.shape[0] if data.ndim == 4 else 0, None)
        self._scan_local(data, None)
        if self.state is None:
            raise ValueError("data is empty: no batch was produced")
        self._check_k(self.n_images, self.output_size)
        return self.state

    def _scan_local(self, data: Any, start: int | None) -> None:
        bar = progress_bar(
            iter_batches(data, self.batch_size),
            total=batch_count(data, self.batch_size),
            desc="top-k scan",
            show_progress=self.show_progress,
        )
        pos = start
        for batch in bar:
            self.update(batch, pos)
            if pos is not None:
                pos += batch.shape[0]

    def _scan_distributed(self, data: Any) -> TopK:
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
        device = model_device(self.model)
        self.state = merged.to(device) if device is not None else merged
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
        check_non_negative_int(padding, "padding")
        p = self.patches(images, channels, size=size, pad_value=pad_value).flatten(0, 1)
        if p.shape[1] == 1:
            p = p.expand(-1, 3, -1, -1)
        if p.shape[1] != 3:
            raise ValueError(f"patches have {p.shape[1]} channels; pictures need 1 or 3")
        grid = tile(p.clamp(0, 1), nrow=self.k, padding=padding)
        if path is not None:
            from attribkit.io import save_image

            save_image(grid, path)
        return grid
