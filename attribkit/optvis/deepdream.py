"""DeepDream (Mordvintsev et al. 2015): amplify what a layer already sees in a photo.

At every step the gradient at the layer is set to the layer's own activation (that is, the image
ascends ``½‖a‖²``); the image gradient is L1-normalized (divided by its mean absolute value)
before a fixed step, the image is rolled by a random offset before the model (jitter) and clipped
to the valid range afterwards. The work runs over octaves, from a small copy of the photo to the
full size; the *details* the dream added (image minus photo) are upsampled and carried to the
next octave, as in the original notebook.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_image_batch, check_positive_int
from attribkit.layers import layer_name
from attribkit.optvis.loop import OptimizationState, optimize
from attribkit.optvis.objectives import Objective, deepdream
from attribkit.optvis.optim import NormalizedGradient
from attribkit.optvis.param import PixelImage
from attribkit.optvis.transforms import Jitter

__all__ = ["DeepDream", "DreamResult"]


@dataclass
class DreamResult:
    """A dream and how it grew.

    Attributes:
        images: the dreamed images, ``N×C×H×W`` in [0, 1], the input's size.
        octave_images: the image at the end of each octave (smallest first), each at its size.
        history: per octave, the objective values per step (``steps × N``).
        seconds: wall time.
        seed: the jitter seed.
    """

    images: torch.Tensor
    octave_images: list[torch.Tensor] = field(default_factory=list)
    history: list[torch.Tensor] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0

    def filmstrip(self, index: int = 0, size: int | None = 128) -> torch.Tensor:
        """The octaves of one image side by side (resized to one height), ``3×H×W``."""
        from attribkit.viz import label, make_grid

        frames = [label(o[index], f"octave {i + 1}") for i, o in enumerate(self.octave_images)]
        return make_grid(frames, nrow=len(frames), size=size)

    def save(self, path: str | Path) -> Path:
        """Save the images as one grid PNG and return the path."""
        from attribkit.io import save_image
        from attribkit.viz import make_grid

        return save_image(make_grid(list(self.images), nrow=len(self.images)), path)


class DeepDream:
    """DeepDream on ``layer`` of ``model``.

    Args:
        model: the network (takes ``[0, 1]`` images).
        layer: dotted name (or module) whose activations are amplified.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> res = DeepDream(net, "1").dream(torch.rand(1, 3, 32, 32), octaves=2,
        ...                                 steps_per_octave=3, jitter=2, show_progress=False)
        >>> res.images.shape, len(res.octave_images)
        (torch.Size([1, 3, 32, 32]), 2)
    """

    def __init__(self, model: nn.Module, layer: str | nn.Module) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.model = model
        self.layer = layer_name(model, layer)

    def dream(
        self,
        image: torch.Tensor,
        octaves: int = 4,
        octave_scale: float = 1.4,
        steps_per_octave: int = 20,
        jitter: int = 32,
        lr: float = 0.01,
        *,
        objective: Objective | None = None,
        seed: int = 0,
        callbacks: Sequence[Callable[[int, OptimizationState], Any]] = (),
        show_progress: bool | None = None,
    ) -> DreamResult:
        """Dream on ``image``.

        Args:
            image: ``N×3×H×W`` photos in [0, 1] (not modified).
            octaves: number of scales.
            octave_scale: size ratio between consecutive octaves (> 1).
            steps_per_octave: gradient steps at each octave.
            jitter: random roll of up to ±``jitter`` pixels at each step (0: none).
            lr: step size in units of the L1-normalized gradient (pixel range is 1).
            objective: replaces the default ``deepdream(layer)`` (e.g. one channel for a guided
                dream); any :class:`~attribkit.optvis.Objective`.
            seed: jitter seed.
            callbacks: ``cb(step, state)`` passed to each octave's loop.
            show_progress: show a progress bar per octave.

        Returns:
            A :class:`DreamResult`.
        """
        image = check_image_batch(image, "image", unit_range=True)
        octaves = check_positive_int(octaves, "octaves")
        steps_per_octave = check_positive_int(steps_per_octave, "steps_per_octave")
        if not octave_scale > 1.0:
            raise ValueError(f"octave_scale must be > 1, got {octave_scale}")
        if isinstance(jitter, bool) or not isinstance(jitter, int) or jitter < 0:
            raise ValueError(f"jitter must be a non-negative int, got {jitter!r}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        obj = deepdream(self.layer) if objective is None else objective
        if not isinstance(obj, Objective):
            raise TypeError(f"objective must be an attribkit Objective, got {type(obj).__name__}")

        start = time.perf_counter()
        h, w = image.shape[-2:]
        sizes = [(h, w)]
        for _ in range(octaves - 1):
            ph, pw = sizes[-1]
            sizes.append((max(1, round(ph / octave_scale)), max(1, round(pw / octave_scale))))
        sizes.reverse()
        if min(sizes[0]) < 8:
            raise ValueError(
                f"{octaves} octaves of scale {octave_scale} shrink a {h}×{w} image to "
                f"{sizes[0][0]}×{sizes[0][1]}; use fewer octaves or a larger image"
            )
        base_full = image.detach()
        detail = torch.zeros_like(self._resize(base_full, sizes[0]))
        out: torch.Tensor = base_full
        octave_images: list[torch.Tensor] = []
        history: list[torch.Tensor] = []
        for i, size in enumerate(sizes):
            base = base_full if size == (h, w) else self._resize(base_full, size)
            if detail.shape[-2:] != base.shape[-2:]:
                detail = self._resize(detail, size)
            src = (base + detail).clamp(0.0, 1.0)
            param = PixelImage(tuple(src.shape), init=src, squash="clamp", dtype=src.dtype)
            jit = min(jitter, min(size) - 1)
            res = optimize(
                self.model,
                obj,
                param.to(src.device),
                transforms=Jitter(jit, mode="roll") if jit > 0 else None,
                steps=steps_per_octave,
                optimizer=lambda ps: NormalizedGradient(ps, lr=lr, norm="l1"),
                callbacks=callbacks,
                show_progress=show_progress,
                seed=seed + i,
                keep="last",
                desc=f"dream octave {i + 1}/{octaves}",
            )
            out = res.images
            octave_images.append(out)
            history.append(res.history)
            detail = out - base
            if res.interrupted or res.stopped_early:
                if out.shape[-2:] != (h, w):
                    out = (base_full + self._resize(detail, (h, w))).clamp(0.0, 1.0)
                break
        return DreamResult(
            images=out,
            octave_images=octave_images,
            history=history,
            seconds=time.perf_counter() - start,
            seed=seed,
        )

    @staticmethod
    def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
