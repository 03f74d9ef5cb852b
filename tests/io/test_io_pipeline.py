"""Images through the whole pipeline (issue #16): an antialiased resize of a photo overshoots
[0, 1] by rounding, and style transfer, saving and loading take it; bad input on the way
leaves nothing half-written: no output file, and the caller's model as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from helpers.nets import bn_net, feature_net
from helpers.tiny import with_nan

from attribkit import Report, StyleTransfer, load_image, sample_image, save_image
from attribkit._checks import UNIT_RANGE_TOLERANCE
from attribkit.testing import snapshot_world


def _resized_photo() -> torch.Tensor:
    """The issue's case for real: a photo with a white (saturated) sky, downsized with
    ``antialias=True``; the filter weights sum to a hair over 1, so white comes out 1.0000002."""
    photo = sample_image("coffee", size=64)
    photo[..., :16, :] = 1.0
    return F.interpolate(photo, size=(23, 23), mode="bilinear", antialias=True)


def test_the_resize_overshoots_and_every_step_takes_it(tmp_path: Path) -> None:
    small = _resized_photo()
    assert 1.0 < float(small.max()) <= 1.0 + UNIT_RANGE_TOLERANCE
    kept = small.clone()
    net = feature_net()
    out = StyleTransfer(net, ["3"], ["1", "3"], pad=2).transfer(
        small, sample_image("starry_night", size=23), steps=2, show_progress=False
    )
    assert out.shape == (1, 3, 23, 23) and 0.0 <= float(out.min()) <= float(out.max()) <= 1.0
    assert torch.equal(small, kept), "the caller's image is not clamped in place"
    path = save_image(small, tmp_path / "small.png")  # save and load take it too
    assert float(load_image(small).max()) == 1.0
    assert load_image(path).shape == (1, 3, 23, 23)


def test_a_real_excess_is_refused_with_the_real_range() -> None:
    photo = sample_image("coffee", size=32)
    ringing = F.interpolate(photo, size=(50, 50), mode="bicubic", antialias=True)
    hi = float(ringing.max())
    assert hi > 1.0 + UNIT_RANGE_TOLERANCE  # bicubic rings: a real overshoot, not rounding
    with pytest.raises(ValueError, match=r"\[0, 1\]") as info:
        StyleTransfer(feature_net(), ["3"], ["1"], pad=2).transfer(ringing, photo, steps=1)
    assert f"{hi:.6f}"[:7] in str(info.value), "the message shows the real maximum"
    with pytest.raises(ValueError, match=r"clamp"):
        save_image(ringing[0], "never-written.png")
    assert not Path("never-written.png").exists()


def _bad_calls(net: torch.nn.Module, out: Path) -> dict[str, Callable[[], object]]:
    x = _resized_photo()

    def _transfer(**kw: object) -> object:
        st = StyleTransfer(net, ["relu2"], ["relu1", "relu2"], pad=2)
        args: dict[str, object] = {"content": x, "style": x, "steps": 2,
                                   "show_progress": False, **kw}
        return st.run(**args).save(out / "result.png")  # type: ignore[arg-type]

    def _report_with_a_nan_figure() -> object:
        rep = Report(out / "report", "r")
        rep.section("a", "A").section.add_figure(with_nan(x[0]), "nan")
        return rep.write()

    return {
        "NaN style": lambda: _transfer(style=with_nan(x)),
        "3-D content": lambda: _transfer(content=x[0]),
        "infinite tv_weight": lambda: _transfer(tv_weight=float("inf")),
        "NaN style_weight": lambda: _transfer(style_weight=float("nan")),
        "NaN image saved": lambda: save_image(with_nan(x), out / "nan.png"),
        "unknown suffix saved": lambda: save_image(x, out / "result.xyz"),
        "NaN figure in a report": _report_with_a_nan_figure,
    }


@pytest.mark.parametrize("case", list(_bad_calls(bn_net(), Path("."))))
def test_bad_input_leaves_nothing_half_written(case: str, tmp_path: Path) -> None:
    net = bn_net().train()  # train mode, BatchNorm statistics: what a careless call would change
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot_world(net)
    with pytest.raises((ValueError, TypeError)):
        _bad_calls(net, out)[case]()
    before.assert_unchanged()
    assert net.training
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert left == [], f"{case} left files behind: {left}"
