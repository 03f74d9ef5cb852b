"""Guided backpropagation and the deconvnet, correct for ReLU, ReLU6, LeakyReLU and ``F.relu``.

Captum's versions hook ``nn.ReLU`` modules only; for a network built on ``nn.ReLU6`` (like
EfficientNet-Lite0) or on functional ``F.relu`` they silently return plain gradients. Here the
rectifiers are intercepted at the function level with a :class:`torch.overrides.TorchFunctionMode`
for the duration of the forward pass, so module and functional forms are treated alike, and
nothing is registered on the model. Activations that have no guided rule (SiLU, GELU, …) raise
a clear error unless the caller opts into a stated approximation.
"""

from __future__ import annotations

from typing import Any, cast

import torch
import torch.nn.functional as F
from captum._utils.common import _format_output, _format_tensor_into_tuples, _is_tuple
from captum._utils.typing import TargetType, TensorOrTupleOfTensorsGeneric
from captum.attr import Deconvolution as _CaptumDeconvolution
from captum.attr import GuidedBackprop as _CaptumGuidedBackprop
from torch import nn
from torch.overrides import TorchFunctionMode

from attribkit.attr._base import checked_attribute

__all__ = ["GuidedBackprop", "Deconvolution", "UnsupportedActivationError", "unguidable_modules"]

_UNGUIDABLE_TYPES: tuple[type[nn.Module], ...] = (
    nn.SiLU,
    nn.GELU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.Mish,
    nn.Hardswish,
    nn.Softplus,
    nn.PReLU,
    nn.RReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Hardsigmoid,
    nn.LogSigmoid,
    nn.Softsign,
    nn.Tanhshrink,
)
_UNGUIDABLE_WORDS = ("swish", "silu", "gelu", "mish")
_UNGUIDABLE_FUNCS = {
    F.silu,
    F.gelu,
    F.elu,
    F.selu,
    F.celu,
    F.mish,
    F.hardswish,
    F.softplus,
    F.prelu,
}


class UnsupportedActivationError(ValueError):
    """The model uses an activation that guided backprop / deconvnet cannot guide."""


def unguidable_modules(model: nn.Module) -> list[str]:
    """Names of the modules of ``model`` whose activation has no guided-backprop rule.

    Sigmoid and Tanh count too, since used as activations they cannot be guided; where they only
    gate (as in squeeze-and-excitation), ``approximate=True`` is the honest choice.

    Examples:
        >>> from torch import nn
        >>> unguidable_modules(nn.Sequential(nn.Conv2d(3, 3, 1), nn.GELU()))
        ['1']
    """
    found = []
    for name, m in model.named_modules():
        cls = type(m).__name__.lower()
        if isinstance(m, _UNGUIDABLE_TYPES) or any(w in cls for w in _UNGUIDABLE_WORDS):
            found.append(name or type(m).__name__)
    return found


class _Rectifier(torch.autograd.Function):
    """``clamp(x, lo, hi)`` whose backward follows the guided or the deconvnet rule."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, x: torch.Tensor, lo: float, hi: float | None, slope: float, deconv: bool
    ) -> torch.Tensor:
        if slope:
            out = torch.where(x >= 0, x, x * slope)
        else:
            out = x.clamp(min=lo, max=hi)
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi, ctx.slope, ctx.deconv = lo, hi, slope, deconv
        return out

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (grad,) = grads
        (x,) = ctx.saved_tensors
        positive = grad.clamp(min=0)
        if ctx.deconv:
            # Zeiler & Fergus: the backward pass rectifies the signal, ignoring the forward mask
            return positive, None, None, None, None
        if ctx.slope:
            local = torch.where(x >= 0, torch.ones_like(x), torch.full_like(x, ctx.slope))
        else:
            local = (x > ctx.lo).to(grad.dtype)
            if ctx.hi is not None:
                local = local * (x < ctx.hi).to(grad.dtype)
        # Springenberg et al.: only positive gradients through units that were active
        return positive * local, None, None, None, None


class _GuidedMode(TorchFunctionMode):
    """Replace rectifier calls by :class:`_Rectifier` while active."""

    def __init__(self, deconv: bool, approximate: bool) -> None:
        super().__init__()
        self.deconv = deconv
        self.approximate = approximate
        self.seen_unguidable: set[str] = set()

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        rule = self._rule(func, args, kwargs)
        if rule is not None:
            x, lo, hi, slope = rule
            return _Rectifier.apply(x, lo, hi, slope, self.deconv)
        if func in _UNGUIDABLE_FUNCS:
            self.seen_unguidable.add(getattr(func, "__name__", str(func)))
            if not self.approximate:
                raise UnsupportedActivationError(
                    f"the forward pass calls {func.__name__}, which guided backprop cannot guide; "
                    "pass approximate=True to use plain gradients through it"
                )
        return func(*args, **kwargs)

    @staticmethod
    def _rule(
        func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[torch.Tensor, float, float | None, float] | None:
        if func in (F.relu, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_):
            return args[0], 0.0, None, 0.0
        if func is F.relu6:
            return args[0], 0.0, 6.0, 0.0
        if func is F.hardtanh:
            lo = float(args[1] if len(args) > 1 else kwargs.get("min_val", -1.0))
            hi = float(args[2] if len(args) > 2 else kwargs.get("max_val", 1.0))
            if lo == 0.0:  # ReLU6 and friends; a hardtanh around zero is not a rectifier
                return args[0], lo, hi, 0.0
            return None
        if func is F.leaky_relu:
            slope = float(args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01))
            return args[0], 0.0, None, slope
        return None


class _ModifiedRectifierGradient:
    """What :class:`GuidedBackprop` and :class:`Deconvolution` share: the constructor and
    ``attribute``; ``_deconv`` picks the backward rule. Listed first among the bases, so it
    takes precedence over Captum's hook-based implementation."""

    _deconv: bool
    approximate: bool
    model: nn.Module

    def __init__(self, model: nn.Module, approximate: bool = False) -> None:
        super().__init__(model)  # type: ignore[call-arg]  # Captum's class, next in the MRO
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
            raise UnsupportedActivationError(
                f"{method} has no rule for the activation module(s) {', '.join(bad[:8])}"
                f"{' …' if len(bad) > 8 else ''}; pass approximate=True to let gradients "
                "through them unguided (the result is then an approximation)"
            )
        is_tuple = _is_tuple(inputs)
        originals = _format_tensor_into_tuples(inputs)
        tensors = tuple(t.detach().clone().requires_grad_(True) for t in originals)
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

    Gradients flow back only where the unit was active *and* the incoming gradient is positive,
    for ``nn.ReLU``, ``nn.ReLU6``, ``nn.LeakyReLU``, ``nn.Hardtanh(0, x)`` and their functional
    forms (``F.relu``, ``torch.relu``, ``Tensor.relu``, ``F.relu6``, ``F.leaky_relu``).

    Args:
        model: the network (an ``nn.Module``).
        approximate: let gradients pass unguided through activations that have no guided rule
            (SiLU, GELU, sigmoid, …) instead of raising :class:`UnsupportedActivationError`.

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
    covers the same module and functional rectifiers as :class:`GuidedBackprop`.

    Args:
        model: the network.
        approximate: let gradients pass unrectified through activations with no deconvnet rule.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> Deconvolution(net).attribute(torch.rand(2, 3, 2, 2), target=0).shape
        torch.Size([2, 3, 2, 2])
    """

    _deconv = True
