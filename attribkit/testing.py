"""Helpers for proving that a call leaves the caller's world as it found it.

Used by attribkit's own tests, and available to anyone who extends it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from attribkit.layers.hooks import count_hooks

__all__ = ["WorldSnapshot", "snapshot_world"]


@dataclass
class WorldSnapshot:
    """Model mode, hooks, parameters' ``requires_grad``/``.grad``, buffers, input values and the
    global random generators (torch, CUDA, Python's ``random``, NumPy) at one time."""

    model: nn.Module
    inputs: tuple[torch.Tensor, ...]
    hooks: int
    modes: list[bool]
    requires_grad: list[bool]
    grads: list[torch.Tensor | None]
    params: list[torch.Tensor]
    input_values: list[torch.Tensor]
    input_requires_grad: list[bool]
    buffers: list[tuple[str, torch.Tensor]] = field(default_factory=list)
    rng: dict[str, Any] = field(default_factory=dict)

    def assert_unchanged(self, *, rng: bool = True) -> None:
        """Raise ``AssertionError`` naming the first thing that changed since the snapshot.

        Args:
            rng: also require the global random generators to be where they were (pass
                ``False`` when the test itself drew random numbers after the snapshot).
        """
        m = self.model
        assert count_hooks(m) == self.hooks, (
            f"hooks changed: {self.hooks} before, {count_hooks(m)} after"
        )
        assert [x.training for x in m.modules()] == self.modes, "model.training changed"
        params = list(m.parameters())
        assert [p.requires_grad for p in params] == self.requires_grad, "requires_grad changed"
        for i, (p, g) in enumerate(zip(params, self.grads)):
            if g is None:
                assert p.grad is None, f"parameter {i} gained a .grad"
            else:
                assert p.grad is not None and torch.equal(p.grad, g), f"parameter {i} .grad changed"
        for i, (p, v) in enumerate(zip(params, self.params)):
            assert torch.equal(p.detach(), v), f"parameter {i} values changed"
        for i, (x, v) in enumerate(zip(self.inputs, self.input_values)):
            assert torch.equal(x.detach(), v), f"input {i} was modified in place"
        for i, (x, rg) in enumerate(zip(self.inputs, self.input_requires_grad)):
            assert x.requires_grad == rg, f"input {i} requires_grad changed"
            if not rg:
                assert x.grad is None, f"input {i} gained a .grad"
        now = dict(m.named_buffers())
        assert list(now) == [name for name, _ in self.buffers], "the model's buffers changed"
        for name, v in self.buffers:
            assert torch.equal(now[name].detach(), v), f"buffer {name!r} changed"
        if rng:
            current = _rng_state()
            for key, state in self.rng.items():
                assert _same_state(current[key], state), f"the global {key} generator was used"


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "random": random.getstate(),
        "numpy": np.random.get_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _same_state(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b))
    return bool(a == b)


def snapshot_world(model: nn.Module, *inputs: torch.Tensor) -> WorldSnapshot:
    """Record what a well-behaved call must leave unchanged.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net, x = nn.Linear(2, 1), torch.rand(3, 2)
        >>> snap = snapshot_world(net, x)
        >>> _ = net(x)
        >>> snap.assert_unchanged()
    """
    params = list(model.parameters())
    return WorldSnapshot(
        model=model,
        inputs=inputs,
        hooks=count_hooks(model),
        modes=[x.training for x in model.modules()],
        requires_grad=[p.requires_grad for p in params],
        grads=[None if p.grad is None else p.grad.detach().clone() for p in params],
        params=[p.detach().clone() for p in params],
        input_values=[x.detach().clone() for x in inputs],
        input_requires_grad=[x.requires_grad for x in inputs],
        buffers=[(name, b.detach().clone()) for name, b in model.named_buffers()],
        rng=_rng_state(),
    )
