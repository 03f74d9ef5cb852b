"""Checks of attribution targets, in every form Captum accepts, and the errors they raise."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = [
    "check_target",
    "ValueAssertionError",
    "TypeAssertionError",
    "TargetError",
    "check_target_form",
    "check_target_fits",
]


def check_target(target: object, n_classes: int, batch: int) -> None:
    """Refuse class targets outside ``[0, n_classes)``.

    ``target`` may be an int, a sequence of ints, or an integer tensor (Captum's forms).
    Tuples of indices for multi-dimensional outputs are only range-checked on their first entry.
    """
    if target is None:
        return
    if isinstance(target, bool):
        raise TypeError("target must be a class index, not a bool")
    values: list[int] = []
    if isinstance(target, int):
        values = [target]
    elif isinstance(target, torch.Tensor):
        if target.is_floating_point():
            raise TypeError(f"target must hold integers, got a {target.dtype} tensor")
        values = [int(v) for v in target.flatten().tolist()]
        if target.numel() not in (1, batch):
            raise ValueError(
                f"target has {target.numel()} entries but the batch has {batch} inputs; "
                "give one target, or one per input"
            )
    elif isinstance(target, (list, tuple)):
        for t in target:
            if isinstance(t, tuple):
                t = t[0]
            if not isinstance(t, int):
                raise TypeError(f"target entries must be ints, got {type(t).__name__}")
            values.append(t)
        if isinstance(target, list) and len(target) not in (1, batch):
            raise ValueError(
                f"target has {len(target)} entries but the batch has {batch} inputs; "
                "give one target, or one per input"
            )
    else:
        raise TypeError(f"target must be an int, a list of ints or a tensor, got {type(target)}")
    bad = [v for v in values if v < 0 or v >= n_classes]
    if bad:
        raise ValueError(
            f"target {bad[0]} is out of range: the model has {n_classes} outputs "
            f"(valid targets are 0..{n_classes - 1})"
        )


class ValueAssertionError(ValueError, AssertionError):
    """A bad value, refused where Captum would raise ``AssertionError``: catchable as either,
    so ``except AssertionError`` written for Captum and ``except ValueError`` both work."""


class TypeAssertionError(TypeError, AssertionError):
    """A bad type, refused where Captum would raise ``AssertionError``: catchable as either."""


class TargetError(ValueError, IndexError, RuntimeError, AssertionError):
    """A bad attribution target (negative, out of range, wrong length or shape).

    Captum reports these as ``IndexError`` (an int target), ``RuntimeError`` (a list or tensor
    target, from ``torch.gather``) or ``AssertionError`` (a list or tuple of the wrong length);
    this one type is each of those and a ``ValueError``, so any of those ``except`` clauses
    still catches it.
    """


_TARGET_FORMS = "an int, a tuple of ints, a list of ints or of tuples, or an integer tensor"


def _target_index(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeAssertionError(
            f"{what} must be an int class index, got {type(value).__name__} {value!r}"
            + ("" if not hasattr(value, "__index__") else f"; pass int({value!r})")
        )
    if value < 0:
        raise TargetError(
            f"{what} {value} is negative: class indices count from 0 (Captum would wrap it "
            "around to a class counted from the end; pass that class's index instead)"
        )
    return value


def check_target_form(target: object, batch: int) -> None:
    """Check a Captum ``target`` before the model runs: its form, its entries, their sign and
    the number of entries against the batch size.

    The forms are Captum's: ``None``, an int, a tuple of ints (one index per output dimension),
    a list of ints or of tuples (one per example), or an integer tensor with one entry or one
    per example. What needs the model's output (range, tuple length) is checked by
    :func:`check_target_fits`. Errors are :class:`TargetError` or :class:`TypeAssertionError`.

    Examples:
        >>> check_target_form([0, 2], batch=2)
        >>> check_target_form(-1, batch=2)
        Traceback (most recent call last):
        ...
        attribkit._checks.targets.TargetError: target -1 is negative: ...
    """
    if target is None:
        return
    if isinstance(target, torch.Tensor):
        if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
            raise TypeAssertionError(
                f"a target tensor must hold integer class indices, got {target.dtype}; "
                "use target.long()"
            )
        if not (target.numel() == 1 or (target.ndim == 1 and target.numel() == batch)):
            raise TargetError(
                f"a target tensor must hold one index or one per example ({batch}), got shape "
                f"{tuple(target.shape)}; for multi-dimensional outputs pass a tuple or a list "
                "of tuples"
            )
        if target.numel() and int(target.min()) < 0:
            raise TargetError(f"target {int(target.min())} is negative: class indices count from 0")
        return
    if isinstance(target, tuple):
        if not target:
            raise TargetError("a tuple target needs one index per output dimension, got ()")
        for v in target:
            _target_index(v, "target")
        return
    if isinstance(target, list):
        if len(target) != batch:
            raise TargetError(
                f"target has {len(target)} entries but the batch has {batch} examples; give "
                "one target per example, or one int for all"
            )
        for v in target:
            if isinstance(v, tuple):
                check_target_form(v, batch)
            else:
                _target_index(v, "target entry")
        return
    if isinstance(target, int):
        _target_index(target, "target")
        return
    raise TypeAssertionError(
        f"target must be {_TARGET_FORMS}; got {type(target).__name__} {target!r}"
    )


def check_target_fits(target: object, output_shape: Sequence[int]) -> None:
    """Check a target (already through :func:`check_target_form`) against the model's output
    shape ``N×…``: every index in range, and one index per output dimension after the batch.

    Examples:
        >>> check_target_fits([0, 2], (2, 3))
        >>> check_target_fits(3, (2, 3))
        Traceback (most recent call last):
        ...
        attribkit._checks.targets.TargetError: target 3 is out of range: ...
    """
    if target is None:
        return
    dims = tuple(int(d) for d in output_shape[1:])
    if not dims:
        raise TargetError(
            f"a target was given, but the model returns one value per example (output shape "
            f"{tuple(output_shape)}); pass target=None"
        )
    entries: list[tuple[int, ...]]
    if isinstance(target, torch.Tensor):
        entries = [(int(target.max()),)] if target.numel() else []
    elif isinstance(target, list):
        entries = [v if isinstance(v, tuple) else (v,) for v in target]  # type: ignore[misc]
    elif isinstance(target, tuple):
        entries = [target]
    else:
        entries = [(int(target),)]  # type: ignore[call-overload]
    for entry in entries:
        if len(entry) != len(dims):
            shown = entry[0] if len(entry) == 1 else entry
            example = tuple(0 for _ in dims)
            raise TargetError(
                f"target {shown!r} has {len(entry)} index(es) but the model's output has shape "
                f"{tuple(output_shape)}: give one index per dimension after the batch, "
                f"e.g. target={example[0] if len(example) == 1 else example}"
            )
        for value, size in zip(entry, dims):
            if value >= size:
                if len(dims) == 1:
                    raise TargetError(
                        f"target {value} is out of range: the model has {size} outputs "
                        f"(valid targets are 0..{size - 1})"
                    )
                raise TargetError(
                    f"target {entry} is out of range for output shape {tuple(output_shape)}"
                )
