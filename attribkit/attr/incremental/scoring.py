"""Score drops of occluded copies of one image, computed incrementally.

:class:`WindowScorer` ties a traced model, Captum's window grid and a plan together: for each
image it runs the unoccluded image once (:meth:`~attribkit.attr.incremental.engine.Plan.reference`)
and then evaluates the occluded copies in batches, returning ``f(x) - f(occluded)`` for the
selected output, as Captum's occlusion does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from attribkit._progress import progress_bar
from attribkit.attr.incremental.engine import IncrementalModel
from attribkit.attr.incremental.geometry import Limits
from attribkit.attr.incremental.plan import NotIncremental, Plan
from attribkit.attr.incremental.windows import WindowGrid

__all__ = ["WindowScorer", "check_window_args", "per_image_index", "select_output"]

#: default cap on occluded copies per batch (CPU, CUDA)
BATCH_CAP = {"cpu": 32, "cuda": 256}


def select_output(output: torch.Tensor, index: tuple[int, ...] | None) -> torch.Tensor:
    """The scores of ``output`` (``B×…``) at ``index`` per row (``None``: the output itself),
    as a ``(B,)`` tensor.

    Raises:
        NotIncremental: the selection does not give one score per row.

    Examples:
        >>> import torch
        >>> select_output(torch.arange(6.0).view(2, 3), (1,)).tolist()
        [1.0, 4.0]
    """
    picked = output if index is None else output[(slice(None), *index)]  # type: ignore[index]
    if picked.dim() != 1:
        raise NotIncremental("the selected output is not one score per example")
    return picked


class WindowScorer:
    """Score drops of Captum's occluded copies of images, computed incrementally.

    Args:
        model: the network, in eval mode.
        example: one ``1×C×H×W`` image of the size to occlude.
        grid: the windows.
        limits: exact (default) or Krypton's projective-field threshold.
        batch_size: occluded copies per batch (``None``: from ``memory_budget``, at most 32 on
            the CPU and 256 on CUDA).
        probability: score the softmax probability instead of the raw output.
        memory_budget: bytes one batch may use for its activations.
        max_batch: cap on ``batch_size`` when it is chosen (``None``: 32 CPU, 256 CUDA).

    Raises:
        NotIncremental: the model cannot run incrementally (the reason is the message).

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        ...                     nn.Flatten(), nn.Linear(4, 2)).eval()
        >>> x = torch.rand(1, 3, 12, 12)
        >>> grid = WindowGrid((3, 12, 12), (3, 4, 4), (3, 4, 4))
        >>> scorer = WindowScorer(net, x, grid)
        >>> scorer.drops(x, torch.zeros(3, 12, 12), (1,)).shape
        torch.Size([9])
    """

    def __init__(
        self,
        model: nn.Module,
        example: torch.Tensor,
        grid: WindowGrid,
        limits: Limits | None = None,
        batch_size: int | None = None,
        probability: bool = False,
        memory_budget: int = 1 << 30,
        max_batch: int | None = None,
    ) -> None:
        self.model = model
        self.grid = grid
        self.engine = IncrementalModel(model, example)
        self.boxes = grid.boxes()
        self.plan: Plan = self.engine.plan(self.boxes, limits)
        self.probability = probability
        if batch_size is None:
            cap = max_batch or BATCH_CAP["cuda" if example.is_cuda else "cpu"]
            per_copy = max(self._bytes_per_copy(example.element_size()), 1)
            batch_size = max(1, min(cap, memory_budget // per_copy))
        self.batch_size = int(batch_size)
        #: bytes of cached activations of the last image
        self.cache_bytes = 0

    def _bytes_per_copy(self, element: int) -> int:
        largest = 0
        for node, shape in self.engine.shapes.items():
            if len(shape) == 0 or shape[0] != 1:
                continue
            boxes = self.plan.boxes.get(node)
            numel = shape[1:].numel()
            if boxes is not None and len(shape) == 4:
                numel = shape[1] * boxes.height * boxes.width
            largest = max(largest, numel)
        return 4 * largest * element

    def scores(self, output: Any, index: tuple[int, ...] | None) -> torch.Tensor:
        """Selected ``(B,)`` scores of a model output."""
        if not isinstance(output, torch.Tensor):
            raise NotIncremental("the model does not return a tensor")
        if self.probability:
            output = output.softmax(dim=-1)
        return select_output(output, index)

    def drops(
        self,
        image: torch.Tensor,
        baseline: torch.Tensor,
        index: tuple[int, ...] | None,
        positions: torch.Tensor | None = None,
        show_progress: bool | None = False,
        expected: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``f(image) - f(occluded copy)`` at each window position.

        Args:
            image: ``1×C×H×W``.
            baseline: ``C×H×W`` replacement values.
            index: the output index scored (see :func:`select_output`).
            positions: ``(B,)`` window positions (default all, in grid order).
            show_progress: draw a progress bar over batches.
            expected: the model's own output on ``image`` (computed if not given).

        Returns:
            ``(len(positions),)`` drops, in the output's dtype.
        """
        with torch.no_grad():
            if expected is None:
                expected = self.model(image)
            base = self.scores(expected, index)
            ref = self.plan.reference(image, expected)
            self.cache_bytes = ref.nbytes
            if positions is None:
                positions = torch.arange(len(self.grid))
            pieces = []
            starts = range(0, len(positions), self.batch_size)
            for start in progress_bar(starts, show_progress=show_progress, desc="occlusion"):
                pos = positions[start : start + self.batch_size]
                box = self.grid.occluded(image[0], baseline, self.boxes, pos)
                out = self.plan.evaluate(ref, box, pos)
                pieces.append(base - self.scores(out, index))
            return torch.cat(pieces) if pieces else base.new_zeros(0)


def per_image_index(target: Any, n: int, batch: int) -> tuple[int, ...] | None:
    """The output index that Captum's ``target`` selects for example ``n`` of ``batch``.

    Raises:
        NotIncremental: a form this path does not take (Captum's own path handles it).

    Examples:
        >>> per_image_index([3, 5], 1, 2), per_image_index(7, 0, 4), per_image_index(None, 0, 1)
        ((5,), (7,), None)
    """
    if target is None:
        return None
    if isinstance(target, bool):
        raise NotIncremental("a boolean target")
    if isinstance(target, int):
        return (target,)
    if isinstance(target, tuple) and all(_is_int(t) for t in target):
        return tuple(int(t) for t in target)
    if isinstance(target, torch.Tensor) and not target.is_floating_point():
        if target.numel() == 1:
            return (int(target.reshape(-1)[0]),)
        if target.dim() == 1 and target.numel() == batch and bool((target >= 0).all()):
            return (int(target[n]),)
    if isinstance(target, list) and len(target) == batch:
        item = target[n]
        if _is_int(item) and all(_is_int(t) and t >= 0 for t in target):
            return (int(item),)
        if isinstance(item, tuple) and all(_is_int(t) for t in item):
            return tuple(int(t) for t in item)
    raise NotIncremental(f"target {target!r} is not a form the incremental path takes")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_window_args(
    shape: Sequence[int], window: Any, strides: Any
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Captum's window and strides for one ``C×H×W`` input as two 3-tuples.

    Raises:
        NotIncremental: another form (Captum's own path checks and handles it).

    Examples:
        >>> check_window_args((3, 32, 32), ((3, 8, 8),), 4)
        ((3, 8, 8), (4, 4, 4))
    """
    if isinstance(window, tuple) and len(window) == 1 and isinstance(window[0], tuple):
        window = window[0]
    if isinstance(strides, tuple) and len(strides) == 1:
        strides = strides[0]
    if strides is None:
        strides = 1
    if _is_int(strides):
        strides = (strides,) * 3
    ok = (
        isinstance(window, tuple)
        and len(window) == 3
        and all(_is_int(v) for v in window)
        and isinstance(strides, tuple)
        and len(strides) == 3
        and all(_is_int(v) and v > 0 for v in strides)
    )
    if not ok:
        raise NotIncremental("window or strides in a form the incremental path does not take")
    for size, win, step in zip(shape, window, strides):
        if not 0 < win <= size or (win < size and step > win):
            raise NotIncremental("Captum refuses this window or stride")
    return window, strides  # type: ignore[return-value]
