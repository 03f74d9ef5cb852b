"""Feed-forward style networks: Johnson's transformation network and its multi-style form.

:class:`TransformerNet` follows Johnson et al. (2016) with Ulyanov's instance normalization:
a 9×9 convolution, two stride-2 convolutions, residual blocks, then two nearest-neighbour
upsamplings each followed by a convolution (instead of transposed convolutions, which draw
checkerboard artifacts), and a 9×9 convolution back to RGB. Every convolution pads by
reflection. :class:`MultiStyleNet` is the same network with *conditional* instance
normalization (Dumoulin et al., 2017): each style owns the γ and β of every normalization
layer, and a convex mix of styles uses the same mix of their γ and β.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import (
    check_finite,
    check_finite_number,
    check_non_negative_int,
    check_positive_int,
    describe,
)

__all__ = ["TransformerNet", "MultiStyleNet", "ConditionalInstanceNorm2d", "style_weights"]

_STRIDE = 4


class ConditionalInstanceNorm2d(nn.Module):
    """Instance normalization with one (γ, β) pair per style, mixed by style weights.

    ``y = γ(w) · (x − μ) / σ + β(w)`` with ``γ(w) = Σₛ wₛ γₛ`` and ``β(w) = Σₛ wₛ βₛ``.

    Args:
        channels: number of channels.
        n_styles: number of styles.
        eps: added to the variance.

    Examples:
        >>> import torch
        >>> norm = ConditionalInstanceNorm2d(4, n_styles=3)
        >>> norm(torch.rand(2, 4, 5, 5), torch.eye(3)[:2]).shape
        torch.Size([2, 4, 5, 5])
    """

    def __init__(self, channels: int, n_styles: int, eps: float = 1e-5) -> None:
        super().__init__()
        check_positive_int(channels, "channels")
        check_positive_int(n_styles, "n_styles")
        check_finite_number(eps, "eps", positive=True)
        self.channels = channels
        self.n_styles = n_styles
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n_styles, channels))
        self.bias = nn.Parameter(torch.zeros(n_styles, channels))

    def forward(self, x: torch.Tensor, style_weights: torch.Tensor) -> torch.Tensor:
        """Normalize ``x`` (``N×C×H×W``) with the styles mixed by ``style_weights`` (``N×S``)."""
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != self.channels:
            raise ValueError(f"x must be N×{self.channels}×H×W, got {describe(x)}")
        if not isinstance(style_weights, torch.Tensor) or style_weights.shape != (
            x.shape[0],
            self.n_styles,
        ):
            raise ValueError(
                f"style_weights must be an N×S = {x.shape[0]}×{self.n_styles} tensor, got "
                f"{describe(style_weights)}"
            )
        y = F.instance_norm(x, eps=self.eps)
        w = style_weights.to(self.weight.dtype)
        gamma = (w @ self.weight).to(x.dtype)[:, :, None, None]
        beta = (w @ self.bias).to(x.dtype)[:, :, None, None]
        return y * gamma + beta

    def extra_repr(self) -> str:
        return f"{self.channels}, n_styles={self.n_styles}, eps={self.eps}"


class _Norm(nn.Module):
    """Plain (affine) instance norm, or conditional instance norm when ``n_styles`` is given."""

    def __init__(self, channels: int, n_styles: int | None) -> None:
        super().__init__()
        self.norm: nn.Module
        if n_styles is None:
            self.norm = nn.InstanceNorm2d(channels, affine=True)
        else:
            self.norm = ConditionalInstanceNorm2d(channels, n_styles)

    def forward(self, x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        if isinstance(self.norm, ConditionalInstanceNorm2d):
            assert w is not None
            return self.norm(x, w)
        return self.norm(x)


class _ConvNorm(nn.Module):
    """(Upsample ×2) → reflection pad → conv → instance norm → (ReLU)."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        n_styles: int | None,
        *,
        stride: int = 1,
        upsample: bool = False,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.pad = kernel // 2
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride)
        self.norm = _Norm(c_out, n_styles)
        self.relu = relu

    def forward(self, x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.conv(F.pad(x, (self.pad,) * 4, mode="reflect"))
        x = self.norm(x, w)
        return F.relu(x) if self.relu else x


class _Residual(nn.Module):
    def __init__(self, channels: int, n_styles: int | None) -> None:
        super().__init__()
        self.a = _ConvNorm(channels, channels, 3, n_styles)
        self.b = _ConvNorm(channels, channels, 3, n_styles, relu=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        return x + self.b(self.a(x, w), w)


class _StyleNet(nn.Module):
    """The shared body of both networks."""

    def __init__(self, width: int, n_residual: int, n_styles: int | None) -> None:
        super().__init__()
        check_positive_int(width, "width")
        check_non_negative_int(n_residual, "n_residual")
        self.width = width
        self.n_residual = n_residual
        c1, c2, c3 = width, 2 * width, 4 * width
        self.down = nn.ModuleList(
            [
                _ConvNorm(3, c1, 9, n_styles),
                _ConvNorm(c1, c2, 3, n_styles, stride=2),
                _ConvNorm(c2, c3, 3, n_styles, stride=2),
            ]
        )
        self.res = nn.ModuleList([_Residual(c3, n_styles) for _ in range(n_residual)])
        self.up = nn.ModuleList(
            [
                _ConvNorm(c3, c2, 3, n_styles, upsample=True),
                _ConvNorm(c2, c1, 3, n_styles, upsample=True),
            ]
        )
        self.out = nn.Conv2d(c1, 3, 9)

    @property
    def stride(self) -> int:
        """Total downsampling factor: inputs are padded to a multiple of it by ``stylize``."""
        return _STRIDE

    @property
    def min_size(self) -> int:
        """Smallest height/width the network accepts (the bottleneck must be at least 2×2)."""
        return 2 * _STRIDE

    def _check_input(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"images must be a tensor, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"images must be N×3×H×W, got shape {tuple(x.shape)}")
        if not x.is_floating_point():
            raise TypeError(f"images must be floating point in [0, 1], got {x.dtype}")
        check_finite(x, "images")
        h, w = x.shape[-2:]
        if h < self.min_size or w < self.min_size:
            raise ValueError(
                f"images must be at least {self.min_size}×{self.min_size} px (the network "
                f"downsamples by {self.stride}), got {h}×{w}; upsample the image first"
            )
        if h % self.stride or w % self.stride:
            raise ValueError(
                f"the network needs height and width divisible by {self.stride}, got {h}×{w}; "
                "use attribkit.style.stylize, which pads and crops back"
            )

    def _run(self, x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        self._check_input(x)
        for layer in self.down:
            x = layer(x, w)
        for block in self.res:
            x = block(x, w)
        for layer in self.up:
            x = layer(x, w)
        x = self.out(F.pad(x, (4, 4, 4, 4), mode="reflect"))
        return torch.sigmoid(x)


class TransformerNet(_StyleNet):
    """Johnson's image transformation network for one style (instance norm, reflect padding).

    Args:
        width: channels of the first layer (Johnson uses 32; the others are 2× and 4× it).
        n_residual: number of residual blocks (Johnson uses 5).

    The input is ``N×3×H×W`` in [0, 1] with ``H`` and ``W`` multiples of 4 (at least 8);
    the output has the same shape, in [0, 1] (a sigmoid ends the network).

    Examples:
        >>> import torch
        >>> net = TransformerNet(width=4, n_residual=1)
        >>> net(torch.rand(1, 3, 16, 16)).shape
        torch.Size([1, 3, 16, 16])
    """

    n_styles = 1

    def __init__(self, width: int = 32, n_residual: int = 5) -> None:
        super().__init__(width, n_residual, None)

    def forward(self, x: torch.Tensor, style_weights: object = None) -> torch.Tensor:
        """Stylize ``x``; ``style_weights`` is accepted (and must be ``None`` or the one style)
        so that single- and multi-style networks can be called the same way."""
        if style_weights is not None:
            style_weights = style_weights_tensor(style_weights, 1, x.shape[0], x)
        return self._run(x, None)

    def extra_repr(self) -> str:
        return f"width={self.width}, n_residual={self.n_residual}"


class MultiStyleNet(_StyleNet):
    """One transformation network for ``n_styles`` styles (conditional instance norm).

    Every instance norm has one (γ, β) per style; ``forward(x, style_weights)`` mixes them,
    so a convex combination of styles can be asked for at test time, and a batch may hold a
    different mix per image.

    Args:
        n_styles: number of styles.
        width: channels of the first layer (Johnson uses 32).
        n_residual: number of residual blocks.
        style_names: optional names of the styles (for ``style_weights`` given as a mapping).

    Examples:
        >>> import torch
        >>> net = MultiStyleNet(3, width=4, n_residual=1)
        >>> x = torch.rand(2, 3, 16, 16)
        >>> net(x, [0, 2]).shape          # style 0 for the 1st image, style 2 for the 2nd
        torch.Size([2, 3, 16, 16])
        >>> net(x, [0.5, 0.0, 0.5]).shape  # one mix for every image
        torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        n_styles: int,
        width: int = 32,
        n_residual: int = 5,
        style_names: Sequence[str] | None = None,
    ) -> None:
        if isinstance(n_styles, bool) or not isinstance(n_styles, int) or n_styles < 1:
            raise ValueError(f"n_styles must be a positive int, got {n_styles!r}")
        super().__init__(width, n_residual, n_styles)
        self.n_styles = n_styles
        if style_names is not None:
            names = [str(s) for s in style_names]
            if len(names) != n_styles or len(set(names)) != n_styles:
                raise ValueError(f"need {n_styles} distinct style names, got {names}")
            self.style_names: list[str] = names
        else:
            self.style_names = [f"style{i}" for i in range(n_styles)]

    def forward(self, x: torch.Tensor, style_weights: object = 0) -> torch.Tensor:
        """Stylize ``x`` (``N×3×H×W`` in [0, 1]).

        Args:
            x: images, height and width multiples of 4.
            style_weights: see :func:`style_weights`: a style index or name, one index per
                image, a mix ``[w₀ … wₛ₋₁]`` or ``{name: w}`` for all images, or an ``N×S``
                tensor of mixes.
        """
        w = style_weights_tensor(style_weights, self.n_styles, x.shape[0], x, self.style_names)
        return self._run(x, w)

    def extra_repr(self) -> str:
        return f"n_styles={self.n_styles}, width={self.width}, n_residual={self.n_residual}"


def style_weights(
    spec: object,
    n_styles: int,
    batch: int = 1,
    names: Sequence[str] | None = None,
    *,
    normalize: bool = False,
) -> torch.Tensor:
    """Turn any accepted form of style choice into an ``N×S`` tensor of convex weights.

    Accepted forms: an ``int`` style index or a style name (all images); a list of ints (one
    style per image); a list/1-D tensor of ``S`` floats (one mix for all images); a mapping
    ``{name or index: weight}``; an ``N×S`` tensor (one mix per image).

    Args:
        spec: the style choice.
        n_styles: number of styles of the network.
        batch: number of images.
        names: style names, for names in ``spec``.
        normalize: rescale non-negative weights to sum to 1 instead of refusing them.

    Returns:
        A float64 ``batch×n_styles`` tensor whose rows are non-negative and sum to 1.

    Raises:
        ValueError: index out of range, unknown name, negative weights, weights that do not
            sum to 1 (unless ``normalize``), or a shape that fits neither form.

    Examples:
        >>> style_weights({"a": 0.25, "b": 0.75}, 2, names=["a", "b"])
        tensor([[0.2500, 0.7500]], dtype=torch.float64)
    """
    return style_weights_tensor(spec, n_styles, batch, None, names, normalize=normalize).double()


def _index(key: object, n_styles: int, names: Sequence[str] | None) -> int:
    if isinstance(key, str):
        if names is None or key not in names:
            import difflib

            close = difflib.get_close_matches(key, list(names or []), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"no style called {key!r}{hint} (styles: {list(names or [])})")
        return list(names).index(key)
    if isinstance(key, bool) or not isinstance(key, int):
        raise TypeError(f"a style is chosen by index or name, got {key!r}")
    if not 0 <= key < n_styles:
        raise ValueError(f"style index {key} is out of range: the network has {n_styles} styles")
    return key


def style_weights_tensor(
    spec: object,
    n_styles: int,
    batch: int,
    like: torch.Tensor | None = None,
    names: Sequence[str] | None = None,
    *,
    normalize: bool = False,
) -> torch.Tensor:
    """:func:`style_weights` on the device and dtype of ``like`` (float32 if ``None``)."""
    device = like.device if like is not None else None
    dtype = like.dtype if like is not None and like.is_floating_point() else torch.float32
    if dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32
    if isinstance(spec, (str, int)) and not isinstance(spec, bool):
        w = torch.zeros(batch, n_styles, dtype=dtype, device=device)
        w[:, _index(spec, n_styles, names)] = 1.0
        return w
    if isinstance(spec, dict):
        w1 = torch.zeros(n_styles, dtype=torch.float64)
        for k, v in spec.items():
            w1[_index(k, n_styles, names)] += float(v)
        return _check_mix(w1.expand(batch, n_styles), normalize).to(dtype=dtype, device=device)
    if isinstance(spec, (list, tuple)):
        if spec and all(isinstance(s, (int, str)) and not isinstance(s, bool) for s in spec):
            if len(spec) != batch:
                raise ValueError(
                    f"got {len(spec)} style choices for {batch} images; give one per image, "
                    f"or a list of {n_styles} float weights for a mix"
                )
            w = torch.zeros(batch, n_styles, dtype=dtype, device=device)
            for i, s in enumerate(spec):
                w[i, _index(s, n_styles, names)] = 1.0
            return w
        spec = torch.as_tensor([float(v) for v in spec], dtype=torch.float64)
    if not isinstance(spec, torch.Tensor):
        raise TypeError(
            "style_weights must be an index, a name, a list, a mapping or a tensor, got "
            f"{type(spec).__name__}"
        )
    t = spec.detach().to(torch.float64).cpu()
    if not spec.is_floating_point():
        if t.ndim == 1 and t.numel() == batch:
            return style_weights_tensor(
                [int(v) for v in spec.tolist()], n_styles, batch, like, names
            )
        raise ValueError("an integer tensor of style indices must hold one index per image")
    if t.ndim == 1:
        if t.numel() != n_styles:
            raise ValueError(f"a style mix needs {n_styles} weights, got {t.numel()}")
        t = t.expand(batch, n_styles)
    elif t.ndim == 2:
        if t.shape[1] != n_styles or t.shape[0] not in (1, batch):
            raise ValueError(
                f"style weights must be {batch}×{n_styles} (or 1×{n_styles}), got {tuple(t.shape)}"
            )
        t = t.expand(batch, n_styles)
    else:
        raise ValueError(f"style weights must be 1-D or 2-D, got shape {tuple(t.shape)}")
    return _check_mix(t, normalize).to(dtype=dtype, device=device)


def _check_mix(w: torch.Tensor, normalize: bool) -> torch.Tensor:
    if not torch.isfinite(w).all():
        raise ValueError("style weights must be finite")
    if bool((w < 0).any()):
        raise ValueError(f"style weights must be non-negative, got {w[0].tolist()}")
    sums = w.sum(1)
    if bool((sums <= 0).any()):
        raise ValueError("style weights must not all be zero")
    if normalize:
        return w / sums[:, None]
    if bool(((sums - 1).abs() > 1e-4).any()):
        raise ValueError(
            f"style weights must sum to 1 (got sums {sums.tolist()}); rescale them, or pass "
            "normalize=True"
        )
    return w.clone()
