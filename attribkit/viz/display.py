"""Pictures inline in Jupyter: PNG bytes and HTML for ``_repr_png_`` / ``_repr_html_``.

Result objects become notebook-friendly with one line each::

    def _repr_png_(self) -> bytes:
        return png_bytes(make_grid(self.images))

Jupyter calls ``_repr_png_`` / ``_repr_html_`` when an object is the last expression of a
cell; :func:`display_inline` shows a picture at once (from inside a loop, or from
:func:`attribkit.show`). Outside a notebook nothing here draws anything.
"""

from __future__ import annotations

import base64
import html
import io

import torch
from PIL import Image

from attribkit._progress import in_notebook
from attribkit.io import to_pil

__all__ = ["png_bytes", "html_image", "display_inline"]


def png_bytes(image: torch.Tensor | Image.Image) -> bytes:
    """Encode one ``[1×]C×H×W`` image in [0, 1] (or a PIL image) as PNG bytes.

    The values are checked as in :func:`attribkit.to_numpy` (no silent clipping). Tile a
    batch first with :func:`attribkit.make_grid`.

    Examples:
        >>> import torch
        >>> png_bytes(torch.zeros(3, 4, 4))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def html_image(
    image: torch.Tensor | Image.Image, caption: str | None = None, width: int | None = None
) -> str:
    """A self-contained ``<figure>`` with the image as a base64 PNG and an escaped caption.

    Args:
        image: one ``[1×]C×H×W`` image in [0, 1], or a PIL image.
        caption: text under the picture (HTML-escaped), or ``None``.
        width: display width in CSS pixels (the picture keeps its aspect ratio), or ``None``
            for its own size (never wider than the page).

    Examples:
        >>> import torch
        >>> html_image(torch.ones(3, 2, 2), "a <white> square").startswith("<figure")
        True
    """
    if caption is not None and not isinstance(caption, str):
        raise TypeError(f"caption must be a string or None, got {type(caption).__name__}")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width <= 0):
        raise ValueError(f"width must be a positive int (CSS pixels) or None, got {width!r}")
    data = base64.b64encode(png_bytes(image)).decode("ascii")
    style = f"width:{width}px;" if width else ""
    alt = html.escape(caption or "image", quote=True)
    parts = [
        "<figure style='display:inline-block;margin:.3em;vertical-align:top'>",
        f"<img src='data:image/png;base64,{data}' alt='{alt}' "
        f"style='{style}max-width:100%;image-rendering:auto'>",
    ]
    if caption:
        parts.append(f"<figcaption style='font-size:.85em'>{html.escape(caption)}</figcaption>")
    parts.append("</figure>")
    return "".join(parts)


def display_inline(image: torch.Tensor | Image.Image, caption: str | None = None) -> bool:
    """Show a picture in the running Jupyter notebook now; ``False`` (and nothing drawn)
    anywhere else.

    Examples:
        >>> import torch
        >>> display_inline(torch.zeros(3, 4, 4))       # not in a notebook: draws nothing
        False
    """
    markup = html_image(image, caption)  # checks the image everywhere, not only in notebooks
    if not in_notebook():
        return False
    from IPython.display import HTML, display

    display(HTML(markup))
    return True
