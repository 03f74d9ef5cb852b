"""The training loop of feed-forward style networks, for any network, batch source and loss.

:func:`run_training` owns what every such training shares: the optimizer, the steps, DDP
under ``torchrun`` (gradients averaged across processes, losses all-reduced, process 0 writes),
the finiteness check, the loss history, callbacks and the progress bar, checkpoints that
resume bit for bit (:mod:`attribkit.style.train_state`), sample pictures and the final model
file. What is trained is plugged in:

* a **batch source** (:class:`BatchSource`): ``next_batch(step)`` draws one step's batch from
  its own generators, ``state()`` / ``load_state()`` save and restore its position — for
  example :class:`attribkit.style.train_data.StyleCycle` (content crops, a style index each)
  or :class:`attribkit.style.train_data.PairedCrops` (content and style crops);
* a **step** (:class:`TrainStep`): ``loss(net, batch)`` runs the network on the batch and
  returns its loss terms (``"loss"`` is minimized; the others are recorded) — for example
  :class:`attribkit.style.train_loss.PerceptualStep`. A network that takes ``(content,
  style)`` images and has its own loss only needs its own step.

:func:`attribkit.style.train_style` builds the Johnson/Dumoulin case and calls this.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from attribkit._checks import (
    check_device,
    check_finite_number,
    check_non_negative_int,
    check_positive_int,
)
from attribkit._progress import progress_bar
from attribkit.layers.distributed import (
    all_gather_objects,
    all_reduce_mean,
    barrier,
    dist_info,
    rank_device,
)
from attribkit.style.checkpoint import save_style_model
from attribkit.style.train_state import (
    load_training_state,
    restore_optimizer,
    save_training_state,
)

__all__ = [
    "BatchSource",
    "TrainStep",
    "Callback",
    "StyleTrainResult",
    "CHECKPOINT",
    "run_training",
    "training_device",
]

def training_device(device: torch.device | str | None, model: nn.Module | None) -> torch.device:
    """The device a training runs on: ``device``, else the given model's, else CUDA when
    launched with several processes (``WORLD_SIZE`` > 1) and CUDA is there, else the CPU;
    under ``torchrun``, this process's GPU of that type.

    Examples:
        >>> training_device(None, None)
        device(type='cpu')
    """
    if device is None:
        if model is not None:
            device = next(model.parameters()).device
        else:
            multi = int(os.environ.get("WORLD_SIZE", "1")) > 1
            device = "cuda" if multi and torch.cuda.is_available() else "cpu"
    return check_device(rank_device(check_device(device)))


#: File name (without suffix) of the training checkpoint in ``out_dir``.
CHECKPOINT = "checkpoint"
#: ``f(step, losses)``, called after every step on process 0.
Callback = Callable[[int, dict[str, float]], None]


class BatchSource(Protocol):
    """Where a training step's batch comes from (it keeps its own generators)."""

    def next_batch(self, step: int) -> Any:
        """The batch of step ``step`` (counted from 1)."""

    def state(self) -> dict[str, torch.Tensor]:
        """This process's position, as tensors (saved in checkpoints)."""

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """Continue from a saved :meth:`state`."""


class TrainStep(Protocol):
    """One optimization step's forward pass and loss."""

    def loss(self, net: nn.Module, batch: Any) -> dict[str, torch.Tensor]:
        """Scalar loss terms of ``net`` on ``batch``; ``"loss"`` is minimized."""


@dataclass
class StyleTrainResult:
    """What a training run returns.

    Attributes:
        model: the trained network (eval mode; unwrapped from DDP).
        history: one record per step (``step`` and every loss term, batch means averaged
            over the processes).
        steps: the last step done.
        seconds: training time of this call (a resumed run counts only its own part).
        path: the final model file (process 0 with an ``out_dir``), else ``None``.
    """

    model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    path: Path | None = None


def _write_samples(net: nn.Module, samples: Callable[[nn.Module], torch.Tensor], path: Path):  # noqa: ANN202
    from attribkit.io import save_image

    was = net.training
    net.eval()
    try:
        with torch.no_grad():
            grid = samples(net)
    finally:
        net.train(was)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid.cpu(), path)


def run_training(
    net: nn.Module,
    step: TrainStep,
    data: BatchSource,
    *,
    steps: int,
    lr: float = 1e-3,
    optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer] | None = None,
    out_dir: str | Path | None = None,
    checkpoint_every: int = 100,
    sample_every: int = 0,
    samples: Callable[[nn.Module], torch.Tensor] | None = None,
    resume: bool = True,
    settings: Mapping[str, Any] | None = None,
    show_progress: bool | None = None,
    callbacks: Sequence[Callback] = (),
    desc: str = "train-style",
) -> StyleTrainResult:
    """Train ``net`` (in place) for ``steps`` optimizer steps; DDP inside a process group.

    Args:
        net: the network, on its device; its parameters with ``requires_grad`` are trained
            (a frozen encoder stays as it is). It must be a network that
            :func:`attribkit.style.save_style_model` can write when ``out_dir`` is given.
        step: computes the loss terms of a batch (see :class:`TrainStep`).
        data: draws the batches (see :class:`BatchSource`).
        steps: total optimizer steps (a resumed run continues up to this number).
        lr: Adam's learning rate (when ``optimizer`` is not given).
        optimizer: ``f(parameters) -> torch.optim.Optimizer`` instead of Adam; its
            per-parameter state is checkpointed.
        out_dir: where ``checkpoint.*`` (every ``checkpoint_every`` steps and at the end),
            ``model.*`` and ``samples/`` go; ``None`` writes nothing.
        checkpoint_every: steps between checkpoints (0: only at the end).
        sample_every: steps between sample pictures (0: never).
        samples: ``f(net) -> 3×H×W`` picture of the network's work (eval mode, no grad).
        resume: continue from ``out_dir/checkpoint`` when it exists.
        settings: the training record written into the model files' JSON.
        show_progress: a bar with the losses (process 0 only); ``None``: on a terminal.
        callbacks: ``f(step, losses)`` after every step (process 0 only).
        desc: the bar's label.

    Returns:
        A :class:`StyleTrainResult`.

    Raises:
        FloatingPointError: a loss or the network's output became NaN or infinite.
        ValueError: a checkpoint in ``out_dir`` for another network, or edited wrongly.

    Examples:
        >>> from attribkit.style.train_data import CropSource, ImageSet, PairedCrops
        >>> from attribkit.style.transformer import TransformerNet
        >>> class MeanColor:  # a toy loss: match the style crop's mean colour
        ...     def loss(self, net, batch):
        ...         content, style = batch
        ...         y = net(content)
        ...         d = (y.mean((2, 3)) - style.mean((2, 3))).pow(2).mean()
        ...         return {"loss": d}
        >>> data = PairedCrops(CropSource(ImageSet([torch.rand(1, 3, 20, 20)], 20), 16, 2),
        ...                    CropSource(ImageSet([torch.rand(1, 3, 20, 20)], 20), 16, 2))
        >>> r = run_training(TransformerNet(width=4, n_residual=1), MeanColor(), data,
        ...                  steps=2, show_progress=False)
        >>> [h["step"] for h in r.history]
        [1.0, 2.0]
    """
    check_positive_int(steps, "steps")
    check_finite_number(lr, "lr", positive=True)
    check_non_negative_int(checkpoint_every, "checkpoint_every")
    check_non_negative_int(sample_every, "sample_every")
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be an nn.Module, got {type(net).__name__}")
    rank, world = dist_info()
    params = [p for p in net.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the network has no parameter with requires_grad=True to train")
    opt = optimizer(params) if optimizer is not None else torch.optim.Adam(params, lr=lr)
    out = Path(out_dir) if out_dir is not None else None
    ckpt = out / CHECKPOINT if out is not None else None
    start, history = 0, []
    if resume and ckpt is not None and ckpt.with_name(f"{CHECKPOINT}.json").is_file():
        state = load_training_state(
            ckpt, net, styles=list(getattr(net, "style_names", ["style0"])), steps=steps, rank=rank
        )
        restore_optimizer(opt, params, state.optimizer)
        data.load_state(state.data)
        start, history = state.step, state.history
    record = dict(settings or {})
    net.train()
    train_net: nn.Module = net
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        dev = params[0].device
        train_net = DistributedDataParallel(net, device_ids=[dev] if dev.type == "cuda" else None)
    bar = progress_bar(
        total=steps,
        initial=start,
        desc=desc,
        show_progress=show_progress if rank == 0 else False,
        leave=True,
        dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    done = start
    try:
        for i in range(start + 1, steps + 1):
            batch = data.next_batch(i)
            try:
                terms = step.loss(train_net, batch)
            except FloatingPointError as err:
                raise FloatingPointError(
                    f"{err} at step {i}; lower lr or the loss weights"
                ) from err
            if "loss" not in terms:
                raise KeyError(f"the step's loss terms {sorted(terms)} have no 'loss' to minimize")
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            opt.step()
            keys = list(terms)
            stats = all_reduce_mean(
                torch.stack([terms[k].detach().float().reshape(()) for k in keys])
            )
            if not bool(torch.isfinite(stats).all()):
                raise FloatingPointError(
                    f"the loss became {stats.tolist()} at step {i}; lower lr or the loss weights"
                )
            rec = {"step": float(i), **{k: float(v) for k, v in zip(keys, stats)}}
            history.append(rec)
            done = i
            if rank == 0:
                bar.update(1)
                bar.set_postfix({k: f"{rec[k]:.3g}" for k in keys})
                for cb in callbacks:
                    cb(i, rec)
            last = i == steps
            if out is not None and samples is not None and sample_every and rank == 0:
                if i % sample_every == 0 or last:
                    _write_samples(net, samples, out / "samples" / f"step{i:06d}.png")
            if out is not None and ((checkpoint_every and i % checkpoint_every == 0) or last):
                states = all_gather_objects({k: v.cpu() for k, v in data.state().items()})
                if rank == 0:
                    save_training_state(
                        net,
                        out / CHECKPOINT,
                        opt=opt,
                        params=params,
                        data_states=states,
                        step=i,
                        history=history,
                        settings=record,
                        seconds=time.perf_counter() - t0,
                    )
                barrier()
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    net.eval()
    path = None
    if out is not None and rank == 0:
        record["seconds"] = round(seconds, 1)
        path = save_style_model(net, out / "model", training=record)
    barrier()
    return StyleTrainResult(model=net, history=history, steps=done, seconds=seconds, path=path)
