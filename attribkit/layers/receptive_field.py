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

from dataclasses import dataclass

import torch
from torch import nn

from attribkit._checks import check_size
from attribkit.layers.hooks import LayerRef, forward_to, layer_name, resolve_layer
from attribkit.layers.rf_trace import trace_geometry
from attribkit.layers.state import frozen

__all__ = [
    "ReceptiveField",
    "receptive_field",
    "analytic_receptive_field",
    "empirical_receptive_field",
]


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

    def __post_init__(self) -> None:
        for name, lo in (
            ("input_size", 1),
            ("output_size", 1),
            ("size", 1),
            ("jump", 1),
            ("start", None),
        ):
            v = getattr(self, name)
            ok = isinstance(v, tuple) and len(v) == 2
            ok = ok and all(isinstance(i, int) and not isinstance(i, bool) for i in v)
            if not ok or (lo is not None and min(v) < lo):
                raise ValueError(
                    f"ReceptiveField.{name} must be two ints"
                    f"{f' >= {lo}' if lo is not None else ''}, got {v!r}"
                )
        if self.method not in ("analytic", "empirical"):
            raise ValueError(f"method must be 'analytic' or 'empirical', got {self.method!r}")

    def box(self, y: int, x: int, clip: bool = False) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` of position ``(y, x)``, half-open, in input pixels.

        Examples:
            >>> rf = ReceptiveField("c", (8, 8), (4, 4), (3, 3), (2, 2), (-1, -1), "analytic")
            >>> rf.box(1, 2)
            (1, 3, 4, 6)
        """
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (y, x)):
            raise TypeError(f"the position (y, x) must be integers, got ({y!r}, {x!r})")
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
    if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c <= 0):
        raise ValueError(f"in_channels must be a positive integer or None, got {c!r}")
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
    with torch.no_grad():
        out = next(iter(forward_to(model, x, [target], detach=True).values()))
    if out.ndim != 4:
        raise ValueError(
            f"layer {layer_name(model, target)!r} has output shape {tuple(out.shape)}; "
            "a receptive field needs a spatial N×C×h×w output"
        )
    return int(out.shape[2]), int(out.shape[3])


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
    hw = check_size(input_size, "input_size")
    target = resolve_layer(model, layer)
    name = layer_name(model, layer)
    with frozen(model):
        x = _probe(model, hw, in_channels)
        out_hw = _output_size(model, target, x)
        g = trace_geometry(model, target, x)
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
    hw = check_size(input_size, "input_size")
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
