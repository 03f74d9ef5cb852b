"""Checks of files: paths inside a folder, safetensors headers and JSON files read with bounds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "check_inside_folder",
    "MAX_SAFETENSORS_HEADER",
    "read_safetensors_header",
    "read_json_file",
]


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
