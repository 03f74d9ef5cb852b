"""Bad-input rows for the incremental-occlusion names (and Occlusion's incremental options)."""

import torch
from badinput import Bad, Row, Valid, table_tests
from torch import nn

from attribkit import Occlusion
from attribkit.attr.incremental import (
    Approximation,
    Boxes,
    IncrementalModel,
    Limits,
    WindowGrid,
    map_agreement,
    try_incremental_occlusion,
)

NET = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.Flatten(), nn.Linear(32, 2)).eval()
X = torch.rand(1, 3, 4, 4)
MAP = torch.rand(1, 3, 4, 4)


def _occ(**kw):
    return try_incremental_occlusion(NET, X, (3, 2, 2), 2, target=0, **kw)


def _plan(boxes, limits=None):
    return IncrementalModel(NET, X).plan(boxes, limits)


ROWS = [
    Row(
        "Occlusion",
        bad=[
            Bad("incremental not a bool", lambda: Occlusion(NET, incremental="yes"), TypeError,
                "incremental must be True or False"),
            Bad("approximate a string", lambda: Occlusion(NET).attribute(
                X, (3, 2, 2), strides=2, target=0, approximate="fast"), TypeError,
                "Approximation"),
            Bad("approximate a number", lambda: Occlusion(NET).attribute(
                X, (3, 2, 2), strides=2, target=0, approximate=0.5), TypeError, "bool"),
            Bad("approximate with a bad threshold", lambda: Occlusion(NET).attribute(
                X, (3, 2, 2), strides=2, target=0, approximate=Approximation(threshold=2.0)),
                ValueError, "threshold"),
            Bad("incremental None", lambda: Occlusion(NET, incremental=None), TypeError,
                "True or False"),
        ],
        valid=[
            Valid("approximate=False on a lambda", lambda: Occlusion(lambda z: NET(z)).attribute(
                X, (3, 2, 2), strides=2, target=0, approximate=False)),
            Valid("window as large as the image", lambda: Occlusion(NET).attribute(
                X, (3, 4, 4), target=1), lambda a: a.shape == X.shape),
        ],
    ),
    Row(
        "attr.incremental.try_incremental_occlusion",
        bad=[
            Bad("approximate a list", lambda: _occ(approximate=[1]), TypeError, "Approximation"),
            Bad("memory budget zero", lambda: _occ(memory_budget=0), ValueError,
                "memory_budget must be a positive int"),
            Bad("memory budget a float", lambda: _occ(memory_budget=1e9), ValueError,
                "memory_budget"),
            Bad("max_batch zero", lambda: _occ(max_batch=0), ValueError, "max_batch"),
            Bad("max_batch True", lambda: _occ(max_batch=True), ValueError, "max_batch"),
            Bad("enabled not a bool", lambda: _occ(enabled=1), TypeError, "True or False"),
        ],
        valid=[
            Valid("non-model forward declines", lambda: try_incremental_occlusion(
                print, X, (3, 2, 2)), lambda o: o.method == "full" and o.attributions is None),
            Valid("an integer input declines", lambda: try_incremental_occlusion(
                NET, torch.ones(1, 3, 4, 4, dtype=torch.long), (3, 2, 2)),
                lambda o: "floating-point" in o.reason),
        ],
    ),
    Row(
        "attr.incremental.IncrementalModel",
        bad=[
            Bad("model a function", lambda: IncrementalModel(lambda z: z, X), TypeError,
                "nn.Module"),
            Bad("example a list", lambda: IncrementalModel(NET, [X]), TypeError, "tensor"),
            Bad("example of two images", lambda: IncrementalModel(NET, X.repeat(2, 1, 1, 1)),
                ValueError, "x\\[:1\\]"),
            Bad("example 3-D", lambda: IncrementalModel(NET, X[0]), ValueError, "1×C×H×W"),
            Bad("integer example", lambda: IncrementalModel(NET, X.long()), ValueError,
                "floating-point"),
            Bad("plan on another map", lambda: _plan(Boxes(
                torch.tensor([0]), torch.tensor([0]), 2, 2, 8, 8)), ValueError, "8×8 map"),
            Bad("plan with a tuple", lambda: _plan((0, 0, 2, 2)), TypeError, "Boxes"),
            Bad("plan with a float limit", lambda: _plan(
                WindowGrid((3, 4, 4), (3, 2, 2), (3, 2, 2)).boxes(), 0.5), TypeError, "Limits"),
        ],
        valid=[
            Valid("a model in eval mode with one window", lambda: _plan(
                WindowGrid((3, 4, 4), (3, 4, 4), (3, 1, 1)).boxes()),
                lambda p: len(p.rules) >= 1),
        ],
    ),
    Row(
        "attr.incremental.WindowGrid",
        bad=[
            Bad("window larger than the image", lambda: WindowGrid((3, 4, 4), (3, 5, 2), (3, 1, 1)),
                ValueError, "does not fit"),
            Bad("zero stride", lambda: WindowGrid((3, 4, 4), (3, 2, 2), (3, 0, 1)), ValueError,
                "does not fit"),
            Bad("zero window", lambda: WindowGrid((3, 4, 4), (3, 0, 2), (3, 1, 1)), ValueError,
                "does not fit"),
            Bad("window a list", lambda: WindowGrid((3, 4, 4), [3, 2, 2], (3, 1, 1)), TypeError,
                "three ints"),
            Bad("two-axis shape", lambda: WindowGrid((4, 4), (3, 2, 2), (3, 1, 1)), TypeError,
                "three ints"),
            Bad("float stride", lambda: WindowGrid((3, 4, 4), (3, 2, 2), (3, 1.5, 1)), TypeError,
                "three ints"),
        ],
        valid=[
            Valid("stride larger than the window", lambda: len(
                WindowGrid((3, 9, 9), (3, 2, 2), (3, 4, 4))) == 9),
        ],
    ),
    Row(
        "attr.incremental.Limits",
        bad=[
            Bad("zero threshold", lambda: Limits(threshold=0.0), ValueError, "threshold"),
            Bad("threshold above one", lambda: Limits(threshold=1.5), ValueError, "threshold"),
            Bad("NaN threshold", lambda: Limits(threshold=float("nan")), ValueError, "finite"),
            Bad("string threshold", lambda: Limits(threshold="half"), TypeError, "number"),
            Bad("boolean full fraction", lambda: Limits(full_fraction=True), TypeError,
                "full_fraction"),
            Bad("negative full fraction", lambda: Limits(full_fraction=-0.1), ValueError,
                "full_fraction"),
        ],
        valid=[Valid("tiny threshold", lambda: Limits(threshold=1e-6).side(10) == 1)],
    ),
    Row(
        "attr.incremental.Approximation",
        bad=[
            Bad("coarse zero", lambda: Approximation(coarse=0), ValueError, "coarse"),
            Bad("coarse a float", lambda: Approximation(coarse=2.0), ValueError, "positive int"),
            Bad("coarse True", lambda: Approximation(coarse=True), ValueError, "coarse"),
            Bad("drill above one", lambda: Approximation(drill=1.5), ValueError, "drill"),
            Bad("drill NaN", lambda: Approximation(drill=float("nan")), ValueError, "drill"),
            Bad("threshold zero", lambda: Approximation(threshold=0), ValueError, "threshold"),
        ],
        valid=[
            Valid("coarse 1 and drill 0 (threshold only)", lambda: Approximation(
                coarse=1, drill=0).drill_down is False),
        ],
    ),
    Row(
        "attr.incremental.map_agreement",
        bad=[
            Bad("a list", lambda: map_agreement([1.0], MAP), TypeError, "two tensors"),
            Bad("shapes differ", lambda: map_agreement(MAP, MAP[:, :2]), ValueError, "same shape"),
            Bad("3-D maps", lambda: map_agreement(MAP[0], MAP[0]), ValueError, "N×C×H×W"),
            Bad("top zero", lambda: map_agreement(MAP, MAP, top=0), ValueError, "top"),
            Bad("top NaN", lambda: map_agreement(MAP, MAP, top=float("nan")), ValueError, "top"),
            Bad("NaN map", lambda: map_agreement(MAP * float("nan"), MAP), ValueError, "finite"),
        ],
        valid=[
            Valid("constant maps", lambda: map_agreement(torch.zeros(1, 1, 2, 2),
                  torch.zeros(1, 1, 2, 2)), lambda a: a.correlation == 1.0),
        ],
    ),
]  # fmt: skip

test_bad_input, test_valid_odd_input = table_tests(ROWS)
