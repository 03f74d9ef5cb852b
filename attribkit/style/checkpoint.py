"""Save and load style networks as safetensors + JSON; nothing is ever unpickled.

A model is two files side by side: ``NAME.safetensors`` (the tensors) and ``NAME.json``
(format tag, architecture, style names, training settings, and the SHA-256 of the tensor
file). Loading checks the format tag and the architecture's fields, then the tensor file's
header against the network the JSON describes (built on the ``meta`` device, so a description
of a huge network costs nothing), then the hash, then that every value is finite, and refuses
anything else with a ``ValueError``. Writing goes through temporary names, so an error or a
crash never leaves a half-written model.

Training checkpoints (for resuming) use the same two-file layout and also hold the optimizer's
state and the random generators' states, all as tensors.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from attribkit._checks import (
    check_device,
    check_state_shapes,
    read_json_file,
    read_safetensors_header,
)
from attribkit.style.transformer import MultiStyleNet, TransformerNet

__all__ = [
    "FORMAT",
    "ARCHITECTURES",
    "architecture",
    "save_style_model",
    "load_style_model",
    "read_style_metadata",
    "shipped_model_path",
    "load_shipped_model",
]

#: Format tag written into every JSON file; files without it are refused.
FORMAT = "attribkit.faststyle"
_VERSION = 1
#: The networks this format holds: class name -> (class, its integer architecture fields).
#: A new network (e.g. an arbitrary-style decoder) adds a row here and a case in ``_build``.
ARCHITECTURES: dict[str, tuple[type[nn.Module], tuple[str, ...]]] = {
    "TransformerNet": (TransformerNet, ("width", "n_residual")),
    "MultiStyleNet": (MultiStyleNet, ("n_styles", "width", "n_residual")),
}
#: Largest value accepted for an architecture field read from JSON.
_FIELD_LIMITS = {"n_residual": 64, "width": 1024}
_DEFAULT_LIMIT = 4096
_MAX_JSON_BYTES = 1 << 20
_CORE_KEYS = ("format", "version", "arch", "styles", "training", "sha256", "tensors")
_WHAT = "the tensor file of an attribkit style model (written by save_style_model)"


def _paths(path: str | Path) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    """Keep only what JSON can hold (settings like paths become strings)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def architecture(model: nn.Module) -> dict[str, Any]:
    """The JSON description of a saveable network's architecture.

    Examples:
        >>> architecture(TransformerNet(width=4, n_residual=1))
        {'class': 'TransformerNet', 'width': 4, 'n_residual': 1}
    """
    for name, (cls, fields) in ARCHITECTURES.items():
        if type(model) is cls:
            return {"class": name, **{f: int(getattr(model, f)) for f in fields}}
    raise TypeError(
        f"can only save {' or '.join(ARCHITECTURES)}, got {type(model).__name__}; "
        "unwrap DistributedDataParallel with .module"
    )


def save_style_model(
    model: nn.Module,
    path: str | Path,
    *,
    training: Mapping[str, Any] | None = None,
    extra_tensors: Mapping[str, torch.Tensor] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` to ``path.safetensors`` + ``path.json``.

    Args:
        model: a :class:`TransformerNet` or :class:`MultiStyleNet`.
        path: file name without suffix (a ``.safetensors`` or ``.json`` suffix is dropped).
        training: training settings to record (JSON-able; other values become strings).
        extra_tensors: more tensors to store (optimizer / generator state for resuming),
            named without the ``model.`` prefix that model tensors get.
        extra: more JSON metadata.

    Returns:
        The path of the ``.safetensors`` file.

    Examples:
        >>> import tempfile, os
        >>> net = MultiStyleNet(2, width=4, n_residual=1, style_names=["a", "b"])
        >>> d = tempfile.mkdtemp()
        >>> _ = save_style_model(net, os.path.join(d, "m"))
        >>> load_style_model(os.path.join(d, "m")).style_names
        ['a', 'b']
    """
    from safetensors.torch import save_file

    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    st_path, json_path = _paths(path)
    arch = architecture(model)
    clash = sorted(set(extra or {}) & set(_CORE_KEYS))
    if clash:
        raise ValueError(f"extra metadata may not replace the format's own keys {clash}")
    tensors = {
        f"model.{k}": v.detach().to("cpu").contiguous().clone()
        for k, v in model.state_dict().items()
    }
    for k, v in tensors.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise ValueError(
                f"{k} holds NaN or infinite values; such a model could not be loaded back, so "
                "nothing was written (lower the learning rate or the loss weights)"
            )
    for k, v in (extra_tensors or {}).items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"extra_tensors[{k!r}] must be a tensor, got {type(v).__name__}")
        tensors[f"extra.{k}"] = v.detach().to("cpu").contiguous().clone()
    meta = {
        "format": FORMAT,
        "version": _VERSION,
        "arch": arch,
        "styles": list(getattr(model, "style_names", ["style0"])),
        "training": _jsonable(dict(training or {})),
        "sha256": "",
        "tensors": st_path.name,
    }
    meta.update(_jsonable(dict(extra or {})))
    st_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = st_path.with_name(f".{st_path.name}.tmp-{os.getpid()}")
    tmp_json = json_path.with_name(f".{json_path.name}.tmp-{os.getpid()}")
    try:
        save_file(tensors, str(tmp), metadata={"format": FORMAT})
        tmp.chmod(0o644)
        meta["sha256"] = _sha256(tmp)
        tmp_json.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
        tmp.replace(st_path)
        tmp_json.replace(json_path)
    finally:
        for t in (tmp, tmp_json):
            if t.exists():
                t.unlink()
    return st_path


def read_style_metadata(path: str | Path) -> dict[str, Any]:
    """Read and validate the JSON half of a saved model (no tensor is read).

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: the JSON is not an attribkit fast-style file.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    _, json_path = _paths(path)
    meta = read_json_file(json_path, _MAX_JSON_BYTES, "model description")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{json_path} is not an attribkit fast-style model (format tag missing)")
    if meta.get("version") != _VERSION:
        raise ValueError(f"{json_path} has format version {meta.get('version')!r}; expected 1")
    arch = meta.get("arch")
    if not isinstance(arch, dict) or arch.get("class") not in ARCHITECTURES:
        raise ValueError(
            f"{json_path}: unknown architecture {arch!r:.100}; expected one of "
            f"{sorted(ARCHITECTURES)}"
        )
    for key in ARCHITECTURES[arch["class"]][1]:
        v, top = arch.get(key), _FIELD_LIMITS.get(key, _DEFAULT_LIMIT)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
            raise ValueError(
                f"{json_path}: bad architecture field {key}={v!r:.40} (expected an int in 0..{top})"
            )
    styles = meta.get("styles")
    if not isinstance(styles, list) or not all(isinstance(s, str) for s in styles):
        raise ValueError(f"{json_path}: 'styles' must be a list of names")
    for key in ("training", "sha256", "tensors"):
        if key in meta and not isinstance(meta[key], dict if key == "training" else str):
            raise ValueError(f"{json_path}: field {key!r} has the wrong type")
    return meta


def _build(meta: Mapping[str, Any]) -> TransformerNet | MultiStyleNet:
    arch = meta["arch"]
    if arch["class"] == "MultiStyleNet":
        styles = meta["styles"]
        if len(styles) != arch["n_styles"]:
            raise ValueError(f"{len(styles)} style names for {arch['n_styles']} styles")
        return MultiStyleNet(
            arch["n_styles"], width=arch["width"], n_residual=arch["n_residual"], style_names=styles
        )
    return TransformerNet(width=arch["width"], n_residual=arch["n_residual"])


def _check_header(st_path: Path, meta: Mapping[str, Any]) -> None:
    """Compare the tensor file's header with the described network, before reading data."""
    header = read_safetensors_header(st_path, _WHAT)
    with torch.device("meta"):
        expected = {f"model.{k}": tuple(v.shape) for k, v in _build(meta).state_dict().items()}
    found = {k: tuple(v["shape"]) for k, v in header.items() if k.startswith("model.")}
    what = f"{st_path} does not hold the {meta['arch']['class']} its description asks for"
    check_state_shapes(expected, found, what)
    for k in expected:
        if header[k]["dtype"] not in ("F16", "BF16", "F32", "F64"):
            raise ValueError(f"{st_path}: tensor {k} is {header[k]['dtype']}, not floating point")


def _read_tensors(path: str | Path, meta: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    st_path, _ = _paths(path)
    if not st_path.is_file():
        raise FileNotFoundError(f"no tensor file at {st_path}")
    _check_header(st_path, meta)
    digest = _sha256(st_path)
    if digest != meta.get("sha256"):
        raise ValueError(
            f"{st_path} does not match its description (SHA-256 differs): the file is "
            "corrupted or belongs to another model"
        )
    try:
        return load_file(str(st_path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ValueError(f"{st_path} is not a readable safetensors file: {err}") from err


def load_style_model(
    path: str | Path,
    *,
    device: torch.device | str | None = None,
    return_extra: bool = False,
) -> Any:
    """Load a model written by :func:`save_style_model`, in eval mode.

    Args:
        path: file name with or without suffix.
        device: where to put the model.
        return_extra: also return ``(extra_tensors, metadata)`` (used to resume training).

    Returns:
        The network (or ``(network, extra_tensors, metadata)``).

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: a foreign, corrupted or mismatched file (never executed: safetensors and
            JSON hold only data).
    """
    if device is not None:
        device = check_device(device)
    meta = read_style_metadata(path)
    tensors = _read_tensors(path, meta)
    model = _build(meta)
    state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    for k, v in state.items():  # names and shapes were checked against the header
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ValueError(f"tensor {k} holds NaN or infinite values")
    model.load_state_dict(state, strict=True)
    model = model.to(device).eval() if device is not None else model.eval()
    if return_extra:
        extra = {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")}
        return model, extra, meta
    return model


def shipped_model_path() -> Path:
    """Path (without suffix) of the multi-style model shipped with attribkit."""
    return Path(__file__).resolve().parent.parent / "data" / "multistyle"


def load_shipped_model(device: torch.device | str | None = None) -> MultiStyleNet:
    """The shipped multi-style model (see ``attribkit/data/PROVENANCE.md`` for its training).

    Examples:
        >>> net = load_shipped_model()
        >>> "starry_night" in net.style_names
        True
    """
    model = load_style_model(shipped_model_path(), device=device)
    assert isinstance(model, MultiStyleNet)
    return model
