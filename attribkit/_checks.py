"""Input checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` with a message that says what was wrong and
what to do about it, so that bad input never turns into a silently wrong answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def check_inside_folder(root: object, name: object, what: str = "file") -> Path:
    """Return ``root / name`` if ``name`` is a relative path that stays inside ``root``.

    Absolute paths, ``..`` components and links that lead out of ``root`` are refused, so a
    file listed in an index can only name files in the index's own folder.

    Examples:
        >>> check_inside_folder("/data/bank", "shard-0.safetensors").name
        'shard-0.safetensors'
    """
    import os

    if not isinstance(name, str) or not name or "\x00" in name:
        raise ValueError(f"the {what} name must be a non-empty string, got {name!r}")
    base = Path(str(root))
    rel = Path(name)
    if rel.is_absolute() or rel.drive or ".." in rel.parts:
        raise ValueError(
            f"the {what} name {name!r} leaves the folder {base}; only plain file names inside "
            "the folder are accepted"
        )
    path = base / rel
    real_base = os.path.realpath(base)
    if os.path.commonpath([real_base, os.path.realpath(path)]) != real_base:
        raise ValueError(f"the {what} {name!r} is a link that leads out of the folder {base}")
    return path


#: Largest safetensors header read (the JSON that lists tensor names, dtypes and shapes).
MAX_SAFETENSORS_HEADER = 1 << 26


def read_safetensors_header(path: object, what: str = "a safetensors file") -> dict[str, Any]:
    """Read and check the header of a ``.safetensors`` file without reading any tensor.

    Returns:
        ``{tensor name: {"dtype", "shape", "data_offsets"}}`` plus ``"__metadata__"`` (a dict of
        strings, possibly empty).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a safetensors file; the message names the file and what
            was expected.

    Examples:
        >>> import tempfile, os, torch
        >>> from safetensors.torch import save_file
        >>> p = os.path.join(tempfile.mkdtemp(), "t.safetensors")
        >>> save_file({"w": torch.zeros(2, 3)}, p)
        >>> read_safetensors_header(p)["w"]["shape"]
        [2, 3]
    """
    import json

    p = Path(str(path))
    if not p.is_file():
        raise FileNotFoundError(f"no file at {p} (expected {what})")
    size = p.stat().st_size
    hint = f"{p} is not {what}"
    with p.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{hint}: it holds only {size} bytes")
        n = int.from_bytes(head, "little")
        if n < 2 or n > min(size - 8, MAX_SAFETENSORS_HEADER):
            raise ValueError(
                f"{hint}: its first 8 bytes do not give a safetensors header length "
                f"(got {n} for a {size}-byte file); was it written by another program?"
            )
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{hint}: its header is not JSON ({err})") from err
    if not isinstance(header, dict):
        raise ValueError(f"{hint}: its header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise ValueError(f"{hint}: its metadata must map strings to strings")
    data = size - 8 - n
    for key, info in header.items():
        ok = (
            isinstance(info, dict)
            and isinstance(info.get("dtype"), str)
            and isinstance(info.get("shape"), list)
            and all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in info["shape"]
            )
            and isinstance(info.get("data_offsets"), list)
            and len(info["data_offsets"]) == 2
            and all(isinstance(o, int) and 0 <= o <= data for o in info["data_offsets"])
        )
        if not ok:
            raise ValueError(f"{hint}: the header entry for tensor {key!r} is malformed")
    header["__metadata__"] = meta
    return header


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


def read_json_file(path: Path, max_bytes: int, what: str) -> Any:
    """Parse a small JSON file; a missing, oversized or malformed file gets a clear error.

    Examples:
        >>> import tempfile, os
        >>> p = Path(tempfile.mkdtemp()) / "a.json"
        >>> _ = p.write_text('{"a": 1}')
        >>> read_json_file(p, 1024, "settings file")
        {'a': 1}
    """
    import json

    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    if path.stat().st_size > max_bytes:
        raise ValueError(f"{path} is too large for a {what} (over {max_bytes} bytes)")
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON (expected a {what}): {err}") from err


__all__ += [
    "check_finite_number",
    "check_non_negative_int",
    "check_layer_refs",
    "check_inside_folder",
    "read_safetensors_header",
    "check_model_input",
    "describe",
    "check_device",
    "check_state_shapes",
    "read_json_file",
]


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
        raise ValueError(f"{name} must be 4-D N×C×H×W, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {x.dtype}")
    return x
