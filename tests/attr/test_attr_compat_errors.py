"""Bad calls in Captum's forms, run on ``captum.attr`` and on ``attribkit.attr``.

Where Captum refuses a call, attribkit's exception must be an instance of the type Captum
raised, so ``except`` clauses written for Captum still work. Where Captum crashes deep inside or
answers wrongly without a word, attribkit refuses clearly (each listed in ``docs/captum.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import captum.attr
import pytest
import torch
from attr_compat_data import DIST, GRID, IDS, MASK, NET, SCALE, TOKENS, TWO, XT, YT, V, X
from attr_nets import TokenNet

from attribkit import attr as ak

Form = Callable[[ModuleType], Any]

BAD: dict[str, Form] = {
    "ig-steps-0": lambda A: A.IntegratedGradients(NET).attribute(X, target=0, n_steps=0),
    "ig-method": lambda A: A.IntegratedGradients(NET).attribute(X, target=0, method="simpson"),
    "baseline-shape": lambda A: A.IntegratedGradients(NET).attribute(X, X[:, :1, :2], 0),
    "list-target-length": lambda A: A.Saliency(NET).attribute(X, target=[0, 1, 2]),
    "tuple-target-too-long": lambda A: A.Saliency(NET).attribute(X, target=(0, 1)),
    "target-float": lambda A: A.Saliency(NET).attribute(X, target=0.5),
    "target-str": lambda A: A.Saliency(NET).attribute(X, target="cat"),
    "target-range-int": lambda A: A.Saliency(NET).attribute(X, target=3),
    "target-range-list": lambda A: A.Saliency(NET).attribute(X, target=[0, 3]),
    "target-range-tensor": lambda A: A.Saliency(NET).attribute(X, target=torch.tensor([3, 0])),
    "target-missing": lambda A: A.Saliency(NET).attribute(X),
    "list-inputs": lambda A: A.Saliency(NET).attribute([X], target=0),
    "nt-type": lambda A: A.NoiseTunnel(A.Saliency(NET)).attribute(X, nt_type="smooth", target=0),
    "nt-stdevs-length": lambda A: A.NoiseTunnel(A.Saliency(NET)).attribute(
        X, stdevs=(0.1, 0.2), target=0
    ),
    "dls-one-baseline": lambda A: A.DeepLiftShap(NET).attribute(X, DIST[:1], 0),
    "occ-window-big": lambda A: A.Occlusion(NET).attribute(X, (3, 7, 7), target=0),
    "occ-window-rank": lambda A: A.Occlusion(NET).attribute(X, (3, 3), target=0),
    "occ-window-zero": lambda A: A.Occlusion(NET).attribute(X, (3, 0, 3), target=0),
    "occ-stride-rank": lambda A: A.Occlusion(NET).attribute(X, (3, 3, 3), (1, 1), target=0),
    "occ-stride-big": lambda A: A.Occlusion(NET).attribute(X, (3, 2, 2), 3, target=0),
    "occ-windows-count": lambda A: A.Occlusion(TWO).attribute(
        (XT, YT), ((1,),), target=0, additional_forward_args=SCALE
    ),
    "fa-ppe-0": lambda A: A.FeatureAblation(NET).attribute(X, target=0, perturbations_per_eval=0),
    "fa-aggregate-ppe": lambda A: A.FeatureAblation(lambda x: NET(x).sum()).attribute(
        X, feature_mask=MASK, perturbations_per_eval=2
    ),
    "lrp-unsupported": lambda A: A.LRP(TokenNet()).attribute(IDS, target=0),
}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("form", BAD.values(), ids=BAD.keys())
def test_refusals_are_catchable_as_captums(form):
    with pytest.raises(Exception) as theirs:
        form(captum.attr)
    with pytest.raises(type(theirs.value)) as ours:
        form(ak)
    assert isinstance(ours.value, type(theirs.value))


def _nt(**kw: Any) -> Form:
    return lambda A: A.NoiseTunnel(A.Saliency(NET)).attribute(X, target=0, **kw)


NAN = X.clone()
NAN[0, 0, 0, 0] = float("nan")

#: bad calls that Captum turns into a crash deep inside or a silently wrong answer, and the
#: phrase of attribkit's refusal (each listed in docs/captum.md)
IMPROVED: dict[str, tuple[Form, str]] = {
    "nt-samples-0": (_nt(nt_samples=0), "nt_samples must be at least 1"),
    "nt-samples-negative": (_nt(nt_samples=-2), "nt_samples must be at least 1"),
    "nt-batch-0": (_nt(nt_samples_batch_size=0), "nt_samples_batch_size must be at least 1"),
    "nt-stdevs-negative": (_nt(stdevs=-1.0), "stdevs must be at least 0"),
    "nt-stdevs-nan": (_nt(stdevs=float("nan")), "stdevs must be a finite number"),
    "shapley-no-samples": (
        lambda A: A.ShapleyValueSampling(NET).attribute(X, target=0, n_samples=0),
        "n_samples must be at least 1",
    ),
    "gradient-shap-no-samples": (
        lambda A: A.GradientShap(NET).attribute(X, DIST, target=0, n_samples=0),
        "n_samples must be at least 1",
    ),
    "target-negative": (lambda A: A.Saliency(NET).attribute(X, target=-1), "negative"),
    "target-bool-tensor": (
        lambda A: A.Saliency(NET).attribute(X, target=torch.tensor(True)),
        "integer class indices",
    ),
    "target-too-short": (
        lambda A: A.FeatureAblation(GRID).attribute(V, target=(1,)),
        "one index per dimension",
    ),
    "target-int-on-grid": (
        lambda A: A.FeatureAblation(GRID).attribute(V, target=1),
        "one index per dimension",
    ),
    "occ-stride-0": (
        lambda A: A.Occlusion(NET).attribute(X, (3, 2, 2), strides=0, target=0),
        "positive",
    ),
    "occ-stride-negative": (
        lambda A: A.Occlusion(NET).attribute(X, (3, 2, 2), strides=-2, target=0),
        "positive",
    ),
    "occ-window-negative": (
        lambda A: A.Occlusion(NET).attribute(X, (3, -2, 2), target=0),
        "positive",
    ),
    "nan-inputs": (lambda A: A.Saliency(NET).attribute(NAN, target=0), "NaN"),
    "nan-baselines": (
        lambda A: A.IntegratedGradients(NET).attribute(X, float("nan"), 0, n_steps=3),
        "baselines must be a finite number",
    ),
    "integer-inputs-to-gradients": (
        lambda A: A.Saliency(TOKENS).attribute(IDS, target=0),
        "floating point",
    ),
}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(("form", "match"), IMPROVED.values(), ids=IMPROVED.keys())
def test_clear_errors_where_captum_crashes_or_goes_wrong(form, match):
    try:
        result = form(captum.attr)
    except (ValueError, TypeError) as err:  # pragma: no cover - Captum would be clear already
        pytest.fail(f"Captum already refuses this clearly: {err!r}")
    except Exception:  # noqa: BLE001 - a crash deep inside (ZeroDivisionError, RuntimeError…)
        pass
    else:
        assert result is not None  # a silently wrong answer
    with pytest.raises((ValueError, TypeError), match=match):
        form(ak)


def test_calls_that_captum_refuses_and_attribkit_accepts():
    # an int stdev (Captum asserts it is a float), a window () for inputs of shape (N,),
    # and dotted layer names
    torch.manual_seed(0)
    ours = ak.NoiseTunnel(ak.Saliency(NET)).attribute(X, stdevs=1, nt_samples=2, target=0)
    torch.manual_seed(0)
    theirs = captum.attr.NoiseTunnel(captum.attr.Saliency(NET)).attribute(
        X, stdevs=1.0, nt_samples=2, target=0
    )
    torch.testing.assert_close(ours, theirs)
    with pytest.raises(IndexError):
        captum.attr.Occlusion(lambda t: t * 2).attribute(XT[:, 0], ())
    assert ak.Occlusion(lambda t: t * 2).attribute(XT[:, 0], ()).shape == (2,)
    named = ak.LayerConductance(NET, "conv2").attribute(X, target=1, n_steps=3)
    torch.testing.assert_close(
        named, captum.attr.LayerConductance(NET, NET.conv2).attribute(X, target=1, n_steps=3)
    )
