"""Receptive fields: the input box that each spatial position of a layer sees.

Two methods:

* **analytic** — one probe forward pass records, in execution order, every module that ran.
  When the path from the input to the layer is a chain of convolutions, poolings, paddings and
  pointwise modules (each one consuming the previous one's output, nothing modified in place in
  between), the box is composed exactly through kernel, stride, padding and dilation. Convs
  that pad inside themselves (``Conv2dStaticSamePadding``: a ``ZeroPad2d`` child and then a
  conv with ``padding=0``) are handled.
* **empirical** — for any model: the gradient of the layer's (summed over channels) output at
  a central position, with respect to a batch of random inputs; the box is the bounding box of
  the non-zero gradient, and the stride is read from a second, diagonal neighbour. It measures
  the support the unit actually depends on (for a residual network, the longest path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from attribkit.layers.hooks import LayerRef, layer_name, resolve_layer
from attribkit.layers.state import frozen

__all__ = [
    "ReceptiveField",
    "receptive_field",
    "analytic_receptive_field",
    "empirical_receptive_field",
]

# Modules that act on each spatial position independently in eval mode.
_POINTWISE: tuple[type[nn.Module], ...] = (
    nn.BatchNorm2d,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softplus,
    nn.Identity,
    nn.Dropout,
    nn.Dropout2d,
    nn.Hardtanh,
)
_PADS: tuple[type[nn.Module], ...] = (
    nn.ZeroPad2d,
    nn.ConstantPad2d,
    nn.ReflectionPad2d,
    nn.ReplicationPad2d,
)


@dataclass(frozen=True)
class ReceptiveField:
    """Where each spatial position ``(y, x)`` of a layer looks in the input.

    The box of position ``(y, x)`` is rows ``[start[0] + y·jump[0], … + size[0])`` and columns
    ``[start[1] + x·jump[1], … + size[1])`` in input pixels (half-open). Boxes may reach
    outside the image where the network pads; :meth:`box` can clip them.

    Attributes:
        layer: the layer's dotted name.
        input_size: ``(H, W)`` of the input the field was computed for.
        output_size: ``(h, w)`` of the layer's output at that input size.
        size: box height and width.
        jump: input pixels between neighbouring positions (the cumulative stride).
        start: top-left of position ``(0, 0)``'s box (negative where padding comes in).
        method: ``"analytic"`` or ``"empirical"``.
        clipped: the empirical box touched the input's border, so the true field may be
            larger than ``size`` (measure at a larger ``input_size``).
    """

    layer: str
    input_size: tuple[int, int]
    output_size: tuple[int, int]
    size: tuple[int, int]
    jump: tuple[int, int]
    start: tuple[int, int]
    method: str
    clipped: bool = False

    def box(self, y: int, x: int, clip: bool = False) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` of position ``(y, x)``, half-open, in input pixels.

        Examples:
            >>> rf = ReceptiveField("c", (8, 8), (4, 4), (3, 3), (2, 2), (-1, -1), "analytic")
            >>> rf.box(1, 2)
            (1, 3, 4, 6)
        """
        h, w = self.output_size
        if not (0 <= y < h and 0 <= x < w):
            raise ValueError(f"position ({y}, {x}) is outside the layer's {h}×{w} output")
        top = self.start[0] + y * self.jump[0]
        left = self.start[1] + x * self.jump[1]
        bottom, right = top + self.size[0], left + self.size[1]
        if clip:
            H, W = self.input_size
            top, left = max(top, 0), max(left, 0)
            bottom, right = min(bottom, H), min(right, W)
        return top, left, bottom, right

    def boxes(self) -> torch.Tensor:
        """All boxes as an ``h×w×4`` long tensor of ``(top, left, bottom, right)``."""
        h, w = self.output_size
        ys = torch.arange(h) * self.jump[0] + self.start[0]
        xs = torch.arange(w) * self.jump[1] + self.start[1]
        top = ys.view(h, 1).expand(h, w)
        left = xs.view(1, w).expand(h, w)
        return torch.stack([top, left, top + self.size[0], left + self.size[1]], dim=-1)


@dataclass
class _Geom:
    # per axis (y, x): cumulative jump, box size, start of position 0
    jump: tuple[int, int]
    size: tuple[int, int]
    start: tuple[int, int]


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[1])) if len(v) >= 2 else (int(v[0]), int(v[0]))
    return (int(v), int(v))


def _window(
    g: _Geom, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int], d: tuple[int, int]
) -> _Geom:
    return _Geom(
        jump=(g.jump[0] * s[0], g.jump[1] * s[1]),
        size=(g.size[0] + (k[0] - 1) * d[0] * g.jump[0], g.size[1] + (k[1] - 1) * d[1] * g.jump[1]),
        start=(g.start[0] - p[0] * g.jump[0], g.start[1] - p[1] * g.jump[1]),
    )


def _out_len(n: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    v = (n + 2 * p - d * (k - 1) - 1) / s + 1
    return math.ceil(v) if ceil else math.floor(v)


def _trace(model: nn.Module, target: nn.Module, x: torch.Tensor) -> _Geom | None:
    """Compose the geometry along a chain of known modules; ``None`` when it is not a chain."""
    known: dict[int, tuple[torch.Tensor, int, _Geom]] = {
        id(x): (x, x._version, _Geom((1, 1), (1, 1), (0, 0)))
    }
    stack: list[nn.Module] = []
    # last geometry-producing output seen inside each open module, by id(module)
    inner: dict[int, torch.Tensor] = {}
    # geometry of each open module's input, read before the module ran (in-place modules
    # such as ReLU(inplace=True) bump the input's version counter)
    entry: dict[int, _Geom | None] = {}
    result: list[_Geom | None] = []
    handles = []

    def lookup(t: object) -> _Geom | None:
        if not isinstance(t, torch.Tensor):
            return None
        rec = known.get(id(t))
        if rec is None or rec[0] is not t or rec[1] != t._version:
            return None
        return rec[2]

    def store(t: object, g: _Geom | None) -> None:
        if isinstance(t, torch.Tensor) and g is not None:
            known[id(t)] = (t, t._version, g)
            for m in stack:
                inner[id(m)] = t

    def pre(module: nn.Module, args: tuple) -> None:
        stack.append(module)
        inner.pop(id(module), None)
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        entry[id(module)] = lookup(tensors[0]) if len(tensors) == 1 else None

    def post(module: nn.Module, args: tuple, out: object) -> None:
        stack.pop()
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        g_src = entry.pop(id(module), None)
        g: _Geom | None = None
        if len(tensors) == 1 and isinstance(out, torch.Tensor) and out.ndim == 4:
            src = tensors[0]
            if isinstance(module, nn.Conv2d):
                # a conv that padded its input inside itself: continue from that padded tensor
                eff = inner.get(id(module))
                padded = eff is not None and lookup(eff) is not None
                inp = eff if padded and eff is not None else src
                gi = lookup(inp) if padded else g_src
                k, s = _pair(module.kernel_size), _pair(module.stride)
                d = _pair(module.dilation)
                pad: Any = module.padding
                if pad == "valid":
                    pad = 0
                elif pad == "same":
                    pad = tuple(d[a] * (k[a] - 1) // 2 for a in (0, 1))
                if gi is not None and isinstance(pad, (tuple, list, int)):
                    p = _pair(pad)
                    if all(
                        _out_len(inp.shape[2 + a], k[a], s[a], p[a], d[a]) == out.shape[2 + a]
                        for a in (0, 1)
                    ):
                        g = _window(gi, k, s, p, d)
            elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
                gi = g_src
                k, s = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
                p = _pair(module.padding)
                d = _pair(getattr(module, "dilation", 1))
                ceil = bool(module.ceil_mode)
                if gi is not None and all(
                    _out_len(src.shape[2 + a], k[a], s[a], p[a], d[a], ceil) == out.shape[2 + a]
                    for a in (0, 1)
                ):
                    g = _window(gi, k, s, p, d)
            elif isinstance(module, _PADS):
                gi = g_src
                left, _right, top, _bottom = (int(v) for v in module.padding)  # type: ignore
                if gi is not None:
                    g = _window(gi, (1, 1), (1, 1), (top, left), (1, 1))
            elif isinstance(module, _POINTWISE) and not (
                isinstance(module, nn.BatchNorm2d) and module.training
            ):
                gi = g_src
                if gi is not None and out.shape[-2:] == src.shape[-2:]:
                    g = gi
            else:
                from attribkit.models.normalize import Normalize

                if isinstance(module, Normalize):
                    gi = g_src
                    g = gi if gi is not None and out.shape == src.shape else None
        store(out, g)
        if module is target:
            result.append(g if g is not None else lookup(out))

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    if not result:
        raise ValueError(f"layer {layer_name(model, target)!r} did not run in the forward pass")
    return result[-1]


def _probe(
    model: nn.Module,
    input_size: tuple[int, int],
    in_channels: int | None,
    batch: int = 1,
    normal: bool = False,
) -> torch.Tensor:
    p = next(iter(model.parameters()), None)
    device = p.device if p is not None else torch.device("cpu")
    dtype = p.dtype if p is not None and p.is_floating_point() else torch.float32
    c = in_channels
    if c is None:
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                c = m.in_channels
                break
    if c is None:
        raise ValueError("cannot tell the model's input channels; pass in_channels=")
    gen = torch.Generator(device=device).manual_seed(0)
    shape = (batch, c, *input_size)
    if normal:
        return torch.randn(shape, device=device, dtype=dtype, generator=gen)
    return torch.rand(shape, device=device, dtype=dtype, generator=gen)


def _output_size(model: nn.Module, target: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    from attribkit.layers.hooks import forward_to

    with torch.no_grad():
        out = next(iter(forward_to(model, x, [target], detach=True).values()))
    if out.ndim != 4:
        raise ValueError(
            f"layer {layer_name(model, target)!r} has output shape {tuple(out.shape)}; "
            "a receptive field needs a spatial N×C×h×w output"
        )
    return int(out.shape[2]), int(out.shape[3])


def _check_size(input_size: int | tuple[int, int]) -> tuple[int, int]:
    hw = _pair(input_size) if isinstance(input_size, (int, tuple, list)) else None
    if hw is None or isinstance(input_size, bool) or min(hw) <= 0:
        raise ValueError(f"input_size must be a positive int or (H, W), got {input_size!r}")
    return hw


def analytic_receptive_field(
    model: nn.Module,
    layer: LayerRef,
    input_size: int | tuple[int, int],
    *,
    in_channels: int | None = None,
) -> ReceptiveField:
    """The exact receptive field along a sequential path; raises where the path is not one.

    Raises:
        ValueError: the layer has no spatial output, or the path from the input to the layer
            is not a chain of convs, poolings, paddings and pointwise modules (use
            :func:`empirical_receptive_field`).

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2))
        >>> rf = analytic_receptive_field(net, "1", 8)
        >>> rf.size, rf.jump, rf.start
        ((4, 4), (2, 2), (-1, -1))
    """
    hw = _check_size(input_size)
    target = resolve_layer(model, layer)
    name = layer_name(model, layer)
    with frozen(model):
        x = _probe(model, hw, in_channels)
        out_hw = _output_size(model, target, x)
        g = _trace(model, target, x)
    if g is None:
        raise ValueError(
            f"the path to {name!r} is not a chain of convs, poolings, paddings and pointwise "
            "modules (residual additions, attention or functional ops in between); use "
            "method='empirical'"
        )
    return ReceptiveField(name, hw, out_hw, g.size, g.jump, g.start, "analytic")


def _support(grad: torch.Tensor) -> tuple[int, int, int, int] | None:
    nz = grad.abs().sum(dim=(0, 1)) > 0
    if not bool(nz.any()):
        return None
    rows = torch.nonzero(nz.any(dim=1)).flatten()
    cols = torch.nonzero(nz.any(dim=0)).flatten()
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _measure(
    model: nn.Module, target: nn.Module, hw: tuple[int, int], in_channels: int | None, samples: int
) -> tuple[
    tuple[int, int],
    tuple[int, int, int, int] | None,
    tuple[int, int, int, int] | None,
    int,
    int,
    int,
    int,
]:
    from attribkit.layers.hooks import forward_to

    x = _probe(model, hw, in_channels, batch=2 * samples, normal=True)
    h, w = _output_size(model, target, x[:1])
    cy, cx = (h - 1) // 2, (w - 1) // 2
    ny, nx = min(cy + 1, h - 1), min(cx + 1, w - 1)
    x = x.detach().requires_grad_(True)
    a = next(iter(forward_to(model, x, [target]).values()))
    score = a[:samples, :, cy, cx].sum() + a[samples:, :, ny, nx].sum()
    (grad,) = torch.autograd.grad(score, x)
    return (h, w), _support(grad[:samples]), _support(grad[samples:]), cy, cx, ny, nx


def empirical_receptive_field(
    model: nn.Module,
    layer: LayerRef,
    input_size: int | tuple[int, int],
    *,
    in_channels: int | None = None,
    samples: int = 2,
    max_scale: int = 4,
) -> ReceptiveField:
    """Measure the receptive field from input gradients, for any differentiable model.

    The layer's output, summed over channels at a central position ``(cy, cx)`` and at
    ``(cy + 1, cx + 1)``, is differentiated with respect to ``samples`` random inputs each (one
    backward pass); the union of the non-zero gradient gives the box and the shift between
    the two boxes the jump. Boxes of other positions follow by that jump. When the central
    box touches the input's border, the measurement is repeated at 2× and 4× the input size
    (up to ``max_scale``; size and jump of a convolutional network do not depend on the input
    size) and ``clipped`` says if it still touched. The method sees the support the unit
    really depends on, a lower bound of the theoretical field when gradients vanish.

    Args:
        model: the network.
        layer: a layer with an ``N×C×h×w`` output.
        input_size: ``H`` or ``(H, W)``.
        in_channels: input channels (default: the first conv's).
        samples: random inputs per position whose gradient supports are united.
        max_scale: largest input enlargement tried when the box is clipped (1 = never).

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, stride=2))
        >>> rf = empirical_receptive_field(net, "1", 16)
        >>> rf.size, rf.jump
        ((5, 5), (2, 2))
    """
    hw = _check_size(input_size)
    for nm, v in (("samples", samples), ("max_scale", max_scale)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{nm} must be a positive integer, got {v!r}")
    target = resolve_layer(model, layer)
    name = layer_name(model, layer)
    out_hw: tuple[int, int] | None = None
    scale = 1
    with frozen(model):
        while True:
            size_hw = (hw[0] * scale, hw[1] * scale)
            n = samples
            while True:
                o_hw, b0, b1, cy, cx, ny, nx = _measure(model, target, size_hw, in_channels, n)
                if (b0 is not None and b1 is not None) or n >= 64:
                    break
                n *= 4  # every unit was inactive (dead ReLUs): more random inputs
            if out_hw is None:
                out_hw = o_hw
            if b0 is None or b1 is None:
                raise ValueError(
                    f"the gradient of {name!r} with respect to the input is zero; the "
                    "empirical method needs a differentiable path"
                )
            clipped = b0[0] == 0 or b0[1] == 0 or b0[2] == size_hw[0] or b0[3] == size_hw[1]
            if not clipped or scale * 2 > max_scale:
                break
            scale *= 2
    size = (b0[2] - b0[0], b0[3] - b0[1])
    jy = b1[0] - b0[0] if ny != cy else 1
    jx = b1[1] - b0[1] if nx != cx else 1
    jump = (max(jy, 1), max(jx, 1))
    start = (b0[0] - cy * jump[0], b0[1] - cx * jump[1])
    return ReceptiveField(name, hw, out_hw, size, jump, start, "empirical", clipped)


def receptive_field(
    model: nn.Module,
    layer: LayerRef,
    input_size: int | tuple[int, int],
    *,
    method: str = "auto",
    in_channels: int | None = None,
) -> ReceptiveField:
    """The input box seen by each spatial position of ``layer``.

    ``method="auto"`` tries the exact analytic composition and falls back to the empirical
    gradient method where the path is not sequential; ``result.method`` says which was used.
    The model is left as it was found (mode, flags, hooks), also on errors.

    Args:
        model: the network.
        layer: a layer with a spatial output (dotted name or module).
        input_size: ``H`` or ``(H, W)`` of the input.
        method: ``"auto"``, ``"analytic"`` or ``"empirical"``.
        in_channels: input channels (default: the first conv's).

    Returns:
        A :class:`ReceptiveField`.

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        >>> rf = receptive_field(net, "2", 32)
        >>> rf.method, rf.size, rf.box(0, 0)
        ('analytic', (4, 4), (-1, -1, 3, 3))
    """
    if method not in ("auto", "analytic", "empirical"):
        raise ValueError(f"method must be 'auto', 'analytic' or 'empirical', got {method!r}")
    if method == "empirical":
        return empirical_receptive_field(model, layer, input_size, in_channels=in_channels)
    try:
        return analytic_receptive_field(model, layer, input_size, in_channels=in_channels)
    except ValueError as err:
        if method == "analytic" or "not a chain" not in str(err):
            raise
    return empirical_receptive_field(model, layer, input_size, in_channels=in_channels)
