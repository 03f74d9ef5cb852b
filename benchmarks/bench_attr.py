"""Occlusion on EfficientNet-Lite0, one 224×224 image, window 16, stride 8 (729 windows).

Compares, in one run: attribkit's default call, Captum's default call
(``perturbations_per_eval=1``), and the bare cost of the same 729 forward passes at the best
batch size and memory format (measured per image, times 729).

The ``saliency-224`` group measures what attribkit's checks and state discipline cost on one
gradient call (signature binding, target check, eval mode, saved and restored state and
generators): attribkit's ``Saliency`` against Captum's on the same image.
"""

from __future__ import annotations

import torch
from captum.attr import Occlusion as CaptumOcclusion
from captum.attr import Saliency as CaptumSaliency
from conftest import bare_forwards, best_config, record

from attribkit import Occlusion, Saliency, sample_image
from attribkit.attr import count_occlusions

WINDOW, STRIDE, TARGET = 16, 8, 285


def _image() -> torch.Tensor:
    return sample_image("chelsea", size=224)


def test_occlusion_attribkit_default(benchmark, lite0):
    x = _image()
    occ = Occlusion(lite0)
    benchmark.group = "occlusion-224-w16-s8"
    benchmark.pedantic(
        lambda: occ.attribute(x, WINDOW, strides=STRIDE, target=TARGET), rounds=3, iterations=1
    )
    record(benchmark, "ours", perturbations_per_eval=occ.last_perturbations_per_eval)


def test_occlusion_captum_default(benchmark, lite0):
    x = _image()
    occ = CaptumOcclusion(lite0)
    benchmark.group = "occlusion-224-w16-s8"
    benchmark.pedantic(
        lambda: occ.attribute(x, (3, WINDOW, WINDOW), strides=(3, STRIDE, STRIDE), target=TARGET),
        rounds=1,
        iterations=1,
    )
    record(benchmark, "peer", perturbations_per_eval=1)


def test_occlusion_bare_forward_cost(benchmark, lite0):
    n = count_occlusions((3, 224, 224), (3, WINDOW, WINDOW), (3, STRIDE, STRIDE)) + 1
    batch, channels_last, where = best_config(lite0, (3, 224, 224))
    benchmark.group = "occlusion-224-w16-s8"
    benchmark.pedantic(
        bare_forwards(lite0, (3, 224, 224), n, batch, channels_last), rounds=3, iterations=1
    )
    record(benchmark, "bare", forwards=n, best_config=where)


def test_saliency_attribkit(benchmark, lite0):
    x = _image()
    sal = Saliency(lite0)
    benchmark.group = "saliency-224"
    benchmark.pedantic(lambda: sal.attribute(x, target=TARGET), rounds=10, iterations=1)
    record(benchmark, "ours")


def test_saliency_captum(benchmark, lite0):
    x = _image()
    sal = CaptumSaliency(lite0)
    benchmark.group = "saliency-224"
    benchmark.pedantic(lambda: sal.attribute(x.clone(), target=TARGET), rounds=10, iterations=1)
    record(benchmark, "peer")
