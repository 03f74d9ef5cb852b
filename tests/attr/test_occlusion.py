import pytest
import torch
from captum.attr import Occlusion as CaptumOcclusion

from attribkit import Occlusion
from attribkit.attr import count_occlusions


@pytest.mark.parametrize("ppe", [None, 1, 5, 1000])
@pytest.mark.parametrize("baselines", [None, 0.5])
def test_equals_captum_with_same_arguments(tiny_net, images, ppe, baselines):
    tiny_net.double()
    x = images.double()
    ours = Occlusion(tiny_net).attribute(
        x,
        (3, 4, 4),
        strides=(3, 2, 2),
        baselines=baselines,
        target=[1, 2],
        perturbations_per_eval=ppe,
    )
    theirs = CaptumOcclusion(tiny_net).attribute(
        x.clone(), (3, 4, 4), strides=(3, 2, 2), baselines=baselines, target=[1, 2]
    )
    assert torch.allclose(ours, theirs, atol=1e-10)


def test_default_batches_several_perturbations(tiny_net, images):
    occ = Occlusion(tiny_net)
    occ.attribute(images, 4, strides=2, target=0)
    assert occ.last_perturbations_per_eval is not None and occ.last_perturbations_per_eval > 1
    small = Occlusion(tiny_net, memory_budget=1)
    small.attribute(images, 4, strides=2, target=0)
    assert small.last_perturbations_per_eval == 1


def test_lecture_variant_is_probability_drop_with_mean_pixel(tiny_net, images):
    tiny_net.double()
    x = images.double()
    ours = Occlusion(tiny_net).attribute(
        x, 4, strides=2, target=[0, 1], baselines="mean", probability=True
    )
    mean = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    theirs = CaptumOcclusion(lambda z: tiny_net(z).softmax(-1)).attribute(
        x.clone(), (3, 4, 4), strides=2, baselines=mean, target=[0, 1]
    )
    assert torch.allclose(ours, theirs, atol=1e-12)
    # a probability drop is bounded by the probability itself
    p = tiny_net(x).softmax(-1)[[0, 1], [0, 1]].view(2, 1, 1, 1)
    assert (ours <= p + 1e-12).all() and (ours >= p - 1 - 1e-12).all()


def test_known_answer_on_a_linear_model():
    # f(x) = sum of the top-left 2×2 pixels: occluding any window that covers them with zeros
    # drops the output by the covered sum
    def f(x):
        return x[:, :, :2, :2].sum(dim=(1, 2, 3)).unsqueeze(1)

    x = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    out = Occlusion(f).attribute(x, (1, 2, 2), strides=2, target=0)
    expected = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    expected[..., :2, :2] = 4.0
    assert torch.allclose(out.double(), expected)


def test_count_occlusions_and_errors(tiny_net, images):
    assert count_occlusions((3, 8, 8), (3, 4, 4), 2) == 9
    with pytest.raises(ValueError, match="larger than the input"):
        count_occlusions((3, 8, 8), (3, 9, 9), 1)
    with pytest.raises(ValueError, match="'mean'"):
        Occlusion(tiny_net).attribute(images, 4, baselines="median", target=0)
    with pytest.raises(ValueError, match="positive"):
        Occlusion(tiny_net).attribute(images, 4, target=0, perturbations_per_eval=0)
    with pytest.raises(ValueError, match="memory_budget"):
        Occlusion(tiny_net, memory_budget=0)
