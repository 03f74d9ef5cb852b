"""The shipped photo and painting sets: sizes, provenance, ranges, laziness, the API around them."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

import attribkit
from attribkit.data import SPLITS, ImageSet, PaintingSet, painting_set, photo_set

DATA = Path(attribkit.__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def photos() -> ImageSet:
    return photo_set()


@pytest.fixture(scope="module")
def paintings() -> PaintingSet:
    return painting_set()


def test_photo_set_sizes_and_groups(photos):
    assert len(photos) >= 300
    counts = Counter(photos.labels)
    assert len(counts) >= 10
    assert min(counts.values()) >= 6, counts
    assert photos.classes == sorted(counts)
    assert {k: len(v) for k, v in photos.groups.items()} == dict(counts)
    for rec in photos.provenance:
        assert min(rec["width"], rec["height"]) >= 160, rec["file"]


def test_painting_set_sizes_and_artists(paintings):
    assert len(paintings) >= 60
    assert len(paintings.artists) >= 25
    assert paintings.titles == paintings.labels
    for rec in paintings.provenance:
        assert rec["artist"].strip() and rec["date"].strip(), rec["key"]


@pytest.mark.parametrize("kind", ["photos", "paintings"])
def test_provenance_is_complete(kind, photos, paintings):
    s = photos if kind == "photos" else paintings
    for rec in s.provenance:
        for field in ("source", "licence", "licence_url", "key", "file", "sha256"):
            assert str(rec.get(field, "")).strip(), (rec["key"], field)
        assert "author" in rec
    assert all(label.strip() for label in s.labels)


def test_every_file_is_what_the_manifest_says(photos, paintings):
    """Files match their SHA-256, and nothing else lies in the set folders."""
    listed = set()
    for s in (photos, paintings):
        for rec, path in zip(s.provenance, s.paths):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == rec["sha256"], path
            listed.add(path)
    on_disk = {
        p.resolve() for d in ("photos", "paintings") for p in (DATA / d).rglob("*") if p.is_file()
    }
    assert on_disk <= listed, sorted(on_disk - listed)[:5]


def test_attribution_names_every_file(photos, paintings):
    text = (DATA / "PROVENANCE.md").read_text()
    for s in (photos, paintings):
        for rec in s.provenance:
            assert f"`{rec['file']}`" in text, rec["file"]


def test_package_data_ships_the_sets(photos, paintings):
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["attribkit"]
    files = [str(p.relative_to(DATA.parent)) for s in (photos, paintings) for p in s.paths]
    files += [
        "data/photos.json",
        "data/paintings.json",
        "data/splits.json",
        "data/LICENSES/GPL-3.0.txt",
    ]
    for f in files:
        assert any(fnmatch.fnmatch(f, pat) for pat in patterns), f


def test_images_are_float_in_range(photos, paintings):
    for s, step in ((photos, 5), (paintings, 8)):  # a sample; every file's bytes are checked above
        for i in range(0, len(s), step):
            image, label = s[i]
            assert image.dtype == torch.float32 and image.ndim == 3 and image.shape[0] == 3
            assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
            assert isinstance(label, str) and label
            assert image.shape[1:] == (s.provenance[i]["height"], s.provenance[i]["width"])


def test_decoding_is_lazy(monkeypatch):
    import attribkit.data.sets as sets

    calls = []
    real = sets.load_image
    monkeypatch.setattr(sets, "load_image", lambda *a, **k: calls.append(a) or real(*a, **k))
    s = photo_set(size=32)
    assert len(s) and s.labels and s.provenance and s.classes and s.subset(per_label=1)
    assert calls == []
    s[3]
    assert len(calls) == 1


def test_importing_reads_no_image():
    code = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda e, a: opened.append(str(a[0])) if e == 'open' "
        "and str(a[0]).endswith('.jpg') else None)\n"
        "import attribkit\n"
        "s = attribkit.photo_set(); t = attribkit.painting_set()\n"
        "print(len(opened), len(s), len(t))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "0" and int(out[1]) >= 300


def test_size_and_crop_options(photos):
    square = photo_set(size=48)
    assert square[0][0].shape == (3, 48, 48)
    kept = photo_set(size=48, crop=False)
    rec = kept.provenance[0]
    h, w = kept[0][0].shape[1:]
    assert min(h, w) == 48 and abs(w / h - rec["width"] / rec["height"]) < 0.02
    assert photo_set(size=(30, 40))[5][0].shape == (3, 30, 40)
    assert photo_set(crop=100)[0][0].shape == (3, 100, 100)


def test_labels_groups_keys_and_subsets(photos, paintings):
    assert photos.targets == [photos.class_to_idx[label] for label in photos.labels]
    birds = photos.indices("birds")
    assert birds and all(photos.labels[i] == "birds" for i in birds)
    with pytest.raises(ValueError, match="did you mean 'birds'"):
        photos.indices("bird")
    key = photos.keys[10]
    assert photos.index(key) == 10
    few = photos.subset(per_label=2)
    assert Counter(few.labels) == {c: 2 for c in photos.classes}
    only = photos.subset(labels=["fish", "tools"])
    assert set(only.labels) == {"fish", "tools"} and len(only) == len(photos.indices("fish")) + len(
        photos.indices("tools")
    )
    picked = photos.subset(torch.tensor([5, -1]))
    assert picked.keys == [photos.keys[5], photos.keys[-1]]
    assert isinstance(paintings.subset([0, 1]), PaintingSet)
    assert photos.find("cheetah") and all(
        "cheetah" in photos.provenance[i]["key"] for i in photos.find("cheetah")
    )
    x, y = photo_set(size=16).subset(per_label=1).stack()
    assert x.shape == (len(photos.classes), 3, 16, 16) and y.tolist() == list(range(len(y)))
    with pytest.raises(ValueError, match="size=224"):
        photos.stack()


def test_paintings_artists_and_search(paintings):
    gogh = paintings.by_artist("gogh")
    assert len(gogh) >= 8
    assert all(paintings.provenance[i]["artist"] == "Vincent van Gogh" for i in gogh)
    wave = paintings.find("great wave")
    assert [paintings.provenance[i]["artist"] for i in wave] == ["Katsushika Hokusai"]
    assert "Edvard Munch" in paintings.artists  # the bundled Scream is part of the set


def test_splits_for_the_style_trainings(paintings):
    body = json.loads((DATA / "splits.json").read_text())
    assert set(body["paintings"]) | {"train"} == set(SPLITS["paintings"])
    multi = painting_set(split="multistyle")
    assert len(multi) >= 16 and len(set(multi.keys)) == len(multi)
    assert len({p["artist"] for p in multi.provenance}) >= 16
    assert multi.keys == body["paintings"]["multistyle"]  # the style order is kept
    held = painting_set(split="holdout")
    assert len(held) >= 10 and not set(held.keys) & set(multi.keys)
    train = painting_set(split="train")
    assert len(train) + len(held) == len(paintings) and not set(train.keys) & set(held.keys)
    held_photos = photo_set(split="holdout")
    assert len(held_photos) >= 20 and len(set(held_photos.labels)) >= 10
    assert not set(photo_set(split="train").keys) & set(held_photos.keys)


def test_files_must_stay_inside_the_root(tmp_path):
    rec = {"key": "a", "file": "../outside.jpg", "label": "x", "source": "s", "licence": "l"}
    with pytest.raises(ValueError, match="outside"):
        ImageSet([rec], tmp_path)
    (tmp_path / "gone.jpg").write_bytes(b"")
    s = ImageSet([{**rec, "file": "missing.jpg"}], tmp_path)
    with pytest.raises(FileNotFoundError, match="missing"):
        s[0]
    assert "ImageSet('images', 1 items" in repr(s)
