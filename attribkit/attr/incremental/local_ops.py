"""Which traced operations act locally, and with which rule.

:func:`rule_for` maps a traced node to its rule (:mod:`~attribkit.attr.incremental.rules`):
convolutions (any stride, dilation, groups, ``padding='same'``), max / average / evenly
divisible adaptive pooling, constant padding, eval-mode batch norm, attribkit's input
normalization, pointwise activations,
arithmetic with constants, and sums, products and channel concatenation of changed maps.
Everything else (global pooling into a vector, flattening, linear layers, attention,
interpolation, ...) has no rule: the engine runs it whole on the patched tensors.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from attribkit.attr.incremental.geometry import Sliding
from attribkit.attr.incremental.rules import (
    BatchNormRule,
    ConvRule,
    PassRule,
    PointwiseRule,
    Rule,
    ShiftRule,
    SlidingRule,
    UnionRule,
)
from attribkit.models.normalize import Normalize

__all__ = ["is_in_place", "rule_for"]

Call = Callable[..., torch.Tensor]
Unary = Callable[[torch.Tensor], torch.Tensor]


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


# ---------------------------------------------------------------- which operations are local

#: module type -> (out-of-place call, in-place call) built from the module
_UNARY_MODULES: dict[type[nn.Module], Callable[[Any], tuple[Unary, Unary | None]]] = {
    nn.ReLU: lambda m: (F.relu, torch.relu_),
    nn.ReLU6: lambda m: (F.relu6, lambda x: x.clamp_(0.0, 6.0)),
    nn.LeakyReLU: lambda m: (
        lambda x: F.leaky_relu(x, m.negative_slope),
        lambda x: F.leaky_relu_(x, m.negative_slope),
    ),
    nn.Hardtanh: lambda m: (
        lambda x: F.hardtanh(x, m.min_val, m.max_val),
        lambda x: F.hardtanh_(x, m.min_val, m.max_val),
    ),
    nn.ELU: lambda m: (lambda x: F.elu(x, m.alpha), lambda x: F.elu_(x, m.alpha)),
    nn.CELU: lambda m: (lambda x: F.celu(x, m.alpha), None),
    nn.SELU: lambda m: (F.selu, None),
    nn.SiLU: lambda m: (F.silu, lambda x: F.silu(x, inplace=True)),
    nn.Mish: lambda m: (F.mish, lambda x: F.mish(x, inplace=True)),
    nn.Hardswish: lambda m: (F.hardswish, lambda x: F.hardswish(x, inplace=True)),
    nn.Hardsigmoid: lambda m: (F.hardsigmoid, lambda x: F.hardsigmoid(x, inplace=True)),
    nn.GELU: lambda m: (lambda x: F.gelu(x, approximate=m.approximate), None),
    nn.Sigmoid: lambda m: (torch.sigmoid, torch.sigmoid_),
    nn.Tanh: lambda m: (torch.tanh, torch.tanh_),
    nn.Softplus: lambda m: (lambda x: F.softplus(x, m.beta, m.threshold), None),
    nn.PReLU: lambda m: (lambda x: F.prelu(x, m.weight), None),
}
_DROPOUT = (nn.Dropout, nn.Dropout2d, nn.AlphaDropout, nn.FeatureAlphaDropout)

#: in-place forms of one-argument elementwise functions
_IN_PLACE_FORMS: dict[Any, Unary] = {
    F.relu: torch.relu_, torch.relu: torch.relu_, F.relu6: lambda x: x.clamp_(0.0, 6.0),
    torch.sigmoid: torch.sigmoid_, torch.tanh: torch.tanh_,
    F.silu: lambda x: F.silu(x, inplace=True), F.hardswish: lambda x: F.hardswish(x, inplace=True),
}  # fmt: skip

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
_SAME_TENSOR_METHODS = {"contiguous", "float", "double", "half"}
_BINARY_FUNCTIONS = {
    operator.add, operator.sub, operator.mul, operator.truediv, torch.add, torch.sub,
    torch.mul, torch.div, torch.true_divide, torch.maximum, torch.minimum,
}  # fmt: skip
_BINARY_METHODS = {"add", "sub", "mul", "div", "true_divide", "maximum", "minimum"}
_IN_PLACE_OPERATORS = {
    operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.setitem,
}  # fmt: skip


def is_in_place(node: fx.Node, modules: dict[str, nn.Module]) -> bool:
    """Whether a node may write into its first input.

    Examples:
        >>> from torch import fx, nn
        >>> gm = fx.symbolic_trace(nn.Sequential(nn.ReLU(inplace=True)))
        >>> [is_in_place(n, dict(gm.named_modules())) for n in gm.graph.nodes]
        [False, True, False]
    """
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


def _conv_rule(
    source: fx.Node, weight: torch.Tensor, bias: torch.Tensor | None, p: dict[str, Any]
) -> Rule | None:
    kernel = (int(weight.shape[-2]), int(weight.shape[-1]))
    dilation = _pair(p.get("dilation", 1))
    padding = _conv_padding(p.get("padding", 0), kernel, dilation)
    if padding is None:
        return None
    op = Sliding(kernel, _pair(p.get("stride", 1)), padding, dilation)
    return ConvRule(source, op, weight, bias, int(p.get("groups", 1)), p.get("padding", 0))


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
        ceil = bool(p.get("ceil_mode", False))

        def max_call(tile: torch.Tensor) -> torch.Tensor:
            return F.max_pool2d(tile, kernel, stride, 0, dilation)

        def max_whole(x: torch.Tensor) -> torch.Tensor:
            return F.max_pool2d(x, kernel, stride, padding, dilation, ceil)

        return SlidingRule(source, op, max_call, -math.inf, max_whole)
    floor = [(in_shape[-2 + a] + 2 * padding[a] - kernel[a]) // stride[a] + 1 for a in range(2)]
    if floor != list(out_shape[-2:]):  # a ceil-mode window would be cut at the border
        return None
    if any(padding) and not p.get("count_include_pad", True):
        return None
    divisor = p.get("divisor_override")

    def avg_call(tile: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(tile, kernel, stride, 0, divisor_override=divisor)

    def avg_whole(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, kernel, stride, padding, divisor_override=divisor)

    return SlidingRule(source, op, avg_call, 0.0, avg_whole)


def _adaptive_rule(
    source: fx.Node, kind: str, size: Any, in_shape: torch.Size, out_shape: torch.Size
) -> Rule | None:
    h, w = int(in_shape[-2]), int(in_shape[-1])
    oh, ow = int(out_shape[-2]), int(out_shape[-1])
    if h % oh or w % ow:
        return None
    k = (h // oh, w // ow)
    return _pool_rule(source, kind, {"kernel_size": k, "stride": k}, in_shape, out_shape)


def _pad_rule(source: fx.Node, pad: Any, mode: str, value: Any = 0.0) -> Rule | None:
    pad = [int(v) for v in pad]
    if mode != "constant" or len(pad) not in (2, 4) or min(pad) < 0:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    full = (pad + [0, 0])[:4]
    return ShiftRule(source, (full[0], full[1], full[2], full[3]), float(value))


def _module_rule(node: fx.Node, m: nn.Module, shapes: dict[fx.Node, torch.Size]) -> Rule | None:
    src = node.args[0]
    if not isinstance(src, fx.Node) or len(node.args) != 1 or node.kwargs:
        return None
    in_shape, out_shape = shapes[src], shapes[node]
    kind = type(m)
    if kind is nn.Conv2d:
        assert isinstance(m, nn.Conv2d)
        if m.padding_mode != "zeros":
            return None
        params = {"stride": m.stride, "padding": m.padding, "dilation": m.dilation}
        return _conv_rule(src, m.weight, m.bias, {**params, "groups": m.groups})
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
        return _pad_rule(src, m.padding, "constant", getattr(m, "value", 0.0))
    if kind is nn.BatchNorm2d:
        assert isinstance(m, nn.BatchNorm2d)
        if m.training or m.running_mean is None or m.running_var is None:
            return None
        return BatchNormRule(src, m.running_mean, m.running_var, m.weight, m.bias, m.eps)
    if kind in _DROPOUT:
        return None if m.training else PassRule(src)
    if kind is nn.Identity:
        return PassRule(src)
    if isinstance(m, Normalize):  # a per-channel affine map, kept whole by the tracer
        return PointwiseRule(src, 0, m)
    if kind in _UNARY_MODULES:
        call, in_place = _UNARY_MODULES[kind](m)
        return PointwiseRule(src, 0, call, in_place)
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
        same = name in _SAME_TENSOR_METHODS  # may return the box itself
        if name in _UNARY_METHODS or (name in _BINARY_METHODS and len(args) == 2):
            return PointwiseRule(src, 0, _method(name), fresh=not same)
        if name == "to" and others and all(isinstance(a, torch.dtype) for a in others):
            return PointwiseRule(src, 0, _method(name), fresh=False)
        return None
    if fn in _BINARY_FUNCTIONS or fn in _UNARY_FUNCTIONS:
        if not broadcast:
            return None
        if fn in _BINARY_FUNCTIONS:
            return PointwiseRule(src, spatial[0], fn)  # type: ignore[arg-type]
        plain = len(args) == 1 and set(kwargs) <= {"inplace"}
        in_place = _IN_PLACE_FORMS.get(fn) if plain else None
        return PointwiseRule(src, 0, _strip_in_place(fn, _UNARY_FUNCTIONS[fn]), in_place)
    in_shape = shapes[src]
    if fn is F.dropout or fn is F.dropout2d:
        p = _bound(args, kwargs, ("input", "p", "training", "inplace"), {"training": True})
        return None if p["training"] else PassRule(src)

    def value(a: Any) -> Any:
        return constants.get(a) if isinstance(a, fx.Node) else a

    if fn is F.batch_norm:
        names = ("input", "running_mean", "running_var", "weight", "bias", "training",
                 "momentum", "eps")  # fmt: skip
        bound = _bound(args, kwargs, names, {"training": False})
        p = {k: value(v) for k, v in bound.items() if k != "input"}
        stats = (p["running_mean"], p["running_var"])
        if p["training"] or not all(isinstance(t, torch.Tensor) for t in stats):
            return None
        eps = float(p.get("eps", 1e-5))
        return BatchNormRule(src, *stats, p.get("weight"), p.get("bias"), eps)
    if fn is F.conv2d:
        bound = _bound(args, kwargs, _CONV, {"bias": None})
        p = {k: value(v) for k, v in bound.items() if k != "input"}
        if not isinstance(p["weight"], torch.Tensor) or p["weight"].dim() != 4:
            return None
        return _conv_rule(src, p["weight"], p["bias"], p)
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
        return _pad_rule(src, p["pad"], p["mode"], 0.0 if p.get("value") is None else p["value"])
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
        'ConvRule'
    """
    if node.op == "call_module":
        src = node.args[0] if node.args else None
        if not isinstance(src, fx.Node) or src not in patches:
            return None
        return _module_rule(node, modules[str(node.target)], shapes)
    if node.op in ("call_function", "call_method"):
        return _function_rule(node, patches, shapes, constants)
    return None
