"""Leave the caller's model as it was found: mode, buffers, ``requires_grad`` and ``.grad``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["preserve_state", "frozen"]


@contextmanager
def preserve_state(model: nn.Module, *, buffers: bool = True) -> Iterator[nn.Module]:
    """Restore every module's ``training`` flag, every parameter's ``requires_grad`` and
    ``.grad`` and (with ``buffers=True``) every buffer's values, such as BatchNorm's running
    statistics, when the block exits, normally or by an exception.

    Buffers are restored in place, so tensors the caller holds keep pointing at the model's own.
    Pass ``buffers=False`` around work whose buffer updates should stay (a training step).

    Examples:
        >>> from torch import nn
        >>> net = nn.Linear(2, 2).train()
        >>> with preserve_state(net):
        ...     _ = net.eval()
        >>> net.training
        True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(buffers, bool):
        raise TypeError(f"buffers must be True or False, got {buffers!r}")
    modes = [(m, m.training) for m in model.modules()]
    params = [
        (p, p.requires_grad, None if p.grad is None else p.grad.detach().clone())
        for p in model.parameters()
    ]
    grads_identity = [(p, p.grad) for p in model.parameters()]
    saved = (
        [
            (m, name, b, b.detach().clone())
            for m in model.modules()
            for name, b in m._buffers.items()
            if b is not None
        ]
        if buffers
        else []
    )
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode
        with torch.no_grad():
            for m, name, b, value in saved:
                if m._buffers.get(name) is not b:
                    m._buffers[name] = b  # undo a reassignment
                # copy only what changed: an in-place write bumps the version counter, and an
                # eval-mode BatchNorm saved its running statistics for a pending backward
                if not torch.equal(b, value):
                    b.copy_(value)
        for (p, requires_grad, grad_copy), (_, grad_obj) in zip(params, grads_identity):
            p.requires_grad_(requires_grad)
            if grad_copy is None:
                p.grad = None
            else:
                assert grad_obj is not None
                with torch.no_grad():
                    grad_obj.copy_(grad_copy)
                p.grad = grad_obj


@contextmanager
def frozen(model: nn.Module, *, eval_mode: bool = True) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode with parameters frozen, and restore everything afterwards
    (modes, ``requires_grad``, ``.grad`` and buffers).

    Use it around work that differentiates with respect to the *input* only. With
    ``eval_mode=False`` the model keeps its mode (dropout stays active in a train-mode model),
    and buffers such as BatchNorm statistics are still restored on exit.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).train()
        >>> before = net[1].running_mean.clone()
        >>> with frozen(net, eval_mode=False):
        ...     _ = net(torch.randn(4, 2))
        >>> torch.equal(net[1].running_mean, before), net.training
        (True, True)
    """
    if not isinstance(eval_mode, bool):
        raise TypeError(f"eval_mode must be True or False, got {eval_mode!r}")
    with preserve_state(model):
        if eval_mode:
            model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        yield model
