"""stylize(): any size, batching, style choices, colour preservation, errors, state kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.tiny import one_thread  # noqa: F401 (a fixture, used through pytestmark)

from attribkit.style import (
    ConditionalInstanceNorm2d,
    MultiStyleNet,
    TransformerNet,
    parse_style_args,
    stylize,
)
from attribkit.style.color import rgb_to_yiq
from attribkit.testing import snapshot_world

pytestmark = pytest.mark.usefixtures("one_thread")


def _net() -> MultiStyleNet:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = MultiStyleNet(3, width=4, n_residual=1, style_names=["a", "b", "c"])
        for m in net.modules():
            if isinstance(m, ConditionalInstanceNorm2d):
                m.weight.data.uniform_(0.5, 1.5)
                m.bias.data.uniform_(-0.5, 0.5)
    return net.train()  # stylize must switch to eval and back


def test_smoke_any_size_state_kept() -> None:
    net = _net()
    x = torch.rand(2, 3, 13, 22)
    world = snapshot_world(net, x)
    y = stylize(net, x, "b")
    assert isinstance(y, torch.Tensor) and y.shape == x.shape
    assert float(y.min()) >= 0 and float(y.max()) <= 1
    world.assert_unchanged()


def test_padding_crops_back_exactly() -> None:
    # on a size the network accepts, stylize equals the bare forward in eval mode
    net = _net()
    x = torch.rand(1, 3, 16, 24)
    with torch.no_grad():
        expected = net.eval()(x, 1)
    torch.testing.assert_close(stylize(net, x, 1), expected)


def test_batching_and_lists() -> None:
    net = _net()
    x = torch.rand(5, 3, 12, 12)
    whole = stylize(net, x, [0, 1, 2, 0, 1], batch_size=5)
    chunks = stylize(net, x, [0, 1, 2, 0, 1], batch_size=2)
    torch.testing.assert_close(whole, chunks)
    out = stylize(net, [torch.rand(1, 3, 9, 17), torch.rand(1, 3, 20, 8)], {"a": 0.5, "c": 0.5})
    assert isinstance(out, list) and [o.shape[-2:] for o in out] == [(9, 17), (20, 8)]


def test_small_image_between_stride_and_min_size() -> None:
    assert stylize(_net(), torch.rand(1, 3, 5, 6), 0).shape == (1, 3, 5, 6)


def test_preserve_color_keeps_chrominance() -> None:
    net = _net()
    x = torch.rand(1, 3, 16, 16) * 0.5 + 0.25
    y = stylize(net, x, 2, preserve_color=True)
    plain = stylize(net, x, 2)
    assert isinstance(y, torch.Tensor) and isinstance(plain, torch.Tensor)
    yiq, xiq, piq = rgb_to_yiq(y), rgb_to_yiq(x), rgb_to_yiq(plain)
    # luminance from the stylized image, colour from the content (up to clamping to [0, 1])
    inside = ((y > 0.001) & (y < 0.999)).all(1)
    assert inside.float().mean() > 0.9
    torch.testing.assert_close(yiq[:, 0][inside], piq[:, 0][inside], atol=1e-4, rtol=0)
    torch.testing.assert_close(
        yiq[:, 1:].permute(1, 0, 2, 3)[:, inside],
        xiq[:, 1:].permute(1, 0, 2, 3)[:, inside],
        atol=1e-4,
        rtol=0,
    )


def test_mix_weights_normalize_option() -> None:
    net = _net()
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="sum to 1"):
        stylize(net, x, [1.0, 1.0, 0.0])
    a = stylize(net, x, [1.0, 1.0, 0.0], normalize_weights=True)
    b = stylize(net, x, [0.5, 0.5, 0.0])
    torch.testing.assert_close(a, b)


def test_transformer_net() -> None:
    net = TransformerNet(width=4, n_residual=1)
    assert stylize(net, torch.rand(1, 3, 10, 10)).shape == (1, 3, 10, 10)


def test_exception() -> None:
    net = _net()
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="choose one"):
        stylize(net, x)
    with pytest.raises(ValueError, match="out of range"):
        stylize(net, x, 7)
    with pytest.raises(ValueError, match="non-negative"):
        stylize(net, x, [1.5, -0.5, 0.0])
    with pytest.raises(ValueError, match="stride"):
        stylize(net, torch.rand(1, 3, 3, 30), 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stylize(net, x * 3, 0)
    with pytest.raises(TypeError, match="TransformerNet or MultiStyleNet"):
        stylize(torch.nn.Conv2d(3, 3, 1), x, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CUDA"):
        stylize(net, x, 0, half=True)


def test_exception_midway_leaves_state() -> None:
    net = _net()
    x = torch.rand(4, 3, 8, 8)
    world = snapshot_world(net, x)
    calls = {"n": 0}

    def boom(_m: torch.nn.Module, _i: object, _o: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("boom")

    h = net.out.register_forward_hook(boom)
    with pytest.raises(RuntimeError, match="boom"):
        stylize(net, x, 0, batch_size=2)
    h.remove()
    world.assert_unchanged()


def test_parse_style_args() -> None:
    names = ["starry_night", "scream"]
    assert parse_style_args(["starry_night=0.7", "scream=0.3"], names) == {
        "starry_night": 0.7,
        "scream": 0.3,
    }
    assert parse_style_args("1", names) == {"scream": 1.0}
    with pytest.raises(ValueError, match="did you mean starry_night"):
        parse_style_args(["stary_night"], names)
    with pytest.raises(ValueError, match="out of range"):
        parse_style_args(["5"], names)
    with pytest.raises(ValueError, match="bad weight"):
        parse_style_args(["scream=abc"], names)


def test_stylize_files(tmp_path: Path) -> None:
    from attribkit.io import load_image, save_image
    from attribkit.style import save_style_model, stylize_files

    net = _net().eval()
    save_style_model(net, tmp_path / "m")
    save_image(torch.rand(3, 21, 30), tmp_path / "photo.png")
    world = snapshot_world(net)
    paths = stylize_files([tmp_path / "photo.png"], ["a=1", "c=3"], tmp_path / "out", model=net)
    world.assert_unchanged()
    assert [p.name for p in paths] == ["photo_a0.25+c0.75.png"]
    assert load_image(paths[0]).shape == (1, 3, 21, 30)
    paths = stylize_files(["chelsea"], "b", tmp_path / "out", model=tmp_path / "m", size=16)
    assert paths[0].name == "chelsea_b.png" and load_image(paths[0]).shape[-2] == 16
    with pytest.raises(ValueError, match="no style called"):
        stylize_files(["chelsea"], "zz", tmp_path, model=net)
