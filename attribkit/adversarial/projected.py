"""A parameterization that never leaves the budget ball around an image (for PGD).

:class:`ProjectedImage` holds pixels and, after every optimizer step, projects them onto the
set of images within ``epsilon`` of the original (L∞ or L2) that are valid images ([0, 1]).
Its forward pass also projects, with the gradient passed straight through, so that an optimizer
that evaluates between steps (L-BFGS's line search) only ever sees feasible images. Driven by
:class:`~attribkit.optvis.NormalizedGradient` (sign steps for L∞, normalized steps for L2) it
is projected gradient descent (Madry et al. 2018).
"""

from __future__ import annotations

import torch

from attribkit._checks import check_image_batch, check_positive_number
from attribkit.optvis.param import ImageParam

__all__ = ["ProjectedImage", "project", "NORMS"]

#: The budgets :class:`ProjectedImage` knows.
NORMS = ("linf", "l2")


def project(x: torch.Tensor, origin: torch.Tensor, epsilon: float, norm: str) -> torch.Tensor:
    """The image closest to ``x`` within ``epsilon`` of ``origin`` (per image) and in [0, 1].

    Examples:
        >>> import torch
        >>> project(torch.ones(1, 1, 1, 2), torch.zeros(1, 1, 1, 2), 0.25, "linf")
        tensor([[[[0.2500, 0.2500]]]])
    """
    d = x - origin
    if norm == "linf":
        d = d.clamp(-epsilon, epsilon)
    else:
        n = d.flatten(1).norm(dim=1).clamp_min(1e-12)
        d = d * (epsilon / n).clamp(max=1.0).view(-1, *([1] * (d.ndim - 1)))
    return (origin + d).clamp(0.0, 1.0)


class ProjectedImage(ImageParam):
    """Pixels kept within an L∞ or L2 ball of radius ``epsilon`` around ``origin``.

    Args:
        origin: ``N×C×H×W`` images in [0, 1], the centre of the ball.
        epsilon: the radius (per-pixel change for L∞, norm of the change for L2).
        norm: ``"linf"`` or ``"l2"``.
        start: where to start (projected into the ball); default: the origin itself.

    Examples:
        >>> import torch
        >>> p = ProjectedImage(torch.full((1, 3, 4, 4), 0.5), 0.1)
        >>> with torch.no_grad():
        ...     _ = p.pixels.add_(1.0)
        >>> p.post_step(); round(float(p().detach().max()), 4)
        0.6
    """

    origin: torch.Tensor

    def __init__(
        self,
        origin: torch.Tensor,
        epsilon: float,
        norm: str = "linf",
        *,
        start: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        origin = check_image_batch(origin, "origin", unit_range=True).detach()
        self.epsilon = check_positive_number(epsilon, "epsilon")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self.norm = norm
        self.shape = (
            int(origin.shape[0]),
            int(origin.shape[1]),
            int(origin.shape[2]),
            int(origin.shape[3]),
        )
        self.squash = "clamp"
        self.register_buffer("origin", origin.clone(), persistent=False)
        first = origin if start is None else project(start.detach().to(origin), origin, *self._ball)
        self.pixels = torch.nn.Parameter(first.clone())

    @property
    def _ball(self) -> tuple[float, str]:
        return self.epsilon, self.norm

    def forward(self) -> torch.Tensor:
        x = self.pixels
        # the value is projected, the gradient passes straight through (PGD's update)
        return x + (project(x.detach(), self.origin, *self._ball) - x.detach())

    def raw(self) -> torch.Tensor:
        return self.pixels

    @torch.no_grad()
    def set_raw(self, raw: torch.Tensor) -> None:
        self.pixels.copy_(project(raw.to(self.pixels), self.origin, *self._ball))

    @torch.no_grad()
    def post_step(self) -> None:
        self.pixels.copy_(project(self.pixels, self.origin, *self._ball))

    def extra_repr(self) -> str:
        return f"shape={self.shape}, epsilon={self.epsilon:g}, norm={self.norm!r}"
