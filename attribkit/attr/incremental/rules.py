"""Local rules: how each operation that acts locally maps changed boxes to changed boxes.

A rule is chosen per traced node (:func:`rule_for`). It says where the output changes
(:meth:`Rule.boxes`), whether it must read the unoccluded activation of an input around the
box (:meth:`Rule.reads_cache`), and computes the output's new box values from the input
patches (:meth:`Rule.apply`). Operations without a rule are run whole by the engine.

Rules cover convolutions (any stride, dilation, groups, ``padding='same'``), max / average /
evenly divisible adaptive pooling, constant padding, eval-mode batch norm, pointwise
activations, arithmetic with constants, and sums, products and channel concatenation of
changed maps. Operations never run in place on a box.
"""

from __future__ import annotations

import math
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from attribkit.attr.incremental.geometry import (
    Boxes,
    Limits,
    Sliding,
    shifted,
    through_sliding,
    tile_of,
    union,
)

__all__ = ["Rule", "rule_for", "is_in_place"]

Call = Callable[..., torch.Tensor]


class Rule(ABC):
    """How one traced node acts on patches.

    Attributes:
        sources: the node's spatial inputs (nodes whose values are patches).
    """

    sources: list[fx.Node]

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


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


def _bound(
    args: Sequence[Any], kwargs: dict[str, Any], names: Sequence[str], defaults: dict[str, Any]
) -> dict[str, Any]:
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update(kwargs)
    return bound


class SlidingRule(Rule):
    """Convolution or pooling: compute the output box from the input tile it reads."""

    def __init__(self, source: fx.Node, op: Sliding, call: Call, fill: float) -> None:
        self.sources = [source]
        self.op = op
        self.call = call
        self.fill = fill

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
        top, left, h, w = tile_of(out, self.op)
        patch = args[0]
        return self.call(patch.region(top, left, h, w, self.fill), args, kwargs)


class ShiftRule(Rule):
    """Constant padding: the box keeps its values and moves."""

    def __init__(self, source: fx.Node, dy: int, dx: int) -> None:
        self.sources = [source]
        self.dy, self.dx = dy, dx

    def boxes(self, inputs: list[Boxes], out_shape: torch.Size, limits: Limits) -> Boxes:
        return shifted(inputs[0], self.dy, self.dx, out_shape[-2], out_shape[-1])

    def apply(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Boxes) -> torch.Tensor:
        return args[0].box


class PointwiseRule(Rule):
    """An elementwise operation of one changed map (and constants)."""

    def __init__(self, source: fx.Node, position: int, call: Call) -> None:
        self.sources = [source]
        self.position = position
        self.call = call

    def boxes(self, inputs: list[Boxes], out_shape: torch.Size, limits: Limits) -> Boxes:
        return inputs[0]

    def apply(self, args: tuple[Any, ...], kwargs: dict[str, Any], out: Boxes) -> torch.Tensor:
        values = list(args)
        values[self.position] = values[self.position].box
        return self.call(*values, **kwargs)


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


# ---------------------------------------------------------------- which operations are local

_UNARY_MODULES: dict[type[nn.Module], Callable[[Any], Call]] = {
    nn.ReLU: lambda m: F.relu,
    nn.ReLU6: lambda m: F.relu6,
    nn.LeakyReLU: lambda m: lambda x: F.leaky_relu(x, m.negative_slope),
    nn.Hardtanh: lambda m: lambda x: F.hardtanh(x, m.min_val, m.max_val),
    nn.ELU: lambda m: lambda x: F.elu(x, m.alpha),
    nn.CELU: lambda m: lambda x: F.celu(x, m.alpha),
    nn.SELU: lambda m: F.selu,
    nn.SiLU: lambda m: F.silu,
    nn.Mish: lambda m: F.mish,
    nn.Hardswish: lambda m: F.hardswish,
    nn.Hardsigmoid: lambda m: F.hardsigmoid,
    nn.GELU: lambda m: lambda x: F.gelu(x, approximate=m.approximate),
    nn.Sigmoid: lambda m: torch.sigmoid,
    nn.Tanh: lambda m: torch.tanh,
    nn.Softplus: lambda m: lambda x: F.softplus(x, m.beta, m.threshold),
    nn.PReLU: lambda m: lambda x: F.prelu(x, m.weight),
    nn.Identity: lambda m: lambda x: x,
}
_DROPOUT = (nn.Dropout, nn.Dropout2d, nn.AlphaDropout, nn.FeatureAlphaDropout)

#: elementwise functions and the position of their positional ``inplace`` argument (or -1)
_UNARY_FUNCTIONS: dict[Any, int] = {
    F.relu: 1, F.relu6: 1, F.hardtanh: 3, F.leaky_relu: 2, F.elu: 2, F.celu: 2, F.selu: 1,
    F.silu: 1, F.mish: 1, F.hardswish: 1, F.hardsigmoid: 1, F.gelu: -1, F.softplus: -1,
    F.prelu: -1, F.logsigmoid: -1, F.sigmoid: -1, F.tanh: -1, torch.relu: -1,
    torch.sigmoid: -1, torch.tanh: -1, torch.exp: -1, torch.abs: -1, torch.neg: -1,
    torch.clamp: -1, torch.clip: -1, torch.square: -1, operator.neg: -1, operator.pos: -1,
}  # fmt: skip
_UNARY_METHODS = {
    "relu", "sigmoid", "tanh", "exp", "abs", "neg", "clamp", "clip", "clamp_min",
    "clamp_max", "square", "float", "double", "half", "contiguous",
}  # fmt: skip
_BINARY_FUNCTIONS = {
    operator.add, operator.sub, operator.mul, operator.truediv, torch.add, torch.sub,
    torch.mul, torch.div, torch.true_divide, torch.maximum, torch.minimum,
}  # fmt: skip
_BINARY_METHODS = {"add", "sub", "mul", "div", "true_divide", "maximum", "minimum"}
_IN_PLACE_OPERATORS = {
    operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.setitem,
}  # fmt: skip


def is_in_place(node: fx.Node, modules: dict[str, nn.Module]) -> bool:
    """Whether a node may write into its first input."""
    if node.kwargs.get("inplace") is True:
        return True
    if node.op == "call_module":
        return bool(getattr(modules[str(node.target)], "inplace", False))
    if node.op == "call_method":
        name = str(node.target)
        return name.endswith("_") and not name.endswith("__")
    if node.op == "call_function":
        if node.target in _IN_PLACE_OPERATORS:
            return True
        name = getattr(node.target, "__name__", "")
        position = _UNARY_FUNCTIONS.get(node.target, -1)
        if 0 <= position < len(node.args) and node.args[position] is True:
            return True
        return name.endswith("_") and not name.endswith("__")
    return False


def _strip_in_place(fn: Any, position: int) -> Call:
    def call(*args: Any, **kwargs: Any) -> torch.Tensor:
        kwargs.pop("inplace", None)
        if 0 <= position < len(args):
            args = args[:position] + (False,) + args[position + 1 :]
        return fn(*args, **kwargs)  # type: ignore[no-any-return]

    return call


def _spatially_constant(value: Any) -> bool:
    """Whether a constant operand broadcasts the same way at every spatial position."""
    if isinstance(value, (bool, int, float)):
        return True
    if not isinstance(value, torch.Tensor) or value.dim() > 4:
        return False
    shape = (1,) * (4 - value.dim()) + tuple(value.shape)
    return shape[0] == 1 and shape[2] == 1 and shape[3] == 1


def _conv_padding(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int]) -> Any:
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
    if isinstance(padding, str):
        return None
    return _pair(padding)


Take = Callable[[tuple[Any, ...], dict[str, Any]], tuple[Any, Any]]


def _conv_rule(source: fx.Node, weight: torch.Tensor, p: dict[str, Any], take: Take) -> Rule:
    kernel = (int(weight.shape[-2]), int(weight.shape[-1]))
    stride, dilation = _pair(p.get("stride", 1)), _pair(p.get("dilation", 1))
    padding = _conv_padding(p.get("padding", 0), kernel, dilation)
    groups = int(p.get("groups", 1))
    op = Sliding(kernel, stride, padding, dilation)

    def call(tile: torch.Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
        w, b = take(args, kwargs)
        return F.conv2d(tile, w, b, stride, 0, dilation, groups)

    return SlidingRule(source, op, call, 0.0)


def _pool_rule(
    source: fx.Node, kind: str, p: dict[str, Any], in_shape: torch.Size, out_shape: torch.Size
) -> Rule | None:
    kernel = _pair(p["kernel_size"])
    stride = _pair(p.get("stride") or p["kernel_size"])
    padding, dilation = _pair(p.get("padding", 0)), _pair(p.get("dilation", 1))
    op = Sliding(kernel, stride, padding, dilation)
    if p.get("return_indices"):
        return None
    if kind == "max":

        def max_call(tile: torch.Tensor, *_: Any) -> torch.Tensor:
            return F.max_pool2d(tile, kernel, stride, 0, dilation)

        return SlidingRule(source, op, max_call, -math.inf)
    floor = [(in_shape[-2 + a] + 2 * padding[a] - kernel[a]) // stride[a] + 1 for a in range(2)]
    if floor != list(out_shape[-2:]):  # a ceil-mode window would be cut at the border
        return None
    if any(padding) and not p.get("count_include_pad", True):
        return None
    divisor = p.get("divisor_override")

    def avg_call(tile: torch.Tensor, *_: Any) -> torch.Tensor:
        return F.avg_pool2d(tile, kernel, stride, 0, divisor_override=divisor)

    return SlidingRule(source, op, avg_call, 0.0)


def _adaptive_rule(
    source: fx.Node, kind: str, size: Any, in_shape: torch.Size, out_shape: torch.Size
) -> Rule | None:
    h, w = int(in_shape[-2]), int(in_shape[-1])
    oh, ow = int(out_shape[-2]), int(out_shape[-1])
    if h % oh or w % ow:
        return None
    k = (h // oh, w // ow)
    return _pool_rule(source, kind, {"kernel_size": k, "stride": k}, in_shape, out_shape)


def _pad_rule(source: fx.Node, pad: Any, mode: str) -> Rule | None:
    pad = [int(v) for v in pad]
    if mode != "constant" or len(pad) not in (2, 4) or min(pad) < 0:
        return None
    return ShiftRule(source, pad[2] if len(pad) == 4 else 0, pad[0])


def _module_rule(node: fx.Node, m: nn.Module, shapes: dict[fx.Node, torch.Size]) -> Rule | None:
    src = node.args[0]
    if not isinstance(src, fx.Node) or len(node.args) != 1 or node.kwargs:
        return None
    in_shape, out_shape = shapes[src], shapes[node]
    kind = type(m)
    if kind is nn.Conv2d:
        assert isinstance(m, nn.Conv2d)
        if m.padding_mode != "zeros" or _conv_padding(m.padding, (1, 1), (1, 1)) is None:
            return None
        params = {"stride": m.stride, "padding": m.padding, "dilation": m.dilation}
        return _conv_rule(
            src, m.weight, {**params, "groups": m.groups}, lambda a, k: (m.weight, m.bias)
        )
    if kind in (nn.MaxPool2d, nn.AvgPool2d):
        params = {
            name: getattr(m, name)
            for name in ("kernel_size", "stride", "padding", "dilation", "return_indices",
                         "count_include_pad", "divisor_override", "ceil_mode")
            if hasattr(m, name)
        }  # fmt: skip
        return _pool_rule(src, "max" if kind is nn.MaxPool2d else "avg", params, in_shape,
                          out_shape)  # fmt: skip
    if kind in (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d):
        if getattr(m, "return_indices", False):
            return None
        pool = "max" if kind is nn.AdaptiveMaxPool2d else "avg"
        return _adaptive_rule(src, pool, m.output_size, in_shape, out_shape)
    if kind in (nn.ZeroPad2d, nn.ConstantPad2d):
        return _pad_rule(src, m.padding, "constant")  # type: ignore[arg-type]
    if kind is nn.BatchNorm2d:
        assert isinstance(m, nn.BatchNorm2d)
        if m.training or m.running_mean is None or m.running_var is None:
            return None
        rm, rv = m.running_mean, m.running_var

        def bn(x: torch.Tensor) -> torch.Tensor:
            return F.batch_norm(x, rm, rv, m.weight, m.bias, False, 0.0, m.eps)

        return PointwiseRule(src, 0, bn)
    if kind in _DROPOUT:
        return None if m.training else PointwiseRule(src, 0, lambda x: x)
    if kind in _UNARY_MODULES:
        return PointwiseRule(src, 0, _UNARY_MODULES[kind](m))
    return None


_CONV: tuple[str, ...] = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
_MAXPOOL: tuple[str, ...] = (
    "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
)  # fmt: skip
_AVGPOOL: tuple[str, ...] = (
    "input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
    "divisor_override",
)  # fmt: skip


def _function_rule(
    node: fx.Node,
    patches: set[fx.Node],
    shapes: dict[fx.Node, torch.Size],
    constants: dict[fx.Node, Any],
) -> Rule | None:
    fn, args, kwargs = node.target, node.args, node.kwargs
    is_method = node.op == "call_method"
    if any(isinstance(v, fx.Node) and v in patches for v in kwargs.values()):
        return None
    if fn is torch.cat or fn is torch.concat:
        items = args[0]
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not isinstance(items, (list, tuple)) or dim not in (1, -3):
            return None
        if not all(isinstance(a, fx.Node) and a in patches for a in items):
            return None
        if len({shapes[a][-2:] for a in items}) != 1:  # type: ignore[index]
            return None
        return UnionRule(list(items), list(range(len(items))), fn, listed=True)  # type: ignore
    spatial = [i for i, a in enumerate(args) if isinstance(a, fx.Node) and a in patches]
    binary = fn in _BINARY_FUNCTIONS or (is_method and fn in _BINARY_METHODS)
    if not spatial or len(spatial) > 2 or (spatial[0] != 0 and not binary):
        return None
    if len(spatial) == 2 and not (binary and len(args) == 2):
        return None
    src = args[spatial[0]]
    assert isinstance(src, fx.Node)
    out_shape = shapes.get(node)
    if out_shape is None or len(out_shape) != 4:
        return None
    others = [a for i, a in enumerate(args) if i not in spatial] + list(kwargs.values())

    def fixed(a: Any) -> bool:
        if isinstance(a, fx.Node):
            return a in constants
        if isinstance(a, (list, tuple)):
            return all(fixed(v) for v in a)
        return isinstance(a, (bool, int, float, str, torch.dtype, type(None)))

    if not all(fixed(a) for a in others):
        return None
    broadcast = all(
        _spatially_constant(constants[a]) if isinstance(a, fx.Node) else not isinstance(a, list)
        for a in others
    )
    if len(spatial) == 2:
        if shapes[args[0]] != shapes[args[1]] or kwargs:  # type: ignore[index]
            return None
        call = _method(str(fn)) if is_method else fn
        return UnionRule([args[0], args[1]], [0, 1], call, listed=False)  # type: ignore
    if is_method:
        name = str(fn)
        if not broadcast:
            return None
        if name in _UNARY_METHODS or (name in _BINARY_METHODS and len(args) == 2):
            return PointwiseRule(src, 0, _method(name))
        if name == "to" and others and all(isinstance(a, torch.dtype) for a in others):
            return PointwiseRule(src, 0, _method(name))
        return None
    if fn in _BINARY_FUNCTIONS or fn in _UNARY_FUNCTIONS:
        if not broadcast:
            return None
        if fn in _BINARY_FUNCTIONS:
            return PointwiseRule(src, spatial[0], fn)  # type: ignore[arg-type]
        return PointwiseRule(src, 0, _strip_in_place(fn, _UNARY_FUNCTIONS[fn]))
    in_shape = shapes[src]
    if fn is F.dropout or fn is F.dropout2d:
        p = _bound(args, kwargs, ("input", "p", "training", "inplace"), {"training": True})
        return None if p["training"] else PointwiseRule(src, 0, lambda x, *a, **k: x)
    if fn is F.batch_norm:
        names = ("input", "running_mean", "running_var", "weight", "bias", "training")
        p = _bound(args, kwargs, names, {"training": False})
        if p["training"] or p["running_mean"] is None or p["running_var"] is None:
            return None
        return PointwiseRule(src, 0, F.batch_norm)
    if fn is F.conv2d:
        p = _bound(args, kwargs, _CONV, {})
        weight = constants.get(p["weight"]) if isinstance(p["weight"], fx.Node) else None
        if (
            not isinstance(weight, torch.Tensor)
            or _conv_padding(p.get("padding", 0), (1, 1), (1, 1)) is None
        ):
            return None

        def take(a: tuple[Any, ...], k: dict[str, Any]) -> tuple[Any, Any]:
            q = _bound(a, k, _CONV, {"bias": None})
            return q["weight"], q["bias"]

        return _conv_rule(src, weight, p, take)
    if fn is F.max_pool2d or fn is F.avg_pool2d:
        pool_args = _MAXPOOL if fn is F.max_pool2d else _AVGPOOL
        p = _bound(args, kwargs, pool_args, {})
        return _pool_rule(src, "max" if fn is F.max_pool2d else "avg", p, in_shape, out_shape)
    if fn is F.adaptive_avg_pool2d or fn is F.adaptive_max_pool2d:
        p = _bound(args, kwargs, ("input", "output_size", "return_indices"), {})
        if p.get("return_indices"):
            return None
        kind = "max" if fn is F.adaptive_max_pool2d else "avg"
        return _adaptive_rule(src, kind, p["output_size"], in_shape, out_shape)
    if fn is F.pad:
        p = _bound(args, kwargs, ("input", "pad", "mode", "value"), {"mode": "constant"})
        return _pad_rule(src, p["pad"], p["mode"])
    return None


def _method(name: str) -> Call:
    def call(x: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        return getattr(x, name)(*args, **kwargs)  # type: ignore[no-any-return]

    return call


def rule_for(
    node: fx.Node,
    modules: dict[str, nn.Module],
    patches: set[fx.Node],
    shapes: dict[fx.Node, torch.Size],
    constants: dict[fx.Node, Any],
) -> Rule | None:
    """The local rule of a traced node whose inputs include changed maps, or ``None``.

    Args:
        node: the node.
        modules: the traced module's submodules by name.
        patches: the nodes whose values are patches (changed boxes).
        shapes: the output shape of every tensor-valued node (one image).
        constants: the values of nodes that do not depend on the input.

    Examples:
        >>> import torch
        >>> from torch import fx, nn
        >>> gm = fx.symbolic_trace(nn.Sequential(nn.Conv2d(1, 1, 3)))
        >>> x, conv = list(gm.graph.nodes)[:2]
        >>> shapes = {x: torch.Size([1, 1, 8, 8]), conv: torch.Size([1, 1, 6, 6])}
        >>> type(rule_for(conv, dict(gm.named_modules()), {x}, shapes, {})).__name__
        'SlidingRule'
    """
    if node.op == "call_module":
        src = node.args[0] if node.args else None
        if not isinstance(src, fx.Node) or src not in patches:
            return None
        return _module_rule(node, modules[str(node.target)], shapes)
    if node.op in ("call_function", "call_method"):
        return _function_rule(node, patches, shapes, constants)
    return None
