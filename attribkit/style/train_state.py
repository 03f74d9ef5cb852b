"""Training-state checkpoints: everything a run needs to continue bit for bit.

A checkpoint is a style-model file pair (:func:`attribkit.style.save_style_model`:
safetensors + JSON, nothing pickled) whose tensors also hold the optimizer's per-parameter
state (``optim.I.KEY``) and every process's data-source state (``KEY.RANK``, e.g. the crop
generator ``gen.0`` and the stream position ``pos.0``), and whose JSON holds the step and the
loss history. Reading it checks every field: a JSON edited by hand (``step: -5``, a string
``history``) or tensors that do not fit the network are refused with a ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from attribkit.style.checkpoint import (
    architecture,
    load_style_model,
    read_style_metadata,
    save_style_model,
)

__all__ = [
    "TrainingState",
    "optimizer_tensors",
    "restore_optimizer",
    "save_training_state",
    "load_training_state",
    "HISTORY_KEPT",
]

#: Loss records kept in a checkpoint's JSON (the most recent ones).
HISTORY_KEPT = 2000


@dataclass
class TrainingState:
    """What a checkpoint restores (besides the weights, which go into the network).

    Attributes:
        step: optimizer steps done.
        history: the loss records so far (the most recent :data:`HISTORY_KEPT`).
        data: this process's data-source state (see ``CropSource.state``).
        optimizer: ``optim.I.KEY`` tensors of the optimizer's state.
        seconds: training time recorded with the checkpoint.
        meta: the checkpoint's JSON.
    """

    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    data: dict[str, torch.Tensor] = field(default_factory=dict)
    optimizer: dict[str, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


def optimizer_tensors(
    opt: torch.optim.Optimizer, params: Sequence[nn.Parameter]
) -> dict[str, torch.Tensor]:
    """The optimizer's per-parameter state as ``optim.I.KEY`` tensors (CPU copies).

    Examples:
        >>> p = nn.Parameter(torch.zeros(2))
        >>> opt = torch.optim.Adam([p]); p.grad = torch.ones(2); opt.step()
        >>> sorted(optimizer_tensors(opt, [p]))
        ['optim.0.exp_avg', 'optim.0.exp_avg_sq', 'optim.0.step']
    """
    out = {}
    for i, p in enumerate(params):
        for k, v in opt.state.get(p, {}).items():
            out[f"optim.{i}.{k}"] = torch.as_tensor(v).detach().cpu().clone()
    return out


def restore_optimizer(
    opt: torch.optim.Optimizer, params: Sequence[nn.Parameter], saved: Mapping[str, torch.Tensor]
) -> None:
    """Put ``optim.I.KEY`` tensors back into the optimizer's state.

    Raises:
        ValueError: an index out of range, a state tensor whose shape does not fit its
            parameter, or a non-finite value.
    """
    for key, v in saved.items():
        parts = key.split(".", 2)
        if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) >= len(params):
            raise ValueError(
                f"optimizer state {key!r} names no parameter (the network has {len(params)})"
            )
        p, k = params[int(parts[1])], parts[2]
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise ValueError(f"optimizer state {key!r} holds NaN or infinite values")
        if k == "step":
            if v.numel() != 1 or float(v) < 0:
                raise ValueError(f"optimizer state {key!r} must be one count >= 0")
            opt.state[p][k] = v.clone()
        else:
            if v.shape != p.shape:
                raise ValueError(
                    f"optimizer state {key!r} has shape {tuple(v.shape)}, but its parameter "
                    f"has {tuple(p.shape)}: the checkpoint is for another network"
                )
            opt.state[p][k] = v.to(p.device)


def save_training_state(
    net: nn.Module,
    path: Path,
    *,
    opt: torch.optim.Optimizer,
    params: Sequence[nn.Parameter],
    data_states: Sequence[Mapping[str, torch.Tensor]],
    step: int,
    history: Sequence[Mapping[str, float]],
    settings: Mapping[str, Any],
    seconds: float,
) -> Path:
    """Write a checkpoint (call on rank 0 with every rank's data state, in rank order).

    Returns:
        The path of the ``.safetensors`` file.
    """
    extra = optimizer_tensors(opt, params)
    for rank, state in enumerate(data_states):
        extra.update({f"{k}.{rank}": v for k, v in state.items()})
    state_json: dict[str, Any] = {"step": step, "seconds": round(seconds, 1)}
    pos = data_states[0].get("pos") if data_states else None
    if pos is not None and pos.numel() == 2:  # human-readable copy of rank 0's position
        state_json.update(epoch=int(pos[0]), pos=int(pos[1]))
    return save_style_model(
        net,
        path,
        training=settings,
        extra_tensors=extra,
        extra={"state": state_json, "history": list(history)[-HISTORY_KEPT:]},
    )


def _check_history(history: object, where: str) -> list[dict[str, float]]:
    if not isinstance(history, list):
        raise ValueError(f"{where}: 'history' must be a list of loss records, got {history!r:.60}")
    out = []
    for rec in history:
        ok = isinstance(rec, dict) and all(
            isinstance(k, str)
            and isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            for k, v in rec.items()
        )
        if not ok:
            raise ValueError(f"{where}: each history record must map names to finite numbers")
        out.append({k: float(v) for k, v in rec.items()})
    return out


def load_training_state(
    path: Path,
    net: nn.Module,
    *,
    styles: Sequence[str],
    steps: int,
    rank: int = 0,
) -> TrainingState:
    """Read a checkpoint into ``net`` (in place) and return the rest of the state.

    Args:
        path: the checkpoint (without suffix).
        net: the network being trained; the checkpoint must hold the same architecture.
        styles: the style names of this run (they must match).
        steps: the run's total steps (the checkpoint may not be past them).
        rank: this process; its data state is ``KEY.RANK``.

    Raises:
        ValueError: another architecture or other styles, or a field of the wrong type or
            range (``step`` outside ``0..steps``, a history that is not a list of records).
    """
    meta = read_style_metadata(path)
    where = str(Path(path).with_suffix(".json") if Path(path).suffix else f"{path}.json")
    if meta["styles"] != list(styles):
        raise ValueError(
            f"the checkpoint {where} is for styles {meta['styles']}, not {list(styles)}; "
            "use another out_dir or resume=False"
        )
    if meta["arch"] != architecture(net):
        raise ValueError(
            f"the checkpoint {where} holds another architecture ({meta['arch']}, this run "
            f"trains {architecture(net)}); use another out_dir or resume=False"
        )
    state = meta.get("state")
    if not isinstance(state, dict):
        raise ValueError(f"{where} is a model, not a training checkpoint (no 'state')")
    step = state.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= steps:
        raise ValueError(
            f"{where}: 'step' must be an int in 0..{steps} (the steps asked for), got {step!r:.40}"
            "; ask for more steps, or start afresh with resume=False"
        )
    seconds = state.get("seconds", 0.0)
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not (math.isfinite(seconds) and seconds >= 0)
    ):
        raise ValueError(f"{where}: 'seconds' must be a finite number >= 0, got {seconds!r:.40}")
    history = _check_history(meta.get("history", []), where)
    loaded, extra, meta = load_style_model(path, return_extra=True)
    net.load_state_dict(loaded.state_dict())
    optim = {k: v for k, v in extra.items() if k.startswith("optim.")}
    suffix = f".{rank}"
    data = {k[: -len(suffix)]: v for k, v in extra.items() if k.endswith(suffix)}
    data = {k: v for k, v in data.items() if not k.startswith("optim.")}
    if "pos" not in data and "epoch" in state:  # checkpoints written before 0.1.0's split
        epoch, pos = state.get("epoch"), state.get("pos")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (epoch, pos)):
            raise ValueError(f"{where}: 'epoch' and 'pos' must be ints >= 0")
        data["pos"] = torch.tensor([epoch, pos])
    return TrainingState(step, history, data, optim, float(seconds), meta)
