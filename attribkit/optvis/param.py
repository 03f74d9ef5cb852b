"""Image parameterizations: what the optimizer changes, as ``nn.Module`` s that return images.

A parameterization holds trainable tensors and, called with no arguments, returns a batch of
images ``N×C×H×W`` in ``[0, 1]``. The loop (:func:`attribkit.optvis.optimize`) optimizes its
parameters. Three bases are offered, following Olah et al. (2017):

- :class:`PixelImage`: one value per pixel (Simonyan 2014, Yosinski 2015, DeepDream);
- :class:`FFTImage`: the image's Fourier spectrum, scaled by ``1 / frequency`` so that low
  frequencies move first (fewer high-frequency artefacts);
- :class:`DecorrelatedColor`: a wrapper that maps a base's channels through the square root of
  ImageNet's colour covariance, so that the optimizer works in decorrelated colour.

Each maps its unbounded raw values to ``[0, 1]`` with ``squash="sigmoid"`` (smooth) or
``squash="clamp"`` (the values are kept inside ``[0, 1]`` by :meth:`ImageParam.post_step`, which
the loop calls after every optimizer step, so gradients never die at the bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = [
    "ImageParam",
    "PixelImage",
    "FFTImage",
    "DecorrelatedColor",
    "LucentParam",
    "image_param",
    "as_param",
]

_SQUASHES = ("sigmoid", "clamp")
_EPS = 1e-4

# Square root of ImageNet's colour covariance (from Lucid/Lucent), columns scaled to norm <= 1.
_COLOR_SQRT = torch.tensor(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=torch.float64
)
_COLOR_SQRT = _COLOR_SQRT / _COLOR_SQRT.norm(dim=0).max()


def _check_shape(shape: Sequence[int]) -> tuple[int, int, int, int]:
    if isinstance(shape, torch.Size):
        shape = tuple(shape)
    if (
        not isinstance(shape, (tuple, list))
        or len(shape) != 4
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
    ):
        raise ValueError(
            f"shape must be four positive ints (N, C, H, W), got {shape!r}; "
            "for one 224 px RGB image use (1, 3, 224, 224)"
        )
    return (shape[0], shape[1], shape[2], shape[3])


def _check_squash(squash: str) -> str:
    if squash not in _SQUASHES:
        raise ValueError(f"squash must be one of {_SQUASHES}, got {squash!r}")
    return squash


def _check_init(init: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(init, torch.Tensor) or not init.is_floating_point():
        raise TypeError(f"init must be a float tensor in [0, 1], got {type(init).__name__}")
    if init.ndim == 3:
        init = init.unsqueeze(0)
    if init.ndim != 4 or init.shape[1:] != shape[1:] or init.shape[0] not in (1, shape[0]):
        raise ValueError(
            f"init has shape {tuple(init.shape)} but the parameterization makes {tuple(shape)}; "
            "resize the image or pass a matching shape"
        )
    if not bool(torch.isfinite(init).all()) or float(init.min()) < 0 or float(init.max()) > 1:
        raise ValueError(
            "init must hold finite values in [0, 1] (un-normalized images); "
            f"got range [{float(init.min()):.3g}, {float(init.max()):.3g}]"
        )
    return init.expand(shape).detach()


def _generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
    if generator is not None:
        return generator
    g = torch.Generator()
    if seed is not None:
        g.manual_seed(int(seed))
    else:
        g.seed()
    return g


def _squash(raw: torch.Tensor, squash: str) -> torch.Tensor:
    if squash == "sigmoid":
        return torch.sigmoid(raw)
    return raw.clamp(0.0, 1.0)


def _unsquash(image: torch.Tensor, squash: str) -> torch.Tensor:
    if squash == "sigmoid":
        return torch.logit(image.clamp(_EPS, 1.0 - _EPS))
    return image.clone()


class ImageParam(nn.Module):
    """Base class: ``forward()`` returns ``N×C×H×W`` images in ``[0, 1]``.

    Subclasses implement :meth:`raw` (unbounded values) and :meth:`set_raw` (its inverse);
    ``forward`` squashes the raw values. :meth:`optim_params` lists what the optimizer changes.
    """

    shape: tuple[int, int, int, int]
    squash: str

    def raw(self) -> torch.Tensor:
        """Return the unbounded image before squashing."""
        raise NotImplementedError

    def set_raw(self, raw: torch.Tensor) -> None:
        """Set the parameters so that :meth:`raw` returns ``raw``."""
        raise NotImplementedError

    def forward(self) -> torch.Tensor:
        """Return the images, ``N×C×H×W`` in ``[0, 1]``."""
        return _squash(self.raw(), self.squash)

    @torch.no_grad()
    def set_image(self, image: torch.Tensor) -> None:
        """Set the parameters so that ``forward()`` returns ``image`` (a ``[0, 1]`` tensor)."""
        image = _check_init(image, self.shape)
        self.set_raw(_unsquash(image.to(self._ref().dtype), self.squash))

    def optim_params(self) -> list[torch.Tensor]:
        """The tensors the optimizer updates."""
        return [p for p in self.parameters() if p.requires_grad]

    def post_step(self) -> None:
        """Called by the loop after each optimizer step (no-op unless ``squash="clamp"``)."""

    def _ref(self) -> torch.Tensor:
        return next(iter(self.parameters()))

    def extra_repr(self) -> str:
        return f"shape={self.shape}, squash={self.squash!r}"


class PixelImage(ImageParam):
    """One trainable value per pixel.

    Args:
        shape: ``(N, C, H, W)``.
        init: ``None`` (small noise around grey, scale ``sd``), a float (a constant image), or a
            ``[0, 1]`` tensor ``C×H×W``, ``1×C×H×W`` or ``N×C×H×W`` to start from.
        squash: ``"sigmoid"`` or ``"clamp"``; with ``"clamp"`` the pixels themselves are the
            parameters and are clipped to ``[0, 1]`` after every step.
        sd: noise scale of the random start (in raw units).
        seed: seed of the random start (ignored when ``init`` is given).
        generator: a ``torch.Generator`` for the random start (overrides ``seed``).
        dtype: parameter dtype.

    Examples:
        >>> p = PixelImage((2, 3, 8, 8), init=0.5, squash="clamp")
        >>> p().shape, float(p().detach().mean())
        (torch.Size([2, 3, 8, 8]), 0.5)
    """

    def __init__(
        self,
        shape: Sequence[int],
        init: torch.Tensor | float | None = None,
        *,
        squash: str = "sigmoid",
        sd: float = 0.01,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.shape = _check_shape(shape)
        self.squash = _check_squash(squash)
        centre = 0.0 if squash == "sigmoid" else 0.5
        g = _generator(seed, generator)
        noise = torch.randn(self.shape, generator=g, dtype=torch.float64) * sd + centre
        self.pixels = nn.Parameter(noise.to(dtype))
        if isinstance(init, bool):
            raise TypeError("init must be None, a float or a tensor")
        if isinstance(init, (int, float)):
            if not 0.0 <= float(init) <= 1.0:
                raise ValueError(f"a constant init must lie in [0, 1], got {init}")
            self.set_image(torch.full(self.shape, float(init), dtype=dtype))
        elif init is not None:
            self.set_image(init)
        if squash == "clamp":
            self.post_step()

    def raw(self) -> torch.Tensor:
        return self.pixels

    @torch.no_grad()
    def set_raw(self, raw: torch.Tensor) -> None:
        self.pixels.copy_(raw)

    @torch.no_grad()
    def post_step(self) -> None:
        if self.squash == "clamp":
            self.pixels.clamp_(0.0, 1.0)


def _rfft2_freqs(h: int, w: int) -> torch.Tensor:
    fy = torch.fft.fftfreq(h)[:, None]
    fx = torch.fft.rfftfreq(w)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


class FFTImage(ImageParam):
    """The image's real 2-D Fourier spectrum, scaled by ``1 / frequency ** decay_power``.

    Args:
        shape: ``(N, C, H, W)``.
        init: ``None`` (random spectrum of scale ``sd``) or a ``[0, 1]`` image to start from.
        decay_power: how fast the scale falls with frequency (1 in Lucid/Lucent).
        squash: ``"sigmoid"`` or ``"clamp"``.
        sd: scale of the random spectrum.
        dtype: parameter dtype.
        seed: seed of the random start.
        generator: a ``torch.Generator`` for the random start (overrides ``seed``).

    Examples:
        >>> p = FFTImage((1, 3, 16, 16), seed=0)
        >>> img = p()
        >>> img.shape, bool(((img >= 0) & (img <= 1)).all())
        (torch.Size([1, 3, 16, 16]), True)
    """

    scale: torch.Tensor

    def __init__(
        self,
        shape: Sequence[int],
        init: torch.Tensor | None = None,
        *,
        decay_power: float = 1.0,
        squash: str = "sigmoid",
        sd: float = 0.01,
        dtype: torch.dtype = torch.float32,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.shape = _check_shape(shape)
        self.squash = _check_squash(squash)
        n, c, h, w = self.shape
        freqs = _rfft2_freqs(h, w)
        scale = 1.0 / torch.clamp(freqs, min=1.0 / max(h, w)) ** decay_power
        self.register_buffer("scale", scale.to(dtype), persistent=False)
        g = _generator(seed, generator)
        spec = torch.randn((n, c, h, w // 2 + 1, 2), generator=g, dtype=torch.float64) * sd
        self.spectrum = nn.Parameter(spec.to(dtype))
        if init is not None:
            self.set_image(init)
        elif squash == "clamp":
            with torch.no_grad():  # centre a clamped random start on grey
                self.set_raw(self.raw() + 0.5)

    def raw(self) -> torch.Tensor:
        _, _, h, w = self.shape
        spec = torch.view_as_complex(self.spectrum) * self.scale
        return torch.fft.irfft2(spec, s=(h, w), norm="ortho") / 4.0

    @torch.no_grad()
    def set_raw(self, raw: torch.Tensor) -> None:
        spec = torch.fft.rfft2(raw * 4.0, norm="ortho") / self.scale
        self.spectrum.copy_(torch.view_as_real(spec))


class DecorrelatedColor(ImageParam):
    """Wrap a parameterization so that its channels live in decorrelated colour space.

    The base's raw output is mapped through the square root of ImageNet's colour covariance,
    then squashed by this wrapper (the base's own ``squash`` is ignored).

    Args:
        base: a 3-channel :class:`PixelImage` or :class:`FFTImage`.
        squash: ``"sigmoid"`` or ``"clamp"``.
        init: optional ``[0, 1]`` image to start from.

    Examples:
        >>> p = DecorrelatedColor(FFTImage((1, 3, 16, 16), seed=0))
        >>> p().shape
        torch.Size([1, 3, 16, 16])
    """

    color: torch.Tensor

    def __init__(
        self, base: ImageParam, *, squash: str = "sigmoid", init: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        if not isinstance(base, ImageParam):
            raise TypeError(f"base must be an ImageParam, got {type(base).__name__}")
        if base.shape[1] != 3:
            raise ValueError(f"colour decorrelation needs 3 channels, got {base.shape[1]}")
        self.base = base
        self.shape = base.shape
        self.squash = _check_squash(squash)
        self.register_buffer("color", _COLOR_SQRT.to(base._ref().dtype), persistent=False)
        if init is not None:
            self.set_image(init)

    def raw(self) -> torch.Tensor:
        return torch.einsum("ij,njhw->nihw", self.color, self.base.raw())

    @torch.no_grad()
    def set_raw(self, raw: torch.Tensor) -> None:
        inv = torch.linalg.inv(self.color.double()).to(raw.dtype)
        self.base.set_raw(torch.einsum("ij,njhw->nihw", inv, raw))

    def post_step(self) -> None:
        # a clamp squash acts on the decorrelated image, which has no per-pixel parameters
        return None


class LucentParam(ImageParam):
    """Adapt a Lucent ``param_f`` (a closure returning ``(params, image_fn)``).

    Lucent's tensors are not ``nn.Parameter`` s of this module; :meth:`optim_params` returns
    them so the loop optimizes them. ``image_fn()`` must return ``N×C×H×W`` in ``[0, 1]``.

    Args:
        param_f: the closure, e.g. ``lambda: lucent.optvis.param.image(64)``.

    Examples:
        >>> import torch
        >>> t = torch.zeros(1, 3, 4, 4, requires_grad=True)
        >>> p = LucentParam(lambda: ([t], lambda: torch.sigmoid(t)))
        >>> float(p().detach().mean())
        0.5
    """

    def __init__(self, param_f: Callable[[], Any]) -> None:
        super().__init__()
        out = param_f()
        if not (isinstance(out, tuple) and len(out) == 2 and callable(out[1])):
            raise TypeError(
                f"a Lucent param_f must return (params, image_fn); got {type(out).__name__}"
            )
        params, image_fn = out
        self._tensors = [t for t in params]
        if not self._tensors or not all(isinstance(t, torch.Tensor) for t in self._tensors):
            raise TypeError("param_f returned no tensors to optimize")
        self._image_fn = image_fn
        img = image_fn()
        self.shape = _check_shape(tuple(img.shape))
        self.squash = "sigmoid"

    def forward(self) -> torch.Tensor:
        return self._image_fn()

    def raw(self) -> torch.Tensor:
        return _unsquash(self._image_fn(), "sigmoid")

    def set_raw(self, raw: torch.Tensor) -> None:
        raise NotImplementedError("a Lucent parameterization cannot be set from an image")

    def optim_params(self) -> list[torch.Tensor]:
        return list(self._tensors)

    def _ref(self) -> torch.Tensor:
        return self._tensors[0]

    def _apply(self, fn: Any, recurse: bool = True) -> LucentParam:  # noqa: ARG002
        raise TypeError(
            "a Lucent parameterization cannot be moved with .to(); build it on the right device"
        )


def image_param(
    kind: str,
    shape: Sequence[int],
    *,
    decorrelate: bool = False,
    squash: str = "sigmoid",
    init: torch.Tensor | None = None,
    sd: float = 0.01,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> ImageParam:
    """Build a parameterization by name.

    Args:
        kind: ``"pixel"`` or ``"fft"``.
        shape: ``(N, C, H, W)``.
        decorrelate: wrap it in :class:`DecorrelatedColor`.
        squash: ``"sigmoid"`` or ``"clamp"``.
        init: optional ``[0, 1]`` image to start from.
        sd: scale of the random start.
        seed: seed of the random start.
        dtype: parameter dtype.

    Returns:
        The parameterization.

    Examples:
        >>> image_param("fft", (1, 3, 32, 32), decorrelate=True, seed=0)().shape
        torch.Size([1, 3, 32, 32])
    """
    if kind == "pixel":
        base: ImageParam = PixelImage(
            shape, None if decorrelate else init, squash=squash, sd=sd, seed=seed, dtype=dtype
        )
    elif kind == "fft":
        base = FFTImage(
            shape, None if decorrelate else init, squash=squash, sd=sd, seed=seed, dtype=dtype
        )
    else:
        raise ValueError(f"kind must be 'pixel' or 'fft', got {kind!r}")
    if decorrelate:
        return DecorrelatedColor(base, squash=squash, init=init)
    return base


def as_param(param: object) -> ImageParam:
    """Return ``param`` as an :class:`ImageParam`.

    Accepts an :class:`ImageParam`, or a Lucent-style ``param_f`` closure returning
    ``(params, image_fn)``.

    Raises:
        TypeError: anything else.
    """
    if isinstance(param, ImageParam):
        return param
    if isinstance(param, nn.Module):
        raise TypeError(
            f"{type(param).__name__} is not an ImageParam; subclass ImageParam (implement raw and "
            "set_raw) or use PixelImage / FFTImage / image_param"
        )
    if callable(param):
        return LucentParam(param)
    raise TypeError(
        "param must be an ImageParam (PixelImage, FFTImage, DecorrelatedColor) or a Lucent "
        f"param_f closure, got {type(param).__name__}"
    )
