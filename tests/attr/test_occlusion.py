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


def test_count_occlusions_matches_captums_forward_passes():
    calls = []

    def f(x):
        calls.append(x.shape[0])
        return x.flatten(1).sum(1, keepdim=True)

    x = torch.rand(1, 1, 8, 7)
    CaptumOcclusion(f).attribute(x, (1, 3, 3), strides=(1, 2, 3), target=0)
    assert len(calls) - 1 == count_occlusions((1, 8, 7), (1, 3, 3), (1, 2, 3)) == 4 * 3
    assert count_occlusions((3, 8, 8), (3, 4, 4), 2) == 9


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sliding_window_shapes": (3, 4, 4), "strides": 0}, "positive"),
        ({"sliding_window_shapes": (3, 4, 4), "strides": -2}, "positive"),
        ({"sliding_window_shapes": (3, -4, 4)}, "positive"),
        ({"sliding_window_shapes": (4, 4)}, "has 2 dimensions.*needs 3"),
        ({"sliding_window_shapes": (3, 9, 9)}, "larger than the input"),
        ({"sliding_window_shapes": (3, 2, 2), "strides": 3}, "larger than the sliding window"),
        ({"sliding_window_shapes": (3, 4, 4), "strides": (1, 2)}, "need 3 entries"),
        ({"sliding_window_shapes": 4, "baselines": "median"}, "'mean'"),
        ({"sliding_window_shapes": 4, "perturbations_per_eval": 0}, "at least 1"),
        ({"sliding_window_shapes": 4, "perturbations_per_eval": 2.5}, "int"),
        ({"sliding_window_shapes": [3, 4, 4]}, "tuple"),
    ],
    ids=[
        "stride0",
        "stride-2",
        "window-neg",
        "window-rank",
        "window-big",
        "stride>window",
        "stride-rank",
        "baseline",
        "ppe0",
        "ppe-float",
        "window-list",
    ],
)
def test_bad_arguments_are_refused_before_any_forward(tiny_net, images, kwargs, match):
    calls = []
    tiny_net.register_forward_pre_hook(lambda *a: calls.append(1))
    with pytest.raises((ValueError, TypeError), match=match) as info:
        Occlusion(tiny_net).attribute(images, target=0, **kwargs)
    assert isinstance(info.value, AssertionError)  # what Captum's callers catch
    assert not calls


def test_constructor_errors(tiny_net):
    with pytest.raises(ValueError, match="memory_budget"):
        Occlusion(tiny_net, memory_budget=0)
    with pytest.raises(ValueError, match="max_batch"):
        Occlusion(tiny_net, max_batch=-1)


def test_a_forward_returning_one_value_per_batch_runs_one_perturbation_per_pass():
    # the example: Captum's default (one per pass) handles it, so must ours
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    net.double()
    x = torch.rand(1, 3, dtype=torch.float64)
    occ = Occlusion(lambda inp: net(inp).sum())
    ours = occ.attribute(x, sliding_window_shapes=(1,))
    assert occ.last_perturbations_per_eval == 1
    theirs = CaptumOcclusion(lambda inp: net(inp).sum()).attribute(x, sliding_window_shapes=(1,))
    assert torch.allclose(ours, theirs, atol=1e-12)


def test_a_forward_that_only_takes_its_own_batch_size_still_runs():
    net = torch.nn.Linear(4, 2).double()

    def fixed(x):
        assert x.shape[0] == 1, "this model takes one example at a time"
        return net(x)

    x = torch.rand(1, 4, dtype=torch.float64)
    occ = Occlusion(fixed)
    ours = occ.attribute(x, (1,), target=1)
    assert occ.last_perturbations_per_eval == 1
    assert torch.allclose(ours, CaptumOcclusion(fixed).attribute(x, (1,), target=1), atol=1e-12)


def test_additional_forward_args_are_sliced_consistently_in_the_probe():
    from attr_nets import TwoInputNet

    net = TwoInputNet()
    x, y = torch.rand(3, 4, dtype=torch.float64), torch.rand(3, 2, dtype=torch.float64)
    scale = torch.rand(3, 1, dtype=torch.float64)

    def f(a, b):
        return net(a, a[:, :2] ** 2, b)

    occ = Occlusion(f, max_batch=64)
    ours = occ.attribute(x, (1,), target=0, additional_forward_args=(scale,))
    assert occ.last_perturbations_per_eval > 1
    theirs = CaptumOcclusion(f).attribute(x, (1,), target=0, additional_forward_args=(scale,))
    assert torch.allclose(ours, theirs, atol=1e-12)
    # two inputs, one extra argument: the second example
    two = Occlusion(net).attribute(
        (x, y), sliding_window_shapes=((1,), (1,)), target=0, additional_forward_args=(scale,)
    )
    expected = CaptumOcclusion(net).attribute(
        (x, y), sliding_window_shapes=((1,), (1,)), target=0, additional_forward_args=(scale,)
    )
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(two, expected))


@pytest.mark.parametrize("baselines", [None, 0, 3])
def test_integer_and_boolean_inputs_as_captum(baselines):
    from attr_nets import TokenNet

    net = TokenNet()
    ids = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    ours = Occlusion(net).attribute(ids, (1,), baselines=baselines, target=1)
    theirs = CaptumOcclusion(net).attribute(ids, (1,), baselines=baselines, target=1)
    assert torch.allclose(ours, theirs, atol=1e-12)
    flags = ids > 4

    def f(b):
        return net(b.long() + 1)

    ours = Occlusion(f).attribute(flags, (2,), strides=2, target=0)
    assert torch.allclose(ours, CaptumOcclusion(f).attribute(flags, (2,), strides=2, target=0))


def test_scalar_examples_of_shape_n():
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    out = Occlusion(lambda t: t**2).attribute(x, ())  # Captum's needs ((),) for this
    assert torch.allclose(out.double(), x**2)  # occluding an example with 0 drops its square
    assert torch.equal(out, CaptumOcclusion(lambda t: t**2).attribute(x, ((),)))
