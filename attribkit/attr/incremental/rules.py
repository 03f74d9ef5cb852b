"""Local rules: how one operation that acts locally maps changed boxes to changed boxes.

A rule says where its output changes (:meth:`Rule.boxes`), whether it reads an input's
unoccluded activation around the box (:meth:`Rule.reads_cache`), and computes the output's
new box values from the input patches (:meth:`Rule.apply`). :func:`fuse` then folds eval-mode
batch norm into the convolution before it and lets activations overwrite boxes that nothing
else reads. Which operations get which rule is decided in
:mod:`~attribkit.attr.incremental.local_ops`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from attribkit.attr.incremental.geometry import (
    Boxes,
    Limits,
    Sliding,
    shifted,
    through_sliding,
    tile_of,
    union,
)

__all__ = [
    "BatchNormRule",
    "ConvRule",
    "PassRule",
    "PointwiseRule",
    "Rule",
    "ShiftRule",
    "SlidingRule",
    "UnionRule",
    "fuse",
]

Call = Callable[..., torch.Tensor]


class Rule(ABC):
    """How one traced node acts on patches.

    Subclasses: :class:`SlidingRule` (:class:`ConvRule`), :class:`ShiftRule`,
    :class:`PointwiseRule` (:class:`PassRule`, :class:`BatchNormRule`), :class:`UnionRule`;
    see :func:`fuse` for an example.

    Attributes:
        sources: the node's spatial inputs (nodes whose values are patches).
        fresh: whether :meth:`apply` returns a new tensor (not one of its inputs' boxes).
    """

    sources: list[fx.Node]
    fresh: bool = True

    @abstractmethod
    def boxes(self, inputs: list[Boxes], out_shape: torch.Size, limits: Limits) -> Boxes:
        """Where the output may differ, given where the inputs do."""

    def reads_cache(self, inputs: list[Boxes], out: Boxes) -> list[bool]:
        """Per input, whether :meth:`apply` reads its unoccluded activation outside the box."""
        return [False] * len(inputs)

    @abstractmethod
    def apply(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Boxes) -> torch.Tensor:
        """The output's values inside ``out`` (one batch), from resolved ``args``/``kwargs``
        in which the sources are :class:`~attribkit.attr.incremental.patch.Patch` objects."""


class SlidingRule(Rule):
    """Convolution or pooling: compute the output box from the input tile it reads.

    Args:
        source: the input node.
        op: the window geometry.
        call: ``call(tile)``, the operation without padding.
        fill: the value read outside the input map (0, or -inf for max pooling).
        whole: ``whole(x)``, the operation as traced (with its padding), used when both the
            input and the output changed everywhere.
    """

    def __init__(
        self, source: fx.Node, op: Sliding, call: Call, fill: float, whole: Call | None = None
    ) -> None:
        self.sources = [source]
        self.op = op
        self.call = call
        self.fill = fill
        self.whole = whole

    def boxes(self, inputs: list[Boxes], out_shape: torch.Size, limits: Limits) -> Boxes:
        return through_sliding(inputs[0], self.op, out_shape[-2], out_shape[-1], limits)

    def reads_cache(self, inputs: list[Boxes], out: Boxes) -> list[bool]:
        top, left, h, w = tile_of(out, self.op)
        box = inputs[0]
        same = (h, w) == (box.height, box.width) and bool(
            torch.equal(top, box.top) and torch.equal(left, box.left)
        )
        return [not same and not box.full]

    def apply(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Boxes) -> torch.Tensor:
        patch = args[0]
        if self.whole is not None and out.full and patch.is_whole:
            return self.whole(patch.box)
        top, left, h, w = tile_of(out, self.op)
        return self.call(patch.region(top, left, h, w, self.fill))


class ConvRule(SlidingRule):
    """A 2-D convolution with constant weights (which batch norm can be folded into)."""

    def __init__(
        self,
        source: fx.Node,
        op: Sliding,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        groups: int,
        padding: Any,
    ) -> None:
        self.weight, self.bias, self.groups, self.padding = weight, bias, groups, padding
        stride, dilation = op.stride, op.dilation
        # PyTorch's CPU kernels for dilated convolutions are slow in channels-last
        dense = dilation != (1, 1)

        def conv(tile: torch.Tensor) -> torch.Tensor:
            if dense:
                tile = tile.contiguous()
            return F.conv2d(tile, self.weight, self.bias, stride, 0, dilation, groups)

        def whole(x: torch.Tensor) -> torch.Tensor:
            return F.conv2d(x, self.weight, self.bias, stride, padding, dilation, groups)

        super().__init__(source, op, conv, 0.0, whole)

    #: the node whose value this convolution reads instead of its traced input (set by
    #: :meth:`padded`), or ``None``
    reads_from: fx.Node | None = None

    def padded(self, source: fx.Node, padding: tuple[int, int]) -> ConvRule:
        """This convolution reading ``source`` directly and zero-padding it by ``padding``
        (its traced input was ``source`` padded by that much)."""
        op = Sliding(self.op.kernel, self.op.stride, padding, self.op.dilation)
        rule = ConvRule(source, op, self.weight, self.bias, self.groups, padding)
        rule.reads_from = source
        return rule

    def folded(self, scale: torch.Tensor, shift: torch.Tensor) -> ConvRule:
        """This convolution followed by ``y * scale + shift`` per output channel."""
        w = self.weight.double() * scale.double().view(-1, 1, 1, 1)
        b = shift.double() + (self.bias.double() * scale.double() if self.bias is not None else 0.0)
        return ConvRule(
            self.sources[0], self.op, w.to(self.weight.dtype), b.to(self.weight.dtype),
            self.groups, self.padding,
        )  # fmt: skip


class ShiftRule(Rule):
    """Constant padding: the box keeps its values and moves (a box that is the whole map is
    padded, so that it stays the whole map).

    Args:
        source: the input node.
        pad: ``(left, right, top, bottom)``, non-negative.
        value: the padding value.
    """

    fresh = False

    def __init__(self, source: fx.Node, pad: tuple[int, int, int, int], value: float) -> None:
        self.sources = [source]
        self.pad, self.value = pad, value

    def boxes(self, inputs: list[Boxes], out_shape: torch.Size, limits: Limits) -> Boxes:
        moved = shifted(inputs[0], self.pad[2], self.pad[0], out_shape[-2], out_shape[-1])
        return moved.whole() if inputs[0].full else moved

    def apply(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Boxes) -> torch.Tensor:
        patch = args[0]
        if patch.is_whole and out.full:
            return _pad(patch.box, self.pad, self.value)
        return patch.box  # type: ignore[no-any-return]


def _pad(x: torch.Tensor, pad: tuple[int, int, int, int], value: float) -> torch.Tensor:
    """``F.pad(x, pad, value=value)`` for a channels-last batch, in channels-last (faster on
    the CPU than ``F.pad`` there)."""
    b, c, h, w = x.shape
    left, right, top, bottom = pad
    out = x.new_full((b, h + top + bottom, w + left + right, c), value)
    out[:, top : top + h, left : left + w] = x.permute(0, 2, 3, 1)
    return out.permute(0, 3, 1, 2)


class PointwiseRule(Rule):
    """An elementwise operation of one changed map (and constants).

    Args:
        source: the changed input.
        position: its position in the node's arguments.
        call: the operation, called with the box in place of the source.
        in_place: the same operation overwriting its one argument (used by :func:`fuse`
            when nothing else reads the box), or ``None``.
        fresh: whether ``call`` returns a new tensor.
    """

    def __init__(
        self,
        source: fx.Node,
        position: int,
        call: Call,
        in_place: Callable[[torch.Tensor], torch.Tensor] | None = None,
        fresh: bool = True,
    ) -> None:
        self.sources = [source]
        self.position = position
        self.call = call
        self.in_place = in_place
        self.fresh = fresh
        self.overwrite = False  # set by fuse()

    def boxes(self, inputs: list[Boxes], out_shape: torch.Size, limits: Limits) -> Boxes:
        return inputs[0]

    def apply(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Boxes) -> torch.Tensor:
        if self.overwrite and self.in_place is not None:
            return self.in_place(args[self.position].box)
        values = list(args)
        values[self.position] = values[self.position].box
        return self.call(*values, **kwargs)


class PassRule(PointwiseRule):
    """An identity (eval-mode dropout, ``nn.Identity``, a folded batch norm)."""

    def __init__(self, source: fx.Node) -> None:
        super().__init__(source, 0, lambda x, *a, **k: x, fresh=False)


class BatchNormRule(PointwiseRule):
    """Eval-mode batch norm: ``y = x * scale + shift`` per channel."""

    def __init__(
        self,
        source: fx.Node,
        mean: torch.Tensor,
        var: torch.Tensor,
        weight: torch.Tensor | None,
        bias: torch.Tensor | None,
        eps: float,
    ) -> None:
        def bn(x: torch.Tensor, *_: Any, **__: Any) -> torch.Tensor:
            return F.batch_norm(x, mean, var, weight, bias, False, 0.0, eps)

        super().__init__(source, 0, bn)
        inv = (var.double() + eps).rsqrt()
        self.scale = inv * (weight.double() if weight is not None else 1.0)
        self.shift = (bias.double() if bias is not None else 0.0) - mean.double() * self.scale


class UnionRule(Rule):
    """Sums, products and channel concatenation of several changed maps."""

    def __init__(self, sources: list[fx.Node], positions: list[int], call: Call, listed: bool):
        self.sources = sources
        self.positions = positions
        self.call = call
        self.listed = listed  # the sources are items of args[0] (concatenation)

    def boxes(self, inputs: list[Boxes], out_shape: torch.Size, limits: Limits) -> Boxes:
        return union(inputs, limits)

    def reads_cache(self, inputs: list[Boxes], out: Boxes) -> list[bool]:
        return [not (b.same_as(out) or b.full) for b in inputs]

    def apply(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Boxes) -> torch.Tensor:
        values = list(args[0]) if self.listed else list(args)
        for i in self.positions:
            values[i] = values[i].region(out.top, out.left, out.height, out.width)
        if self.listed:
            return self.call(values, *args[1:], **kwargs)
        return self.call(*values, **kwargs)


def fuse(rules: dict[fx.Node, Rule], order: list[fx.Node]) -> dict[fx.Node, Rule]:
    """Fold each eval-mode batch norm into the convolution it alone reads, and let
    activations overwrite boxes that no other node reads.

    Args:
        rules: the rule of each node computed incrementally.
        order: the graph's nodes in execution order.

    Returns:
        The new rules (the given ones are not changed).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from attribkit.attr.incremental import IncrementalModel, WindowGrid
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).eval()
        >>> inc = IncrementalModel(net, torch.rand(1, 3, 8, 8))
        >>> plan = inc.plan(WindowGrid((3, 8, 8), (3, 2, 2), (3, 2, 2)).boxes())
        >>> [type(r).__name__ for r in plan.rules.values()]  # batch norm folded, ReLU in place
        ['ConvRule', 'PassRule', 'PointwiseRule']
    """
    out = dict(rules)
    for node in order:
        rule = out.get(node)
        if not isinstance(rule, BatchNormRule):
            continue
        src = rule.sources[0]
        conv = out.get(src)
        if isinstance(conv, ConvRule) and len(src.users) == 1:
            out[src] = conv.folded(rule.scale, rule.shift)
            out[node] = PassRule(src)
    owned: dict[fx.Node, bool] = {}
    for node in order:
        rule = out.get(node)
        if rule is None:
            continue
        single = [len(s.users) == 1 and owned.get(s, False) for s in rule.sources]
        if isinstance(rule, PointwiseRule) and rule.in_place is not None and single[0]:
            new = PointwiseRule(rule.sources[0], rule.position, rule.call, rule.in_place)
            new.overwrite = True
            out[node] = new
            owned[node] = True
        else:
            owned[node] = rule.fresh or (bool(single) and all(single))
    return out
