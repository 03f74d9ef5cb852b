"""Checks of tensors: image and feature batches, finiteness, devices, model inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "UNIT_RANGE_TOLERANCE",
    "check_finite",
    "check_image_batch",
    "check_layer_refs",
    "check_model_input",
    "describe",
    "check_device",
    "check_state_shapes",
    "check_feature_map",
    "check_choice",
    "unit_range_tolerance",
]


#: How far outside [0, 1] an image may stray by rounding and still be accepted (then clamped).
UNIT_RANGE_TOLERANCE = 1e-5


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
            tol = unit_range_tolerance(x.dtype)
            if lo < -tol or hi > 1.0 + tol:
                raise ValueError(
                    f"{name} must hold values in [0, 1], got [{lo:.9g}, {hi:.9g}]; "
                    "attribkit models normalize internally, so pass un-normalized images "
                    "(clamp with x.clamp(0, 1) if the excess is rounding)"
                )
            x = x.clamp(0.0, 1.0)  # rounding overshoot (e.g. antialiased resizing): a clamped copy
    return x


def check_layer_refs(layers: object, name: str = "layers") -> list[str | torch.nn.Module]:
    """Return ``layers`` (one dotted name or module, or a sequence of them) as a list.

    Examples:
        >>> check_layer_refs("conv1")
        ['conv1']
    """
    from torch import nn

    if isinstance(layers, (str, nn.Module)):
        return [layers]
    if isinstance(layers, Sequence) and not isinstance(layers, (bytes, bytearray)):
        refs = list(layers)
        bad = [r for r in refs if not isinstance(r, (str, nn.Module))]
        if not bad:
            return refs
        layers = bad[0]
    raise TypeError(
        f"{name} must be a dotted layer name, an nn.Module of the model, or a list of them; "
        f"got {type(layers).__name__} {layers!r} (list names with model.named_modules())"
    )


def check_model_input(model: torch.nn.Module, x: torch.Tensor, name: str = "inputs") -> None:
    """Refuse a batch whose rank does not fit the model's first convolution.

    ``nn.Conv2d`` also accepts an unbatched ``C×H×W`` tensor and would treat its channels as
    the batch; this check asks for the ``N×C×H×W`` batch instead (likewise for 1-D and 3-D
    convolutions). Models without a convolution accept any rank.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> check_model_input(nn.Conv2d(3, 2, 1), torch.zeros(1, 3, 4, 4))
    """
    from torch import nn

    wanted = None
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            wanted = 3 if isinstance(m, nn.Conv1d) else 4 if isinstance(m, nn.Conv2d) else 5
            break
    if wanted is not None and x.ndim != wanted:
        hint = " (add a batch dimension with x.unsqueeze(0))" if x.ndim == wanted - 1 else ""
        raise ValueError(
            f"{name} must be a {wanted}-D batch for this model (its first convolution is "
            f"{wanted - 2}-D), got shape {tuple(x.shape)}{hint}"
        )


def describe(x: object) -> str:
    """A short description of ``x`` for error messages: a tensor's shape, else its type.

    Examples:
        >>> import torch
        >>> describe(torch.zeros(2, 3)), describe([1])
        ('shape (2, 3)', 'list')
    """
    if isinstance(x, torch.Tensor):
        return f"shape {tuple(x.shape)}"
    return type(x).__name__


def check_device(device: object, name: str = "device") -> torch.device:
    """Return ``device`` as a ``torch.device`` this machine has, else raise.

    Examples:
        >>> check_device("cpu")
        device(type='cpu')
    """
    if isinstance(device, bool) or not isinstance(device, (str, torch.device, int)):
        raise TypeError(f"{name} must be a device name like 'cpu' or 'cuda:0', got {device!r:.40}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"{name} {device!r} is not a device name ('cpu', 'cuda:0', ...)") from err
    if dev.type == "meta":
        raise ValueError(f"{name} 'meta' holds no data; use 'cpu' or 'cuda'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name} {device!r}: CUDA is not available on this machine")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"{name} {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    return dev


def check_state_shapes(
    expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], what: str
) -> None:
    """Refuse a set of named tensors (by their shapes) that is not the expected one.

    Args:
        expected: name -> shape the network needs.
        found: name -> shape the file or state dict holds.
        what: how to name the source in messages (``"weights.pth does not hold vgg16"``).

    Examples:
        >>> check_state_shapes({"w": (2, 3)}, {"w": (2, 3)}, "the file")
    """
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{what}: missing {missing[:5]}, unexpected {unexpected[:5]} "
            f"({len(missing)} missing, {len(unexpected)} unexpected in all)"
        )
    for k, shape in expected.items():
        if tuple(found[k]) != tuple(shape):
            raise ValueError(f"{what}: tensor {k} has shape {tuple(found[k])}, expected {shape}")


def check_feature_map(x: object, name: str = "features") -> torch.Tensor:
    """Check that ``x`` is a floating-point ``N×C×H×W`` tensor (activations; any range).

    Examples:
        >>> check_feature_map(torch.zeros(1, 2, 3, 3)).shape
        torch.Size([1, 2, 3, 3])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must be 4-D N×C×H×W, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {x.dtype}")
    return x


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

    Examples:
        >>> check_choice("Starry-Night", ["starry_night", "scream"], "painting")
        'starry_night'
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


def unit_range_tolerance(dtype: torch.dtype | np.dtype[Any]) -> float:
    """How far outside [0, 1] a float image of ``dtype`` may stray by rounding and still be
    accepted (then clamped): :data:`UNIT_RANGE_TOLERANCE`, or two ulps of a coarser dtype.

    Examples:
        >>> unit_range_tolerance(torch.float32)
        1e-05
        >>> unit_range_tolerance(torch.float16)
        0.001953125
    """
    eps = torch.finfo(dtype).eps if isinstance(dtype, torch.dtype) else float(np.finfo(dtype).eps)
    return max(UNIT_RANGE_TOLERANCE, 2 * eps)
