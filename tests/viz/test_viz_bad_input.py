"""Bad-input rows for the report (show() is in test_viz_grid_bad_input.py). See
tests/badinput.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from badinput import Bad, Row, Valid, table_tests  # noqa: E402
from helpers.nets import overshoot  # noqa: E402
from helpers.tiny import with_nan  # noqa: E402
from PIL import Image  # noqa: E402

from attribkit import Report  # noqa: E402
from attribkit.viz import Section  # noqa: E402

_FOLDER = tempfile.TemporaryDirectory(prefix="attribkit-viz-bad-input-")  # removed at exit


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(dir=_FOLDER.name))


def _section() -> Section:
    return Report(_tmp(), "t").section("a", "A").section


def _twice() -> None:
    rep = Report(_tmp())
    rep.section("saliency", "Saliency")
    rep.section("Saliency", "again")


def _a_file() -> Path:
    path = _tmp() / "not-a-folder"
    path.write_text("x")
    return path


OVER = overshoot(torch.rand(3, 4, 4))


def _report_with_16bit_png() -> str:
    folder = _tmp()
    path = folder / "ramp16.png"
    Image.fromarray(np.linspace(0, 65535, 64).astype(np.uint16).reshape(8, 8)).save(path)
    rep = Report(folder, "16-bit")
    rep.section("a", "A").section.add_figure(path, "a 16-bit PNG")
    html = rep._repr_html_()
    assert "data:image/png;base64" in html
    return html


ROWS = [
    Row(
        "Report",
        bad=[
            Bad("none folder", lambda: Report(None), TypeError, "out_dir must be a folder"),
            Bad("number folder", lambda: Report(5), TypeError, "out_dir"),
            Bad("folder is a file", lambda: Report(_a_file()), ValueError, "is a file"),
            Bad("title", lambda: Report(_tmp(), title=3), TypeError, "title must be a string"),
            Bad("empty key", lambda: Report(_tmp()).section("", "A"), ValueError, "section key"),
            Bad("duplicate key", _twice, ValueError, "already has a section"),
            Bad("figure none", lambda: _section().add_figure(None, "c"), TypeError,
                "image must be"),
            Bad("caption", lambda: _section().add_figure(torch.rand(3, 2, 2), 5), TypeError,
                "caption must be a string"),
            Bad("missing file", lambda: _section().add_figure("/no/such.png", "c"),
                FileNotFoundError, "no picture file"),
            Bad("nan figure", lambda: _section().add_figure(with_nan(OVER), "c"), ValueError,
                "NaN"),
            Bad("range figure", lambda: _section().add_figure(torch.full((3, 2, 2), 9.0), "c"),
                ValueError, r"\[0, 1\]"),
            Bad("note", lambda: _section().add_note(None), TypeError, "note must be a string"),
        ],
        valid=[
            Valid("overshoot 1.0000001", lambda: _section().add_figure(OVER, "over")),
            Valid("16-bit PNG figure, inline", _report_with_16bit_png),
            Valid("existing folder, unicode", lambda: Report(_tmp(), "Bericht — ü").write()),
        ],
    ),
]

test_bad_input, test_valid_odd_input = table_tests(ROWS)
