"""Images that used to load wrong, each at its root: precision, layout, crop, range, atomic
writes (issue #16)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from attribkit import load_image, save_image, to_numpy, to_pil
from attribkit._checks import UNIT_RANGE_TOLERANCE, unit_range_tolerance
from attribkit.io import atomic_path

RAMP16 = np.linspace(0, 65535, 16 * 64).round().astype(np.uint16).reshape(16, 64)


def test_16bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "ramp16.png"
    Image.fromarray(RAMP16).save(path)
    assert Image.open(path).mode.startswith("I;16")
    x = load_image(path)
    assert x.shape == (1, 3, 16, 64)
    assert float(x.mean()) == pytest.approx(RAMP16.mean() / 65535, abs=1e-6)  # was 0.998
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert len(torch.unique(x)) > 256  # the 16-bit levels survive, not 8-bit steps
    small = load_image(path, size=8)  # the float path resizes as the 8-bit one, in range
    assert small.shape == (1, 3, 8, 32) and 0 <= float(small.min()) <= float(small.max()) <= 1


def test_16bit_rgb_png_and_uint16_arrays(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    rgb = np.stack([RAMP16, RAMP16[:, ::-1], np.full_like(RAMP16, 65535)], -1)
    path = tmp_path / "rgb16.png"
    cv2.imwrite(str(path), rgb[..., ::-1])  # OpenCV writes BGR
    x = load_image(path)
    assert float(x[0, 0].mean()) == pytest.approx(RAMP16.mean() / 65535, abs=1 / 255)
    assert float(x[0, 2].min()) == 1.0
    y = load_image(rgb)  # an H×W×3 uint16 array keeps every level
    assert torch.allclose(y[0].permute(1, 2, 0).double(), torch.from_numpy(rgb / 65535), atol=1e-6)


def test_float_tiff_in_unit_range_keeps_its_values(tmp_path: Path) -> None:
    values = np.linspace(0, 1, 16 * 32, dtype=np.float32).reshape(16, 32)
    path = tmp_path / "gray.tif"
    Image.fromarray(values).save(path)  # PIL mode "F"
    x = load_image(path)
    assert torch.allclose(x[0, 0], torch.from_numpy(values), atol=1e-7)  # was {0, 1/255}
    assert len(torch.unique(x)) == values.size


def test_float_rgb_tiff_through_tifffile(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    values = np.random.default_rng(0).random((8, 12, 3)).astype(np.float32)
    path = tmp_path / "rgb.tiff"
    tifffile.imwrite(path, values, photometric="rgb")
    x = load_image(path)
    assert torch.allclose(x[0].permute(1, 2, 0), torch.from_numpy(values), atol=1e-7)


def test_float_files_outside_unit_range_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "hdr.tif"
    Image.fromarray(np.full((4, 4), 200.0, np.float32)).save(path)
    with pytest.raises(ValueError, match=r"\[0, 1\].*200"):
        load_image(path)


def test_tensors_are_channels_first_never_guessed() -> None:
    t = torch.rand(1, 3, 5, 4)
    x = load_image(t)
    assert x.shape == (1, 3, 5, 4) and torch.equal(x, t)  # was 1×3×3×5, and 8-bit steps
    assert torch.equal(load_image(t[0]), t)
    gray = torch.rand(1, 6, 7)
    assert torch.equal(load_image(gray), gray.expand(3, -1, -1)[None])
    hwc = torch.rand(5, 4, 3)
    with pytest.raises(ValueError, match="channels-first.*channels_first=False"):
        load_image(hwc)
    assert torch.equal(load_image(hwc, channels_first=False), hwc.permute(2, 0, 1)[None])
    t64 = torch.rand(3, 4, 4, dtype=torch.float64)
    assert torch.equal(load_image(t64, dtype=torch.float64)[0], t64)


def test_arrays_are_channels_last_or_say_so() -> None:
    a = np.random.default_rng(1).random((5, 4, 3))
    assert load_image(a).shape == (1, 3, 5, 4)
    chw = np.random.default_rng(2).random((3, 20, 24))
    with pytest.raises(ValueError, match="channels-last.*channels_first=True"):
        load_image(chw)
    assert torch.allclose(load_image(chw, channels_first=True)[0].double(), torch.from_numpy(chw))


def test_uint8_sources_take_the_same_8bit_path() -> None:
    arr = (np.random.default_rng(3).random((9, 7, 3)) * 255).astype(np.uint8)
    expected = torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255
    assert torch.equal(load_image(arr), expected)
    assert torch.equal(load_image(torch.from_numpy(arr).permute(2, 0, 1)), expected)
    assert torch.equal(load_image(Image.fromarray(arr)), expected)


@pytest.mark.parametrize("crop", [0, -3, (0, 4), (4, 0), 2.5, True])
def test_crop_and_size_must_be_positive(crop: object) -> None:
    img = np.zeros((8, 8), np.uint8)
    with pytest.raises(ValueError, match="crop"):
        load_image(img, crop=crop)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size"):
        load_image(img, size=crop)  # type: ignore[arg-type]


def test_rounding_overshoot_is_clamped_and_real_range_errors_say_so() -> None:
    over = torch.full((3, 2, 2), 1.0000001)
    assert float(load_image(over).max()) == 1.0
    assert int(to_numpy(over).max()) == 255
    assert int(to_numpy(torch.full((2, 2), -UNIT_RANGE_TOLERANCE / 2)).max()) == 0
    beyond = torch.full((3, 2, 2), 1.0 + 10 * UNIT_RANGE_TOLERANCE)  # 1.0001: not rounding
    for fn in (to_numpy, load_image):
        with pytest.raises(ValueError, match=r"got \[1\.0001"):  # enough digits to see it
            fn(beyond)
    with pytest.raises(ValueError, match=r"\[0, 1\], got \[1\.5, 1\.5\]"):
        to_numpy(torch.full((3, 2, 2), 1.5))
    with pytest.raises(ValueError, match=r"got \[-2\.1"):
        to_pil(torch.full((3, 2, 2), -2.1))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_inf_are_refused_everywhere(bad: float, tmp_path: Path) -> None:
    img = torch.rand(3, 4, 4)
    img[0, 1, 1] = bad
    for fn in (to_numpy, to_pil, load_image):
        with pytest.raises(ValueError, match="NaN or infinite"):
            fn(img)
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_image(img, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_image_dtypes() -> None:
    u8 = torch.tensor([[0, 128, 255]], dtype=torch.uint8)
    assert to_numpy(u8).tolist() == [[0, 128, 255]]  # uint8 is 0..255, not clipped to 1
    assert to_numpy(torch.tensor([[True, False]])).tolist() == [[255, 0]]
    with pytest.raises(TypeError, match="int64.*float"):
        to_numpy(torch.tensor([[0, 255]]))
    with pytest.raises(TypeError, match="complex"):
        load_image(torch.zeros(3, 2, 2, dtype=torch.complex64))
    assert float(load_image(torch.ones(3, 2, 2, dtype=torch.bfloat16)).min()) == 1.0
    assert float(load_image(np.array([[0, 255]], dtype=np.int64)).max()) == 1.0
    with pytest.raises(ValueError, match="0..255.*uint16"):
        load_image(np.array([[0, 300]], dtype=np.int64))


class _Boom(RuntimeError):
    pass


def test_save_image_leaves_no_partial_file_on_an_encoder_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"the previous picture")

    def half_write(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        Path(str(fp)).write_bytes(b"\x89PNG half")
        raise _Boom("disk full")

    monkeypatch.setattr(Image.Image, "save", half_write)
    with pytest.raises(_Boom):
        save_image(torch.rand(3, 4, 4), target)
    assert target.read_bytes() == b"the previous picture"  # the old file is kept whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary left


def test_save_image_on_ctrl_c_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        Path(str(fp)).write_bytes(b"\x89PNG")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_image(torch.rand(3, 4, 4), tmp_path / "sub" / "x.png")
    assert not (tmp_path / "sub" / "x.png").exists()
    assert list((tmp_path / "sub").iterdir()) == []


@pytest.mark.parametrize(
    ("image", "name", "exc"),
    [
        (torch.rand(2, 3, 4, 4), "batch.png", ValueError),
        (torch.rand(5, 4, 4), "channels.png", ValueError),
        (torch.full((3, 4, 4), 3.0), "range.png", ValueError),
        (torch.zeros(3, 4, 4, dtype=torch.int32), "dtype.png", TypeError),
        (np.zeros((4, 4, 3)), "array.png", TypeError),
        (torch.rand(3, 4, 4), "no-suffix", ValueError),
        (torch.rand(4, 4, 4), "alpha.jpg", ValueError),
    ],
)
def test_save_image_bad_input_writes_nothing(
    image: object, name: str, exc: type[Exception], tmp_path: Path
) -> None:
    with pytest.raises(exc):
        save_image(image, tmp_path / "new" / name)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []  # not even the folder


def test_save_image_round_trips_and_formats(tmp_path: Path) -> None:
    x = load_image((np.random.default_rng(4).random((6, 5, 3)) * 255).astype(np.uint8))
    assert torch.equal(load_image(save_image(x, tmp_path / "a.png")), x)
    assert torch.equal(load_image(save_image(x, tmp_path / "b.bin", format="png")), x)
    assert load_image(save_image(x, tmp_path / "c.JPG", quality=95)).shape == x.shape
    rgba = torch.rand(4, 3, 3)
    assert Image.open(save_image(rgba, tmp_path / "d.png")).mode == "RGBA"


def test_atomic_path_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    target.write_text("old")
    with pytest.raises(_Boom), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise _Boom
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_the_tolerance_follows_the_dtype_and_is_the_shared_one(dtype: torch.dtype) -> None:
    tol = unit_range_tolerance(dtype)
    assert tol == max(UNIT_RANGE_TOLERANCE, 2 * torch.finfo(dtype).eps)
    over = torch.full((3, 2, 2), 1.0, dtype=dtype) + torch.finfo(dtype).eps  # one ulp above 1
    assert float(load_image(over).max()) == 1.0 and int(to_numpy(over).max()) == 255
    far = torch.full((3, 2, 2), 1.0 + 4 * tol, dtype=torch.float64).to(dtype)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        to_numpy(far)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        load_image(far)
    assert unit_range_tolerance(np.dtype("float16")) == unit_range_tolerance(torch.float16)
