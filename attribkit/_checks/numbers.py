"""Checks of numeric options: counts, sizes, seeds, finite numbers."""

from __future__ import annotations

import math

import torch

from attribkit._checks.targets import TypeAssertionError, ValueAssertionError

__all__ = [
    "check_positive_int",
    "check_option_int",
    "check_option_number",
    "check_image_size",
    "check_finite_number",
    "check_non_negative_int",
    "check_positive_number",
    "check_non_negative_number",
    "check_size",
    "check_seed",
]


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is a positive int, else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


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


# Shared checks for numbers, files and model inputs (style training, banks, layers).
def check_finite_number(
    value: object, name: str, *, positive: bool = False, minimum: float | None = None
) -> float:
    """Return ``value`` as a float if it is a finite real number (and positive, or at least
    ``minimum``, when asked), else raise. NaN and infinity are refused before any comparison.

    Examples:
        >>> check_finite_number(0.5, "lr", positive=True)
        0.5
    """
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {value!r}")
    return v


def check_non_negative_int(value: object, name: str) -> int:
    """Return ``value`` if it is an int >= 0 (not a bool), else raise.

    Examples:
        >>> check_non_negative_int(0, "padding")
        0
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
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
