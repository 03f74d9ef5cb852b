import pytest
import torch
import torchvision

from attribkit import (
    class_index,
    efficientnet_lite0,
    imagenet_classes,
    predict,
    sample_image,
    train_digits_cnn,
    vgg16,
    vgg19,
)
from attribkit.models import Normalize, NormalizedModel


@pytest.fixture(scope="module")
def lite0():
    return efficientnet_lite0()


def test_efficientnet_lite0_classifies_the_sample_photos(lite0):
    x = torch.cat([sample_image(n, size=224) for n in ("chelsea", "coffee")])
    preds = predict(lite0, x, topk=3)
    assert preds[0][0].index in (281, 282, 285)  # a cat (tabby, tiger cat, Egyptian cat)
    assert preds[1][0].name == "espresso"
    assert all(p.probability > 0 for row in preds for p in row)
    assert not lite0.training


def test_predict_leaves_the_model_alone(lite0):
    from attribkit.testing import snapshot_world

    x = sample_image("coffee", size=96)
    lite0.train()
    snap = snapshot_world(lite0, x)
    predict(lite0, x)
    snap.assert_unchanged()
    lite0.eval()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        predict(lite0, x * 255)


def test_normalization_is_part_of_the_model():
    norm = Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    assert torch.allclose(norm(torch.full((1, 3, 1, 1), 0.75)), torch.ones(1, 3, 1, 1))
    wrapped = NormalizedModel(torch.nn.Identity(), (0.5,) * 3, (0.5,) * 3)
    assert torch.allclose(wrapped(torch.ones(1, 3, 2, 2)), torch.ones(1, 3, 2, 2))
    with pytest.raises(ValueError, match="positive"):
        Normalize((0.0,), (0.0,))


def test_class_names_and_lookup():
    names = imagenet_classes()
    assert len(names) == 1000 and names[285] == "Egyptian cat"
    assert class_index("Granny Smith") == 948
    assert class_index("543") == 543
    with pytest.raises(ValueError, match="ambiguous"):
        class_index("cat")
    with pytest.raises(ValueError, match="no ImageNet class"):
        class_index("unicorn")
    with pytest.raises(ValueError, match="out of range"):
        class_index(1000)


@pytest.mark.parametrize("build, last", [(vgg16, "relu5_3"), (vgg19, "relu5_4")])
def test_vgg_named_layers(build, last):
    model = build()
    names = dict(model.named_modules())
    assert "relu1_1" in names and last in names
    x = torch.rand(1, 3, 32, 32)
    assert model.features(x, upto="relu3_1").shape == (1, 256, 8, 8)
    with pytest.raises(ValueError, match="unknown VGG layer"):
        model.features(x, upto="relu9_9")


def test_vgg_loads_torchvision_state_dicts(tmp_path):
    tv = torchvision.models.vgg16()
    path = tmp_path / "vgg16.pth"
    torch.save(tv.state_dict(), path)
    ours = vgg16(path)
    assert torch.equal(ours.conv5_3.weight, tv.features[28].weight)
    x = torch.rand(1, 3, 64, 64)
    from attribkit.models import Normalize

    with torch.no_grad():
        assert torch.allclose(ours(x), tv.eval()(Normalize()(x)), atol=1e-5)
    with pytest.raises(ValueError, match="conv layers"):
        vgg19(path)
    with pytest.raises(FileNotFoundError):
        vgg16(tmp_path / "missing.pth")


def test_digits_cnn_is_deterministic_and_learns():
    a, acc_a = train_digits_cnn(epochs=6, seed=3)
    b, acc_b = train_digits_cnn(epochs=6, seed=3)
    assert acc_a == acc_b and acc_a > 0.8
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not a.training
