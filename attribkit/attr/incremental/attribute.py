"""Occlusion computed incrementally, behind ``Occlusion.attribute``.

:func:`try_incremental_occlusion` takes the arguments of Captum's ``Occlusion.attribute``.
Where the forward function is a traceable eval-mode model taking one image batch, it returns
the same map as Captum (exact mode, float32 round-off) or Krypton's approximation
(``approximate``); for every other call it returns why not, and the caller runs Captum's
batched full passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from attribkit._checks import TargetError
from attribkit.attr.incremental.approximate import Approximation, drill_down
from attribkit.attr.incremental.plan import NotIncremental
from attribkit.attr.incremental.scoring import (
    WindowScorer,
    check_window_args,
    per_image_index,
)
from attribkit.attr.incremental.windows import WindowGrid

__all__ = ["OcclusionOutcome", "try_incremental_occlusion"]


@dataclass
class OcclusionOutcome:
    """What :func:`try_incremental_occlusion` did.

    Attributes:
        method: ``"incremental"`` (exact), ``"approximate"`` or ``"full"`` (not done here:
            run Captum's full passes).
        reason: why the incremental path did not run, for ``"full"``.
        attributions: the map (shaped like the inputs; a tuple for tuple inputs), or ``None``.
        batch_size: occluded copies per batch.
        cache_bytes: cached activations of one image.

    Examples:
        >>> OcclusionOutcome("full", "the forward function is not a model").attributions is None
        True
    """

    method: str
    reason: str | None = None
    attributions: Any = None
    batch_size: int | None = None
    cache_bytes: int = 0


def _model(forward_func: Any) -> nn.Module:
    if isinstance(forward_func, nn.Module):
        return forward_func
    owner = getattr(forward_func, "__self__", None)
    if isinstance(owner, nn.Module) and getattr(forward_func, "__name__", "") == "forward":
        return owner
    raise NotIncremental("the forward function is not a model")


def _baseline(baselines: Any, x: torch.Tensor) -> torch.Tensor:
    if isinstance(baselines, tuple) and len(baselines) == 1:
        baselines = baselines[0]
    if baselines is None:
        return torch.zeros_like(x)
    if isinstance(baselines, (int, float)) and not isinstance(baselines, bool):
        if not math.isfinite(baselines):
            raise NotIncremental("a non-finite baseline")
        return torch.full_like(x, float(baselines))
    if isinstance(baselines, torch.Tensor) and baselines.dtype == x.dtype:
        try:
            shape = torch.broadcast_shapes(baselines.shape, x.shape)
        except RuntimeError:
            shape = None
        if shape == x.shape and bool(torch.isfinite(baselines).all()):
            return baselines.to(x.device).broadcast_to(x.shape)
    raise NotIncremental("baselines in a form the incremental path does not take")


def _approximation(approximate: Any) -> Approximation | None:
    if approximate is False or approximate is None:
        return None
    if approximate is True:
        return Approximation()
    if isinstance(approximate, Approximation):
        return approximate
    raise TypeError(
        f"approximate must be a bool or an Approximation, got {type(approximate).__name__}"
    )


def try_incremental_occlusion(
    forward_func: Any,
    inputs: Any,
    sliding_window_shapes: Any,
    strides: Any = None,
    baselines: Any = None,
    target: Any = None,
    additional_forward_args: Any = None,
    perturbations_per_eval: Any = None,
    probability: bool = False,
    approximate: bool | Approximation = False,
    show_progress: bool | None = False,
    enabled: bool = True,
    memory_budget: int = 1 << 30,
    max_batch: int | None = None,
) -> OcclusionOutcome:
    """Run Captum's occlusion incrementally where possible.

    Arguments are those of ``Occlusion.attribute`` (``sliding_window_shapes`` as Captum's
    tuple), plus ``probability`` (score the softmax) and ``approximate`` (``True`` or an
    :class:`~attribkit.attr.incremental.approximate.Approximation`), and ``enabled``
    (``False``: do nothing, for ``Occlusion(..., incremental=False)``), and the batch limits
    ``memory_budget`` (bytes of activations per batch) and ``max_batch`` (occluded copies per
    batch; ``None``: 32 on the CPU, 256 on CUDA) that apply when ``perturbations_per_eval``
    is ``None``.

    Returns:
        The outcome; ``attributions`` is ``None`` when Captum's full passes must run.

    Raises:
        TypeError: ``approximate`` is neither a bool nor an ``Approximation``, or ``enabled``
            is not a bool.
        ValueError: ``memory_budget`` or ``max_batch`` is not a positive int.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        ...                     nn.Flatten(), nn.Linear(64, 2)).eval()
        >>> x = torch.rand(1, 3, 8, 8)
        >>> out = try_incremental_occlusion(net, x, (3, 2, 2), 2, target=1)
        >>> out.method, out.attributions.shape
        ('incremental', torch.Size([1, 3, 8, 8]))
        >>> try_incremental_occlusion(lambda z: net(z), x, (3, 2, 2), 2, target=1).reason
        'the forward function is not a model'
    """
    approx = _approximation(approximate)
    if not isinstance(enabled, bool):
        raise TypeError(f"incremental must be True or False, got {enabled!r}")
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 1:
        raise ValueError(f"memory_budget must be a positive int (bytes), got {memory_budget!r}")
    if max_batch is not None and (
        isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1
    ):
        raise ValueError(f"max_batch must be a positive int or None, got {max_batch!r}")
    if not enabled:
        return OcclusionOutcome("full", "the incremental path is switched off")
    try:
        model = _model(forward_func)
        if additional_forward_args is not None:
            raise NotIncremental("additional_forward_args are given")
        is_tuple = isinstance(inputs, tuple)
        if is_tuple and len(inputs) != 1:
            raise NotIncremental("more than one input tensor")
        x = inputs[0] if is_tuple else inputs
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
            raise NotIncremental("the input is not a floating-point N×C×H×W tensor")
        if perturbations_per_eval is not None and (
            isinstance(perturbations_per_eval, bool)
            or not isinstance(perturbations_per_eval, int)
            or perturbations_per_eval < 1
        ):
            raise NotIncremental("perturbations_per_eval is not a positive int")
        window, steps = check_window_args(x.shape[1:], sliding_window_shapes, strides)
        baseline = _baseline(baselines, x)
        n = x.shape[0]
        indices = [per_image_index(target, i, n) for i in range(n)]
        grid = WindowGrid(tuple(x.shape[1:]), window, steps)  # type: ignore[arg-type]
        limits = approx.limits() if approx is not None else None
        scorer = WindowScorer(
            model,
            x[:1],
            grid,
            limits,
            perturbations_per_eval,
            probability,
            memory_budget,
            max_batch,
        )
        maps = []
        for i in range(n):
            image, base = x[i : i + 1], baseline[i]
            if approx is not None:
                drops = drill_down(scorer, image, base, indices[i], approx, show_progress)
            else:
                drops = scorer.drops(image, base, indices[i], show_progress=show_progress)
            maps.append(grid.fold(drops))
    except NotIncremental as why:
        return OcclusionOutcome("full", str(why))
    except TargetError:  # the caller's check of the target on the model's first output
        raise
    except Exception as err:  # noqa: BLE001 - Captum's path reproduces genuine errors
        return OcclusionOutcome(
            "full", f"the incremental path failed ({type(err).__name__}: {err})"
        )
    result = torch.stack(maps)
    return OcclusionOutcome(
        "approximate" if approx is not None else "incremental",
        attributions=(result,) if is_tuple else result,
        batch_size=scorer.batch_size,
        cache_bytes=scorer.cache_bytes,
    )
