"""The one base of every image-optimization technique, and the one result they all return.

:class:`ImageSynthesis` is a template method (in the manner of pystiche's losses): the base owns
the flow — check the model, resolve layers, take device and dtype from the model, check the
common keywords, build the start image from ``init`` and ``seed``, call
:func:`~attribkit.optvis.optimize` once per stage, time the run and leave the model as it was
found — and a technique supplies only :meth:`ImageSynthesis._stages` (its objective,
parameterization, transforms and defaults, as :class:`Problem` s) and
:meth:`ImageSynthesis._finish` (its output images and extras).

Every technique has one verb (``visualize``, ``dream``, ``invert``, ``synthesize``, ``transfer``,
``perturb``) returning ``N×C×H×W`` images in ``[0, 1]``, and ``run``, with the same arguments,
returning a :class:`SynthesisResult` whose ``images`` equal the verb's. The common keywords
(:class:`SynthesisOptions`) are declared once and have the same defaults everywhere
(:data:`COMMON_DEFAULTS`): ``steps=None``, ``lr=None`` and ``optimizer=None`` (the technique's
own), ``seed=0``, ``callbacks=()``, ``snapshot_steps=()`` and ``show_progress=None``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypedDict, TypeVar

import torch
from torch import nn

from attribkit._checks import (
    check_image_batch,
    check_positive_int,
    check_positive_number,
    check_seed,
)
from attribkit.layers import frozen, layer_name
from attribkit.layers.hooks import LayerRef
from attribkit.optvis.loop import (
    OPTIMIZER_NAMES,
    Callback,
    ImageResult,
    OptimizationResult,
    OptimizerSpec,
    model_tensor,
    optimize,
)
from attribkit.optvis.objectives import Objective
from attribkit.optvis.param import ImageParam, PixelImage

__all__ = [
    "ImageSynthesis",
    "SynthesisResult",
    "SynthesisOptions",
    "Problem",
    "RunOptions",
    "DEFAULT_SEED",
    "COMMON_DEFAULTS",
]

#: The default ``seed`` of every synthesis method: the same call gives the same images.
DEFAULT_SEED = 0

Request = TypeVar("Request")


@dataclass
class SynthesisResult(ImageResult):
    """What every synthesis technique's :meth:`~ImageSynthesis.run` returns.

    Attributes:
        images: ``N×C×H×W`` in [0, 1] — exactly what the technique's verb returns.
        history: ``steps_run × N`` values of the objective the loop maximized (for techniques
            that minimize a loss, the objective is minus the loss).
        snapshots: images at the requested steps (0 is the start).
        seconds: wall time of the whole call.
        seed: the seed used (pass it back to reproduce the run).
        steps_run: optimizer steps taken (over all stages).
        interrupted: stopped by ``KeyboardInterrupt``; the images are the best so far.
        stopped_early: a callback (or the technique) raised ``StopIteration``.
        extras: what the technique measured: target probabilities, PSNR, loss terms, the
            fooling report, the octaves of a dream.
    """

    images: torch.Tensor
    history: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0
    seed: int = DEFAULT_SEED
    steps_run: int = 0
    interrupted: bool = False
    stopped_early: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


class SynthesisOptions(TypedDict, total=False):
    """The common keywords of every synthesis verb and ``run`` (defaults in
    :data:`COMMON_DEFAULTS`; ``None`` means the technique's own).

    Attributes:
        steps: optimizer steps (DeepDream: per octave).
        lr: step size / learning rate.
        optimizer: ``"adam"``, ``"sgd"``, ``"lbfgs"``, ``"normalized"`` or a callable
            ``params -> torch.optim.Optimizer`` (see :func:`~attribkit.optvis.optimize`).
        seed: seed of the random start and the transforms; ``None`` draws a fresh one
            (recorded in the result). Local generators only: the global RNG is not touched.
        callbacks: ``cb(step, state)`` after each step; raise ``StopIteration`` to stop early.
        snapshot_steps: steps at which to keep a copy of the images (0 = the start).
        show_progress: a progress bar; ``None`` draws one on a terminal or in a notebook.
    """

    steps: int | None
    lr: float | None
    optimizer: OptimizerSpec | None
    seed: int | None
    callbacks: Sequence[Callback]
    snapshot_steps: Sequence[int]
    show_progress: bool | None


#: The defaults of the common keywords, the same for every technique.
COMMON_DEFAULTS: dict[str, Any] = {
    "steps": None,
    "lr": None,
    "optimizer": None,
    "seed": DEFAULT_SEED,
    "callbacks": (),
    "snapshot_steps": (),
    "show_progress": None,
}


@dataclass(frozen=True)
class RunOptions:
    """The common keywords of every verb, checked (``None`` means the technique's default)."""

    steps: int | None
    lr: float | None
    optimizer: OptimizerSpec | None
    seed: int
    callbacks: tuple[Callback, ...]
    snapshot_steps: tuple[int, ...]
    show_progress: bool | None


@dataclass
class Problem:
    """One optimization a technique asks the base to run (DeepDream asks for one per octave).

    Attributes:
        objective: the score to maximize.
        param: the parameterization (its start built by the technique from ``init``/``seed``).
        transforms: applied to the image before the model, ``t(x, generator)``.
        steps: this problem's default number of steps (``None``: the class's
            ``default_steps``).
        optimizer: its default optimizer (``None``: the class's ``default_optimizer``).
        lr: its default learning rate (``None``: the class's ``default_lr``, else the
            optimizer's).
        callbacks: the technique's own per-step callbacks, run before the caller's.
        keep: ``"best"`` or ``"last"`` images.
        desc: the progress-bar label.
        seed: the loop's seed when it differs from the run's (``None``: the run's).
        snapshot_offset: added to the step numbers of this problem's snapshots.
    """

    objective: Objective
    param: ImageParam
    transforms: Callable[..., torch.Tensor] | None = None
    steps: int | None = None
    optimizer: OptimizerSpec | None = None
    lr: float | None = None
    callbacks: Sequence[Callback] = ()
    keep: str = "best"
    desc: str = "synthesis"
    seed: int | None = None
    snapshot_offset: int = 0


class ImageSynthesis(Generic[Request]):
    """Base of every synthesis technique; subclasses implement :meth:`_stages` and
    :meth:`_finish`, and a public ``run`` that checks its arguments into a request.

    Args:
        model: the network (images in [0, 1]; normalization inside the model). It is only
            read: it runs in eval mode and its mode, buffers, ``requires_grad`` and ``.grad``
            are restored on every exit path.

    Attributes:
        default_steps: the technique's number of steps when ``steps`` is not given.
        default_optimizer: its optimizer when ``optimizer`` is not given.
        default_lr: its learning rate (``None``: the optimizer's own default).
    """

    default_steps: ClassVar[int] = 256
    default_optimizer: ClassVar[str] = "adam"
    default_lr: ClassVar[float | None] = None

    def __init__(self, model: nn.Module) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"model must be an nn.Module, got {type(model).__name__}; pass the network "
                "itself (e.g. attribkit.efficientnet_lite0())"
            )
        self.model = model

    def images(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        """``run(*args, **kwargs).images``, ``N×C×H×W`` in [0, 1]: each technique's verb
        (``visualize``, ``dream``, ``invert``, ``synthesize``, ``transfer``, ``perturb``) is
        this method under its own name, so that it equals ``run().images`` by construction."""
        result: SynthesisResult = self.run(*args, **kwargs)  # type: ignore[attr-defined]
        return result.images

    # -- what the base offers the techniques -----------------------------------------------
    @property
    def device(self) -> torch.device:
        """The model's device (CPU for a model without tensors)."""
        return self._reference().device

    @property
    def dtype(self) -> torch.dtype:
        """The model's floating-point dtype (float32 for a model without tensors)."""
        return self._reference().dtype

    def _reference(self) -> torch.Tensor:
        ref = model_tensor(self.model)
        return torch.zeros(()) if ref is None else ref

    def _layer(self, layer: LayerRef) -> str:
        """The dotted name of ``layer`` (unknown names raise with close matches)."""
        return layer_name(self.model, layer)

    def _layers(self, layers: Sequence[LayerRef], what: str) -> list[str]:
        """Dotted names of a sequence of layers; a single name or module is refused."""
        if isinstance(layers, (str, nn.Module)):
            raise TypeError(
                f"{what} must be a sequence of layers, e.g. [{layers!r}], not one layer"
            )
        if not isinstance(layers, Sequence):
            raise TypeError(f"{what} must be a list of layer names, got {type(layers).__name__}")
        return [self._layer(x) for x in layers]

    def _to_model(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` detached, on the model's device and in its dtype."""
        return x.detach().to(device=self.device, dtype=self.dtype)

    def _options(self, options: Mapping[str, Any]) -> RunOptions:
        """Check the common keywords (before anything touches the model); an unknown one is
        refused with the list of those the verb takes."""
        unknown = sorted(set(options) - set(COMMON_DEFAULTS))
        if unknown:
            known = ", ".join(COMMON_DEFAULTS)
            raise TypeError(
                f"{type(self).__name__} got an unexpected keyword argument {unknown[0]!r}; "
                f"the common keywords are {known} (plus the technique's own, see run())"
            )
        given = {**COMMON_DEFAULTS, **options}
        steps, lr, optimizer = given["steps"], given["lr"], given["optimizer"]
        callbacks, snapshot_steps = given["callbacks"], given["snapshot_steps"]
        show_progress = given["show_progress"]
        if steps is not None:
            check_positive_int(steps, "steps")
        if lr is not None:
            lr = check_positive_number(lr, "lr")
        if optimizer is not None and not callable(optimizer):
            if not isinstance(optimizer, str) or optimizer not in OPTIMIZER_NAMES:
                raise ValueError(
                    f"optimizer must be one of {sorted(OPTIMIZER_NAMES)} or a callable "
                    f"(params) -> torch.optim.Optimizer, got {optimizer!r}"
                )
        checked_seed = check_seed(given["seed"])
        if callable(callbacks) or not isinstance(callbacks, (list, tuple)):
            raise TypeError(
                f"callbacks must be a list of callables cb(step, state), got "
                f"{type(callbacks).__name__}; wrap a single one as [cb]"
            )
        for cb in callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables cb(step, state), got {cb!r}")
        if isinstance(snapshot_steps, int) or not isinstance(snapshot_steps, (list, tuple, range)):
            raise TypeError(f"snapshot_steps must be a list of ints, got {snapshot_steps!r}")
        for s in snapshot_steps:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise ValueError(f"snapshot steps must be non-negative ints, got {s!r}")
            if steps is not None and s > steps:
                raise ValueError(f"snapshot step {s} is beyond steps={steps}")
        if show_progress is not None and not isinstance(show_progress, bool):
            raise TypeError(f"show_progress must be True, False or None, got {show_progress!r}")
        return RunOptions(
            steps=steps,
            lr=lr,
            optimizer=optimizer,
            seed=secrets.randbits(62) if checked_seed is None else checked_seed,
            callbacks=tuple(callbacks),
            snapshot_steps=tuple(snapshot_steps),
            show_progress=show_progress,
        )

    @staticmethod
    def _checked_init(init: object) -> torch.Tensor | None:
        """``init`` checked as an image batch in [0, 1] (before anything runs), or ``None``."""
        return None if init is None else check_image_batch(init, "init", unit_range=True)

    def _start(
        self,
        init: torch.Tensor | None,
        size: Sequence[int],
        seed: int,
        *,
        noise: str = "normal",
        centre: float = 0.5,
        scale: float = 0.05,
    ) -> torch.Tensor:
        """The start image: ``init`` (checked: one image or one per batch entry, of ``shape``)
        or noise drawn from a local generator seeded with ``seed`` (``"normal"``: centre ±
        scale·N(0, 1); ``"uniform"``: centre + scale·(U(0, 1) − ½)), clamped to [0, 1]."""
        shape = tuple(int(s) for s in size)
        if init is not None:
            init = check_image_batch(init, "init", unit_range=True)
            if init.shape[0] not in (1, shape[0]) or tuple(init.shape[1:]) != shape[1:]:
                raise ValueError(
                    f"init has shape {tuple(init.shape)}; it must be 1 or {shape[0]} images of "
                    f"{'×'.join(str(s) for s in shape[1:])}"
                )
            return self._to_model(init).expand(shape).clone()
        g = torch.Generator().manual_seed(seed)
        if noise == "normal":
            x = centre + scale * torch.randn(shape, generator=g, dtype=torch.float64)
        else:
            x = centre + scale * (torch.rand(shape, generator=g, dtype=torch.float64) - 0.5)
        return x.clamp(0, 1).to(device=self.device, dtype=self.dtype)

    def _pixels(self, start: torch.Tensor) -> PixelImage:
        """A clamped pixel parameterization starting at ``start``."""
        shape = tuple(start.shape)
        param = PixelImage(shape, init=start, squash="clamp", seed=0, dtype=start.dtype)
        return param.to(start.device)

    # -- the template --------------------------------------------------------------------
    def _stages(
        self, request: Request, options: RunOptions, done: list[OptimizationResult]
    ) -> Iterator[Problem]:
        """Yield the optimization problems to run, in order (``done`` holds the results of
        those already run). Most techniques yield one."""
        raise NotImplementedError

    def _finish(
        self, request: Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """The output images (``N×C×H×W`` in [0, 1]) and the extras, from the runs."""
        raise NotImplementedError

    def _synthesize(self, request: Request, options: RunOptions) -> SynthesisResult:
        """Run the technique's stages through :func:`optimize`, with the model frozen."""
        start = time.perf_counter()
        runs: list[OptimizationResult] = []
        with frozen(self.model):
            for problem in self._stages(request, options, runs):
                runs.append(self._optimize(problem, options))
                if runs[-1].interrupted or runs[-1].stopped_early:
                    break
            with torch.no_grad():
                images, extras = self._finish(request, runs)
        snapshots: dict[int, torch.Tensor] = {}
        for r in runs:
            snapshots.update(r.snapshots)
        n = images.shape[0]
        history = [r.history for r in runs if r.history.numel()]
        return SynthesisResult(
            images=images.detach(),
            history=torch.cat(history) if history else torch.empty(0, n),
            snapshots=snapshots,
            seconds=time.perf_counter() - start,
            seed=options.seed,
            steps_run=sum(r.steps_run for r in runs),
            interrupted=any(r.interrupted for r in runs),
            stopped_early=any(r.stopped_early for r in runs),
            extras=extras,
        )

    def _optimize(self, problem: Problem, options: RunOptions) -> OptimizationResult:
        steps = next(s for s in (options.steps, problem.steps, self.default_steps) if s)
        if options.optimizer is not None:
            optimizer, lr = options.optimizer, options.lr
        else:
            optimizer = problem.optimizer or self.default_optimizer
            lr = next((v for v in (options.lr, problem.lr, self.default_lr) if v), None)
        res = optimize(
            self.model,
            problem.objective,
            problem.param,
            transforms=problem.transforms,
            steps=steps,
            optimizer=optimizer,
            lr=lr,
            callbacks=[*problem.callbacks, *options.callbacks],
            snapshot_steps=options.snapshot_steps,
            show_progress=options.show_progress,
            seed=options.seed if problem.seed is None else problem.seed,
            keep=problem.keep,
            desc=problem.desc,
        )
        if problem.snapshot_offset:
            res.snapshots = {s + problem.snapshot_offset: v for s, v in res.snapshots.items()}
        return res
