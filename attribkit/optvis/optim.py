"""Normalized-gradient ascent, the step rule of Yosinski 2015 and of DeepDream.

The gradient is divided by its norm (per image) before the step, so the step size is the same in
every region of the loss landscape: ``x ← x - lr · g / ‖g‖``. ``norm="l1"`` divides by the mean
absolute value (DeepDream's notebook), ``"l2"`` by the RMS value, ``"linf"`` takes the sign
(FGSM-like). An optional ``decay`` shrinks the parameters towards ``center`` after each step
(Yosinski's L2 decay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from attribkit._checks import check_positive_number

__all__ = ["NormalizedGradient"]


class NormalizedGradient(torch.optim.Optimizer):
    """Gradient descent with the gradient normalized per image (first dimension).

    Args:
        params: the tensors to update.
        lr: step size in normalized units (e.g. 0.01–0.02 of the pixel range).
        norm: ``"l1"`` (mean |g|), ``"l2"`` (RMS of g) or ``"linf"`` (sign of g).
        decay: fraction by which ``x - center`` shrinks after each step.
        center: the value decay pulls towards.

    Examples:
        >>> x = torch.zeros(1, 4, requires_grad=True)
        >>> opt = NormalizedGradient([x], lr=0.1, norm="linf")
        >>> (-x.sum()).backward(); _ = opt.step()
        >>> x.detach()
        tensor([[0.1000, 0.1000, 0.1000, 0.1000]])
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 0.01,
        norm: str = "l2",
        decay: float = 0.0,
        center: float = 0.0,
    ) -> None:
        lr = check_positive_number(lr, "lr")
        if norm not in ("l1", "l2", "linf"):
            raise ValueError(f"norm must be 'l1', 'l2' or 'linf', got {norm!r}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must lie in [0, 1), got {decay}")
        super().__init__(params, {"lr": lr, "norm": norm, "decay": decay, "center": center})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Take one step (``closure`` re-evaluates the loss, as for any optimizer)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                flat = g.reshape(g.shape[0], -1) if g.ndim > 1 else g.reshape(1, -1)
                if group["norm"] == "linf":
                    d = g.sign()
                else:
                    if group["norm"] == "l1":
                        scale = flat.abs().mean(1)
                    else:
                        scale = flat.pow(2).mean(1).sqrt()
                    shape = (-1,) + (1,) * (g.ndim - 1) if g.ndim > 1 else (1,)
                    d = g / (scale.view(shape) + 1e-12)
                p.add_(d, alpha=-group["lr"])
                if group["decay"]:
                    c = group["center"]
                    p.sub_(p - c, alpha=group["decay"])
        return loss
