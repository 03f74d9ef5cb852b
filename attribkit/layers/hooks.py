"""Naming layers and capturing their activations with hooks that never outlive their context."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from attribkit._checks import check_layer_refs

__all__ = [
    "resolve_layer",
    "layer_name",
    "capture",
    "Activations",
    "assert_no_hooks",
    "count_hooks",
]

LayerRef = str | nn.Module


def resolve_layer(model: nn.Module, layer: LayerRef) -> nn.Module:
    """Return the submodule of ``model`` named by ``layer``.

    Args:
        model: the network.
        layer: a dotted name from ``model.named_modules()`` (``"_blocks.4"``, ``"relu3_1"``),
            or a module of ``model``.

    Returns:
        The module.

    Raises:
        ValueError: the name does not exist (the message lists close matches), or the module
            is not part of ``model``.

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> resolve_layer(net, "1")
        ReLU()
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if isinstance(layer, nn.Module):
        if not any(m is layer for m in model.modules()):
            raise ValueError(
                f"the module {layer.__class__.__name__} is not part of the model; "
                "pass one of model.modules() or its dotted name"
            )
        return layer
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a dotted name or an nn.Module, got {type(layer).__name__}")
    modules = dict(model.named_modules())
    if layer in modules and layer != "":
        return modules[layer]
    names = [n for n in modules if n]
    close = difflib.get_close_matches(layer, names, n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"layer {layer!r} does not exist in {model.__class__.__name__}{hint} "
        "(list the names with [n for n, _ in model.named_modules()])"
    )


def layer_name(model: nn.Module, layer: LayerRef) -> str:
    """Return the dotted name of ``layer`` inside ``model``."""
    module = resolve_layer(model, layer)
    for name, m in model.named_modules():
        if m is module:
            return name
    raise ValueError("layer not found")  # pragma: no cover - resolve_layer already checked


class Activations(dict[str, torch.Tensor]):
    """Activations captured by :func:`capture`, keyed by the names the caller gave."""


@contextmanager
def capture(
    model: nn.Module,
    layers: LayerRef | Sequence[LayerRef],
    *,
    detach: bool = False,
) -> Iterator[Activations]:
    """Record the outputs of ``layers`` during forward passes inside the ``with`` block.

    The hooks are removed on every exit path, exceptions included. When a layer runs several
    times in one forward pass (a shared activation module), the last output is kept.

    Args:
        model: the network.
        layers: one layer or a sequence of layers (dotted names or modules).
        detach: store detached tensors (for feature extraction under ``no_grad``).

    Yields:
        A dict from each given name (or ``layer_name`` for modules) to its latest output.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> with capture(net, ["0"]) as acts:
        ...     _ = net(torch.zeros(1, 3, 8, 8))
        >>> acts["0"].shape
        torch.Size([1, 4, 6, 6])
    """
    refs = check_layer_refs(layers)
    keyed = []
    for ref in refs:
        module = resolve_layer(model, ref)
        key = ref if isinstance(ref, str) else layer_name(model, ref)
        keyed.append((key, module))
    acts = Activations()
    handles = []

    def make_hook(key: str):  # noqa: ANN202 - hook signature is torch's
        def hook(_module: nn.Module, _inp: object, out: object) -> None:
            if isinstance(out, (tuple, list)):
                out = out[0]
            if not isinstance(out, torch.Tensor):
                return
            acts[key] = out.detach() if detach else out

        return hook

    try:
        for key, module in keyed:
            handles.append(module.register_forward_hook(make_hook(key)))
        yield acts
    finally:
        for h in handles:
            h.remove()


def count_hooks(model: nn.Module) -> int:
    """Count the forward, pre-forward and backward hooks registered on any module of ``model``.

    Examples:
        >>> from torch import nn
        >>> count_hooks(nn.Linear(2, 2))
        0
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    total = 0
    for m in model.modules():
        for attr in (
            "_forward_hooks",
            "_forward_pre_hooks",
            "_backward_hooks",
            "_backward_pre_hooks",
        ):
            total += len(getattr(m, attr, {}) or {})
    return total


def assert_no_hooks(model: nn.Module) -> None:
    """Raise ``AssertionError`` if any module of ``model`` still holds a hook.

    Examples:
        >>> from torch import nn
        >>> assert_no_hooks(nn.Linear(2, 2))
    """
    n = count_hooks(model)
    if n:
        raise AssertionError(f"{n} hook(s) left on the model")


class _StopForward(Exception):
    """Raised inside a hook to end a forward pass once every needed activation is captured."""


def forward_to(
    model: nn.Module,
    inputs: torch.Tensor,
    layers: LayerRef | Sequence[LayerRef],
    *,
    detach: bool = False,
) -> Activations:
    """Run ``model`` only as far as needed to capture ``layers``, and return their outputs.

    The forward pass is cut as soon as every layer has produced its output once, so the rest
    of the network never runs (the cost of feature matching is the truncated network's).
    Works for any model whose layers run in a single forward pass; no hook is left behind.
    Like ``model(inputs)`` it runs the model in its current mode (wrap it in
    :func:`attribkit.layers.frozen` to read a train-mode model without changing it).

    Args:
        model: the network.
        inputs: its input.
        layers: the layers to capture (dotted names or modules).
        detach: return detached tensors.

    Returns:
        The captured activations, keyed as in :func:`capture`.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(1, 1))
        >>> forward_to(net, torch.zeros(1, 3, 5, 5), ["1"])["1"].shape
        torch.Size([1, 4, 3, 3])
    """
    refs = check_layer_refs(layers)
    if not refs:
        raise ValueError("forward_to needs at least one layer")
    wanted = len({id(resolve_layer(model, r)) for r in refs})
    seen: set[int] = set()
    handles = []

    def stop_hook(module: nn.Module, _inp: object, _out: object) -> None:
        seen.add(id(module))
        if len(seen) >= wanted:
            raise _StopForward

    with capture(model, refs, detach=detach) as acts:
        try:
            for r in refs:
                # registered after capture's hooks, so the activation is stored first
                handles.append(resolve_layer(model, r).register_forward_hook(stop_hook))
            model(inputs)
        except _StopForward:
            pass
        finally:
            for h in handles:
                h.remove()
    missing = [
        k
        for k in ((r if isinstance(r, str) else layer_name(model, r)) for r in refs)
        if k not in acts
    ]
    if missing:
        raise ValueError(f"layers {missing} did not run during the forward pass")
    return acts
