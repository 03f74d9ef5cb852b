import pytest
import torch
from torch import nn

from attribkit import GuidedGradCam, LayerGradCam, gradcam_map, saliency_grabcut, saliency_map
from attribkit.attr import last_conv_layer
from attribkit.testing import snapshot_world


def test_saliency_map_is_abs_gradient_max_over_channels():
    lin = nn.Sequential(nn.Flatten(), nn.Linear(12, 2, bias=False))
    w = torch.arange(24.0).view(2, 12) - 12
    with torch.no_grad():
        lin[1].weight.copy_(w)
    x = torch.rand(1, 3, 2, 2)
    expected = w[1].view(3, 2, 2).abs().amax(0, keepdim=True).unsqueeze(0)
    snap = snapshot_world(lin, x)
    assert torch.equal(saliency_map(lin, x, target=1), expected)
    snap.assert_unchanged()


def test_gradcam_hand_computed():
    # one conv channel = the image's first channel; the logit is its spatial mean, so the
    # Grad-CAM weight is 1/HW and the map is the activation / HW
    conv = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))
    net = nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    x = torch.rand(1, 3, 4, 4)
    cam = LayerGradCam(net, "0").attribute(x, target=0)
    assert torch.allclose(cam, x[:, :1] / 16)
    up = gradcam_map(net, x, target=0)
    assert up.shape == (1, 1, 4, 4) and torch.allclose(up, x[:, :1] / 16)
    assert last_conv_layer(net) == "0"


def test_guided_gradcam_is_product(tiny_net, images):
    from attribkit import GuidedBackprop

    ggc = GuidedGradCam(tiny_net, "conv2").attribute(images, target=[0, 1])
    gb = GuidedBackprop(tiny_net).attribute(images, target=[0, 1])
    cam = LayerGradCam(tiny_net, "conv2").attribute(images, target=[0, 1], relu_attributions=True)
    assert torch.allclose(ggc, gb * cam, atol=1e-6)


def test_gradcam_errors():
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        last_conv_layer(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="nn.Module"):
        LayerGradCam(lambda x: x, "conv")


def _square_scene() -> tuple[torch.Tensor, torch.Tensor]:
    img = torch.full((1, 3, 48, 48), 0.2)
    img[:, 0, 12:36, 12:36] = 0.9  # a red square on grey
    sal = torch.zeros(48, 48)
    sal[16:32, 16:32] = 1.0
    return img, sal


def test_grabcut_segments_the_salient_object():
    img, sal = _square_scene()
    mask = saliency_grabcut(img, sal)
    truth = torch.zeros(48, 48, dtype=torch.bool)
    truth[12:36, 12:36] = True
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.9


def test_grabcut_errors():
    img, sal = _square_scene()
    with pytest.raises(ValueError, match="48×48"):
        saliency_grabcut(img, sal[:10])
    with pytest.raises(ValueError, match="flat"):
        saliency_grabcut(img, torch.zeros(48, 48))
    with pytest.raises(ValueError, match="quantile"):
        saliency_grabcut(img, sal, fg_quantile=0.2, bg_quantile=0.5)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        saliency_grabcut(img * 3, sal)
    with pytest.raises(ValueError, match="one image"):
        saliency_grabcut(torch.cat([img, img]), sal)


def test_layer_channels_explains_a_hidden_channel(tiny_net, images):
    from attribkit import GuidedBackprop
    from attribkit.attr import LayerChannels
    from attribkit.layers import capture

    wrapped = LayerChannels(tiny_net, "relu6")
    snap = snapshot_world(tiny_net, images)
    out = wrapped(images)
    with capture(tiny_net, "relu6") as acts:
        tiny_net(images)
    assert torch.equal(out, acts["relu6"].flatten(2).amax(2))
    assert torch.allclose(
        LayerChannels(tiny_net, "relu6", reduce="mean")(images), acts["relu6"].mean(dim=(2, 3))
    )
    g = GuidedBackprop(wrapped).attribute(images, target=2)
    assert g.shape == images.shape
    snap.assert_unchanged()
    with pytest.raises(ValueError, match="reduce"):
        LayerChannels(tiny_net, "relu6", reduce="median")
    with pytest.raises(ValueError, match="N×C×H×W"):
        LayerChannels(tiny_net, "fc")(images)
    tiny_net.fail = True
    with pytest.raises(RuntimeError, match="on purpose"):
        wrapped(images)
    snap.assert_unchanged()


def test_grabcut_takes_numpy_maps_and_checks_its_options():
    img, sal = _square_scene()
    assert torch.equal(saliency_grabcut(img, sal.numpy()), saliency_grabcut(img, sal))
    with pytest.raises(ValueError, match="iterations must be a positive integer, got 2.5"):
        saliency_grabcut(img, sal, iterations=2.5)
    with pytest.raises(ValueError, match="fg_quantile must be a finite"):
        saliency_grabcut(img, sal, fg_quantile=float("nan"))
    with pytest.raises(TypeError, match="NumPy array"):
        saliency_grabcut(img, sal.tolist())


def test_grabcut_leaves_torch_numpy_and_random_generators_alone():
    img, sal = _square_scene()
    snap = snapshot_world(nn.Identity(), img)
    saliency_grabcut(img, sal)
    snap.assert_unchanged()


def test_gradcam_map_refuses_a_layer_without_spatial_dimensions():
    net = nn.Sequential(
        nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)
    )
    x = torch.rand(2, 3, 4, 4)
    # Captum's class allows it (a per-example value), and so does ours
    assert LayerGradCam(net, "3").attribute(x, target=0).shape == (2, 1)
    with pytest.raises(ValueError, match=r"no N×C×H×W output.*\(2, 1\).*convolutional"):
        gradcam_map(net, x, target=0, layer="3")
    with pytest.raises(ValueError, match="unsqueeze"):
        gradcam_map(net, x[0], target=0)


def test_guided_gradcam_wants_images_like_its_layer():
    from attr_nets import TinyNet

    net = TinyNet()
    with pytest.raises(ValueError, match="unsqueeze") as info:
        GuidedGradCam(net, "conv2").attribute(torch.rand(3, 8, 8), target=0)
    assert isinstance(info.value, AssertionError)
    with pytest.raises(ValueError, match="N×C×H×W"):
        GuidedGradCam(net, "conv2").attribute(torch.rand(2, 3), target=0)


def test_saliency_refuses_list_inputs_as_captum_does():
    from captum.attr import Saliency as CaptumSaliency

    from attribkit import Saliency

    net = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(AssertionError):
        CaptumSaliency(net).attribute([torch.rand(2, 3)], target=0)
    with pytest.raises(TypeError, match=r"tuple\(inputs\)") as info:
        Saliency(net).attribute([torch.rand(2, 3)], target=0)
    assert isinstance(info.value, AssertionError)
