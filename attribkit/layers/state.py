"""Leave the caller's model as it was found: mode, ``requires_grad`` and ``.grad``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["preserve_state", "frozen"]


@contextmanager
def preserve_state(model: nn.Module) -> Iterator[nn.Module]:
    """Restore every module's ``training`` flag and every parameter's ``requires_grad`` and
    ``.grad`` when the block exits, normally or by an exception.

    Examples:
        >>> from torch import nn
        >>> net = nn.Linear(2, 2).train()
        >>> with preserve_state(net):
        ...     _ = net.eval()
        >>> net.training
        True
    """
    modes = [(m, m.training) for m in model.modules()]
    params = [
        (p, p.requires_grad, None if p.grad is None else p.grad.detach().clone())
        for p in model.parameters()
    ]
    grads_identity = [(p, p.grad) for p in model.parameters()]
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode
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
    """Put ``model`` in eval mode with parameters frozen, and restore everything afterwards.

    Use it around work that differentiates with respect to the *input* only.
    """
    with preserve_state(model):
        if eval_mode:
            model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        yield model
