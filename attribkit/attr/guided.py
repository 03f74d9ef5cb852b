"""Guided backpropagation and the deconvnet: only the rectifiers' backward pass changes.

Springenberg et al. (2015) and Zeiler & Fergus (2014) change the backward pass of the rectifying
units and nothing else. Captum hooks ``nn.ReLU`` modules only, so for a network built on
``nn.ReLU6`` (like EfficientNet-Lite0) or on ``F.relu`` it silently returns plain gradients.
Here rectifiers are intercepted at the function level with a
:class:`torch.overrides.TorchFunctionMode` while the forward pass runs, so a module and its
functional form are treated alike and nothing is registered on the model:

- rectifiers get the guided (or deconvnet) rule: ``relu``, ``relu6``, ``hardtanh`` with a lower
  bound of at least 0, ``leaky_relu``, ``prelu``, ``threshold`` and ``rrelu`` in eval mode;
- everything else keeps its plain gradient: sigmoid, tanh, softmax, pooling, gates such as
  squeeze-and-excitation's ``x * sigmoid(fc(x))``, as in the paper and in Captum;
- rectifier-like units that have no defined rule (SiLU, GELU, ELU, Mish, Hardswish, Softplus,
  ``hardtanh`` with a negative lower bound, ``x * torch.sigmoid(x)`` written by hand) raise
  :class:`UnsupportedActivationError` unless ``approximate=True`` lets their plain gradient
  through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F
from captum._utils.common import _format_output, _format_tensor_into_tuples, _is_tuple
from captum._utils.typing import TargetType, TensorOrTupleOfTensorsGeneric
from captum.attr import Deconvolution as _CaptumDeconvolution
from captum.attr import GuidedBackprop as _CaptumGuidedBackprop
from captum.attr import NeuronDeconvolution as _CaptumNeuronDeconvolution
from captum.attr import NeuronGuidedBackprop as _CaptumNeuronGuidedBackprop
from torch import nn
from torch.overrides import TorchFunctionMode

from attribkit.attr._base import CheckedAttribution, captum_attribute, checked_attribute
from attribkit.layers.hooks import LayerRef

__all__ = [
    "GuidedBackprop",
    "Deconvolution",
    "NeuronGuidedBackprop",
    "NeuronDeconvolution",
    "UnsupportedActivationError",
    "unguidable_modules",
]

#: rectifier-like activation modules with no guided-backprop rule
_UNGUIDABLE_TYPES: tuple[type[nn.Module], ...] = (
    nn.SiLU,
    nn.GELU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.Mish,
    nn.Hardswish,
    nn.Softplus,
)
_UNGUIDABLE_WORDS = ("swish", "silu", "gelu", "mish")
_UNGUIDABLE_FUNCS: set[Any] = {
    F.silu,
    F.gelu,
    F.elu,
    F.elu_,
    F.selu,
    F.celu,
    F.mish,
    F.hardswish,
    F.softplus,
    torch.selu,
    torch.celu,
}
_GATES: set[Any] = {torch.sigmoid, torch.Tensor.sigmoid, F.sigmoid, F.hardsigmoid}
_PRODUCTS: set[Any] = {
    torch.mul,
    torch.Tensor.mul,
    torch.Tensor.mul_,
    torch.Tensor.__mul__,
    torch.Tensor.__rmul__,
    torch.Tensor.__imul__,
}
_RELUS: set[Any] = {F.relu, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_}


class UnsupportedActivationError(ValueError):
    """The model uses a rectifier-like activation that guided backprop / deconvnet has no rule
    for; pass ``approximate=True`` to let its plain gradient through."""


def unguidable_modules(model: nn.Module) -> list[str]:
    """Names of the modules of ``model`` that are rectifier-like but have no guided rule.

    SiLU, GELU, ELU, SELU, CELU, Mish, Hardswish, Softplus, ``Hardtanh`` with a negative lower
    bound, and custom modules named like swish, SiLU, GELU or Mish. Sigmoid, Tanh and Softmax
    are not listed: they keep their plain gradient, as in the paper.

    Examples:
        >>> from torch import nn
        >>> unguidable_modules(nn.Sequential(nn.Conv2d(3, 3, 1), nn.GELU(), nn.Sigmoid()))
        ['1']
    """
    if not isinstance(model, nn.Module):
        hint = "; wrap a list of modules in nn.Sequential" if isinstance(model, list) else ""
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}{hint}")
    found = []
    for name, m in model.named_modules():
        cls = type(m).__name__.lower()
        negative_hardtanh = isinstance(m, nn.Hardtanh) and m.min_val < 0
        if (
            isinstance(m, _UNGUIDABLE_TYPES)
            or negative_hardtanh
            or any(w in cls for w in _UNGUIDABLE_WORDS)
        ):
            found.append(name or type(m).__name__)
    return found


class _Rectifier(torch.autograd.Function):
    """A rectifier's forward (``forward_fn``) whose backward follows the guided or deconvnet
    rule; ``local_fn`` gives the unit's local derivative (its "active" mask or slope)."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        forward_fn: Callable[[torch.Tensor], torch.Tensor],
        local_fn: Callable[[torch.Tensor], torch.Tensor],
        deconv: bool,
    ) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.local_fn, ctx.deconv = local_fn, deconv
        return forward_fn(x)

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (grad,) = grads
        (x,) = ctx.saved_tensors
        positive = grad.clamp(min=0)
        if ctx.deconv:
            # Zeiler & Fergus: the backward pass rectifies the signal, ignoring the forward mask
            return positive, None, None, None
        # Springenberg et al.: only positive gradients, through units that were active
        return positive * ctx.local_fn(x).to(grad.dtype), None, None, None


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], i: int, name: str, default: Any) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


def _rule(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]] | None:
    """``(forward, local derivative)`` of a rectifier call, or ``None`` for other functions."""
    if func in _RELUS:
        return (lambda x: x.clamp(min=0)), (lambda x: x > 0)
    if func is F.relu6:
        return (lambda x: x.clamp(0.0, 6.0)), (lambda x: (x > 0) & (x < 6))
    if func is F.hardtanh:
        lo = float(_arg(args, kwargs, 1, "min_val", -1.0))
        hi = float(_arg(args, kwargs, 2, "max_val", 1.0))
        if lo < 0:
            return None  # a saturating linear unit, not a rectifier: refused by the mode
        return (lambda x: x.clamp(lo, hi)), (lambda x: (x > lo) & (x < hi))
    if func is F.leaky_relu or (func is F.rrelu and not _arg(args, kwargs, 3, "training", False)):
        if func is F.leaky_relu:
            slope = float(_arg(args, kwargs, 1, "negative_slope", 0.01))
        else:  # eval-mode RReLU is a leaky ReLU with the mean slope
            slope = (
                float(_arg(args, kwargs, 1, "lower", 1.0 / 8))
                + float(_arg(args, kwargs, 2, "upper", 1.0 / 3))
            ) / 2
        return (lambda x: torch.where(x >= 0, x, x * slope)), (
            lambda x: torch.where(x >= 0, 1.0, slope)
        )
    if func is F.prelu or func is torch.prelu:
        weight = _arg(args, kwargs, 1, "weight", None)

        def slopes(x: torch.Tensor) -> torch.Tensor:
            w = weight.to(x.dtype)
            if w.numel() > 1 and x.ndim >= 2:
                w = w.reshape((1, -1) + (1,) * (x.ndim - 2))
            return w

        return (lambda x: torch.where(x >= 0, x, x * slopes(x))), (
            lambda x: torch.where(x >= 0, torch.ones_like(x), slopes(x).expand_as(x))
        )
    if func is F.threshold or func is torch.threshold:
        t = float(_arg(args, kwargs, 1, "threshold", 0.0))
        v = float(_arg(args, kwargs, 2, "value", 0.0))
        return (lambda x: torch.where(x > t, x, torch.full_like(x, v))), (lambda x: x > t)
    return None


class _GuidedMode(TorchFunctionMode):
    """Replace rectifier calls by :class:`_Rectifier` while active; refuse rectifier-like
    calls that have no rule unless ``approximate``."""

    def __init__(self, deconv: bool, approximate: bool) -> None:
        super().__init__()
        self.deconv = deconv
        self.approximate = approximate
        #: sigmoid-like outputs seen in this forward pass, by id: (output, its input)
        self.gates: dict[int, tuple[torch.Tensor, Any]] = {}

    def _refuse(self, what: str) -> None:
        if not self.approximate:
            raise UnsupportedActivationError(
                f"the forward pass calls {what}, a rectifier-like unit that guided backprop and "
                "the deconvnet have no rule for; pass approximate=True to use its plain gradient"
            )

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        rule = _rule(func, args, kwargs)
        if rule is not None:
            forward_fn, local_fn = rule
            return _Rectifier.apply(args[0], forward_fn, local_fn, self.deconv)
        if func in _UNGUIDABLE_FUNCS:
            self._refuse(getattr(func, "__name__", str(func)))
        elif func is F.hardtanh:
            self._refuse("hardtanh with a negative lower bound")
        elif func is F.rrelu:
            self._refuse("rrelu in training mode (random slopes)")
        elif func in _PRODUCTS and len(args) >= 2:
            self._check_swish(args[0], args[1])
        out = func(*args, **kwargs)
        if func in _GATES and isinstance(out, torch.Tensor):
            self.gates[id(out)] = (out, args[0] if args else None)
        return out

    def _check_swish(self, a: Any, b: Any) -> None:
        for gate, other in ((a, b), (b, a)):
            seen = self.gates.get(id(gate))
            if seen is not None and seen[0] is gate and seen[1] is other:
                self._refuse("x * sigmoid(x) (swish / SiLU written by hand)")


class _ModifiedRectifierGradient(CheckedAttribution):
    """What :class:`GuidedBackprop` and :class:`Deconvolution` share: the constructor and
    ``attribute``; ``_deconv`` picks the backward rule. Listed first among the bases, so it
    takes precedence over Captum's hook-based implementation."""

    _deconv: bool
    approximate: bool
    model: nn.Module

    def __init__(
        self, model: nn.Module, approximate: bool = False, *, eval_mode: bool = True
    ) -> None:
        super().__init__(model, eval_mode=eval_mode)
        self.approximate = approximate

    @checked_attribute()
    def attribute(
        self,
        inputs: TensorOrTupleOfTensorsGeneric,
        target: TargetType = None,
        additional_forward_args: Any = None,
    ) -> TensorOrTupleOfTensorsGeneric:
        """Attributions shaped like ``inputs`` (a tuple in gives a tuple out).

        Args:
            inputs: ``N×…`` tensor or tuple of tensors.
            target: output index per Captum's ``TargetType`` (int, list, tensor, tuples).
            additional_forward_args: extra arguments for the model.
        """
        bad = unguidable_modules(self.model)
        if bad and not self.approximate:
            method = "Deconvolution" if self._deconv else "GuidedBackprop"
            modules = dict(self.model.named_modules())
            named = [f"{n} ({type(modules.get(n, self.model)).__name__})" for n in bad[:8]]
            raise UnsupportedActivationError(
                f"{method} has no rule for the rectifier-like module(s) {', '.join(named)}"
                f"{' …' if len(bad) > 8 else ''}; pass approximate=True to let gradients "
                "through them unguided (the result is then an approximation)"
            )
        is_tuple = _is_tuple(inputs)
        tensors = _format_tensor_into_tuples(inputs)
        with _GuidedMode(self._deconv, self.approximate):
            grads = self.gradient_func(  # type: ignore[attr-defined]
                self.forward_func,  # type: ignore[attr-defined]
                tensors,
                target,
                additional_forward_args,
            )
        return cast(TensorOrTupleOfTensorsGeneric, _format_output(is_tuple, tuple(grads)))


class GuidedBackprop(_ModifiedRectifierGradient, _CaptumGuidedBackprop):
    """Guided backpropagation (Springenberg et al., 2015) in Captum's API.

    Gradients flow back through a rectifier only where the unit was active *and* the incoming
    gradient is positive; every other unit keeps its plain gradient (see the module notes for
    which functions are rectifiers).

    Args:
        model: the network (an ``nn.Module``).
        approximate: let gradients pass unguided through rectifier-like units that have no
            guided rule (SiLU, GELU, …) instead of raising :class:`UnsupportedActivationError`.
        eval_mode: see :class:`~attribkit.attr.CheckedAttribution`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU6(), nn.Flatten(), nn.LazyLinear(2))
        >>> x = torch.rand(1, 3, 8, 8)
        >>> _ = net(x)
        >>> GuidedBackprop(net).attribute(x, target=1).shape
        torch.Size([1, 3, 8, 8])
    """

    _deconv = False


class Deconvolution(_ModifiedRectifierGradient, _CaptumDeconvolution):
    """The deconvnet of Zeiler & Fergus (2014) in Captum's API.

    The backward pass through every rectifier is ``relu(grad)``, whatever the forward input was;
    covers the same rectifiers as :class:`GuidedBackprop`.

    Args:
        model: the network.
        approximate: let gradients pass unrectified through rectifier-like units with no rule.
        eval_mode: see :class:`~attribkit.attr.CheckedAttribution`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> Deconvolution(net).attribute(torch.rand(2, 3, 2, 2), target=0).shape
        torch.Size([2, 3, 2, 2])
    """

    _deconv = True


class _NeuronRectifierRules(CheckedAttribution):
    """The constructor of the neuron variants: Captum's arguments, then attribkit's method in
    place of the hook-based one Captum builds (under the attribute name Captum uses)."""

    _inner: tuple[str, type[_ModifiedRectifierGradient]]

    def __init__(
        self,
        model: nn.Module,
        layer: LayerRef,
        device_ids: list[int] | None = None,
        approximate: bool = False,
        *,
        eval_mode: bool = True,
    ) -> None:
        super().__init__(model, layer, device_ids, eval_mode=eval_mode)
        name, method = self._inner
        setattr(self, name, method(model, approximate=approximate))


class NeuronGuidedBackprop(_NeuronRectifierRules, _CaptumNeuronGuidedBackprop):
    """Guided backprop of one neuron of ``layer`` (Captum's ``NeuronGuidedBackprop``), with
    attribkit's rectifier rules; ``attribute(inputs, neuron_selector, ...)`` as in Captum.

    Args:
        model: the network.
        layer: a dotted name or a module of the model.
        device_ids: as Captum.
        approximate: as for :class:`GuidedBackprop`.
        eval_mode: see :class:`~attribkit.attr.CheckedAttribution`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU6(), nn.Conv2d(4, 2, 3))
        >>> NeuronGuidedBackprop(net, "1").attribute(torch.rand(1, 3, 8, 8), (0, 2, 2)).shape
        torch.Size([1, 3, 8, 8])
    """

    _inner = ("guided_backprop", GuidedBackprop)
    attribute = captum_attribute(_CaptumNeuronGuidedBackprop)


class NeuronDeconvolution(_NeuronRectifierRules, _CaptumNeuronDeconvolution):
    """The deconvnet for one neuron of ``layer`` (Captum's ``NeuronDeconvolution``), with
    attribkit's rectifier rules.

    Args:
        model: the network.
        layer: a dotted name or a module of the model.
        device_ids: as Captum.
        approximate: as for :class:`Deconvolution`.
        eval_mode: see :class:`~attribkit.attr.CheckedAttribution`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU6(), nn.Conv2d(4, 2, 3))
        >>> NeuronDeconvolution(net, "1").attribute(torch.rand(1, 3, 8, 8), (0, 2, 2)).shape
        torch.Size([1, 3, 8, 8])
    """

    _inner = ("deconv", Deconvolution)
    attribute = captum_attribute(_CaptumNeuronDeconvolution)
