"""Feature extraction: stream a data set through a model and keep chosen layers' outputs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from attribkit._checks import (
    check_finite,
    check_layer_refs,
    check_model_input,
    check_positive_int,
    describe,
)
from attribkit._progress import progress_bar
from attribkit.layers.batches import batch_count, iter_batches, model_device
from attribkit.layers.distributed import gather_cat, gather_results, is_distributed, local_shard
from attribkit.layers.hooks import LayerRef, capture, forward_to, layer_name, resolve_layer
from attribkit.layers.state import frozen

__all__ = ["extract_features", "pool_features"]

_POOLS = ("avg", "max", None)


def pool_features(x: torch.Tensor, pool: str | None = "avg", flatten: bool = True) -> torch.Tensor:
    """Pool an ``N×C×H×W`` map over space (``avg`` or ``max``) and/or flatten it to ``N×D``.

    Non-spatial outputs (``N×D``) are returned as they are.

    Examples:
        >>> import torch
        >>> pool_features(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3])
    """
    if pool not in _POOLS:
        raise ValueError(f"pool must be 'avg', 'max' or None, got {pool!r}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor of features, got {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"x must be N×… (a batch), got {describe(x)}")
    if not x.is_floating_point():
        raise TypeError(f"x must be floating point, got {x.dtype}")
    check_finite(x, "x")
    if x.ndim > 2 and pool is not None:
        dims = tuple(range(2, x.ndim))
        x = x.mean(dim=dims) if pool == "avg" else x.amax(dim=dims)
    return x.flatten(1) if flatten else x


def extract_features(
    model: nn.Module,
    data: torch.Tensor | Iterable[Any],
    layers: LayerRef | Sequence[LayerRef],
    *,
    batch_size: int = 64,
    pool: str | None = None,
    flatten: bool = False,
    truncate: bool = True,
    out_device: torch.device | str | None = None,
    channels_last: bool = False,
    show_progress: bool | None = None,
    distributed: bool | None = None,
) -> torch.Tensor | dict[str, torch.Tensor]:
    """Stream ``data`` through ``model`` under ``no_grad`` and return the layers' outputs.

    Only one batch of activations is alive at a time; what is kept per image is the (pooled)
    output, so memory grows with ``N × features``, never with the full maps of the data set
    when ``pool`` is set. Hooks are removed and the model's mode and flags restored on every
    exit path, exceptions included.

    Args:
        model: the network (run in eval mode here, restored afterwards).
        data: an ``N×…`` tensor, a DataLoader, or an iterable of batches (or of
            ``(batch, labels)`` tuples).
        layers: one layer (the result is a tensor) or a sequence of layers (the result is a
            dict keyed by the given names), as dotted names or modules.
        batch_size: slice size when ``data`` is a tensor.
        pool: ``"avg"`` or ``"max"`` pools spatial maps to ``N×C``; ``None`` keeps them.
        flatten: flatten each image's output to one vector (``N×D``).
        truncate: stop each forward pass once every layer fired (the rest never runs).
        out_device: where the results are gathered (default: the model's device).
        channels_last: feed each 4-D batch in channels-last memory format (often faster for
            convolutions on CPUs; the model is not changed; models that call ``.view`` on
            activations may reject it).
        show_progress: show a progress bar over batches.
        distributed: shard the data across the ranks of the initialised
            ``torch.distributed`` process group and all-gather the result (``None``: when a
            group of more than one process is initialised). ``data`` must then be a tensor,
            a Dataset or a loader from
            :func:`attribkit.layers.distributed.image_folder_loader`; each rank computes
            whole batches of the one-process run, so every rank gets exactly the
            one-process result.

    Returns:
        A tensor ``N×…`` for one layer, else ``{name: tensor}``.

    Raises:
        ValueError: unknown layer, empty data, bad ``pool``, or a layer that did not run.
        RuntimeError: in a distributed run, another rank failed or died.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))
        >>> extract_features(net, torch.rand(5, 1, 3, 3), "1", pool="avg",
        ...                  show_progress=False).shape
        torch.Size([5, 4])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if pool not in _POOLS:
        raise ValueError(f"pool must be 'avg', 'max' or None, got {pool!r}")
    check_positive_int(batch_size, "batch_size")
    single = isinstance(layers, (str, nn.Module))
    refs = check_layer_refs(layers)
    if not refs:
        raise ValueError("extract_features needs at least one layer")
    keys = [r if isinstance(r, str) else layer_name(model, r) for r in refs]
    for r in refs:
        resolve_layer(model, r)
    if isinstance(data, torch.Tensor):
        check_model_input(model, data, "data")
    device = model_device(model)
    dest = torch.device(out_device) if out_device is not None else device
    use_dist = is_distributed() if distributed is None else (distributed and is_distributed())
    if not use_dist:
        chunks = _extract_local(
            model,
            data,
            refs,
            keys,
            batch_size,
            pool,
            flatten,
            truncate,
            dest,
            device,
            channels_last,
            show_progress,
        )
        if chunks is None:
            raise ValueError("data is empty: no batch was produced")
        result = {k: torch.cat(v) for k, v in chunks.items()}
        return result[keys[0]] if single else result
    part, _, _ = local_shard(data, batch_size)

    def _local() -> dict[str, torch.Tensor] | None:
        ch = _extract_local(
            model,
            part,
            refs,
            keys,
            batch_size,
            pool,
            flatten,
            truncate,
            torch.device("cpu"),
            device,
            channels_last,
            show_progress,
        )
        return None if ch is None else {k: torch.cat(v) for k, v in ch.items()}

    parts = gather_results(_local)
    result = {}
    for k in keys:
        t = gather_cat([p[k] if p is not None else None for p in parts])
        result[k] = t.to(dest) if dest is not None else t
    return result[keys[0]] if single else result


def _extract_local(
    model: nn.Module,
    data: torch.Tensor | Iterable[Any],
    refs: list[LayerRef],
    keys: list[str],
    batch_size: int,
    pool: str | None,
    flatten: bool,
    truncate: bool,
    dest: torch.device | None,
    device: torch.device | None,
    channels_last: bool,
    show_progress: bool | None,
) -> dict[str, list[torch.Tensor]] | None:
    """The one-process scan: per layer, the list of per-batch outputs (None: no batch)."""
    chunks: dict[str, list[torch.Tensor]] = {k: [] for k in keys}
    with frozen(model), torch.no_grad():
        bar = progress_bar(
            iter_batches(data, batch_size),
            total=batch_count(data, batch_size),
            desc="features",
            show_progress=show_progress,
        )
        for batch in bar:
            check_model_input(model, batch, "each batch of data")
            if device is not None:
                batch = batch.to(device)
            if channels_last and batch.ndim == 4:
                batch = batch.contiguous(memory_format=torch.channels_last)
            if truncate:
                acts = forward_to(model, batch, refs, detach=True)
            else:
                with capture(model, refs, detach=True) as acts:
                    model(batch)
                missing = [k for k in keys if k not in acts]
                if missing:
                    raise ValueError(f"layers {missing} did not run during the forward pass")
            for k in keys:
                out = acts[k]
                if pool is not None or flatten:
                    out = pool_features(out, pool, flatten)
                chunks[k].append(out.to(dest) if dest is not None else out)
    if not chunks[keys[0]]:
        return None
    return chunks
