"""The analytic receptive-field trace: one probe forward pass, composed through known modules.

Every module that runs is recorded in execution order. When the path from the input to the
target layer is a chain of convolutions, poolings, paddings and pointwise modules (each one
consuming the previous one's output, nothing modified in place in between), the box is
composed exactly through kernel, stride, padding and dilation; convs that pad inside
themselves (``Conv2dStaticSamePadding``: a ``ZeroPad2d`` child and then a conv with
``padding=0``) are handled. :func:`attribkit.layers.analytic_receptive_field` uses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from attribkit.layers.hooks import layer_name

__all__ = ["POINTWISE", "PADS", "Geometry", "trace_geometry"]

# Modules that act on each spatial position independently in eval mode.
POINTWISE: tuple[type[nn.Module], ...] = (
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
PADS: tuple[type[nn.Module], ...] = (
    nn.ZeroPad2d,
    nn.ConstantPad2d,
    nn.ReflectionPad2d,
    nn.ReplicationPad2d,
)


@dataclass
class Geometry:
    """Per axis (y, x): cumulative jump, box size, start of position 0's box."""

    jump: tuple[int, int]
    size: tuple[int, int]
    start: tuple[int, int]


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[1])) if len(v) >= 2 else (int(v[0]), int(v[0]))
    return (int(v), int(v))


def _window(
    g: Geometry, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int], d: tuple[int, int]
) -> Geometry:
    return Geometry(
        jump=(g.jump[0] * s[0], g.jump[1] * s[1]),
        size=(g.size[0] + (k[0] - 1) * d[0] * g.jump[0], g.size[1] + (k[1] - 1) * d[1] * g.jump[1]),
        start=(g.start[0] - p[0] * g.jump[0], g.start[1] - p[1] * g.jump[1]),
    )


def _out_len(n: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    v = (n + 2 * p - d * (k - 1) - 1) / s + 1
    return math.ceil(v) if ceil else math.floor(v)


class _StopTrace(Exception):
    """Ends the probe's forward pass once the target layer has run."""


def trace_geometry(model: nn.Module, target: nn.Module, x: torch.Tensor) -> Geometry | None:
    """Compose the geometry along a chain of known modules; ``None`` when it is not a chain."""
    known: dict[int, tuple[torch.Tensor, int, Geometry]] = {
        id(x): (x, x._version, Geometry((1, 1), (1, 1), (0, 0)))
    }
    stack: list[nn.Module] = []
    # last geometry-producing output seen inside each open module, by id(module)
    inner: dict[int, torch.Tensor] = {}
    # geometry of each open module's input, read before the module ran (in-place modules
    # such as ReLU(inplace=True) bump the input's version counter)
    entry: dict[int, Geometry | None] = {}
    result: list[Geometry | None] = []
    handles = []

    def lookup(t: object) -> Geometry | None:
        if not isinstance(t, torch.Tensor):
            return None
        rec = known.get(id(t))
        if rec is None or rec[0] is not t or rec[1] != t._version:
            return None
        return rec[2]

    def store(t: object, g: Geometry | None) -> None:
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
        g: Geometry | None = None
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
            elif isinstance(module, PADS):
                gi = g_src
                left, _right, top, _bottom = (int(v) for v in module.padding)  # type: ignore
                if gi is not None:
                    g = _window(gi, (1, 1), (1, 1), (top, left), (1, 1))
            elif isinstance(module, POINTWISE) and not (
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
            raise _StopTrace  # the first call, as forward_to measures the output size

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    try:
        with torch.no_grad():
            model(x)
    except _StopTrace:
        pass
    finally:
        for h in handles:
            h.remove()
    if not result:
        raise ValueError(f"layer {layer_name(model, target)!r} did not run in the forward pass")
    return result[0]
