import numpy as np
import pytest
import torch
from PIL import Image

from attribkit import load_image, sample_image, sample_names, save_image, to_pil
from attribkit.data import painting_path


def test_modes_become_rgb(tmp_path):
    gray = Image.fromarray(np.full((4, 6), 128, np.uint8))
    assert load_image(gray).shape == (1, 3, 4, 6)
    rgba = Image.new("RGBA", (5, 5), (255, 0, 0, 0))  # fully transparent red -> white
    assert torch.allclose(load_image(rgba), torch.ones(1, 3, 5, 5))
    pal = Image.new("P", (3, 3))
    pal.putpalette([0, 255, 0] * 256)
    x = load_image(pal)
    assert x.shape == (1, 3, 3, 3) and float(x[0, 1].min()) == 1.0


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (8, 4), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_image(path).shape == (1, 3, 8, 4)


def test_resize_crop_and_round_trip(tmp_path):
    arr = (np.random.default_rng(0).random((20, 30, 3)) * 255).astype(np.uint8)
    x = load_image(arr)
    assert x.dtype == torch.float32 and 0 <= float(x.min()) and float(x.max()) <= 1
    assert load_image(arr, size=10).shape == (1, 3, 10, 15)
    assert load_image(arr, size=(8, 9)).shape == (1, 3, 8, 9)
    assert load_image(arr, crop=10).shape == (1, 3, 10, 10)
    path = save_image(x, tmp_path / "sub" / "x.png")
    assert torch.equal(load_image(path), x)
    assert to_pil(x).size == (30, 20)


def test_bad_images_get_clear_errors(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read"):
        load_image(bad)
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.png")
    big = tmp_path / "big.png"
    Image.new("L", (200, 200)).save(big)
    with pytest.raises(ValueError, match="decompression bomb"):
        load_image(big, max_pixels=100 * 100)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        load_image(np.full((2, 2), 3.0))
    with pytest.raises(ValueError, match="NaN"):
        load_image(np.full((2, 2), np.nan))
    with pytest.raises(TypeError, match="cannot load"):
        load_image(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="floating"):
        load_image(np.zeros((2, 2), np.uint8), dtype=torch.int32)


def test_every_sample_loads_offline():
    for name in sample_names():
        x = sample_image(name, size=32)
        assert x.shape == (1, 3, 32, 32), name
    assert painting_path("starry_night").is_file()
    with pytest.raises(ValueError, match="did you mean chelsea"):
        sample_image("chelsee")
