"""Occlusion (Zeiler & Fergus, 2014) in Captum's API, with the lecture's variant built in.

Captum's ``Occlusion`` evaluates one perturbation per forward pass by default, which leaves most
of the hardware idle. This subclass picks ``perturbations_per_eval`` from a memory budget and a
batch-size cap, so that the default call runs near the cost of the bare forward passes, while
accepting every argument Captum's does (and giving the same numbers for the same arguments).

:meth:`Occlusion.attribute` is in two parts: the arguments are checked and normalized first
(windows, strides, baselines, the batch size), then :meth:`Occlusion.evaluate` runs the
perturbed batches. Incremental inference (:mod:`attribkit.attr.incremental`, Krypton) plugs in
there: where the model is a traceable eval-mode network taking one image batch, only what each
window changes is recomputed from the unoccluded image's cached activations (the same map to
float32 round-off); elsewhere Captum's batched full passes run, and ``last_method`` /
``last_reason`` say which path ran and why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from captum._utils.typing import BaselineType, TargetType, TensorOrTupleOfTensorsGeneric
from captum.attr import Occlusion as _CaptumOcclusion
from torch import nn

from attribkit._checks import TargetError, TypeAssertionError, ValueAssertionError
from attribkit.attr._base import CheckedAttribution, checked_attribute, model_of
from attribkit.attr.incremental import Approximation, try_incremental_occlusion
from attribkit.layers.state import frozen

__all__ = ["Occlusion", "count_occlusions"]

Shape = tuple[int, ...]


def _positive_ints(value: Any, what: str) -> Shape:
    if not isinstance(value, tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise TypeAssertionError(f"{what} must be a tuple of ints, got {value!r}")
    if any(v <= 0 for v in value):
        raise ValueAssertionError(f"{what} must hold positive sizes, got {value!r}")
    return value


def count_occlusions(
    shape: Sequence[int], window: Sequence[int], strides: int | Sequence[int] | None
) -> int:
    """Number of window positions Captum's occlusion evaluates for one input of ``shape``.

    Along each dimension the window moves by the stride while it fits, plus one last position
    flush with the end when the stride does not divide the remainder (Captum's rule:
    ``ceil((size - window) / stride) + 1``).

    Args:
        shape: the input's shape without the batch dimension.
        window: the sliding window's shape.
        strides: stride per dimension (``None`` = 1, an int applies to every dimension).

    Examples:
        >>> count_occlusions((3, 224, 224), (3, 16, 16), (3, 8, 8))
        729
        >>> count_occlusions((10,), (4,), 3)
        3
    """
    shape, window = tuple(shape), tuple(window)
    if strides is None or isinstance(strides, int):
        st: Shape = (1 if strides is None else strides,) * len(shape)
    else:
        st = tuple(strides)
    _positive_ints(window, "sliding window")
    _positive_ints(st, "strides")
    if len(window) != len(shape) or len(st) != len(shape):
        raise ValueAssertionError(
            f"sliding window {window} and strides {st} need one entry per input dimension "
            f"after the batch, {len(shape)} for shape {shape}"
        )
    total = 1
    for dim, win, s in zip(shape, window, st):
        if win > dim:
            raise ValueAssertionError(f"sliding window {window} is larger than the input {shape}")
        total *= math.ceil((dim - win) / s) + 1
    return total


def _windows(tensors: tuple[torch.Tensor, ...], value: Any) -> tuple[Shape, ...]:
    """Captum's ``sliding_window_shapes`` (or attribkit's int shorthand), one tuple per input."""
    if isinstance(value, int) and not isinstance(value, bool):
        if any(t.ndim != 4 for t in tensors):
            raise ValueAssertionError(
                f"an int sliding window ({value}) means a C×{value}×{value} patch of N×C×H×W "
                f"images, got inputs of shape {[tuple(t.shape) for t in tensors]}; pass a tuple "
                "with one size per dimension after the batch"
            )
        windows: tuple[Any, ...] = tuple((t.shape[1], value, value) for t in tensors)
    elif (
        len(tensors) == 1
        and isinstance(value, tuple)
        and not any(isinstance(v, tuple) for v in value)
    ):
        windows = (value,)
    elif isinstance(value, tuple) and all(isinstance(v, tuple) for v in value) and value:
        windows = value
    else:
        raise TypeAssertionError(
            "sliding_window_shapes must be a tuple of sizes (one input) or a tuple of such "
            f"tuples (one per input), or an int k for C×k×k image patches; got {value!r}"
        )
    if len(windows) != len(tensors):
        raise ValueAssertionError(
            f"sliding_window_shapes gives {len(windows)} windows for {len(tensors)} inputs: "
            "give one per input"
        )
    for i, (w, t) in enumerate(zip(windows, tensors)):
        name = "sliding window" if len(tensors) == 1 else f"sliding window {i}"
        _positive_ints(w, name)
        if len(w) != t.ndim - 1:
            raise ValueAssertionError(
                f"{name} {w} has {len(w)} dimensions, but input {i} of shape {tuple(t.shape)} "
                f"needs {t.ndim - 1} (one per dimension after the batch)"
            )
        if any(a > b for a, b in zip(w, t.shape[1:])):
            raise ValueAssertionError(f"{name} {w} is larger than the input's {tuple(t.shape[1:])}")
    return windows


def _strides(
    tensors: tuple[torch.Tensor, ...], windows: tuple[Shape, ...], value: Any
) -> tuple[Shape, ...]:
    """Captum's ``strides`` in any of its forms, one tuple of per-dimension steps per input."""
    n = len(tensors)
    if value is None:
        per_input: tuple[Any, ...] = (1,) * n
    elif isinstance(value, int) and not isinstance(value, bool):
        per_input = (value,) * n
    elif isinstance(value, tuple) and n == 1 and not (len(value) == 1):
        per_input = (value,)
    elif isinstance(value, tuple) and len(value) == n:
        per_input = value
    else:
        raise ValueAssertionError(
            f"strides {value!r} must be an int, a tuple with one step per dimension (one input), "
            f"or a tuple with one int or tuple per input ({n})"
        )
    out = []
    for i, (s, w, t) in enumerate(zip(per_input, windows, tensors)):
        steps = (s,) * len(w) if isinstance(s, int) and not isinstance(s, bool) else s
        _positive_ints(steps, "strides")
        if len(steps) != len(w):
            raise ValueAssertionError(
                f"strides {steps} for input {i} of shape {tuple(t.shape)} need {len(w)} "
                "entries, one per dimension after the batch"
            )
        for step, win, dim in zip(steps, w, t.shape[1:]):
            if step > win and win < dim:
                raise ValueAssertionError(
                    f"stride {steps} is larger than the sliding window {w}: some positions "
                    "would never be occluded; use strides no larger than the window"
                )
        out.append(steps)
    return tuple(out)


def _probe_args(extra: Any, n: int) -> Any:
    """``additional_forward_args`` for a probe batch of 2 examples: tensors sliced to the first
    example (when they are per example) and doubled, as Captum doubles them for 2 per eval."""
    if extra is None:
        return None
    items = extra if isinstance(extra, tuple) else (extra,)

    def one(a: Any) -> Any:
        if isinstance(a, torch.Tensor) and a.ndim > 0:
            return torch.cat([a[:1] if a.shape[0] == n else a] * 2)
        return a

    return tuple(one(a) for a in items)


class Occlusion(CheckedAttribution, _CaptumOcclusion):
    """Occlusion with automatic batching, and the lecture's mean-pixel / probability variant.

    Args:
        forward_func: the model or any callable returning ``N×classes`` scores.
        memory_budget: bytes that one batch of perturbed inputs may use (activations).
        max_batch: cap on the perturbed batch size. ``None`` picks 4 on the CPU (measured
            fastest per image for EfficientNet-Lite0 on 2 cores: 13 ms at batch 2–4 in
            channels-last against 20–31 ms at batch 16) and 256 on CUDA devices.
        channels_last: feed perturbed 4-D image batches to the model in channels-last memory
            format (the model itself is untouched). ``None``: on the CPU only.
        eval_mode: see :class:`~attribkit.attr.CheckedAttribution`.
        incremental: recompute only what each window changes (Krypton's incremental
            inference, :mod:`attribkit.attr.incremental`) where the model allows it; ``False``
            always runs Captum's batched full passes.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.Flatten(), nn.LazyLinear(4))
        >>> x = torch.rand(1, 3, 16, 16)
        >>> _ = net(x)
        >>> Occlusion(net).attribute(x, sliding_window_shapes=(3, 4, 4), strides=2, target=1).shape
        torch.Size([1, 3, 16, 16])
    """

    def __init__(
        self,
        forward_func: Any,
        memory_budget: int = 1 << 30,
        max_batch: int | None = None,
        channels_last: bool | None = None,
        *,
        eval_mode: bool = True,
        incremental: bool = True,
    ) -> None:
        super().__init__(forward_func, eval_mode=eval_mode)
        if isinstance(memory_budget, bool) or not isinstance(memory_budget, int):
            raise TypeError(f"memory_budget must be an int (bytes), got {memory_budget!r}")
        if memory_budget <= 0:
            raise ValueError(f"memory_budget must be positive, got {memory_budget}")
        if max_batch is not None and (
            isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch <= 0
        ):
            raise ValueError(f"max_batch must be a positive int or None, got {max_batch!r}")
        if not isinstance(incremental, bool):
            raise TypeError(f"incremental must be True or False, got {incremental!r}")
        self.memory_budget = memory_budget
        self.max_batch = max_batch
        self.channels_last = channels_last
        self.incremental = incremental
        self.model = model_of(self)
        #: which path the last call ran: "incremental", "approximate" or "full"
        self.last_method: str | None = None
        #: why the last call ran full passes (``None`` when it did not)
        self.last_reason: str | None = None
        #: the ``perturbations_per_eval`` used by the last call
        self.last_perturbations_per_eval: int | None = None

    def choose_perturbations_per_eval(
        self,
        inputs: tuple[torch.Tensor, ...],
        sliding_window_shapes: Any,
        strides: Any,
        additional_forward_args: Any = None,
    ) -> int:
        """The ``perturbations_per_eval`` a default call uses for these inputs.

        One forward pass of two examples probes the model: if its output does not grow with
        the batch (a forward that returns one value per batch), or the probe fails, this is 1,
        Captum's default. Otherwise it is as many as fit the memory budget and the batch cap.
        """
        windows = _windows(inputs, sliding_window_shapes)
        steps = _strides(inputs, windows, strides)
        total = max(count_occlusions(t.shape[1:], w, s) for t, w, s in zip(inputs, windows, steps))
        n = inputs[0].shape[0]
        per_sample = self._probe_bytes_per_example(inputs, additional_forward_args)
        if per_sample is None:
            return 1
        cap = self.max_batch or (256 if inputs[0].is_cuda else 4)
        batch = max(1, min(cap, self.memory_budget // max(per_sample, 1)))
        return max(1, min(total, batch // n))

    def _probe_bytes_per_example(self, inputs: tuple[torch.Tensor, ...], extra: Any) -> int | None:
        """Largest activation per example of a 2-example forward pass, times 3 (live tensors
        at a time); ``None`` when the output does not have one row per example."""
        n = inputs[0].shape[0]
        probe = tuple(torch.cat([t[:1] if t.shape[0] == n else t] * 2) for t in inputs)
        forward: Any = getattr(self, "forward_func")  # noqa: B009 - typed Any on purpose
        model = model_of(self)
        largest = [sum(t.numel() * t.element_size() for t in probe)]

        def hook(_m: nn.Module, _i: Any, out: Any) -> None:
            if isinstance(out, torch.Tensor):
                largest[0] = max(largest[0], out.numel() * out.element_size())

        leaves = [] if model is None else [m for m in model.modules() if not list(m.children())]
        handles = [m.register_forward_hook(hook) for m in leaves]
        try:
            # the model's state is kept also when this runs on its own, outside attribute()
            state: AbstractContextManager[object] = (
                nullcontext() if model is None else frozen(model, eval_mode=self.eval_mode)
            )
            with torch.no_grad(), state:
                out = forward(*probe, *(_probe_args(extra, n) or ()))
        except TargetError:
            raise
        except Exception:  # Captum's default (one perturbation per pass) may still work
            return None
        finally:
            for h in handles:
                h.remove()
        if not isinstance(out, torch.Tensor) or out.ndim == 0 or out.shape[0] != 2:
            return None
        return 3 * largest[0] // 2

    @checked_attribute()
    def attribute(  # type: ignore[override]
        self,
        inputs: TensorOrTupleOfTensorsGeneric,
        sliding_window_shapes: tuple[int, ...] | tuple[tuple[int, ...], ...] | int,
        strides: None | int | tuple[int, ...] | tuple[int | tuple[int, ...], ...] = None,
        baselines: BaselineType | str = None,
        target: TargetType = None,
        additional_forward_args: Any = None,
        perturbations_per_eval: int | None = None,
        show_progress: bool = False,
        probability: bool = False,
        approximate: bool | Approximation = False,
    ) -> TensorOrTupleOfTensorsGeneric:
        """Occlusion attributions, shaped like ``inputs``.

        All of Captum's arguments work as in Captum. Additions:

        Args:
            inputs: ``N×…`` tensor or tuple of tensors (float, integer or boolean).
            sliding_window_shapes: as Captum; an ``int`` k means a ``C×k×k`` window over an
                ``N×C×H×W`` image.
            strides: as Captum.
            baselines: as Captum, or ``"mean"``: each image's mean pixel (per channel), the
                lecture's grey-ish patch.
            target: as Captum.
            additional_forward_args: as Captum.
            perturbations_per_eval: as Captum; ``None`` (default) chooses it from the memory
                budget and batch cap (see :meth:`choose_perturbations_per_eval`).
            show_progress: as Captum.
            probability: score the softmax probability instead of the raw output, so that the
                map shows the drop in the target's probability (the lecture's figure).
            approximate: ``True`` or an :class:`~attribkit.attr.incremental.Approximation`:
                Krypton's adaptive drill-down and projective-field thresholding (faster, not
                exact). Needs the incremental path; without it the exact full passes run.
        """
        tensors = inputs if isinstance(inputs, tuple) else (inputs,)
        windows = _windows(tensors, sliding_window_shapes)
        steps = _strides(tensors, windows, strides)
        if not isinstance(approximate, (bool, Approximation)):
            raise TypeAssertionError(
                f"approximate must be a bool or an Approximation, got {approximate!r}"
            )
        if isinstance(baselines, str):
            baselines = self._mean_baselines(tensors, baselines, isinstance(inputs, tuple))
        return self.evaluate(
            inputs,
            windows,
            steps,
            baselines,
            target,
            additional_forward_args,
            perturbations_per_eval,
            show_progress,
            probability,
            approximate,
        )

    @staticmethod
    def _mean_baselines(
        tensors: tuple[torch.Tensor, ...], name: str, is_tuple: bool
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if name != "mean":
            raise ValueAssertionError(
                f"baselines must be Captum's forms (a number, a tensor or a tuple of them) or "
                f"'mean', got {name!r}"
            )
        if any(not t.is_floating_point() for t in tensors):
            raise TypeAssertionError(
                "baselines='mean' needs floating-point inputs; give integer inputs a number "
                "or a tensor as baseline"
            )
        means = tuple(
            t.mean(dim=tuple(range(2, t.ndim)), keepdim=True).expand_as(t).contiguous()
            if t.ndim > 2
            else t.mean(dim=1, keepdim=True).expand_as(t).contiguous()
            for t in tensors
        )
        return means if is_tuple else means[0]

    def evaluate(
        self,
        inputs: TensorOrTupleOfTensorsGeneric,
        windows: tuple[Shape, ...],
        strides: tuple[Shape, ...],
        baselines: Any,
        target: TargetType,
        additional_forward_args: Any,
        perturbations_per_eval: int | None,
        show_progress: bool,
        probability: bool,
        approximate: bool | Approximation = False,
    ) -> TensorOrTupleOfTensorsGeneric:
        """Evaluate the occluded batches for checked, normalized arguments (one window and one
        tuple of steps per input) and return the attributions.

        Incremental inference runs first where the model allows it (see
        :func:`~attribkit.attr.incremental.try_incremental_occlusion`); it picks its own batch
        size when ``perturbations_per_eval`` is ``None``. Otherwise this runs Captum's own
        evaluation, with ``perturbations_per_eval`` from
        :meth:`choose_perturbations_per_eval` when ``None``, feeding the model channels-last
        batches on the CPU and softmax probabilities when ``probability``.
        """
        tensors = inputs if isinstance(inputs, tuple) else (inputs,)
        forward: Any = getattr(self, "forward_func")  # noqa: B009 - typed Any on purpose
        fast = try_incremental_occlusion(
            forward, inputs, windows, strides, baselines, target, additional_forward_args,
            perturbations_per_eval, probability, approximate, show_progress,
            enabled=self.incremental, memory_budget=self.memory_budget, max_batch=self.max_batch,
        )  # fmt: skip
        self.last_method, self.last_reason = fast.method, fast.reason
        if fast.attributions is not None:
            self.last_perturbations_per_eval = fast.batch_size
            return fast.attributions  # type: ignore[no-any-return]
        if perturbations_per_eval is None:
            perturbations_per_eval = self.choose_perturbations_per_eval(
                tensors, windows, strides, additional_forward_args
            )
        self.last_perturbations_per_eval = perturbations_per_eval
        original: Any = getattr(self, "forward_func")  # noqa: B009 - typed Any on purpose
        channels_last = (
            self.channels_last
            if self.channels_last is not None
            else tensors[0].device.type == "cpu"
        ) and tensors[0].ndim == 4
        wrapped = original
        if channels_last:

            def cl_forward(first: Any, *rest: Any) -> Any:
                if isinstance(first, torch.Tensor) and first.ndim == 4:
                    first = first.contiguous(memory_format=torch.channels_last)
                return original(first, *rest)

            wrapped = cl_forward
        if probability:
            inner = wrapped

            def prob_forward(*args: Any) -> torch.Tensor:
                return inner(*args).softmax(dim=-1)

            wrapped = prob_forward
        self.forward_func = wrapped
        try:
            return _CaptumOcclusion.attribute.__wrapped__(  # type: ignore[attr-defined]
                self,
                inputs,
                sliding_window_shapes=windows,
                strides=strides,
                baselines=baselines,
                target=target,
                additional_forward_args=additional_forward_args,
                perturbations_per_eval=perturbations_per_eval,
                show_progress=show_progress,
            )
        finally:
            self.forward_func = original
