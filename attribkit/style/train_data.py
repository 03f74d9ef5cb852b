"""Training data for feed-forward style networks: images, random crops, and batch sources.

A *batch source* draws one batch per training step from its own generators and can save and
restore its exact position (:meth:`CropSource.state` / :meth:`CropSource.load_state`), so a
resumed run draws the same crops as an uninterrupted one. :class:`CropSource` gives random
crops of a set of images, read through a ``DistributedSampler`` so that under ``torchrun``
each process sees its own share. :class:`StyleSpec` describes one style image; the training
loop (:mod:`attribkit.style.train_loop`) takes any object with ``next_batch(step)``,
``state()`` and ``load_state(state)``, such as :class:`PairedCrops` for networks trained on
(content, style) pairs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from attribkit._checks import check_image_batch, check_positive_int, describe

__all__ = [
    "ImageSource",
    "IMAGE_SUFFIXES",
    "StyleSpec",
    "load_image_source",
    "image_sources",
    "ImageSet",
    "random_crop",
    "IndexStream",
    "CropSource",
    "ContentBatch",
    "StyleCycle",
    "PairedCrops",
]

#: An image given by a bundled name (``"chelsea"``), a path, or a ``1×3×H×W`` tensor.
ImageSource = str | Path | torch.Tensor
#: File suffixes read from a folder of images.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def _resize_short(x: torch.Tensor, size: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    s = size / min(h, w)
    return F.interpolate(
        x,
        size=(max(1, round(h * s)), max(1, round(w * s))),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    ).clamp(0, 1)


def load_image_source(src: ImageSource, size: int | None = None) -> torch.Tensor:
    """One image as ``1×3×H×W`` in [0, 1] on the CPU, its shorter side resized to ``size``.

    A bundled photo given by name is also centre-cropped to a ``size`` square.

    Examples:
        >>> load_image_source(torch.rand(3, 8, 12), size=4).shape
        torch.Size([1, 3, 4, 6])
    """
    from attribkit.data import sample_image, sample_names
    from attribkit.io import load_image

    if size is not None:
        check_positive_int(size, "size")
    if isinstance(src, torch.Tensor):
        x = src.detach()
        if x.ndim == 3:
            x = x.unsqueeze(0)
        if x.ndim != 4 or x.shape[0] != 1:
            raise ValueError(f"an image tensor must be 1×3×H×W, got {describe(src)}")
        check_image_batch(x, "an image tensor", channels=3, unit_range=True)
        x = x.float().cpu()
        return _resize_short(x, size) if size is not None else x
    if not isinstance(src, (str, Path)):
        raise TypeError(
            f"an image must be a bundled name, a path or a 1×3×H×W tensor, got {describe(src)}"
        )
    if isinstance(src, str) and src in sample_names("all") and not Path(src).exists():
        return sample_image(src, size=size, crop=None) if size else sample_image(src)
    p = Path(src)
    if not p.exists():
        raise FileNotFoundError(f"no image at {p} (and no bundled image called {str(src)!r})")
    return load_image(p, size=size)


def image_sources(images: object, holdout: Sequence[str] = ()) -> list[ImageSource]:
    """The images of a folder (recursive, sorted), a list, one image, or (``None``) the
    bundled photos minus ``holdout``.

    Examples:
        >>> "chelsea" in image_sources(None, holdout=("coffee",))
        True
    """
    from attribkit.data import sample_names

    if images is None:
        names = [n for n in sample_names("photos") if n not in set(holdout)]
        if not names:
            raise ValueError("every bundled photo is held out; keep at least one for training")
        return list(names)
    if isinstance(images, (str, Path)) and Path(images).is_dir():
        files = sorted(p for p in Path(images).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {images}")
        return list(files)
    if isinstance(images, (str, Path, torch.Tensor)):
        return [images]
    if not isinstance(images, (list, tuple)):
        raise TypeError(
            f"content must be a folder, a list of images or None, got {type(images).__name__}"
        )
    if not images:
        raise ValueError("the list of images is empty")
    for i, item in enumerate(images):
        if not isinstance(item, (str, Path, torch.Tensor)):
            raise TypeError(f"image {i} is a {type(item).__name__}: give names, paths or tensors")
    return list(images)


@dataclass
class StyleSpec:
    """One style to learn: an image, and how to take its Gram matrices.

    Args:
        image: a bundled image name (``"starry_night"``), a path, or a ``1×3×H×W`` tensor.
        size: resize the shorter side to this many pixels before taking Gram matrices
            (``None`` keeps the size). Larger means smaller strokes relative to the crops.
        crop: optional ``(top, left, height, width)`` in fractions of the image, to learn the
            style of a detail (taken before resizing).

    Examples:
        >>> StyleSpec(torch.rand(1, 3, 20, 40), size=10, crop=(0.0, 0.0, 1.0, 0.5)).load().shape
        torch.Size([1, 3, 10, 10])
    """

    image: ImageSource
    size: int | None = 256
    crop: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.image, (str, Path, torch.Tensor)):
            raise TypeError(
                f"StyleSpec.image must be a bundled name, a path or a tensor, got "
                f"{type(self.image).__name__}"
            )
        if self.size is not None:
            check_positive_int(self.size, "StyleSpec.size")
        if self.crop is not None:
            c = self.crop
            ok = (
                isinstance(c, (tuple, list))
                and len(c) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in c)
            )
            if ok:
                t, left, h, w = (float(v) for v in c)
                ok = (
                    0 <= t < 1
                    and 0 <= left < 1
                    and 0 < h <= 1 - t + 1e-9
                    and 0 < w <= 1 - left + 1e-9
                )
            if not ok:
                raise ValueError(
                    "crop must be fractions (top, left, height, width) inside the image, "
                    f"got {self.crop!r}"
                )

    def load(self) -> torch.Tensor:
        """The style image as ``1×3×H×W`` in [0, 1]."""
        img = load_image_source(self.image, None)
        if self.crop is not None:
            t, left, h, w = self.crop
            H, W = img.shape[-2:]
            img = img[
                ...,
                int(t * H) : int(t * H) + max(1, int(h * H)),
                int(left * W) : int(left * W) + max(1, int(w * W)),
            ]
        return _resize_short(img, self.size) if self.size is not None else img

    @property
    def source_name(self) -> str:
        """How the training record names the image (``"tensor"`` for a tensor)."""
        return "tensor" if isinstance(self.image, torch.Tensor) else str(self.image)


class ImageSet:
    """Images loaded at ``size`` (shorter side) on first use, and kept when they are few.

    Examples:
        >>> ImageSet([torch.rand(1, 3, 8, 8)], size=4)[0].shape
        torch.Size([1, 3, 4, 4])
    """

    def __init__(self, sources: Sequence[ImageSource], size: int, cache: bool = True) -> None:
        check_positive_int(size, "size")
        self.sources = list(sources)
        if not self.sources:
            raise ValueError("an ImageSet needs at least one image")
        self.size = size
        self._cache: dict[int, torch.Tensor] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, i: int) -> torch.Tensor:
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        img = load_image_source(self.sources[i], self.size)
        if self._cache is not None:
            self._cache[i] = img
        return img


def random_crop(img: torch.Tensor, crop: int, gen: torch.Generator) -> torch.Tensor:
    """A random square crop (random scale, position and horizontal flip), resized to ``crop``.

    Examples:
        >>> random_crop(torch.rand(1, 3, 20, 30), 16, torch.Generator().manual_seed(0)).shape
        torch.Size([1, 3, 16, 16])
    """
    check_positive_int(crop, "crop")
    h, w = img.shape[-2:]
    lo, hi = min(crop, h, w), min(h, w)
    s = int(torch.randint(lo, hi + 1, (1,), generator=gen))
    top = int(torch.randint(0, h - s + 1, (1,), generator=gen))
    left = int(torch.randint(0, w - s + 1, (1,), generator=gen))
    x = img[..., top : top + s, left : left + s]
    if s != crop:
        x = F.interpolate(
            x, size=(crop, crop), mode="bilinear", align_corners=False, antialias=s > crop
        ).clamp(0, 1)
    if bool(torch.rand(1, generator=gen) < 0.5):
        x = x.flip(-1)
    return x


class IndexStream:
    """An endless, resumable stream of item indices from a shuffled ``DistributedSampler``.

    ``(epoch, pos)`` is the position after the last index drawn; a stream made with the
    same ``seed`` at that position continues exactly where the first one stopped.

    Examples:
        >>> s = IndexStream(3, seed=0)
        >>> first = [s.next() for _ in range(4)]
        >>> t = IndexStream(3, seed=0, epoch=s.epoch, pos=s.pos)
        >>> [s.next() for _ in range(2)] == [t.next() for _ in range(2)]
        True
    """

    def __init__(
        self, n: int, rank: int = 0, world: int = 1, seed: int = 0, epoch: int = 0, pos: int = 0
    ) -> None:
        from torch.utils.data import DistributedSampler

        check_positive_int(n, "n")
        self._sampler: DistributedSampler[int] = DistributedSampler(
            range(n),  # type: ignore[arg-type]
            num_replicas=world,
            rank=rank,
            shuffle=True,
            seed=seed,
        )
        self._order: list[int] | None = None
        self.epoch, self.pos = 0, 0
        self.seek(epoch, pos)

    def seek(self, epoch: int, pos: int) -> None:
        """Continue from position ``(epoch, pos)``."""
        for nm, v in (("epoch", epoch), ("pos", pos)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{nm} must be an int >= 0, got {v!r}")
        self.epoch, self.pos, self._order = epoch, pos, None

    def next(self) -> int:
        """The next index."""
        while True:
            if self._order is None:
                self._sampler.set_epoch(self.epoch)
                self._order = list(self._sampler)
            if self.pos < len(self._order):
                i = self._order[self.pos]
                self.pos += 1
                return i
            self.epoch, self.pos, self._order = self.epoch + 1, 0, None

    def __iter__(self) -> Iterator[int]:
        while True:
            yield self.next()


class CropSource:
    """Random crops of a set of images, ``batch_size`` per step, resumable.

    Crops are drawn from a generator seeded by ``(seed, rank)``, images in the order of an
    :class:`IndexStream`; :meth:`state` holds both, as tensors.

    Args:
        images: the images (an :class:`ImageSet`, or anything indexable giving
            ``1×3×H×W`` tensors).
        crop: crop side in pixels.
        batch_size: crops per step (and per process).
        seed: seed of the crops and of the image order.
        rank: this process (0 without ``torch.distributed``).
        world: number of processes.

    Examples:
        >>> src = CropSource(ImageSet([torch.rand(1, 3, 20, 20)], 20), 16, batch_size=2)
        >>> src.next_batch(1).shape
        torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        images: Any,
        crop: int,
        batch_size: int,
        *,
        seed: int = 0,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        check_positive_int(crop, "crop")
        check_positive_int(batch_size, "batch_size")
        self.images, self.crop, self.batch_size = images, crop, batch_size
        self.generator = torch.Generator().manual_seed(seed * 1_000_003 + rank)
        self.stream = IndexStream(len(images), rank, world, seed)

    def next_batch(self, step: int) -> torch.Tensor:
        """``batch_size × 3 × crop × crop`` crops for this step (the step number is unused:
        the source keeps its own position)."""
        crops = [
            random_crop(self.images[self.stream.next()], self.crop, self.generator)
            for _ in range(self.batch_size)
        ]
        return torch.cat(crops)

    def state(self) -> dict[str, torch.Tensor]:
        """The generator's state and the stream's ``(epoch, pos)``."""
        return {
            "gen": self.generator.get_state(),
            "pos": torch.tensor([self.stream.epoch, self.stream.pos], dtype=torch.int64),
        }

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """Continue from a :meth:`state`; missing entries keep their current value.

        Raises:
            ValueError: an entry of the wrong type or size.
        """
        if "gen" in state:
            g = state["gen"]
            try:
                self.generator.set_state(g.to(torch.uint8).cpu())
            except (RuntimeError, TypeError, AttributeError) as err:
                raise ValueError(f"the saved crop generator state is invalid: {err}") from err
        if "pos" in state:
            p = state["pos"]
            if (
                not isinstance(p, torch.Tensor)
                or p.shape != (2,)
                or p.is_floating_point()
                or bool((p < 0).any())
            ):
                raise ValueError(f"the saved stream position must be 2 ints >= 0, got {p!r:.60}")
            self.stream.seek(int(p[0]), int(p[1]))


@dataclass
class ContentBatch:
    """One step's batch for a multi-style network: content crops and their style indices."""

    content: torch.Tensor
    style_index: torch.Tensor


class StyleCycle:
    """Content crops, each assigned one of ``n_styles`` styles in turn (multi-style training).

    Crop ``j`` of step ``t`` gets style ``(t·B·world + rank·B + j) mod S`` (``t`` from 0), so
    every style gets the same share across processes; the state is the crops' state.

    Examples:
        >>> src = CropSource(ImageSet([torch.rand(1, 3, 20, 20)], 20), 16, batch_size=3)
        >>> StyleCycle(src, 2).next_batch(1).style_index.tolist()
        [0, 1, 0]
    """

    def __init__(self, content: CropSource, n_styles: int, *, rank: int = 0, world: int = 1):
        check_positive_int(n_styles, "n_styles")
        self.content, self.n_styles, self.rank, self.world = content, n_styles, rank, world

    def next_batch(self, step: int) -> ContentBatch:
        """Crops and style indices for step ``step`` (counted from 1)."""
        x = self.content.next_batch(step)
        b = x.shape[0]
        first = ((step - 1) * self.world + self.rank) * b
        sidx = torch.tensor([(first + j) % self.n_styles for j in range(b)])
        return ContentBatch(x, sidx)

    def state(self) -> dict[str, torch.Tensor]:
        """The crops' state."""
        return self.content.state()

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """Continue from a :meth:`state`."""
        self.content.load_state(state)


class PairedCrops:
    """(content, style) crop pairs for networks that take a style image as input.

    Two :class:`CropSource`\\ s, drawn together; their states are saved under ``content.*``
    and ``style.*``. ``next_batch`` returns ``(content, style)`` crops.

    Examples:
        >>> c = CropSource(ImageSet([torch.rand(1, 3, 20, 20)], 20), 16, 2)
        >>> s = CropSource(ImageSet([torch.rand(1, 3, 24, 24)], 24), 16, 2, seed=1)
        >>> [t.shape[0] for t in PairedCrops(c, s).next_batch(1)]
        [2, 2]
    """

    def __init__(self, content: CropSource, style: CropSource) -> None:
        if content.batch_size != style.batch_size:
            raise ValueError(
                f"content and style batches differ ({content.batch_size} vs {style.batch_size})"
            )
        self.content, self.style = content, style

    def next_batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Content and style crops for this step."""
        return self.content.next_batch(step), self.style.next_batch(step)

    def state(self) -> dict[str, torch.Tensor]:
        """Both sources' states."""
        out = {f"content.{k}": v for k, v in self.content.state().items()}
        out.update({f"style.{k}": v for k, v in self.style.state().items()})
        return out

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """Continue from a :meth:`state`."""
        for prefix, src in (("content.", self.content), ("style.", self.style)):
            src.load_state({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
