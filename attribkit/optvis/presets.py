"""The lecture's recipes for activation maximization, as named presets (:data:`PRESETS`).

- ``"simonyan"`` (Simonyan et al. 2014): maximize the class score minus an L2 penalty on the
  (mean-centred) image, starting from the mean image, with plain pixels.
- ``"yosinski"`` (Yosinski et al. 2015): normalized-gradient pixel ascent with L2 decay, a
  Gaussian blur every few steps, clipping of pixels with a small norm and of pixels with a small
  contribution, and random jitter (:func:`yosinski_regularizer`).
- ``"lucent"`` (Olah et al. 2017): an FFT parameterization in decorrelated colour with Lucent's
  transforms (pad, jitter, scale, rotate) and Adam.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from attribkit._checks import check_non_negative_number, check_positive_int, check_positive_number
from attribkit.optvis.loop import OptimizationState
from attribkit.optvis.param import PixelImage
from attribkit.optvis.transforms import gaussian_blur

__all__ = ["Preset", "PRESETS", "resolve_preset", "yosinski_regularizer"]


@dataclass(frozen=True)
class Preset:
    """A named recipe for activation maximization.

    Attributes:
        name: the preset's name.
        param: ``"pixel"`` or ``"fft"``.
        decorrelate: optimize in decorrelated colour.
        squash: ``"clamp"`` (pixels clipped to [0, 1] after each step) or ``"sigmoid"``.
        init: ``"mean"`` (the mean image, Simonyan's zero image) or ``"noise"``.
        optimizer: optimizer name for :func:`~attribkit.optvis.optimize`.
        lr: its step size.
        steps: default number of steps.
        l2_weight: weight of the L2 penalty in the objective (Simonyan's λ).
        decay: Yosinski's L2 decay: ``x ← x - decay · (x - mean)`` after each step.
        blur_sigma: σ of the Gaussian blur applied every ``blur_every`` steps (0: none).
        blur_every: blur period in steps.
        norm_pct: fraction of pixels with the smallest norm reset to the mean after each step.
        contrib_pct: fraction of pixels with the smallest contribution ``|Σ_c x·∂S/∂x|`` reset.
        jitter: random roll of ±``jitter`` pixels before the model (0: none).
        lucent_transforms: use Lucent's standard transforms (pad, jitter, scale, rotate).
    """

    name: str
    param: str = "pixel"
    decorrelate: bool = False
    squash: str = "clamp"
    init: str = "mean"
    optimizer: str = "normalized"
    lr: float = 0.02
    steps: int = 300
    l2_weight: float = 0.0
    decay: float = 0.0
    blur_sigma: float = 0.0
    blur_every: int = 4
    norm_pct: float = 0.0
    contrib_pct: float = 0.0
    jitter: int = 0
    lucent_transforms: bool = False

    def __post_init__(self) -> None:
        check_positive_number(self.lr, "lr")
        check_positive_int(self.steps, "steps")
        check_positive_int(self.blur_every, "blur_every")
        for name in ("l2_weight", "decay", "blur_sigma", "norm_pct", "contrib_pct"):
            check_non_negative_number(getattr(self, name), name)
        for name in ("decay", "norm_pct", "contrib_pct"):
            if getattr(self, name) >= 1:
                raise ValueError(f"{name} must lie in [0, 1), got {getattr(self, name)}")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, int) or self.jitter < 0:
            raise ValueError(f"jitter must be a non-negative int, got {self.jitter!r}")

    def replace(self, **changes: Any) -> Preset:
        """A copy with some fields changed: ``PRESETS["yosinski"].replace(steps=100)``."""
        return dataclasses.replace(self, **changes)


#: The lecture's recipes (see the module docstring). Tuned on EfficientNet-Lite0 at 224 px.
PRESETS: dict[str, Preset] = {
    "simonyan": Preset(
        "simonyan", optimizer="adam", lr=0.01, steps=200, l2_weight=1e-3, init="mean"
    ),
    "yosinski": Preset(
        "yosinski",
        optimizer="normalized",
        lr=0.02,
        steps=300,
        decay=1e-3,
        blur_sigma=0.6,
        blur_every=4,
        norm_pct=0.2,
        contrib_pct=0.0,
        jitter=8,
    ),
    "lucent": Preset(
        "lucent",
        param="fft",
        decorrelate=True,
        squash="sigmoid",
        init="noise",
        optimizer="adam",
        lr=0.05,
        steps=256,
        lucent_transforms=True,
    ),
}


def yosinski_regularizer(
    preset: Preset, mean: torch.Tensor
) -> Callable[[int, OptimizationState], None]:
    """The per-step image regularizers of Yosinski et al. (2015), as a loop callback.

    After each step: decay towards ``mean``, blur every ``blur_every`` steps, then reset to
    ``mean`` the ``norm_pct`` pixels of smallest norm and the ``contrib_pct`` pixels of smallest
    contribution. Works on :class:`~attribkit.optvis.param.PixelImage` parameters.
    """

    def reset_smallest(x: torch.Tensor, score: torch.Tensor, pct: float) -> None:
        # score: N×H×W; reset the pct lowest per image
        flat = score.flatten(1)
        k = int(pct * flat.shape[1])
        if k < 1:
            return
        thresh = flat.kthvalue(k, dim=1).values.view(-1, 1, 1)
        mask = (score <= thresh).unsqueeze(1)
        x.copy_(torch.where(mask, mean.expand_as(x), x))

    def callback(step: int, state: OptimizationState) -> None:
        p = state.param
        if not isinstance(p, PixelImage):
            raise TypeError("Yosinski's regularizers need a PixelImage parameterization")
        with torch.no_grad():
            x = p.pixels
            if preset.decay:
                x.sub_((x - mean) * preset.decay)
            if preset.blur_sigma and step % preset.blur_every == 0:
                x.copy_(gaussian_blur(x, preset.blur_sigma))
            if preset.norm_pct:
                reset_smallest(x, (x - mean).norm(dim=1), preset.norm_pct)
            if preset.contrib_pct and p.pixels.grad is not None:
                contrib = ((x - mean) * p.pixels.grad).sum(1).abs()
                reset_smallest(x, contrib, preset.contrib_pct)
            x.clamp_(0.0, 1.0)

    return callback


def resolve_preset(preset: str | Preset) -> Preset:
    """The preset named ``preset`` (a :class:`Preset` passes through)."""
    if isinstance(preset, Preset):
        return preset
    if not isinstance(preset, str) or preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[preset]
