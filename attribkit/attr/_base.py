"""What every attribkit attribution adds to Captum's: argument checks and state discipline.

:class:`CheckedAttribution` is the first base of each attribkit attribution class (Captum's class
comes after it). Its constructor binds the arguments to Captum's constructor, resolves dotted
layer names and takes ``eval_mode``. :func:`checked_attribute` wraps an ``attribute`` method so
that a call

- binds ``*args, **kwargs`` to the method's own signature first, so a positional baseline, target
  or ``nt_type`` reaches the same check as its keyword form;
- refuses bad inputs, targets and numeric options with clear errors that Captum's callers
  already catch (``AssertionError`` where Captum asserts, see :mod:`attribkit._checks`);
- runs the model in eval mode (unless ``eval_mode=False``) and leaves its mode, buffers,
  ``requires_grad``, ``.grad``, the inputs and the global random generators as they were, also
  when an exception is raised; random methods draw from the global generators as Captum does,
  so the same seed gives Captum's numbers;
- keeps ``__wrapped__`` pointing at the unchecked method, as Captum's ``NoiseTunnel``,
  ``GuidedGradCam`` and neuron methods expect of Captum's ``log_usage``-decorated methods.
"""

from __future__ import annotations

import functools
import inspect
import os
import random
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

import numpy as np
import torch
from captum.attr import GradientAttribution, LayerAttribution, NoiseTunnel
from torch import nn

from attribkit._checks import (
    TargetError,
    TypeAssertionError,
    ValueAssertionError,
    check_finite,
    check_option_int,
    check_option_number,
    check_target_fits,
    check_target_form,
)
from attribkit.layers.hooks import resolve_layer
from attribkit.layers.state import preserve_state

__all__ = [
    "CheckedAttribution",
    "captum_attribute",
    "checked_attribute",
    "check_attribution_inputs",
    "model_of",
    "without_usage_log",
]

F = TypeVar("F", bound=Callable[..., Any])

_OUT_OF_BOUNDS = re.compile(r"index (-?\d+) is out of bounds for dimension (\d+) with size (\d+)")

#: numeric options of Captum's ``attribute`` methods, by name: (minimum, None allowed)
_INT_OPTIONS: dict[str, tuple[int, bool]] = {
    "n_steps": (1, False),
    "n_samples": (1, False),
    "nt_samples": (1, False),
    "nt_samples_batch_size": (1, True),
    "internal_batch_size": (1, True),
    "perturbations_per_eval": (1, True),
}
_BASELINE_OPTIONS = ("baselines", "layer_baselines")


def model_of(method: Any) -> nn.Module | None:
    """The ``nn.Module`` behind an attribution method (its model, its forward function, or the
    bound method's owner), if there is one."""
    for attr in ("model", "forward_func"):
        m = getattr(method, attr, None)
        if isinstance(m, nn.Module):
            return m
        owner = getattr(m, "__self__", None)  # a bound method such as model.forward
        if isinstance(owner, nn.Module):
            return owner
    return None


def _differentiates_inputs(method: Any) -> bool:
    """Whether the method needs floating-point inputs: it differentiates with respect to them
    (input-level gradient methods) or adds noise to them (NoiseTunnel)."""
    if isinstance(method, NoiseTunnel):
        return True
    return isinstance(method, GradientAttribution) and not isinstance(method, LayerAttribution)


def check_attribution_inputs(
    inputs: Any, *, integers: bool = True, method: str = "this method"
) -> tuple[torch.Tensor, ...]:
    """Check Captum-style ``inputs`` (a tensor or a tuple of tensors) and return them as a tuple.

    Args:
        inputs: the inputs, ``N×…`` each (shape ``(N,)`` is N scalar examples, as in Captum).
        integers: accept integer and boolean tensors (token ids, categorical features).
        method: the method's name, for messages.

    Examples:
        >>> import torch
        >>> len(check_attribution_inputs((torch.rand(2, 3), torch.arange(2))))
        2
    """
    if isinstance(inputs, torch.Tensor):
        tensors: tuple[torch.Tensor, ...] = (inputs,)
    elif isinstance(inputs, tuple) and inputs and all(isinstance(t, torch.Tensor) for t in inputs):
        tensors = inputs
    else:
        kind = type(inputs).__name__
        hint = (
            "; pass tuple(inputs) (Captum takes a tensor or a tuple of tensors)"
            if isinstance(inputs, list)
            else "; convert images with attribkit.load_image or torch.as_tensor first"
        )
        raise TypeAssertionError(f"inputs must be a tensor or a tuple of tensors, got {kind}{hint}")
    for i, t in enumerate(tensors):
        name = "inputs" if len(tensors) == 1 else f"inputs[{i}]"
        if t.ndim == 0:
            raise ValueAssertionError(
                f"{name} is a 0-d tensor; inputs need a batch dimension first "
                "(shape (N,) is N scalar examples: use x.reshape(1))"
            )
        if t.is_complex():
            raise TypeAssertionError(
                f"{name} is complex ({t.dtype}); attributions need real values"
            )
        if not t.is_floating_point() and not integers:
            raise TypeAssertionError(
                f"{name} is a {t.dtype} tensor, but {method} differentiates with respect to its "
                "inputs, which needs floating point: pass x.float() (and / 255 for 8-bit "
                "images); for token ids, attribute at the embedding layer "
                "(LayerIntegratedGradients) or use a perturbation method (FeatureAblation)"
            )
        check_finite(t, name)
    if all(t.numel() == 0 for t in tensors):
        raise ValueAssertionError("inputs are empty: pass at least one example")
    return tensors


def _check_baselines(value: Any, name: str) -> None:
    parts = value if isinstance(value, tuple) else (value,)
    for part in parts:
        if isinstance(part, torch.Tensor):
            check_finite(part, name)
        elif isinstance(part, float):
            check_option_number(part, name, minimum=float("-inf"))


def _check_stdevs(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(check_option_number(v, "stdevs") for v in value)
    return check_option_number(value, "stdevs")


def _check_options(arguments: dict[str, Any]) -> None:
    """Check (and, for ``stdevs``, normalize to float) the numeric options found by name."""
    for name, (minimum, optional) in _INT_OPTIONS.items():
        if name in arguments:
            check_option_int(arguments[name], name, minimum=minimum, optional=optional)
    if "stdevs" in arguments:
        arguments["stdevs"] = _check_stdevs(arguments["stdevs"])
    for name in _BASELINE_OPTIONS:
        if arguments.get(name) is not None and not callable(arguments[name]):
            _check_baselines(arguments[name], name)


def _variadic(sig: inspect.Signature, bound: inspect.BoundArguments) -> dict[str, Any]:
    """The ``**kwargs`` dictionary of a bound call (empty if the method has none)."""
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return bound.arguments.setdefault(p.name, {})  # type: ignore[no-any-return]
    return {}


@contextmanager
def _global_rng_kept(tensors: tuple[torch.Tensor, ...]) -> Iterator[None]:
    """Let the block draw from the global generators (torch, CUDA, ``random``, NumPy) as
    Captum does, then put them back where they were."""
    devices = sorted({t.device.index or 0 for t in tensors if t.is_cuda})
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


@contextmanager
def _target_checked_on_output(model: nn.Module, target: Any) -> Iterator[None]:
    """Check ``target`` against the shape of the model's first output, before Captum indexes
    it (the hook is removed on exit)."""
    done = [False]

    def hook(_m: nn.Module, _i: Any, out: Any) -> None:
        if not done[0] and isinstance(out, torch.Tensor):
            done[0] = True
            check_target_fits(target, tuple(out.shape) if out.ndim else (1,))

    handle = model.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _target_values(target: Any) -> set[int]:
    if isinstance(target, torch.Tensor):
        return {int(v) for v in target.flatten().tolist()}
    if isinstance(target, (list, tuple)):
        return {v for t in target for v in (t if isinstance(t, tuple) else (t,))}
    return {target} if isinstance(target, int) else set()


def _translate_index_error(err: Exception, target: Any) -> None:
    """Raise a :class:`TargetError` if ``err`` is an index error about one of the targets
    (forward functions that are not modules, where the output could not be checked first)."""
    match = _OUT_OF_BOUNDS.search(str(err))
    if match and int(match.group(1)) in _target_values(target):
        size = int(match.group(3))
        raise TargetError(
            f"target {match.group(1)} is out of range: the model has {size} outputs "
            f"(valid targets are 0..{size - 1})"
        ) from err


@contextmanager
def _attribution_world(
    method: Any, tensors: tuple[torch.Tensor, ...], target: Any
) -> Iterator[None]:
    model = model_of(method)
    with ExitStack() as stack:
        if isinstance(model, nn.Module):
            stack.enter_context(preserve_state(model))
            if getattr(method, "eval_mode", True):
                model.eval()
            forward_is_model = getattr(method, "forward_func", None) is model
            if target is not None and forward_is_model:
                stack.enter_context(_target_checked_on_output(model, target))
        stack.enter_context(_global_rng_kept(tensors))
        try:
            yield
        except Exception as err:
            if target is not None and isinstance(err, (IndexError, RuntimeError)):
                if not isinstance(err, TargetError):
                    _translate_index_error(err, target)
            shapes = [tuple(t.shape) for t in tensors if t.ndim == 3]
            if shapes and not isinstance(err, AssertionError):
                err.add_note(
                    f"note: an input of shape {shapes[0]} is read as a batch of {shapes[0][0]} "
                    "(Captum's convention); for one C×H×W image add the batch dimension with "
                    "x.unsqueeze(0)"
                )
            raise


def checked_attribute() -> Callable[[F], F]:
    """Decorate an ``attribute`` method with argument checks and state discipline."""

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = sig.bind(self, *args, **kwargs)
            arguments = bound.arguments
            extra = _variadic(sig, bound)
            tensors: tuple[torch.Tensor, ...] = ()
            if "inputs" in arguments:
                tensors = check_attribution_inputs(
                    arguments["inputs"],
                    integers=not _differentiates_inputs(self),
                    method=type(self).__name__,
                )
                detached = tuple(
                    t.detach().requires_grad_(True)
                    if t.is_floating_point() and isinstance(self, GradientAttribution)
                    else t.detach()
                    for t in tensors
                )
                arguments["inputs"] = (
                    detached if isinstance(arguments["inputs"], tuple) else detached[0]
                )
            target = arguments.get("target", extra.get("target"))
            check_target_form(target, tensors[0].shape[0] if tensors else 1)
            _check_options(arguments)
            _check_options(extra)
            with _attribution_world(self, tensors, target):
                return fn(*bound.args, **bound.kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def captum_attribute(captum_class: Any) -> Callable[..., Any]:
    """Captum's own ``attribute`` of ``captum_class`` (without its usage logging), checked.

    For classes that add nothing but attribkit's checks and state discipline::

        class InputXGradient(CheckedAttribution, captum.attr.InputXGradient):
            attribute = captum_attribute(captum.attr.InputXGradient)
    """
    return checked_attribute()(without_usage_log(captum_class.attribute))


def without_usage_log(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` without Captum's ``log_usage`` decorator (other decorators, such as
    ``torch.no_grad``, stay), as Captum's own classes call each other's methods."""
    code = getattr(fn, "__code__", None)
    if code is not None and os.path.join("captum", "log") in code.co_filename:
        return fn.__wrapped__  # type: ignore[attr-defined,no-any-return]
    return fn


def _captum_base(cls: type) -> type:
    for c in cls.__mro__:
        if c.__module__.startswith("captum."):
            return c
    raise TypeError(f"{cls.__name__} does not subclass a Captum attribution")


def _resolve_layers(model: Any, layer: Any) -> Any:
    def one(x: Any) -> Any:
        if isinstance(x, str):
            if not isinstance(model, nn.Module):
                raise TypeError(
                    f"to name the layer {x!r} by a string, pass the model as an nn.Module "
                    "(or pass the layer module itself)"
                )
            return resolve_layer(model, x)
        return x

    return [one(x) for x in layer] if isinstance(layer, list) else one(layer)


class CheckedAttribution:
    """Base of attribkit's attribution classes, listed before Captum's class.

    Takes Captum's constructor arguments (bound by Captum's signature, so positional and
    keyword forms work alike), accepts layers as dotted names (``"_blocks.4"``) as well as
    modules, and adds one keyword:

    Args:
        eval_mode: run the model in eval mode during each call and restore its mode after
            (default). ``False`` keeps a train-mode model in train mode (dropout active), as
            Captum does; buffers such as BatchNorm statistics are restored either way.
    """

    eval_mode: bool = True

    def __init__(self, *args: Any, eval_mode: bool = True, **kwargs: Any) -> None:
        base = _captum_base(type(self))
        bound = inspect.signature(base).bind(*args, **kwargs)
        if "layer" in bound.arguments:
            model = bound.arguments.get("forward_func", bound.arguments.get("model"))
            bound.arguments["layer"] = _resolve_layers(model, bound.arguments["layer"])
        if not isinstance(eval_mode, bool):
            raise TypeError(f"eval_mode must be True or False, got {eval_mode!r}")
        super().__init__(*bound.args, **bound.kwargs)
        self.eval_mode = eval_mode
