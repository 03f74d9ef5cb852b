"""DeepDream (Mordvintsev et al. 2015): amplify what a layer already sees in a photo.

At every step the gradient at the layer is set to the layer's own activation (that is, the image
ascends ``½‖a‖²``); the image gradient is L1-normalized (divided by its mean absolute value)
before a fixed step, the image is rolled by a random offset before the model (jitter) and clipped
to the valid range afterwards. The work runs over octaves, from a small copy of the photo to the
full size, one optimization per octave; the *details* the dream added (image minus photo) are
upsampled and carried to the next octave, as in the original notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_image_batch, check_positive_int, check_positive_number
from attribkit.layers.hooks import LayerRef
from attribkit.optvis.loop import OptimizationResult
from attribkit.optvis.objectives import Objective, deepdream
from attribkit.optvis.optim import NormalizedGradient
from attribkit.optvis.synthesis import ImageSynthesis, Problem, RunOptions, SynthesisResult
from attribkit.optvis.transforms import Jitter

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from attribkit.optvis.synthesis import SynthesisOptions

__all__ = ["DeepDream"]

@dataclass(frozen=True)
class _Request:
    image: torch.Tensor
    sizes: list[tuple[int, int]]
    jitter: int
    objective: Objective


def _l1_steps(lr: float) -> Callable[[list[torch.Tensor]], torch.optim.Optimizer]:
    """The notebook's step: the gradient divided by its mean absolute value, times ``lr``."""

    def build(params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return NormalizedGradient(params, lr=lr, norm="l1")

    return build


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class DeepDream(ImageSynthesis[_Request]):
    """DeepDream on ``layer`` of ``model``.

    Args:
        model: the network (takes ``[0, 1]`` images).
        layer: dotted name (or module) whose activations are amplified.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> dd = DeepDream(net, "1")
        >>> dd.dream(torch.rand(1, 3, 32, 32), octaves=2, steps=3, jitter=2,
        ...          show_progress=False).shape
        torch.Size([1, 3, 32, 32])
        >>> len(dd.run(torch.rand(1, 3, 32, 32), octaves=2, steps=3,
        ...            show_progress=False).extras["octave_images"])
        2
    """

    #: Steps per octave and L1-normalized step size of the original notebook.
    default_steps, default_lr = 20, 0.01

    def __init__(self, model: nn.Module, layer: LayerRef) -> None:
        super().__init__(model)
        self.layer = self._layer(layer)

    dream = ImageSynthesis.images
    """The verb: ``run(...).images`` with the same arguments as :meth:`run`, ``N×C×H×W`` in
    [0, 1]."""

    def run(
        self,
        image: torch.Tensor,
        *,
        octaves: int = 4,
        octave_scale: float = 1.4,
        jitter: int = 32,
        objective: Objective | None = None,
        **options: Unpack[SynthesisOptions],
    ) -> SynthesisResult:
        """Dream on ``image``.

        Args:
            image: ``N×C×H×W`` photos in [0, 1] (not modified).
            octaves: number of scales.
            octave_scale: size ratio between consecutive octaves (> 1).
            jitter: random roll of up to ±``jitter`` pixels at each step (0: none).
            objective: replaces the default ``deepdream(layer)`` (e.g. one channel for a guided
                dream); any :class:`~attribkit.optvis.Objective`.
            **options: the common keywords (:class:`~attribkit.optvis.SynthesisOptions`); ``steps``
                per octave (default 20); ``lr`` in units of the L1-normalized gradient (default
                0.01); ``optimizer`` replaces that step; octave ``i`` uses ``seed + i``; snapshots
                are taken in each octave and keyed by the step count over all octaves.

        Returns:
            A :class:`~attribkit.optvis.synthesis.SynthesisResult`; ``extras``:
            ``"octave_images"`` (the image at the end of each octave, smallest first) and
            ``"octave_sizes"``. Its ``history`` runs over all octaves.
        """
        run_options = self._options(options)
        image = check_image_batch(image, "image", unit_range=True)
        octaves = check_positive_int(octaves, "octaves")
        scale = check_positive_number(octave_scale, "octave_scale")
        if scale <= 1.0:
            raise ValueError(f"octave_scale must be > 1, got {octave_scale}")
        if isinstance(jitter, bool) or not isinstance(jitter, int) or jitter < 0:
            raise ValueError(f"jitter must be a non-negative int, got {jitter!r}")
        obj = deepdream(self.layer) if objective is None else objective
        if not isinstance(obj, Objective):
            raise TypeError(f"objective must be an attribkit Objective, got {type(obj).__name__}")
        h, w = image.shape[-2:]
        sizes = [(int(h), int(w))]
        for _ in range(octaves - 1):
            ph, pw = sizes[-1]
            sizes.append((max(1, round(ph / scale)), max(1, round(pw / scale))))
        sizes.reverse()
        if min(sizes[0]) < 8:
            raise ValueError(
                f"{octaves} octaves of scale {octave_scale} shrink a {h}×{w} image to "
                f"{sizes[0][0]}×{sizes[0][1]}; use fewer octaves or a larger image"
            )
        request = _Request(self._to_model(image), sizes, jitter, obj)
        return self._synthesize(request, run_options)

    def _stages(
        self, request: _Request, options: RunOptions, done: list[OptimizationResult]
    ) -> Iterator[Problem]:
        lr = self.default_lr if options.lr is None else options.lr
        steps = self.default_steps if options.steps is None else options.steps
        detail = torch.zeros_like(_resize(request.image, request.sizes[0]))
        for i, size in enumerate(request.sizes):
            base = _resize(request.image, size)
            if done:  # the details the previous octave added, carried up
                previous = _resize(request.image, request.sizes[i - 1])
                detail = _resize(done[-1].images - previous, size)
            jit = min(request.jitter, min(size) - 1)
            yield Problem(
                request.objective,
                self._pixels((base + detail).clamp(0.0, 1.0)),
                transforms=Jitter(jit, mode="roll") if jit > 0 else None,
                optimizer=_l1_steps(lr),
                keep="last",
                desc=f"dream octave {i + 1}/{len(request.sizes)}",
                seed=options.seed + i,
                snapshot_offset=i * steps,
            )

    def _finish(
        self, request: _Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        octave_images = [r.images for r in runs]
        out = octave_images[-1]
        full = tuple(request.image.shape[-2:])
        if tuple(out.shape[-2:]) != full:  # stopped before the last octave
            small = _resize(request.image, tuple(out.shape[-2:]))  # type: ignore[arg-type]
            out = (request.image + _resize(out - small, full)).clamp(0.0, 1.0)  # type: ignore[arg-type]
        sizes = [tuple(o.shape[-2:]) for o in octave_images]
        return out, {"octave_images": octave_images, "octave_sizes": sizes}
