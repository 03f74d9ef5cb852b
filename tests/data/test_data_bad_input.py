"""Bad-input rows for the data sets and the bundled samples (see tests/badinput.py)."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from badinput import Bad, Row, Valid, table_tests
from PIL import Image

from attribkit import (
    imagenet_photos,
    painting_path,
    painting_set,
    photo_set,
    sample_image,
    sample_names,
)
from attribkit.data import ImageSet, PaintingSet

_TMP = tempfile.TemporaryDirectory(prefix="attribkit-bad-input-")
_COUNT = itertools.count()


@pytest.fixture(autouse=True, scope="module")
def _remove_folders():
    yield
    _TMP.cleanup()


def _folder(name: str, photo: str | None = None) -> Path:
    """A fresh folder (optionally holding one tiny photo with that file name), removed with the
    module's temporary folder."""
    root = Path(_TMP.name) / f"{name}-{next(_COUNT)}"
    root.mkdir(parents=True)
    if photo is not None:
        Image.fromarray(np.zeros((8, 12, 3), np.uint8)).save(root / photo)
    return root


def _rec(**over: object) -> dict[str, object]:
    return {
        "key": "a",
        "file": "a.jpg",
        "label": "x",
        "source": "test",
        "licence": "CC0-1.0",
        **over,
    }


def _shape(expected: tuple[int, ...]):
    def check(result: object) -> None:
        image = result[0][0] if isinstance(result, ImageSet) else result
        assert tuple(image.shape) == expected, tuple(image.shape)

    return check


ROWS = [
    Row(
        "photo_set",
        bad=[
            Bad("negative size", lambda: photo_set(size=-1), ValueError, "positive"),
            Bad("zero size", lambda: photo_set(size=0), ValueError, "positive"),
            Bad("string size", lambda: photo_set(size="big"), TypeError, "positive int"),
            Bad("float size", lambda: photo_set(size=2.5), TypeError, "float"),
            Bad("nan size", lambda: photo_set(size=math.nan), TypeError, "float"),
            Bad("bool size", lambda: photo_set(size=True), TypeError, "bool"),
            Bad("zero in pair", lambda: photo_set(size=(10, 0)), ValueError, "positive"),
            Bad("crop True", lambda: photo_set(crop=True), TypeError, "crop"),
            Bad("crop too large", lambda: photo_set(size=64, crop=100), ValueError, "larger than"),
            Bad("unknown split", lambda: photo_set(split="test"), ValueError, "split must be one"),
            Bad("split of paintings", lambda: photo_set(split="multistyle"), ValueError, "holdout"),
            Bad("split not a string", lambda: photo_set(split=1), TypeError, "split must be"),
        ],
        valid=[
            Valid("size as a list", lambda: photo_set(size=[20, 30]), _shape((3, 20, 30))),
            Valid(
                "keep the aspect ratio",
                lambda: photo_set(size=40, crop=False)[0][0],
                lambda x: min(x.shape[1:]) == 40 and x.shape[1] != x.shape[2],
            ),
            Valid("held-out photos", lambda: photo_set(split="holdout"), lambda s: len(s) >= 20),
        ],
    ),
    Row(
        "painting_set",
        bad=[
            Bad("negative size", lambda: painting_set(size=-3), ValueError, "positive"),
            Bad("three sizes", lambda: painting_set(size=(1, 2, 3)), TypeError, "height, width"),
            Bad("float pair", lambda: painting_set(size=(10.0, 20)), TypeError, "two ints"),
            Bad("crop string", lambda: painting_set(crop="center"), TypeError, "crop"),
            Bad("crop too large", lambda: painting_set(crop=600), ValueError, "larger than"),
            Bad("unknown split", lambda: painting_set(split="styles"), ValueError, "multistyle"),
            Bad("split list", lambda: painting_set(split=["holdout"]), TypeError, "string"),
        ],
        valid=[
            Valid(
                "multistyle in order",
                lambda: painting_set(split="multistyle"),
                lambda s: len(s) >= 16 and s.provenance[0]["artist"] == "Vincent van Gogh",
            ),
            Valid("crop only", lambda: painting_set(crop=128), _shape((3, 128, 128))),
        ],
    ),
    Row(
        "imagenet_photos",
        bad=[
            Bad("unknown source", lambda: imagenet_photos("imagenet"), ValueError, "source must"),
            Bad("source None", lambda: imagenet_photos(None), TypeError, "source must be a string"),
            Bad(
                "root is a file",
                lambda: imagenet_photos(root=_folder("f", "x.jpg") / "x.jpg"),
                FileNotFoundError,
                "no folder",
            ),
            Bad(
                "root has nothing",
                lambda: imagenet_photos(root=_folder("empty")),
                FileNotFoundError,
                "pip install foolbox",
            ),
            Bad("root not a path", lambda: imagenet_photos(root=123), TypeError, "folder path"),
            Bad(
                "required not a bool",
                lambda: imagenet_photos(root=_folder("e2"), required="no"),
                TypeError,
                "True or False",
            ),
            Bad(
                "bad size",
                lambda: imagenet_photos(root=_folder("s", "imagenet_00_1.jpg"), size=0),
                ValueError,
                "positive",
            ),
        ],
        valid=[
            Valid(
                "empty allowed",
                lambda: imagenet_photos(root=_folder("e3"), required=False),
                lambda s: len(s) == 0,
            ),
            Valid(
                "one photo by its file name",
                lambda: imagenet_photos(root=_folder("one", "imagenet_07_609.jpg")),
                lambda s: s.provenance[0]["class_index"] == 609 and s[0][0].shape == (3, 8, 12),
            ),
        ],
    ),
    Row(
        "sample_image",
        bad=[
            Bad("typo", lambda: sample_image("chelsee"), ValueError, "did you mean chelsea"),
            Bad("negative size", lambda: sample_image("chelsea", size=-1), ValueError, "positive"),
            Bad("zero size", lambda: sample_image("chelsea", size=0), ValueError, "positive"),
            Bad(
                "string size",
                lambda: sample_image("chelsea", size="big"),
                ValueError,
                "positive int",
            ),
            Bad(
                "nan size",
                lambda: sample_image("chelsea", size=math.nan),
                ValueError,
                "positive int",
            ),
            Bad(
                "crop larger than the image",
                lambda: sample_image("chelsea", size=32, crop=64),
                ValueError,
                "larger than",
            ),
            Bad("None", lambda: sample_image(None), TypeError, "must be a string"),
            Bad("number", lambda: sample_image(3), TypeError, "sample_names"),
            Bad("empty", lambda: sample_image(""), ValueError, "no sample image"),
            Bad("a path", lambda: sample_image("../io"), ValueError, "no sample image"),
            Bad(
                "zero crop",
                lambda: sample_image("chelsea", crop=0),
                ValueError,
                "crop must be positive",
            ),
        ],
        valid=[
            Valid(
                "size as a list", lambda: sample_image("chelsea", size=[8, 9]), _shape((1, 3, 8, 9))
            ),
            Valid("upper case", lambda: sample_image("CHELSEA", size=16), _shape((1, 3, 16, 16))),
            Valid("spaces", lambda: sample_image("starry night", size=8), _shape((1, 3, 8, 8))),
            Valid(
                "size and crop",
                lambda: sample_image("coffee", size=20, crop=(10, 12)),
                _shape((1, 3, 10, 12)),
            ),
            Valid(
                "grey texture comes out RGB",
                lambda: sample_image("brick", size=8),
                _shape((1, 3, 8, 8)),
            ),
        ],
    ),
    Row(
        "sample_names",
        bad=[
            Bad("unknown kind", lambda: sample_names("pictures"), ValueError, "choose from"),
            Bad("None", lambda: sample_names(None), TypeError, "must be a string"),
            Bad("int", lambda: sample_names(1), TypeError, "photos"),
            Bad("singular", lambda: sample_names("photo"), ValueError, "did you mean photos"),
            Bad("empty", lambda: sample_names(""), ValueError, "choose from"),
            Bad("list", lambda: sample_names(["photos"]), TypeError, "list"),
        ],
        valid=[
            Valid("textures", lambda: sample_names("textures"), lambda n: "brick" in n),
            Valid(
                "default is all", lambda: sample_names(), lambda n: "scream" in n and "chelsea" in n
            ),
            Valid(
                "upper case",
                lambda: sample_names("PAINTINGS"),
                lambda n: n == ["starry_night", "scream"],
            ),
        ],
    ),
    Row(
        "painting_path",
        bad=[
            Bad("unknown", lambda: painting_path("mona"), ValueError, "choose from"),
            Bad("None", lambda: painting_path(None), TypeError, "must be a string"),
            Bad("int", lambda: painting_path(1), TypeError, "must be a string"),
            Bad("a path object", lambda: painting_path(Path("scream")), TypeError, "PosixPath"),
            Bad(
                "a path out of the folder",
                lambda: painting_path("../scream"),
                ValueError,
                "choose from",
            ),
            Bad(
                "a photo, not a painting",
                lambda: painting_path("chelsea"),
                ValueError,
                "starry_night, scream",
            ),
            Bad("typo", lambda: painting_path("scram"), ValueError, "did you mean scream"),
            Bad("empty", lambda: painting_path(""), ValueError, "no painting called"),
        ],
        valid=[
            Valid(
                "the scream",
                lambda: painting_path("scream"),
                lambda p: p.is_file() and p.suffix == ".jpg",
            ),
            Valid("mixed case", lambda: painting_path("Starry_Night"), lambda p: p.is_file()),
        ],
    ),
    Row(
        "data.ImageSet",
        bad=[
            Bad(
                "records a string",
                lambda: ImageSet("abc", _folder("r")),
                TypeError,
                "sequence of mappings",
            ),
            Bad(
                "record not a mapping",
                lambda: ImageSet([3], _folder("r")),
                TypeError,
                "must be a mapping",
            ),
            Bad(
                "record without a file",
                lambda: ImageSet([_rec(file="")], _folder("r")),
                ValueError,
                "has no file",
            ),
            Bad(
                "file outside the root",
                lambda: ImageSet([_rec(file="../a.jpg")], _folder("r")),
                ValueError,
                "outside",
            ),
            Bad(
                "no such root",
                lambda: ImageSet([], "/nonexistent/attribkit"),
                FileNotFoundError,
                "no folder",
            ),
            Bad(
                "keys twice", lambda: ImageSet([_rec(), _rec()], _folder("r")), ValueError, "unique"
            ),
            Bad(
                "index out of range",
                lambda: ImageSet([_rec()], _folder("r", "a.jpg"))[1],
                IndexError,
                "out of range",
            ),
            Bad(
                "slice", lambda: ImageSet([_rec()], _folder("r", "a.jpg"))[0:1], TypeError, "subset"
            ),
            Bad(
                "float index",
                lambda: ImageSet([_rec()], _folder("r", "a.jpg"))[0.0],
                TypeError,
                "must be an int",
            ),
        ],
        valid=[
            Valid("empty set", lambda: ImageSet([], _folder("r")), lambda s: len(s) == 0),
            Valid(
                "negative index",
                lambda: ImageSet([_rec()], _folder("r", "a.jpg"))[-1],
                lambda item: item[1] == "x" and item[0].shape == (3, 8, 12),
            ),
            Valid(
                "numpy index",
                lambda: ImageSet([_rec()], _folder("r", "a.jpg"))[np.int64(0)],
                lambda item: item[1] == "x",
            ),
        ],
    ),
    Row(
        "data.PaintingSet",
        bad=[
            Bad(
                "nobody", lambda: painting_set().by_artist("Picasso"), ValueError, "no painting by"
            ),
            Bad("empty artist", lambda: painting_set().by_artist(""), ValueError, "non-empty"),
            Bad(
                "artist not a string",
                lambda: painting_set().by_artist(3),
                TypeError,
                "must be a string",
            ),
            Bad("unknown key", lambda: painting_set().index("mona-lisa"), KeyError, "did you mean"),
            Bad(
                "unknown title as label",
                lambda: painting_set().indices("Mona Lisa!"),
                ValueError,
                "did you mean",
            ),
            Bad("find nothing given", lambda: painting_set().find(" "), ValueError, "non-empty"),
        ],
        valid=[
            Valid(
                "part of a name",
                lambda: painting_set().by_artist("HOKUSAI"),
                lambda idx: len(idx) >= 6,
            ),
            Valid(
                "subset stays a painting set",
                lambda: painting_set().subset([0]),
                lambda s: isinstance(s, PaintingSet) and len(s) == 1,
            ),
        ],
    ),
]

test_bad_input, test_valid_odd_input = table_tests(ROWS)
