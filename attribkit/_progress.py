"""Progress bars that show where a person is watching and stay quiet everywhere else.

Every long-running entry point takes ``show_progress: bool | None = None``. ``None`` means
*automatic*: a bar is drawn on a terminal and in a Jupyter notebook (through ``tqdm.auto``),
and not when output goes to a pipe, a file or a CI log. ``True`` and ``False`` force it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar", "progress_enabled", "in_notebook"]


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (where bars and pictures show inline).

    Examples:
        >>> in_notebook()
        False
    """
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover - a broken IPython install
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress_enabled(show_progress: bool | None) -> bool:
    """Resolve ``show_progress``: ``None`` is on for a terminal or a notebook, off otherwise.

    Examples:
        >>> progress_enabled(False), progress_enabled(True)
        (False, True)
    """
    if show_progress is not None:
        return bool(show_progress)
    if in_notebook():
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    show_progress: bool | None = None,
    desc: str | None = None,
    total: int | None = None,
    leave: bool = False,
    **kwargs: Any,
) -> tqdm:
    """A ``tqdm.auto`` bar, drawn only when :func:`progress_enabled` says so.

    Examples:
        >>> sum(progress_bar(range(3), show_progress=False))
        3
    """
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        leave=leave,
        disable=not progress_enabled(show_progress),
        **kwargs,
    )
