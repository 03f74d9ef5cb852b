"""The optimization loop shared by every synthesis technique.

:func:`optimize` maximizes an :class:`~attribkit.optvis.objectives.Objective` over the parameters
of an :class:`~attribkit.optvis.param.ImageParam`. It hooks only the layers the objective
declares, runs the network only as far as the deepest of them when the final output is not
needed, and leaves the model exactly as it found it (hooks, modes, ``requires_grad``, ``.grad``)
on every exit path. A ``KeyboardInterrupt`` (Ctrl-C, or raised by a callback) stops the loop and
returns the best images so far; a callback may raise ``StopIteration`` to stop early.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from attribkit._checks import check_positive_int, check_positive_number, check_seed
from attribkit._progress import progress_bar
from attribkit.layers import capture, frozen, resolve_layer
from attribkit.optvis.objectives import Objective, ObjectiveContext, as_objective
from attribkit.optvis.optim import NormalizedGradient
from attribkit.optvis.param import ImageParam, LucentParam, as_param

__all__ = [
    "optimize",
    "OptimizationResult",
    "OptimizationState",
    "make_optimizer",
    "OPTIMIZER_NAMES",
    "ImageResult",
    "model_tensor",
]

OptimizerSpec = str | Callable[[list[torch.Tensor]], torch.optim.Optimizer]
Callback = Callable[[int, "OptimizationState"], Any]

_DEFAULT_LR = {"adam": 0.05, "sgd": 1.0, "lbfgs": 1.0, "normalized": 0.02}
#: The optimizers :func:`make_optimizer` knows by name.
OPTIMIZER_NAMES = tuple(_DEFAULT_LR)


class ImageResult:
    """Saving, filmstrips and notebook display for results that hold ``images`` (``N×C×H×W``
    in [0, 1]) and ``snapshots`` (step → images)."""

    images: torch.Tensor
    snapshots: dict[int, torch.Tensor]

    def filmstrip(self, index: int = 0, size: int | None = 96) -> torch.Tensor:
        """One image's snapshots side by side (``3×H×W`` in [0, 1]), labelled with the step."""
        from attribkit.viz import label, make_grid

        if not self.snapshots:
            raise ValueError("no snapshots were taken; pass snapshot_steps=[...]")
        frames = [label(self.snapshots[s][index], f"step {s}") for s in sorted(self.snapshots)]
        return make_grid(frames, nrow=len(frames), size=size)

    def grid(self, nrow: int | None = None) -> torch.Tensor:
        """The images as one grid, ``3×H×W`` in [0, 1]."""
        from attribkit.viz import make_grid

        return make_grid(list(self.images), nrow=nrow or len(self.images))

    def save(self, path: str | Path, nrow: int | None = None) -> Path:
        """Save the images as one grid PNG and return the path."""
        from attribkit.io import save_image

        return save_image(self.grid(nrow), path)

    def _repr_png_(self) -> bytes:
        """The grid as PNG bytes, so that a notebook shows the result inline."""
        import io

        from attribkit.io import to_pil

        buf = io.BytesIO()
        to_pil(self.grid()).save(buf, format="PNG")
        return buf.getvalue()


@dataclass
class OptimizationState:
    """What a callback sees after each step.

    Attributes:
        step: the number of optimizer steps taken (1 after the first).
        image: the images evaluated at this step (detached, before the update).
        values: their objective values, ``(N,)``.
        loss: ``-values.sum()``.
        param: the parameterization (already updated; its ``.grad`` s hold this step's gradient).
        history: the values of every step so far.
    """

    step: int
    image: torch.Tensor
    values: torch.Tensor
    loss: float
    param: ImageParam
    history: list[torch.Tensor]


@dataclass
class OptimizationResult(ImageResult):
    """The outcome of :func:`optimize`.

    Attributes:
        images: the best images per batch entry (or the last, with ``keep="last"``), in [0, 1].
        history: ``steps_run × N`` objective values.
        snapshots: images at the requested steps (0 is the start).
        best_values: the best value reached per image, ``(N,)``.
        steps_run: optimizer steps completed.
        seconds: wall time.
        seed: the seed of the transforms' generator (to reproduce the run).
        last_images: the images after the last step.
        interrupted: the run was stopped by ``KeyboardInterrupt``.
        stopped_early: a callback raised ``StopIteration``.
    """

    images: torch.Tensor
    history: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    best_values: torch.Tensor = field(default_factory=lambda: torch.empty(0))
    steps_run: int = 0
    seconds: float = 0.0
    seed: int = 0
    last_images: torch.Tensor | None = None
    interrupted: bool = False
    stopped_early: bool = False


def make_optimizer(
    optimizer: OptimizerSpec, tensors: list[torch.Tensor], lr: float | None = None
) -> torch.optim.Optimizer:
    """Build the optimizer named by ``optimizer`` for ``tensors``.

    Names: ``"adam"`` (default lr 0.05), ``"sgd"`` (1.0), ``"lbfgs"`` (1.0, one iteration per step
    with a strong-Wolfe line search, history kept across steps) and ``"normalized"``
    (:class:`~attribkit.optvis.optim.NormalizedGradient`, L2, 0.02). A callable gets the tensors
    and returns an optimizer (``lr`` is then ignored).
    """
    if callable(optimizer) and not isinstance(optimizer, str):
        opt = optimizer(tensors)
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(
                f"the optimizer factory must return a torch.optim.Optimizer, got {type(opt)}"
            )
        return opt
    if not isinstance(optimizer, str) or optimizer not in _DEFAULT_LR:
        raise ValueError(
            f"optimizer must be one of {sorted(_DEFAULT_LR)} or a callable(params) -> Optimizer, "
            f"got {optimizer!r}"
        )
    lr = _DEFAULT_LR[optimizer] if lr is None else check_positive_number(lr, "lr")
    if optimizer == "adam":
        return torch.optim.Adam(tensors, lr=lr)
    if optimizer == "sgd":
        return torch.optim.SGD(tensors, lr=lr)
    if optimizer == "normalized":
        return NormalizedGradient(tensors, lr=lr)
    # one L-BFGS iteration per loop step; its strong-Wolfe line search needs its own loss
    # evaluations (torch's default max_eval = max_iter * 5 // 4 = 1 leaves it none and stalls)
    return torch.optim.LBFGS(
        tensors, lr=lr, max_iter=1, max_eval=25, history_size=50, line_search_fn="strong_wolfe"
    )


class _StopForward(Exception):
    """Ends a forward pass once every needed layer has run."""


class _Runner:
    """Runs the model with the objective's hooks, registered once for the whole loop."""

    def __init__(self, model: nn.Module, objective: Objective, stack: ExitStack) -> None:
        self.model = model
        self.layers = objective.layers
        self.needs_output = objective.needs_output
        self.acts: dict[str, torch.Tensor] = {}
        self.seen: set[int] = set()
        if not self.layers:
            return
        self.acts = stack.enter_context(capture(model, list(self.layers)))
        if self.needs_output:
            return
        modules = [resolve_layer(model, name) for name in self.layers]
        wanted = len({id(m) for m in modules})

        def stop_hook(module: nn.Module, _inp: object, _out: object) -> None:
            self.seen.add(id(module))
            if len(self.seen) >= wanted:
                raise _StopForward

        for m in {id(m): m for m in modules}.values():
            handle = m.register_forward_hook(stop_hook)
            stack.callback(handle.remove)

    def __call__(self, image: torch.Tensor, inp: torch.Tensor) -> ObjectiveContext:
        self.acts.clear()
        self.seen.clear()
        output = None
        if self.needs_output:
            output = self.model(inp)
        elif self.layers:
            try:
                self.model(inp)
            except _StopForward:
                pass
            missing = [name for name in self.layers if name not in self.acts]
            if missing:
                raise ValueError(f"layers {missing} did not run during the forward pass")
        return ObjectiveContext(image=image, input=inp, acts=dict(self.acts), output=output)


def model_tensor(model: nn.Module) -> torch.Tensor | None:
    """The model's first floating-point parameter or buffer (its device and dtype), if any."""
    for t in model.parameters():
        if t.is_floating_point():
            return t
    for b in model.buffers():
        if b.is_floating_point():
            return b
    return None


def _check_snapshot_steps(snapshot_steps: Iterable[int], steps: int) -> set[int]:
    out = set()
    for s in snapshot_steps:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= steps:
            raise ValueError(f"snapshot steps must be ints in [0, steps={steps}], got {s!r}")
        out.add(s)
    return out


def optimize(
    model: nn.Module,
    objective: Objective,
    param: ImageParam | Callable[[], Any],
    *,
    transforms: Callable[..., torch.Tensor] | None = None,
    steps: int = 256,
    optimizer: OptimizerSpec = "adam",
    lr: float | None = None,
    callbacks: Sequence[Callback] = (),
    snapshot_steps: Iterable[int] = (),
    show_progress: bool | None = None,
    seed: int | None = None,
    keep: str = "best",
    desc: str = "optimize",
) -> OptimizationResult:
    """Maximize ``objective`` over the images produced by ``param``.

    Args:
        model: the network (its state is restored on exit; it runs in eval mode).
        objective: the score to maximize (per image, summed over the batch).
        param: an :class:`~attribkit.optvis.param.ImageParam`, or a Lucent ``param_f`` closure.
        transforms: applied to the images before the model, called as ``t(x, generator)``
            (:mod:`attribkit.optvis.transforms`); ``None`` for none.
        steps: optimizer steps.
        optimizer: ``"adam"``, ``"sgd"``, ``"lbfgs"``, ``"normalized"`` or a callable
            ``params -> torch.optim.Optimizer``.
        lr: learning rate (``None``: the optimizer's default, see :func:`make_optimizer`).
        callbacks: ``cb(step, state)`` after each step; raise ``StopIteration`` to stop.
        snapshot_steps: steps at which to keep a copy of the images (0 = the start).
        show_progress: a progress bar; ``None`` (default) draws one on a terminal or in a
            notebook only.
        seed: seed of the transforms' generator (random when ``None``; recorded in the result).
        keep: ``"best"`` (each image's best evaluated version) or ``"last"``.
        desc: progress-bar label.

    Returns:
        An :class:`OptimizationResult`.

    Raises:
        ValueError: unknown layer, non-positive steps, bad snapshot steps or optimizer name.
        TypeError: ``objective`` or ``param`` of the wrong kind.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from attribkit.optvis import PixelImage, channel
        >>> net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU())
        >>> res = optimize(net, channel("0", 1), PixelImage((1, 3, 8, 8), seed=0), steps=5,
        ...                show_progress=False, seed=0)
        >>> res.history.shape, bool(res.history[-1, 0] > res.history[0, 0])
        (torch.Size([5, 1]), True)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    objective = as_objective(objective)
    image_param = as_param(param)
    steps = check_positive_int(steps, "steps")
    snaps = _check_snapshot_steps(snapshot_steps, steps)
    if keep not in ("best", "last"):
        raise ValueError(f"keep must be 'best' or 'last', got {keep!r}")
    seed = check_seed(seed)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables cb(step, state), got {type(cb)}")
    for name in objective.layers:
        resolve_layer(model, name)  # unknown names raise with close matches
    ref = model_tensor(model)
    if ref is not None and not isinstance(image_param, LucentParam):
        pref = image_param._ref()
        if pref.device != ref.device or pref.dtype != ref.dtype:
            image_param.to(device=ref.device, dtype=ref.dtype)
    tensors = image_param.optim_params()
    if not tensors:
        raise ValueError("the parameterization has no trainable tensors")
    opt = make_optimizer(optimizer, tensors, lr)
    is_lbfgs = isinstance(opt, torch.optim.LBFGS)
    seed = secrets.randbits(62) if seed is None else seed
    gen = torch.Generator().manual_seed(seed)

    start = time.perf_counter()
    snapshots: dict[int, torch.Tensor] = {}
    history: list[torch.Tensor] = []
    best: dict[str, torch.Tensor] = {}
    interrupted = stopped = False
    steps_run = 0

    def track(img: torch.Tensor, values: torch.Tensor) -> None:
        if "values" not in best:
            best["values"] = values.clone()
            best["images"] = img.clone()
            return
        better = values > best["values"]
        if bool(better.any()):
            best["values"] = torch.where(better, values, best["values"])
            best["images"][better] = img[better]

    with torch.no_grad():
        if 0 in snaps:
            snapshots[0] = image_param().detach().clone()
    pbar = progress_bar(total=steps, desc=desc, show_progress=show_progress)
    try:
        with ExitStack() as stack:
            stack.enter_context(frozen(model))
            runner = _Runner(model, objective, stack)
            for step in range(1, steps + 1):
                gen_state = gen.get_state()
                record: dict[str, torch.Tensor] = {}

                def closure(
                    gen_state: torch.Tensor = gen_state, record: dict[str, torch.Tensor] = record
                ) -> torch.Tensor:
                    gen.set_state(gen_state)  # same transforms for every evaluation in a step
                    opt.zero_grad(set_to_none=True)
                    img = image_param()
                    inp = transforms(img, gen) if transforms is not None else img
                    values = objective(runner(img, inp))
                    loss = -values.sum()
                    loss.backward()
                    v = values.detach()
                    track(img.detach(), v)
                    if "values" not in record:
                        record["values"], record["image"] = v, img.detach()
                    return loss

                if is_lbfgs:
                    opt.step(closure)  # type: ignore[arg-type]
                else:
                    closure()
                    opt.step()
                image_param.post_step()
                values = record["values"]
                history.append(values)
                steps_run = step
                if step in snaps:
                    with torch.no_grad():
                        snapshots[step] = image_param().detach().clone()
                loss = -float(values.sum())
                pbar.update(1)
                if show_progress:
                    pbar.set_postfix(loss=f"{loss:.4g}", refresh=False)
                state = OptimizationState(step, record["image"], values, loss, image_param, history)
                try:
                    for cb in callbacks:
                        cb(step, state)
                except StopIteration:
                    stopped = True
                    break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        pbar.close()
        for t in tensors:
            t.grad = None
    with torch.no_grad():
        last = image_param().detach().clone()
    if "values" in best and keep == "best":
        images = best["images"]
        best_values = best["values"]
    else:
        images = last
        best_values = best.get("values", torch.full((last.shape[0],), float("nan")))
    hist = torch.stack(history) if history else torch.empty(0, last.shape[0])
    return OptimizationResult(
        images=images,
        history=hist,
        snapshots=snapshots,
        best_values=best_values,
        steps_run=steps_run,
        seconds=time.perf_counter() - start,
        seed=seed,
        last_images=last,
        interrupted=interrupted,
        stopped_early=stopped,
    )
