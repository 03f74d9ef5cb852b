"""Fooling images (Szegedy 2014; Goodfellow 2015): change an image of class A, imperceptibly,
until the network calls it class B.

:class:`FoolingImage` runs projected iterative ascent under an L∞ or L2 budget around the
original image, either on the target's score (``method="score"``) or on the cross-entropy
(``method="pgd"``, the update of Madry et al.'s PGD, checked against ``captum.robust.PGD``). Each
image stops as soon as it is fooled: the target's probability reaches ``threshold`` (targeted),
or the predicted class changes (untargeted). :func:`fooling_figure` draws the lecture's picture
(original, fooled, magnified difference) and :func:`fooling_sweep` measures the success rate
against the budget on a set of images.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_image_batch, check_positive_int, check_target
from attribkit._progress import progress_bar
from attribkit.layers import frozen

__all__ = [
    "FoolingImage",
    "FoolingReport",
    "SweepResult",
    "fooling_figure",
    "fooling_sweep",
]


@dataclass
class FoolingReport:
    """What one :meth:`FoolingImage.perturb` call did, per image.

    Attributes:
        success: fooled within the budget, ``(N,)`` bool.
        steps: gradient steps taken until fooled (or the budget of steps), ``(N,)``.
        linf: L∞ norm of the change, ``(N,)`` (pixel range 1).
        l2: L2 norm of the change, ``(N,)``.
        target: the target class per image (``-1`` when untargeted).
        original_class: the class predicted on the original image.
        prob_before: the target's probability on the original (untargeted: the original class's).
        prob_after: the same probability on the returned image.
        predicted_after: the class predicted on the returned image.
        prob_predicted_after: its probability.
        seed: seed of the random start.
        norm: ``"linf"`` or ``"l2"``.
        epsilon: the budget.
        method: ``"score"`` or ``"pgd"``.
        seconds: wall time.
    """

    success: torch.Tensor
    steps: torch.Tensor
    linf: torch.Tensor
    l2: torch.Tensor
    target: torch.Tensor
    original_class: torch.Tensor
    prob_before: torch.Tensor
    prob_after: torch.Tensor
    predicted_after: torch.Tensor
    prob_predicted_after: torch.Tensor
    seed: int = 0
    norm: str = "linf"
    epsilon: float = 0.0
    method: str = "score"
    seconds: float = 0.0

    @property
    def success_rate(self) -> float:
        """Fraction of images fooled."""
        return float(self.success.float().mean())

    def summary(self, index: int = 0) -> str:
        """One line describing image ``index``."""
        tgt = int(self.target[index])
        what = f"target {tgt}" if tgt >= 0 else "untargeted"
        return (
            f"{what}: {'fooled' if bool(self.success[index]) else 'not fooled'} after "
            f"{int(self.steps[index])} steps, p {float(self.prob_before[index]):.3f} -> "
            f"{float(self.prob_after[index]):.3f}, predicted {int(self.predicted_after[index])}, "
            f"L∞ {float(self.linf[index]) * 255:.2f}/255, L2 {float(self.l2[index]):.3f}"
        )


@dataclass
class SweepResult:
    """Success rate against budget (see :func:`fooling_sweep`).

    Attributes:
        epsilons: the budgets tried.
        success_rate: fraction of images fooled at each budget.
        median_linf: median L∞ of the successful changes at each budget (NaN if none).
        reports: the per-budget reports.
    """

    epsilons: list[float]
    success_rate: list[float]
    median_linf: list[float]
    reports: list[FoolingReport] = field(default_factory=list)


def _project(x: torch.Tensor, x0: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    d = x - x0
    if norm == "linf":
        d = d.clamp(-eps, eps)
    else:
        n = d.flatten(1).norm(dim=1).clamp_min(1e-12)
        d = d * (eps / n).clamp(max=1.0).view(-1, *([1] * (d.ndim - 1)))
    return (x0 + d).clamp(0.0, 1.0)


class FoolingImage:
    """Make images that the model misclassifies.

    Args:
        model: a classifier taking ``[0, 1]`` images.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))  # logits: s and 6 - s, s = Σx
        >>> with torch.no_grad():
        ...     _ = net[1].weight.copy_(torch.stack([torch.ones(12), -torch.ones(12)]))
        ...     _ = net[1].bias.copy_(torch.tensor([0.0, 6.0]))
        >>> x = torch.full((1, 3, 2, 2), 0.3)  # class 0 (3.6 > 2.4)
        >>> fooled, rep = FoolingImage(net).perturb(x, 1, epsilon=0.2, step_size=0.05,
        ...                                         threshold=0.6, show_progress=False)
        >>> bool(rep.success[0]), int(rep.steps[0]), round(float(rep.linf[0]), 2)
        (True, 2, 0.1)
    """

    def __init__(self, model: nn.Module) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.model = model

    def perturb(
        self,
        image: torch.Tensor,
        target_class: int | str | Sequence[int] | None = None,
        *,
        norm: str = "linf",
        epsilon: float | None = None,
        step_size: float | None = None,
        steps: int = 100,
        threshold: float = 0.9,
        method: str = "score",
        random_start: bool = False,
        seed: int = 0,
        show_progress: bool | None = None,
    ) -> tuple[torch.Tensor, FoolingReport]:
        """Change ``image`` until the model predicts ``target_class`` (or anything else).

        Args:
            image: ``N×C×H×W`` in [0, 1] (not modified).
            target_class: the class to reach (index, ImageNet name, or one per image);
                ``None`` for an untargeted attack (leave the originally predicted class).
            norm: ``"linf"`` (sign steps) or ``"l2"`` (L2-normalized steps).
            epsilon: the budget: max change per pixel (L∞) or L2 norm of the change; default
                8/255 for L∞, 3.0 for L2.
            step_size: the step (default ``epsilon / 10``).
            steps: maximum number of steps.
            threshold: targeted success is ``p(target) >= threshold``.
            method: ``"score"`` (ascend the target's logit; untargeted: descend the original
                class's) or ``"pgd"`` (descend/ascend the cross-entropy).
            random_start: start from a uniform random point of the budget ball.
            seed: seed of the random start (a local generator).
            show_progress: show a progress bar.

        Returns:
            ``(fooled_images, report)``; each image is the first point where it was fooled, or
            the last point tried.
        """
        x0 = check_image_batch(image, "image", unit_range=True).detach()
        if norm not in ("linf", "l2"):
            raise ValueError(f"norm must be 'linf' or 'l2', got {norm!r}")
        if method not in ("score", "pgd"):
            raise ValueError(f"method must be 'score' or 'pgd', got {method!r}")
        eps = (8 / 255 if norm == "linf" else 3.0) if epsilon is None else float(epsilon)
        if not eps > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        alpha = eps / 10 if step_size is None else float(step_size)
        if not alpha > 0:
            raise ValueError(f"step_size must be > 0, got {step_size}")
        steps = check_positive_int(steps, "steps")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
        n = x0.shape[0]
        start = time.perf_counter()
        with frozen(self.model):
            # without a random start, the first step's forward pass also scores the original
            first: tuple[torch.Tensor, torch.Tensor] | None = None
            if random_start:
                with torch.no_grad():
                    out0 = self.model(x0)
            else:
                xg0 = x0.clone().requires_grad_(True)
                out0 = self.model(xg0)
                first = (xg0, out0)
                out0 = out0.detach()
            if out0.ndim != 2:
                raise ValueError(f"the model must return N×classes scores, got {out0.shape}")
            n_classes = out0.shape[1]
            orig = out0.argmax(1)
            targeted = target_class is not None
            tgt = (
                self._targets(target_class, n, n_classes, x0.device)
                if target_class is not None
                else orig
            )
            p0 = torch.softmax(out0.float(), 1)
            prob_before = p0.gather(1, tgt.view(-1, 1)).squeeze(1)

            x = x0.clone()
            if random_start:
                g = torch.Generator().manual_seed(seed)
                if norm == "linf":
                    noise = (torch.rand(x0.shape, generator=g, dtype=x0.dtype) * 2 - 1) * eps
                else:
                    u = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
                    u = u / u.flatten(1).norm(dim=1).view(-1, *([1] * (x0.ndim - 1)))
                    r = torch.rand(n, generator=g, dtype=x0.dtype) ** (1.0 / x0[0].numel())
                    noise = u * (r * eps).view(-1, *([1] * (x0.ndim - 1)))
                x = _project(x0 + noise.to(x0.device), x0, eps, norm)
            done = torch.zeros(n, dtype=torch.bool, device=x0.device)
            taken = torch.zeros(n, dtype=torch.long)
            best = x.clone()
            best_probs = torch.zeros(n, n_classes, device=x0.device)
            pbar = progress_bar(total=steps, desc="fooling", show_progress=show_progress)
            try:
                for step in range(steps + 1):
                    if step == 0 and first is not None:
                        xg, out = first
                    else:
                        xg = x.detach().requires_grad_(True)
                        out = self.model(xg)
                    probs = torch.softmax(out.detach().float(), 1)
                    if targeted:
                        ok = probs.gather(1, tgt.view(-1, 1)).squeeze(1) >= threshold
                    else:
                        ok = probs.argmax(1) != orig
                    newly = ok & ~done
                    best[newly] = x[newly].detach()
                    best_probs[newly] = probs[newly]
                    taken[newly.cpu()] = step
                    done |= ok
                    if bool(done.all()) or step == steps:
                        break
                    score = self._score(out, tgt, targeted, method)
                    (grad,) = torch.autograd.grad(score.sum(), xg)
                    if norm == "linf":
                        d = grad.sign()
                    else:
                        gn = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
                        d = grad / gn.view(-1, *([1] * (grad.ndim - 1)))
                    active = (~done).view(-1, *([1] * (x.ndim - 1))).to(x.dtype)
                    x = _project(x.detach() + alpha * d * active, x0, eps, norm)
                    pbar.update(1)
            finally:
                pbar.close()
            last = ~done
            best[last] = x[last].detach()
            best_probs[last] = probs[last]
            taken[last.cpu()] = steps
        p1 = best_probs
        diff = (best - x0).flatten(1)
        report = FoolingReport(
            success=done.cpu(),
            steps=taken,
            linf=diff.abs().amax(1).cpu(),
            l2=diff.norm(dim=1).cpu(),
            target=(tgt if targeted else torch.full_like(tgt, -1)).cpu(),
            original_class=orig.cpu(),
            prob_before=prob_before.cpu(),
            prob_after=p1.gather(1, tgt.view(-1, 1)).squeeze(1).cpu(),
            predicted_after=p1.argmax(1).cpu(),
            prob_predicted_after=p1.max(1).values.cpu(),
            seed=seed,
            norm=norm,
            epsilon=eps,
            method=method,
            seconds=time.perf_counter() - start,
        )
        return best, report

    @staticmethod
    def _score(out: torch.Tensor, tgt: torch.Tensor, targeted: bool, method: str) -> torch.Tensor:
        """Per-image score to ascend."""
        if method == "pgd":
            ce = F.cross_entropy(out, tgt, reduction="none")
            return -ce if targeted else ce
        logit = out.gather(1, tgt.view(-1, 1)).squeeze(1)
        return logit if targeted else -logit

    @staticmethod
    def _targets(
        target: int | str | Sequence[int], n: int, n_classes: int, device: torch.device
    ) -> torch.Tensor:
        if isinstance(target, str):
            from attribkit.models import class_index

            target = class_index(target, n_classes)
        if isinstance(target, torch.Tensor):
            check_target(target, n_classes, n)
            t = target.flatten().to(device)
        elif isinstance(target, (list, tuple)):
            check_target(list(target), n_classes, n)
            t = torch.as_tensor(list(target), device=device)
        else:
            check_target(target, n_classes, n)
            t = torch.as_tensor([target], device=device)
        return t.expand(n).clone() if t.numel() == 1 else t


def fooling_figure(
    original: torch.Tensor, fooled: torch.Tensor, magnify: float | str = 10.0
) -> torch.Tensor:
    """The lecture's picture: original | fooled | difference (×``magnify`` around grey, or
    ``"normalize"`` to stretch it to the full range), as one ``3×H×(3W+pad)`` image.

    Examples:
        >>> import torch
        >>> fooling_figure(torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.01)).shape
        torch.Size([3, 12, 32])
    """
    from attribkit.viz import make_grid

    a = check_image_batch(original, "original", unit_range=True)[0]
    b = check_image_batch(fooled, "fooled", unit_range=True)[0]
    if a.shape != b.shape:
        raise ValueError(f"original {tuple(a.shape)} and fooled {tuple(b.shape)} differ in shape")
    d = b - a
    if magnify == "normalize":
        m = float(d.abs().max())
        diff = 0.5 + 0.5 * d / m if m > 0 else torch.full_like(d, 0.5)
    elif isinstance(magnify, (int, float)) and magnify > 0:
        diff = (0.5 + magnify * d).clamp(0, 1)
    else:
        raise ValueError(f"magnify must be a positive number or 'normalize', got {magnify!r}")
    return make_grid([a, b, diff], nrow=3)


def fooling_sweep(
    model: nn.Module,
    images: torch.Tensor,
    target_class: int | str | Sequence[int] | None,
    epsilons: Sequence[float],
    **kwargs: object,
) -> SweepResult:
    """Success rate against the budget ε, as robustness evaluations report it.

    Runs :meth:`FoolingImage.perturb` once per ε on all ``images`` (keyword arguments are
    passed on; ``step_size`` defaults to ``ε / 10`` for each ε).

    Args:
        model: the classifier.
        images: ``N×C×H×W`` in [0, 1].
        target_class: as in :meth:`FoolingImage.perturb` (``None``: untargeted).
        epsilons: the budgets, e.g. ``[1/255, 2/255, 4/255, 8/255]``.
        **kwargs: options of :meth:`FoolingImage.perturb`.

    Returns:
        A :class:`SweepResult`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        >>> res = fooling_sweep(net, torch.rand(4, 3, 2, 2), 1, [0.01, 0.5], steps=20,
        ...                     threshold=0.5, show_progress=False)
        >>> res.success_rate[0] <= res.success_rate[1]
        True
    """
    eps_list = [float(e) for e in epsilons]
    if not eps_list or any(not e > 0 for e in eps_list):
        raise ValueError(f"epsilons must be a non-empty list of positive budgets, got {epsilons}")
    fooler = FoolingImage(model)
    rates, medians, reports = [], [], []
    for e in eps_list:
        _, rep = fooler.perturb(images, target_class, epsilon=e, **kwargs)  # type: ignore[arg-type]
        reports.append(rep)
        rates.append(rep.success_rate)
        ok = rep.linf[rep.success]
        medians.append(float(ok.median()) if ok.numel() else float("nan"))
    return SweepResult(eps_list, rates, medians, reports)
