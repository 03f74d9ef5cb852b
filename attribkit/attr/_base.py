"""What every attribkit attribution adds to Captum's: input checks and state discipline.

:func:`checked_attribute` wraps an ``attribute`` method so that it
- refuses bad inputs and targets with a clear error,
- leaves the model's mode, ``requires_grad`` and ``.grad`` as they were (also on exceptions),
- keeps ``__wrapped__`` pointing at the undecorated method, as Captum's ``NoiseTunnel`` and
  ``GuidedGradCam`` expect of Captum's own ``log_usage``-decorated methods.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import nn

from attribkit._checks import as_tuple, check_finite, check_target

__all__ = ["checked_attribute", "check_attribution_inputs", "model_of"]

F = TypeVar("F", bound=Callable[..., Any])

_OUT_OF_BOUNDS = re.compile(r"index (-?\d+) is out of bounds for dimension (\d+) with size (\d+)")


def model_of(method: Any) -> nn.Module | None:
    """The ``nn.Module`` behind an attribution method, if there is one."""
    for attr in ("model", "forward_func"):
        m = getattr(method, attr, None)
        if isinstance(m, nn.Module):
            return m
        owner = getattr(m, "__self__", None)  # a bound method such as model.forward
        if isinstance(owner, nn.Module):
            return owner
    return None


def check_attribution_inputs(inputs: Any, *, image: bool = False) -> tuple[torch.Tensor, ...]:
    """Check Captum-style ``inputs`` (a tensor or a tuple of tensors) and return them as a tuple.

    Args:
        inputs: the inputs.
        image: require ``N×C×H×W`` tensors (methods that slide windows or read feature maps).
    """
    tensors = as_tuple(inputs)
    for i, t in enumerate(tensors):
        name = "inputs" if len(tensors) == 1 else f"inputs[{i}]"
        if not t.is_floating_point():
            raise TypeError(
                f"{name} must be a floating-point tensor, got {t.dtype}; "
                "use x.float() (and / 255 for 8-bit images)"
            )
        if t.ndim < 2:
            raise ValueError(f"{name} must have a batch dimension, got shape {tuple(t.shape)}")
        if image and t.ndim != 4:
            hint = " (add a batch dimension with x.unsqueeze(0))" if t.ndim == 3 else ""
            raise ValueError(f"{name} must be 4-D N×C×H×W, got shape {tuple(t.shape)}{hint}")
        if t.shape[0] == 0:
            raise ValueError(f"{name} is an empty batch")
        check_finite(t, name)
    batch = tensors[0].shape[0]
    if any(t.shape[0] != batch for t in tensors):
        raise ValueError("all inputs must have the same batch size")
    return tensors


def _check_target_sign(target: Any, batch: int) -> None:
    # the upper bound needs the model's output size; the forward pass reports it (below)
    check_target(target, n_classes=2**62, batch=batch)


def checked_attribute(image: bool = False) -> Callable[[F], F]:
    """Decorate an ``attribute`` method with input checks and state restoration."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(self: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            tensors = check_attribution_inputs(inputs, image=image)
            target = kwargs.get("target", args[0] if args else None)
            _check_target_sign(target, tensors[0].shape[0])
            model = model_of(self)
            try:
                if model is None:
                    return fn(self, inputs, *args, **kwargs)
                from attribkit.layers.state import preserve_state

                with preserve_state(model):
                    return fn(self, inputs, *args, **kwargs)
            except (IndexError, RuntimeError) as err:
                match = _OUT_OF_BOUNDS.search(str(err))
                if match and target is not None:
                    size = int(match.group(3))
                    raise ValueError(
                        f"target {match.group(1)} is out of range: the model has {size} outputs "
                        f"(valid targets are 0..{size - 1})"
                    ) from err
                raise

        return wrapper  # type: ignore[return-value]

    return decorate
