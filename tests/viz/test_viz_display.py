"""Pictures inline in Jupyter: show() displays at once, reports and figures render as HTML."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

import attribkit.viz.display as display  # noqa: E402
from attribkit import Report, load_image, show  # noqa: E402
from attribkit.viz import html_image, png_bytes  # noqa: E402


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Pretend to run in a Jupyter kernel; collect what is displayed."""
    ipython_display = pytest.importorskip("IPython.display")
    shown: list[object] = []
    monkeypatch.setattr(display, "in_notebook", lambda: True)
    monkeypatch.setattr(ipython_display, "display", lambda obj: shown.append(obj))
    return shown


def _embedded(html: str) -> list[Image.Image]:
    return [
        Image.open(io.BytesIO(base64.b64decode(m)))
        for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    ]


def test_png_bytes_round_trip() -> None:
    x = load_image((torch.rand(3, 5, 7) * 255).round() / 255)
    assert torch.equal(load_image(Image.open(io.BytesIO(png_bytes(x)))), x)


def test_html_image_embeds_and_escapes() -> None:
    html = html_image(torch.zeros(3, 2, 3), "<b>cat</b> & dog", width=40)
    assert "&lt;b&gt;cat&lt;/b&gt; &amp; dog" in html and "<b>" not in html
    assert "width:40px" in html and _embedded(html)[0].size == (3, 2)


def test_show_in_a_notebook_displays_inline_now(notebook: list[object]) -> None:
    assert show(torch.rand(3, 6, 8), "a title") is None
    assert len(notebook) == 1
    html = notebook[0]._repr_html_()  # type: ignore[attr-defined]
    assert "a title" in html and _embedded(html)[0].size == (8, 6)
    show(torch.rand(5, 3, 4, 4))  # a batch is tiled into one picture
    assert len(notebook) == 2 and _embedded(notebook[1]._repr_html_())[0].width > 20  # type: ignore[attr-defined]


def test_show_into_given_axes_is_not_inline(notebook: list[object]) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        assert show(torch.rand(3, 4, 4), ax=ax) is ax and notebook == []
    finally:
        plt.close(fig)


def test_show_outside_a_notebook_draws_with_matplotlib() -> None:
    import matplotlib.pyplot as plt

    ax = show(torch.rand(1, 4, 4), "gray")
    try:
        assert ax.get_title() == "gray" and ax.images[0].get_array().shape == (4, 4)
    finally:
        plt.close(ax.figure)


def test_report_section_and_figure_render_inline(tmp_path: Path) -> None:
    rep = Report(tmp_path, "inline <report>")
    with rep.section("a", "Pictures") as s:
        s.add_figure(torch.rand(3, 4, 5), "random")
        s.add_note("a note")
    with rep.section("b", "Broken"):
        raise ValueError("broken on purpose")
    html = rep._repr_html_()
    assert "inline &lt;report&gt;" in html and "broken on purpose" in html and "a note" in html
    assert [im.size for im in _embedded(html)] == [(5, 4)]
    assert "<style>" not in html and "<body" not in html  # does not restyle the notebook
    section = rep.sections[0]
    assert _embedded(section._repr_html_())[0].size == (5, 4)
    assert _embedded(section.figures[0]._repr_html_())[0].size == (5, 4)
    written = rep.write().read_text()
    assert "src='a-1.png'" in written and "base64" not in written  # the file links its PNGs
