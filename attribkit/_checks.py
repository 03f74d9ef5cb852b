"""Input checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` with a message that says what was wrong and
what to do about it, so that bad input never turns into a silently wrong answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["check_image_batch", "check_finite", "check_target", "check_positive_int", "as_tuple"]


def as_tuple(inputs: torch.Tensor | Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """Return ``inputs`` as a tuple of tensors (Captum's convention)."""
    if isinstance(inputs, torch.Tensor):
        return (inputs,)
    if isinstance(inputs, (tuple, list)) and all(isinstance(t, torch.Tensor) for t in inputs):
        return tuple(inputs)
    raise TypeError(
        f"inputs must be a tensor or a tuple of tensors, got {type(inputs).__name__}; "
        "convert images with attribkit.load_image or torch.as_tensor first"
    )


def check_finite(x: torch.Tensor, name: str = "inputs") -> None:
    """Refuse tensors that hold NaN or infinite values."""
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        n_bad = int((~torch.isfinite(x)).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); clean or clamp the tensor first"
        )


def check_image_batch(
    x: object,
    name: str = "inputs",
    *,
    channels: int | None = None,
    unit_range: bool = False,
) -> torch.Tensor:
    """Check that ``x`` is a finite float ``N×C×H×W`` tensor and return it.

    Args:
        x: the candidate tensor.
        name: how to call it in error messages.
        channels: the required channel count, if any.
        unit_range: also require values in ``[0, 1]``.

    Returns:
        ``x`` itself, unchanged.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape N×C×H×W, got {type(x).__name__}; "
            "use attribkit.load_image to read pictures"
        )
    if x.ndim != 4:
        hint = " (add a batch dimension with x.unsqueeze(0))" if x.ndim == 3 else ""
        raise ValueError(f"{name} must be 4-D N×C×H×W, got shape {tuple(x.shape)}{hint}")
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got {x.dtype}; "
            "convert with x.float() / 255 for 8-bit images"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels, got {x.shape[1]}")
    check_finite(x, name)
    if unit_range and x.numel() and (float(x.min()) < 0.0 or float(x.max()) > 1.0):
        raise ValueError(
            f"{name} must hold values in [0, 1], got [{float(x.min()):.3g}, {float(x.max()):.3g}]; "
            "attribkit models normalize internally, so pass un-normalized images"
        )
    return x


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


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is a positive int, else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


# Attribution checks (Captum drop-in): refusals that Captum's callers already catch.
__all__ += [
    "ValueAssertionError",
    "TypeAssertionError",
    "TargetError",
    "check_option_int",
    "check_option_number",
    "check_target_form",
    "check_target_fits",
]


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


def check_option_int(
    value: object, name: str, *, minimum: int = 1, optional: bool = False
) -> int | None:
    """Return ``value`` if it is an int of at least ``minimum`` (``None`` too when
    ``optional``), else raise :class:`ValueAssertionError` or :class:`TypeAssertionError`.

    Examples:
        >>> check_option_int(8, "n_steps")
        8
        >>> check_option_int(None, "internal_batch_size", optional=True) is None
        True
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeAssertionError(
            f"{name} must be an int of at least {minimum}"
            f"{' or None' if optional else ''}, got {type(value).__name__} {value!r}"
        )
    if value < minimum:
        raise ValueAssertionError(f"{name} must be at least {minimum}, got {value}")
    return value


def check_option_number(value: object, name: str, *, minimum: float = 0.0) -> float:
    """Return ``value`` as a float if it is a finite real number of at least ``minimum``.

    NaN and infinity are refused before any comparison (``nan < 0`` is ``False``). Errors are
    :class:`ValueAssertionError` / :class:`TypeAssertionError`.

    Examples:
        >>> check_option_number(1, "stdevs")
        1.0
    """
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeAssertionError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueAssertionError(f"{name} must be a finite number, got {value!r}")
    if v < minimum:
        raise ValueAssertionError(f"{name} must be at least {minimum:g}, got {value!r}")
    return v


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
        attribkit._checks.TargetError: target -1 is negative: ...
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
        attribkit._checks.TargetError: target 3 is out of range: ...
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


__all__ += ["check_image_size"]


def check_image_size(value: object, name: str = "size") -> int | tuple[int, int] | None:
    """Return ``value`` if it is ``None``, a positive int or a ``(height, width)`` pair of
    positive ints (a list is turned into a tuple), else raise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be None, a positive int or (height, width), not a bool")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError(f"{name} must hold two ints (height, width), got {value!r}")
        if not all(v > 0 for v in value):
            raise ValueError(f"{name} must hold two positive ints (height, width), got {value!r}")
        return (int(value[0]), int(value[1]))
    if isinstance(value, float):
        raise TypeError(f"{name} must be an int number of pixels, got the float {value!r}")
    raise TypeError(f"{name} must be None, a positive int or (height, width), got {value!r}")
