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


__all__ += ["check_choice"]


def check_choice(value: object, choices: Sequence[str], name: str, listing: str = "") -> str:
    """Match a name to one of ``choices``, ignoring case and ``-``/space for ``_``.

    Args:
        value: the name given.
        choices: the known names (lower case, ``_`` between words).
        name: what the name is, for the message (``"sample image"``).
        listing: where the user finds the names (default: the names themselves).

    Returns:
        The matching entry of ``choices``.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: no name matches; the message lists close matches.
    """
    listing = listing or ", ".join(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {listing}; got {type(value).__name__}")
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    if key in choices:
        return key
    import difflib

    close = difflib.get_close_matches(key, list(choices), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"no {name} called {value!r}{hint} (choose from {listing})")
