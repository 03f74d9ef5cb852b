"""Krypton's approximate occlusion: projective-field thresholding and adaptive drill-down,
and how far an approximate map is from the exact one.

- **Projective-field thresholding** (:attr:`Approximation.threshold`): a changed box never
  grows past a fraction of its feature map's side; beyond it the unoccluded activations are
  used, which is close where a patch's influence fades with distance.
- **Adaptive drill-down** (:attr:`Approximation.coarse`, :attr:`Approximation.drill`): score
  every ``coarse``-th window position per axis first, interpolate the rest, then score exactly
  the positions whose interpolated drop is largest in magnitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from attribkit.attr.incremental.geometry import Limits
from attribkit.attr.incremental.plan import NotIncremental
from attribkit.attr.incremental.scoring import WindowScorer

__all__ = ["Agreement", "Approximation", "drill_down", "map_agreement"]


@dataclass(frozen=True)
class Approximation:
    """Settings of the approximate mode (``Occlusion.attribute(..., approximate=...)``).

    The defaults are the measured best trade on EfficientNet-Lite0 (``docs/performance.md``):
    the drill-down alone; thresholding lowered the correlation more than it saved time there.

    Args:
        threshold: projective-field threshold *τ* in (0, 1]: the largest box side, as a
            fraction of each feature map's side (``1.0``, the default, keeps boxes exact).
        coarse: the first pass scores every ``coarse``-th window position along each axis
            (``1`` skips the drill-down).
        drill: the fraction of the remaining positions scored exactly in the second pass,
            those with the largest interpolated drop in magnitude, in [0, 1].

    Examples:
        >>> Approximation(threshold=0.8).limits().threshold
        0.8
        >>> Approximation(coarse=1).drill_down
        False
    """

    threshold: float = 1.0
    coarse: int = 2
    drill: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.coarse, bool) or not isinstance(self.coarse, int) or self.coarse < 1:
            raise ValueError(f"coarse must be a positive int, got {self.coarse!r}")
        if (
            isinstance(self.drill, bool)
            or not isinstance(self.drill, (int, float))
            or not math.isfinite(self.drill)
            or not 0 <= self.drill <= 1
        ):
            raise ValueError(f"drill must be a number in [0, 1], got {self.drill!r}")
        Limits(threshold=self.threshold)  # checks the threshold

    def limits(self) -> Limits:
        """The box limits of this approximation."""
        return Limits(threshold=self.threshold)

    @property
    def drill_down(self) -> bool:
        """Whether a coarse pass comes first."""
        return self.coarse > 1


def _coarse_indices(n: int, step: int) -> torch.Tensor:
    return torch.tensor(sorted(set(range(0, n, step)) | {n - 1}))


def _interpolate(values: torch.Tensor, known: torch.Tensor, n: int, dim: int) -> torch.Tensor:
    """Linear interpolation along ``dim`` from the positions ``known`` to ``0..n-1``."""
    if len(known) == 1:
        shape = list(values.shape)
        shape[dim] = n
        return values.expand(*shape).clone()
    fine = torch.arange(n)
    seg = (torch.searchsorted(known, fine, right=True) - 1).clamp(0, len(known) - 2)
    lo, hi = known[seg], known[seg + 1]
    t = ((fine - lo).to(values.dtype) / (hi - lo).to(values.dtype)).to(values.device)
    a, b = (
        values.index_select(dim, seg.to(values.device)),
        values.index_select(dim, (seg + 1).to(values.device)),
    )
    shape = [1] * values.dim()
    shape[dim] = n
    t = t.view(shape)
    return a * (1 - t) + b * t


def drill_down(
    scorer: WindowScorer,
    image: torch.Tensor,
    baseline: torch.Tensor,
    index: tuple[int, ...] | None,
    approximation: Approximation,
    show_progress: bool | None = False,
) -> torch.Tensor:
    """Estimated drops at every window position: scored at a coarse stride, interpolated,
    and scored again where the estimate is largest in magnitude.

    Args:
        scorer: built with ``approximation.limits()``.
        image: ``1×C×H×W``.
        baseline: ``C×H×W``.
        index: the output index scored.
        approximation: the settings.
        show_progress: progress bars.

    Returns:
        ``(P,)`` drops in grid order (exact at the scored positions).

    Raises:
        NotIncremental: the windows do not cover all channels.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from attribkit.attr.incremental import WindowGrid, WindowScorer
        >>> net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.LazyLinear(2)).eval()
        >>> x = torch.rand(1, 3, 16, 16); _ = net(x)
        >>> grid = WindowGrid((3, 16, 16), (3, 4, 4), (3, 2, 2))
        >>> settings = Approximation(threshold=1.0, coarse=2, drill=0.5)
        >>> scorer = WindowScorer(net, x, grid, settings.limits())
        >>> drill_down(scorer, x, torch.zeros(3, 16, 16), (0,), settings).shape
        torch.Size([49])
    """
    nc, nh, nw = scorer.grid.counts
    if nc != 1:
        raise NotIncremental("the approximate mode needs windows over all channels")
    if not approximation.drill_down:
        return scorer.drops(image, baseline, index, show_progress=show_progress)
    rows = _coarse_indices(nh, approximation.coarse)
    cols = _coarse_indices(nw, approximation.coarse)
    first = (rows[:, None] * nw + cols[None, :]).reshape(-1)
    with torch.no_grad():
        expected = scorer.model(image)
    coarse = scorer.drops(image, baseline, index, first, show_progress, expected)
    grid = coarse.view(len(rows), len(cols))
    estimate = _interpolate(_interpolate(grid, rows, nh, 0), cols, nw, 1).reshape(-1)
    scored = torch.zeros(nh * nw, dtype=torch.bool)
    scored[first] = True
    rest = (~scored).nonzero().view(-1)
    count = math.ceil(approximation.drill * len(rest))
    if count:
        order = estimate[rest.to(estimate.device)].abs().argsort(descending=True)[:count]
        chosen = rest[order.cpu()].sort().values
        exact = scorer.drops(image, baseline, index, chosen, show_progress, expected)
        estimate[chosen.to(estimate.device)] = exact
    estimate[first.to(estimate.device)] = coarse
    return estimate


@dataclass(frozen=True)
class Agreement:
    """How close an approximate occlusion map is to the exact one (mean over images).

    Attributes:
        correlation: Pearson correlation of the maps (channels averaged).
        top_overlap: the share of the exact map's top-``top`` pixels that are also in the
            approximate map's top-``top``.
        max_error: the largest absolute difference over the exact map's largest magnitude.

    Examples:
        >>> Agreement(0.99, 0.9, 0.05).correlation
        0.99
    """

    correlation: float
    top_overlap: float
    max_error: float


def _pearson(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = float(a.norm() * b.norm())
    if denom == 0.0:
        return 1.0 if torch.equal(a, b) else 0.0
    return float((a * b).sum()) / denom


def map_agreement(approximate: torch.Tensor, exact: torch.Tensor, top: float = 0.1) -> Agreement:
    """Compare two ``N×C×H×W`` attribution maps.

    Args:
        approximate: the approximate map.
        exact: the exact map.
        top: the fraction of pixels that counts as "most important", in (0, 1].

    Examples:
        >>> import torch
        >>> a = torch.arange(16.0).view(1, 1, 4, 4)
        >>> map_agreement(a, a).correlation
        1.0
    """
    if not isinstance(approximate, torch.Tensor) or not isinstance(exact, torch.Tensor):
        raise TypeError("map_agreement takes two tensors")
    if approximate.shape != exact.shape or exact.dim() != 4:
        raise ValueError(
            f"maps must be N×C×H×W of the same shape, got {tuple(approximate.shape)} and "
            f"{tuple(exact.shape)}"
        )
    if not isinstance(top, (int, float)) or not math.isfinite(top) or not 0 < top <= 1:
        raise ValueError(f"top must be a number in (0, 1], got {top!r}")
    if not (torch.isfinite(approximate).all() and torch.isfinite(exact).all()):
        raise ValueError("maps must be finite (no NaN or inf)")
    corr, overlap, error = [], [], []
    for a, e in zip(approximate.double().mean(1), exact.double().mean(1)):
        corr.append(_pearson(a.flatten(), e.flatten()))
        k = max(1, math.ceil(top * e.numel()))
        sa = set(a.flatten().topk(k).indices.tolist())
        se = set(e.flatten().topk(k).indices.tolist())
        overlap.append(len(sa & se) / k)
        scale = float(e.abs().max())
        error.append(float((a - e).abs().max()) / scale if scale else float((a - e).abs().max()))
    n = len(corr)
    return Agreement(sum(corr) / n, sum(overlap) / n, max(error))
