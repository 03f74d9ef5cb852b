"""Fooling images (Szegedy 2014; Goodfellow 2015): change an image of class A, imperceptibly,
until the network calls it class B.

:class:`FoolingImage` runs projected iterative ascent under an L∞ or L2 budget around the
original image, either on the target's score (``method="score"``) or on the cross-entropy
(``method="pgd"``, the update of Madry et al.'s PGD, checked against ``captum.robust.PGD``). It
stands on the shared synthesis base: the image is a :class:`~attribkit.adversarial.ProjectedImage`
(never outside the budget ball) driven by the normalized-gradient step
(:class:`~attribkit.optvis.NormalizedGradient`: sign steps for L∞, unit-norm steps for L2). Each
image stops as soon as it is fooled: the target's probability reaches ``threshold`` (targeted),
or the predicted class changes (untargeted). :func:`fooling_figure` draws the lecture's picture
(original, fooled, magnified difference) and :func:`fooling_sweep` measures the success rate
against the budget on a set of images.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import check_image_batch, check_positive_number, check_target
from attribkit.adversarial.projected import NORMS, ProjectedImage, project
from attribkit.layers import frozen
from attribkit.optvis import ImageSynthesis, NormalizedGradient, OptimizationResult, Problem
from attribkit.optvis.loop import OptimizationState
from attribkit.optvis.objectives import Objective, ObjectiveContext
from attribkit.optvis.synthesis import RunOptions, SynthesisResult

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from attribkit.optvis import SynthesisOptions

__all__ = [
    "FoolingImage",
    "FoolingReport",
    "SweepResult",
    "fooling_figure",
    "fooling_sweep",
]


@dataclass
class FoolingReport:
    """What one :meth:`FoolingImage.run` did, per image (``run(...).extras["report"]``).

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


_METHODS = ("score", "pgd")


@dataclass
class _Request:
    origin: torch.Tensor
    target: torch.Tensor
    targeted: bool
    original_class: torch.Tensor
    prob_before: torch.Tensor
    norm: str
    epsilon: float
    lr: float
    threshold: float
    method: str
    random_start: bool
    seed: int
    tracker: _Tracker = field(init=False)


class _Tracker:
    """Per image: fooled yet, the first fooled image, its probabilities, the step it took."""

    def __init__(self, req: _Request, n_classes: int) -> None:
        n, device = req.origin.shape[0], req.origin.device
        self.req = req
        self.step = 0
        self.done = torch.zeros(n, dtype=torch.bool, device=device)
        self.images = req.origin.clone()
        self.probs = torch.zeros(n, n_classes, device=device)
        self.taken = torch.zeros(n, dtype=torch.long)

    def see(self, images: torch.Tensor, out: torch.Tensor, *, final: bool = False) -> None:
        probs = torch.softmax(out.detach().float(), 1)
        if self.req.targeted:
            ok = probs.gather(1, self.req.target.view(-1, 1)).squeeze(1) >= self.req.threshold
        else:
            ok = probs.argmax(1) != self.req.original_class
        newly = ok & ~self.done
        if final:  # the last point tried stands for the images never fooled
            newly = newly | ~self.done
        self.images[newly] = images[newly].detach()
        self.probs[newly] = probs[newly]
        self.taken[newly.cpu()] = self.step
        self.done |= ok

    def after_step(self, step: int, state: OptimizationState) -> None:
        self.step = step
        if bool(self.done.all()):
            raise StopIteration


class FoolingImage(ImageSynthesis[_Request]):
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
        >>> res = FoolingImage(net).run(x, 1, epsilon=0.2, lr=0.05, threshold=0.6,
        ...                             show_progress=False)
        >>> rep = res.extras["report"]
        >>> bool(rep.success[0]), int(rep.steps[0]), round(float(rep.linf[0]), 2)
        (True, 2, 0.1)
    """

    default_steps = 100
    perturb = ImageSynthesis.images
    """The verb: ``run(...).images`` with the same arguments as :meth:`run`, ``N×C×H×W`` in
    [0, 1]."""

    def run(
        self,
        image: torch.Tensor,
        target: int | str | Sequence[int] | torch.Tensor | None = None,
        *,
        norm: str = "linf",
        epsilon: float | None = None,
        threshold: float = 0.9,
        method: str = "score",
        random_start: bool = False,
        **options: Unpack[SynthesisOptions],
    ) -> SynthesisResult:
        """Change ``image`` until the model predicts ``target`` (or anything else).

        Args:
            image: ``N×C×H×W`` in [0, 1] (not modified).
            target: the class to reach (index, ImageNet name, or one per image); ``None`` for
                an untargeted attack (leave the originally predicted class).
            norm: ``"linf"`` (sign steps) or ``"l2"`` (unit-norm steps).
            epsilon: the budget: max change per pixel (L∞) or L2 norm of the change; default
                8/255 for L∞, 3.0 for L2.
            threshold: targeted success is ``p(target) >= threshold``.
            method: ``"score"`` (ascend the target's logit; untargeted: descend the original
                class's) or ``"pgd"`` (descend/ascend the cross-entropy).
            random_start: start from a uniform random point of the budget ball.
            **options: the common keywords (:class:`~attribkit.optvis.SynthesisOptions`); ``steps``
                default 100; ``lr`` is the step (default ``epsilon / 10``: per pixel for L∞, in norm
                for L2); ``optimizer`` replaces the normalized-gradient step.

        Returns:
            A :class:`~attribkit.optvis.SynthesisResult`: each image is the first point where it
            was fooled, or the last point tried; ``extras["report"]`` is a
            :class:`FoolingReport`.
        """
        run_options = self._options(options)
        x0 = self._to_model(check_image_batch(image, "image", unit_range=True))
        if norm not in NORMS:
            raise ValueError(f"norm must be 'linf' or 'l2', got {norm!r}")
        if method not in _METHODS:
            raise ValueError(f"method must be 'score' or 'pgd', got {method!r}")
        eps = (8 / 255 if norm == "linf" else 3.0) if epsilon is None else epsilon
        eps = check_positive_number(eps, "epsilon")
        alpha = eps / 10 if run_options.lr is None else run_options.lr
        thr = check_positive_number(threshold, "threshold")
        if thr > 1.0:
            raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
        if not isinstance(random_start, bool):
            raise TypeError(f"random_start must be True or False, got {random_start!r}")
        if target is not None:
            _check_target_type(target)
        with torch.no_grad(), frozen(self.model):
            out0 = self.model(x0)
        if out0.ndim != 2:
            raise ValueError(f"the model must return N×classes scores, got {tuple(out0.shape)}")
        orig = out0.argmax(1)
        tgt = orig if target is None else _targets(target, x0.shape[0], out0.shape[1], x0.device)
        p0 = torch.softmax(out0.float(), 1).gather(1, tgt.view(-1, 1)).squeeze(1)
        request = _Request(
            x0, tgt, target is not None, orig, p0, norm, eps, alpha, thr, method, random_start,
            run_options.seed,
        )
        request.tracker = _Tracker(request, int(out0.shape[1]))
        return self._synthesize(request, run_options)

    def _stages(
        self, request: _Request, options: RunOptions, done: list[OptimizationResult]
    ) -> Iterator[Problem]:
        x0, r = request.origin, request
        start = None
        if r.random_start:
            noise = _ball_noise(x0, r.epsilon, r.norm, options.seed)
            start = project(x0 + noise, x0, r.epsilon, r.norm)
        tracker = r.tracker

        def score(ctx: ObjectiveContext) -> torch.Tensor:
            assert ctx.output is not None
            tracker.see(ctx.image, ctx.output)
            if r.method == "pgd":
                ce = F.cross_entropy(ctx.output, r.target, reduction="none")
                value = -ce if r.targeted else ce
            else:
                logit = ctx.output.gather(1, r.target.view(-1, 1)).squeeze(1)
                value = logit if r.targeted else -logit
            return value * (~tracker.done).to(value.dtype)

        per_image = x0[0].numel()
        lr = r.lr if r.norm == "linf" else r.lr / math.sqrt(per_image)
        pgd_norm = r.norm
        yield Problem(
            Objective(score, needs_output=True, name="fooling"),
            ProjectedImage(x0, r.epsilon, r.norm, start=start),
            optimizer=lambda ps: NormalizedGradient(ps, lr=lr, norm=pgd_norm),
            lr=r.lr,
            callbacks=[tracker.after_step],
            keep="last",
            desc="fooling",
        )

    def _finish(
        self, request: _Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        tracker, res = request.tracker, runs[-1]
        if not bool(tracker.done.all()):  # the last point tried stands for the others
            tracker.step = res.steps_run
            tracker.see(res.images, self.model(res.images), final=True)
        best = tracker.images
        diff = (best - request.origin).flatten(1)
        p1 = tracker.probs
        tgt = request.target
        report = FoolingReport(
            success=tracker.done.cpu(),
            steps=tracker.taken,
            linf=diff.abs().amax(1).cpu(),
            l2=diff.norm(dim=1).cpu(),
            target=(tgt if request.targeted else torch.full_like(tgt, -1)).cpu(),
            original_class=request.original_class.cpu(),
            prob_before=request.prob_before.cpu(),
            prob_after=p1.gather(1, tgt.view(-1, 1)).squeeze(1).cpu(),
            predicted_after=p1.argmax(1).cpu(),
            prob_predicted_after=p1.max(1).values.cpu(),
            seed=request.seed,
            norm=request.norm,
            epsilon=request.epsilon,
            method=request.method,
        )
        return best, {"report": report}


def _ball_noise(x0: torch.Tensor, eps: float, norm: str, seed: int) -> torch.Tensor:
    """A uniform random point of the budget ball (a local generator seeded ``seed``)."""
    g = torch.Generator().manual_seed(seed)
    if norm == "linf":
        noise = (torch.rand(x0.shape, generator=g, dtype=x0.dtype) * 2 - 1) * eps
    else:
        n = x0.shape[0]
        u = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
        u = u / u.flatten(1).norm(dim=1).view(-1, *([1] * (x0.ndim - 1)))
        radius = torch.rand(n, generator=g, dtype=x0.dtype) ** (1.0 / x0[0].numel())
        noise = u * (radius * eps).view(-1, *([1] * (x0.ndim - 1)))
    return noise.to(x0.device)


def _check_target_type(target: object) -> None:
    if isinstance(target, bool):
        raise TypeError("target must be a class index or name, not a bool")
    if isinstance(target, float):
        raise TypeError(f"target must be a whole class index, got {target!r}")


def _targets(
    target: int | str | Sequence[int] | torch.Tensor, n: int, n_classes: int, device: torch.device
) -> torch.Tensor:
    if isinstance(target, str):
        from attribkit.models import class_index

        target = class_index(target, n_classes)
    if isinstance(target, torch.Tensor):
        check_target(target, n_classes, n)
        t = target.flatten().to(device)
    elif isinstance(target, (list, tuple)):
        if any(isinstance(v, tuple) for v in target):
            raise TypeError("target entries must be class indices (ints), one per image")
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
    elif isinstance(magnify, str):
        raise ValueError(f"magnify must be a positive number or 'normalize', got {magnify!r}")
    else:
        diff = (0.5 + check_positive_number(magnify, "magnify") * d).clamp(0, 1)
    return make_grid([a, b, diff], nrow=3)


def fooling_sweep(
    model: nn.Module,
    images: torch.Tensor,
    target: int | str | Sequence[int] | None,
    epsilons: Sequence[float],
    **kwargs: Any,
) -> SweepResult:
    """Success rate against the budget ε, as robustness evaluations report it.

    Runs :meth:`FoolingImage.run` once per ε on all ``images`` (keyword arguments are passed
    on; ``lr``, the step, defaults to ``ε / 10`` for each ε).

    Args:
        model: the classifier.
        images: ``N×C×H×W`` in [0, 1].
        target: as in :meth:`FoolingImage.run` (``None``: untargeted).
        epsilons: the budgets, e.g. ``[1/255, 2/255, 4/255, 8/255]``.
        **kwargs: the other keywords of :meth:`FoolingImage.run`.

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
    if isinstance(epsilons, (int, float)) or not isinstance(epsilons, Sequence) or not epsilons:
        raise ValueError(f"epsilons must be a non-empty list of positive budgets, got {epsilons}")
    eps_list = [check_positive_number(e, "each epsilon") for e in epsilons]
    if "epsilon" in kwargs:
        raise TypeError("fooling_sweep takes the budgets as epsilons=[...], not epsilon")
    fooler = FoolingImage(model)
    rates, medians, reports = [], [], []
    for e in eps_list:
        rep = fooler.run(images, target, epsilon=e, **kwargs).extras["report"]
        reports.append(rep)
        rates.append(rep.success_rate)
        ok = rep.linf[rep.success]
        medians.append(float(ok.median()) if ok.numel() else float("nan"))
    return SweepResult(eps_list, rates, medians, reports)
