"""Random and fixed image transforms applied before the model sees the parameterized image.

Transformation robustness (Mordvintsev 2015; Olah 2017): jittering, scaling and rotating the
image at every step keeps the optimizer from exploiting pixel-exact patterns. Every transform is
an ``nn.Module`` whose ``forward(x, generator=None)`` takes and returns ``N×C×H×W``; the randomness
comes only from the ``torch.Generator`` the loop passes in, never from the global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_non_negative_number

__all__ = [
    "Transform",
    "Pad",
    "Jitter",
    "RandomScale",
    "RandomRotate",
    "GaussianBlur",
    "Compose",
    "gaussian_blur",
    "standard_transforms",
]


def _randint(low: int, high: int, generator: torch.Generator | None) -> int:
    """An int in ``[low, high]`` from ``generator`` (a generator seeded 0 when None)."""
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    return int(torch.randint(low, high + 1, (1,), generator=g))


def _choice(values: Sequence[float], generator: torch.Generator | None) -> float:
    return float(values[_randint(0, len(values) - 1, generator)])


class Transform(nn.Module):
    """Base class: ``forward(x, generator=None) -> x'``."""

    def forward(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class Pad(Transform):
    """Pad every side by ``pad`` pixels (``mode`` ``"reflect"``, ``"replicate"`` or ``"constant"``).

    Examples:
        >>> Pad(2)(torch.zeros(1, 3, 4, 4)).shape
        torch.Size([1, 3, 8, 8])
    """

    def __init__(self, pad: int, mode: str = "reflect", value: float = 0.5) -> None:
        super().__init__()
        if not isinstance(pad, int) or pad < 0:
            raise ValueError(f"pad must be a non-negative int, got {pad!r}")
        if mode not in ("reflect", "replicate", "constant"):
            raise ValueError(f"mode must be reflect, replicate or constant, got {mode!r}")
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.pad == 0:
            return x
        p = (self.pad,) * 4
        if self.mode == "constant":
            return F.pad(x, p, mode="constant", value=self.value)
        return F.pad(x, p, mode=self.mode)

    def extra_repr(self) -> str:
        return f"pad={self.pad}, mode={self.mode!r}"


class Jitter(Transform):
    """Shift the image by a random offset in ``[-d, d]`` pixels.

    ``mode="crop"`` (Lucent) takes a random ``(H-d)×(W-d)`` window; ``mode="roll"`` (DeepDream)
    rolls the image cyclically and keeps its size.

    Examples:
        >>> Jitter(2)(torch.zeros(1, 3, 8, 8), torch.Generator().manual_seed(0)).shape
        torch.Size([1, 3, 6, 6])
    """

    def __init__(self, d: int, mode: str = "crop") -> None:
        super().__init__()
        if not isinstance(d, int) or d < 0:
            raise ValueError(f"jitter must be a non-negative int, got {d!r}")
        if mode not in ("crop", "roll"):
            raise ValueError(f"mode must be 'crop' or 'roll', got {mode!r}")
        self.d, self.mode = d, mode

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.d == 0:
            return x
        if self.mode == "roll":
            dy, dx = _randint(-self.d, self.d, generator), _randint(-self.d, self.d, generator)
            return torch.roll(x, shifts=(dy, dx), dims=(2, 3))
        h, w = x.shape[-2:]
        if self.d >= min(h, w):
            raise ValueError(f"jitter {self.d} is too large for a {h}×{w} image")
        oy, ox = _randint(0, self.d, generator), _randint(0, self.d, generator)
        return x[..., oy : oy + h - self.d, ox : ox + w - self.d]

    def extra_repr(self) -> str:
        return f"d={self.d}, mode={self.mode!r}"


class RandomScale(Transform):
    """Resize by a factor drawn from ``scales`` (bilinear).

    Examples:
        >>> RandomScale([2.0])(torch.zeros(1, 3, 4, 4)).shape
        torch.Size([1, 3, 8, 8])
    """

    def __init__(self, scales: Sequence[float]) -> None:
        super().__init__()
        scales = [float(s) for s in scales]
        if not scales or any(not math.isfinite(s) or s <= 0 for s in scales):
            raise ValueError(f"scales must be a non-empty list of positive floats, got {scales}")
        self.scales = scales

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        s = _choice(self.scales, generator)
        if s == 1.0:
            return x
        h, w = x.shape[-2:]
        size = (max(1, round(h * s)), max(1, round(w * s)))
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    def extra_repr(self) -> str:
        return f"scales={self.scales}"


class RandomRotate(Transform):
    """Rotate by an angle (degrees) drawn from ``angles``, about the centre (reflection padding).

    Examples:
        >>> RandomRotate([90.0])(torch.zeros(1, 3, 4, 4)).shape
        torch.Size([1, 3, 4, 4])
    """

    def __init__(self, angles: Sequence[float]) -> None:
        super().__init__()
        angles = [float(a) for a in angles]
        if not angles:
            raise ValueError("angles must be a non-empty list of degrees")
        self.angles = angles

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        a = math.radians(_choice(self.angles, generator))
        if a == 0.0:
            return x
        c, s = math.cos(a), math.sin(a)
        theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=x.dtype, device=x.device)
        grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
        return F.grid_sample(
            x, grid, mode="bilinear", padding_mode="reflection", align_corners=False
        )

    def extra_repr(self) -> str:
        return f"angles={self.angles}"


def _gaussian_kernel(sigma: float, size: int, like: torch.Tensor) -> torch.Tensor:
    r = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    k = torch.exp(-0.5 * (r / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float, kernel_size: int | None = None) -> torch.Tensor:
    """Blur each channel with a separable Gaussian of std ``sigma`` (reflect padding).

    Args:
        x: ``N×C×H×W``.
        sigma: standard deviation in pixels (0 returns ``x``).
        kernel_size: odd kernel size (default ``2 * ceil(3 sigma) + 1``, capped by the image).

    Returns:
        The blurred batch, same shape.

    Examples:
        >>> round(float(gaussian_blur(torch.ones(1, 1, 5, 5), 1.0).mean()), 4)
        1.0
    """
    sigma = check_non_negative_number(sigma, "sigma")
    if sigma == 0:
        return x
    size = kernel_size if kernel_size is not None else 2 * math.ceil(3 * sigma) + 1
    if size % 2 == 0:
        raise ValueError(f"kernel_size must be odd, got {size}")
    h, w = x.shape[-2:]
    half = min(size // 2, h - 1, w - 1)
    size = 2 * half + 1
    if size == 1:
        return x
    k = _gaussian_kernel(sigma, size, x)
    n, c = x.shape[:2]
    y = F.pad(x.reshape(n * c, 1, h, w), (half, half, half, half), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, size))
    y = F.conv2d(y, k.view(1, 1, size, 1))
    return y.reshape(n, c, h, w)


class GaussianBlur(Transform):
    """Module form of :func:`gaussian_blur` (deterministic).

    Examples:
        >>> GaussianBlur(0.5)(torch.zeros(1, 3, 8, 8)).shape
        torch.Size([1, 3, 8, 8])
    """

    def __init__(self, sigma: float, kernel_size: int | None = None) -> None:
        super().__init__()
        sigma = check_non_negative_number(sigma, "sigma")
        self.sigma, self.kernel_size = float(sigma), kernel_size

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return gaussian_blur(x, self.sigma, self.kernel_size)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"


class Compose(Transform):
    """Apply transforms in order, passing the same generator to each.

    Examples:
        >>> t = Compose(Pad(4), Jitter(4))
        >>> t(torch.zeros(1, 3, 8, 8), torch.Generator().manual_seed(0)).shape
        torch.Size([1, 3, 12, 12])
    """

    def __init__(self, *transforms: Transform) -> None:
        super().__init__()
        if len(transforms) == 1 and isinstance(transforms[0], (list, tuple)):
            transforms = tuple(transforms[0])
        for t in transforms:
            if not isinstance(t, nn.Module):
                raise TypeError(f"Compose takes transform modules, got {type(t).__name__}")
        self.transforms = nn.ModuleList(transforms)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for t in self.transforms:
            x = t(x, generator) if isinstance(t, Transform) else t(x)
        return x

    def __len__(self) -> int:
        return len(self.transforms)


def standard_transforms() -> Compose:
    """Lucent's default set: pad 12, jitter 8, scale 0.9–1.1, rotate ±10°, jitter 4.

    Examples:
        >>> len(standard_transforms())
        5
    """
    return Compose(
        Pad(12, mode="constant", value=0.5),
        Jitter(8),
        RandomScale([1 + (i - 5) / 50 for i in range(11)]),
        RandomRotate(list(range(-10, 11)) + 5 * [0]),
        Jitter(4),
    )
