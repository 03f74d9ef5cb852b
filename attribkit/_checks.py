"""Input checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` with a message that says what was wrong and
what to do about it, so that bad input never turns into a silently wrong answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = [
    "check_image_batch",
    "check_finite",
    "check_target",
    "check_positive_int",
    "as_tuple",
    "UNIT_RANGE_TOLERANCE",
    "check_positive_number",
    "check_non_negative_number",
    "check_size",
    "check_seed",
    "check_feature_map",
]

#: How far outside [0, 1] an image may stray by rounding and still be accepted (then clamped).
UNIT_RANGE_TOLERANCE = 1e-5


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
        unit_range: also require values in ``[0, 1]``; an overshoot by rounding, up to
            :data:`UNIT_RANGE_TOLERANCE` (or two ulps of a half-precision dtype), is accepted
            and clamped (``F.interpolate(..., antialias=True)`` gives 1.0000001).

    Returns:
        ``x`` itself, or a clamped copy when it overshot [0, 1] by rounding.
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
    if unit_range and x.numel():
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            tol = max(UNIT_RANGE_TOLERANCE, 2 * torch.finfo(x.dtype).eps)
            if lo < -tol or hi > 1.0 + tol:
                raise ValueError(
                    f"{name} must hold values in [0, 1], got [{lo:.9g}, {hi:.9g}]; "
                    "attribkit models normalize internally, so pass un-normalized images "
                    "(clamp with x.clamp(0, 1) if the excess is rounding)"
                )
            x = x.clamp(0.0, 1.0)  # rounding overshoot (e.g. antialiased resizing): a clamped copy
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


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
            value = float(value)
        else:
            raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v}; give a real value")
    return v


def check_positive_number(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number ``> 0``, else raise.

    NaN and infinity are refused first (``not v > 0`` would let infinity through).

    Examples:
        >>> check_positive_number(0.5, "lr")
        0.5
    """
    v = _number(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be a positive number, got {v:g}")
    return v


def check_non_negative_number(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number ``>= 0``, else raise.

    Examples:
        >>> check_non_negative_number(0, "tv_weight")
        0.0
    """
    v = _number(value, name)
    if v < 0:
        raise ValueError(f"{name} must be a non-negative number, got {v:g}")
    return v


def check_size(size: object, name: str = "size") -> tuple[int, int]:
    """Return an image size as ``(height, width)``: one positive int or a pair of them.

    Examples:
        >>> check_size(8), check_size((4, 6))
        ((8, 8), (4, 6))
    """
    pair = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in pair)
    ):
        raise ValueError(
            f"{name} must be a positive int or (height, width) of positive ints, got {size!r}"
        )
    return int(pair[0]), int(pair[1])


def check_seed(seed: object, name: str = "seed") -> int | None:
    """Return ``seed`` if it is ``None`` or a non-negative int (what ``torch.Generator`` takes).

    Examples:
        >>> check_seed(0) is None, check_seed(None) is None
        (False, True)
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{name} must be an int or None, got {type(seed).__name__} {seed!r}")
    if not 0 <= seed < 2**63:
        raise ValueError(f"{name} must lie in [0, 2**63), got {seed}")
    return seed


def check_feature_map(x: object, name: str = "features") -> torch.Tensor:
    """Check that ``x`` is a floating-point ``N×C×H×W`` tensor (activations; any range).

    Examples:
        >>> check_feature_map(torch.zeros(1, 2, 3, 3)).shape
        torch.Size([1, 2, 3, 3])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must be N×C×H×W, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {x.dtype}")
    return x
