"""Read Qt resource files (``.rcc``, the binary output of ``rcc -binary``) without Qt.

The format (Qt's ``qresource.cpp`` / ``rcc.cpp``): a 20-byte header (version 1-2) or 24-byte
header (version 3: a flags word follows), all big-endian::

    b"qres", version, tree_offset, data_offset, names_offset[, flags]

The tree is an array of nodes (14 bytes in version 1, 22 from version 2: an 8-byte
modification time follows). A node is ``name_offset:u32, flags:u16`` and then either
``child_count:u32, first_child:u32`` (a directory, flag 2) or
``territory:u16, language:u16, data_offset:u32`` (a file). Names are ``length:u16, hash:u32``
and UTF-16-BE characters. File data is ``size:u32`` and the bytes; with flag 1 the bytes are
``qCompress`` output (a big-endian uncompressed size, then a zlib stream); with flag 4 they are a
zstd frame (not used by the files this project reads; refused clearly).

Examples:
    >>> import io
    >>> # a hand-made archive holding one uncompressed file "a" with the bytes b"hi"
    >>> name = (1).to_bytes(2, "big") + (0).to_bytes(4, "big") + "a".encode("utf-16-be")
    >>> data = (2).to_bytes(4, "big") + b"hi"
    >>> root = (0).to_bytes(4, "big") + (2).to_bytes(2, "big") + (1).to_bytes(4, "big") \\
    ...     + (1).to_bytes(4, "big") + bytes(8)
    >>> leaf = (0).to_bytes(4, "big") + (0).to_bytes(2, "big") + bytes(4) \\
    ...     + (0).to_bytes(4, "big") + bytes(8)
    >>> head = b"qres" + (2).to_bytes(4, "big")
    >>> body = data + name + root + leaf
    >>> off = 20
    >>> blob = head + (off + len(data) + len(name)).to_bytes(4, "big") \\
    ...     + off.to_bytes(4, "big") + (off + len(data)).to_bytes(4, "big") + body
    >>> read_rcc(blob)
    {'a': b'hi'}
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

__all__ = ["read_rcc"]

_COMPRESSED = 1
_DIRECTORY = 2
_ZSTD = 4


def read_rcc(source: str | Path | bytes) -> dict[str, bytes]:
    """All files of a Qt resource file, as ``{"dir/sub/name.ext": bytes}``.

    Args:
        source: a path to a ``.rcc`` file, or its bytes.

    Returns:
        The files in tree order, paths relative to the resource root, decompressed.

    Raises:
        ValueError: when the bytes are not a Qt resource file, or use zstd compression.
    """
    blob = source if isinstance(source, bytes) else Path(source).read_bytes()
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource file (no 'qres' magic)")
    version, tree, data, names = struct.unpack(">4I", blob[4:20])
    if version not in (1, 2, 3):
        raise ValueError(f"unsupported Qt resource version {version}")
    node_size = 14 if version == 1 else 22

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names + offset : names + offset + 2])
        start = names + offset + 6
        return blob[start : start + 2 * length].decode("utf-16-be")

    out: dict[str, bytes] = {}

    def walk(index: int, prefix: str) -> None:
        at = tree + index * node_size
        name_off, flags = struct.unpack(">IH", blob[at : at + 6])
        name = "" if index == 0 else name_at(name_off)
        path = f"{prefix}/{name}" if prefix else name
        if flags & _DIRECTORY:
            count, first = struct.unpack(">II", blob[at + 6 : at + 14])
            for child in range(first, first + count):
                walk(child, path)
            return
        (data_off,) = struct.unpack(">I", blob[at + 10 : at + 14])
        (size,) = struct.unpack(">I", blob[data + data_off : data + data_off + 4])
        payload = blob[data + data_off + 4 : data + data_off + 4 + size]
        if flags & _ZSTD:
            raise ValueError(f"{path}: zstd-compressed resources are not supported")
        if flags & _COMPRESSED:
            payload = zlib.decompress(payload[4:])
        out[path] = payload

    walk(0, "")
    return out
