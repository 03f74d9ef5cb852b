"""Training of the arbitrary-style (AdaIN) decoder: the loss comes down, resume is exact, the
warm-up reconstructs, and the checkpoint format holds the network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.adain_nets import tiny_backbone, tiny_train_kwargs

from attribkit.style import load_style_model, save_style_model
from attribkit.style.arbitrary import AdaINStyleNet
from attribkit.style.train_arbitrary import DecayingAdam, train_arbitrary


def _images(n: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    # smooth images (a few colour blobs), so that the style statistics differ per image
    return [
        torch.nn.functional.interpolate(
            torch.rand(1, 3, 4, 4, generator=g), size=(32, 32), mode="bilinear"
        )
        for _ in range(n)
    ]


def _train(**kw: object) -> object:
    args = tiny_train_kwargs(**{"lr": 1e-2, "lr_end": 1e-3, **kw})
    return train_arbitrary(_images(3, 0), _images(3, 1), **args)  # type: ignore[arg-type]


def test_training_lowers_the_loss() -> None:
    r = _train(steps=40, recon_steps=0)
    losses = [h["loss"] for h in r.history]  # type: ignore[attr-defined]
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.8 * first, (first, last)


def test_warm_up_reconstructs_then_stylizes() -> None:
    r = _train(steps=30, recon_steps=25)
    hist = r.history  # type: ignore[attr-defined]
    assert all("recon" in h and "style" not in h for h in hist[:25])
    assert all({"content", "style"} <= set(h) for h in hist[25:])
    recon = [h["recon"] for h in hist[:25]]
    assert sum(recon[-5:]) < sum(recon[:5])


class _Stop(Exception):
    pass


def _stop_at(step: int):  # noqa: ANN202
    def cb(i: int, _rec: dict[str, float]) -> None:
        if i == step:
            raise _Stop

    return cb


def test_resume_continues_exactly(tmp_path: Path) -> None:
    whole = _train(steps=6, recon_steps=2, out_dir=tmp_path / "a", checkpoint_every=2)
    with pytest.raises(_Stop):
        _train(
            steps=6,
            recon_steps=2,
            out_dir=tmp_path / "b",
            checkpoint_every=2,
            callbacks=[_stop_at(5)],
        )
    resumed = _train(steps=6, recon_steps=2, out_dir=tmp_path / "b", checkpoint_every=2)
    assert [h["step"] for h in resumed.history] == [1, 2, 3, 4, 5, 6]  # type: ignore[attr-defined]
    assert resumed.history == whole.history  # type: ignore[attr-defined]
    a = whole.model.state_dict()  # type: ignore[attr-defined]
    b = resumed.model.state_dict()  # type: ignore[attr-defined]
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)


def test_model_file_round_trip_needs_its_backbone(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = AdaINStyleNet(tiny_backbone(), "relu2", width=4, max_width=8, pad=2)
    path = save_style_model(net, tmp_path / "m")
    assert path.stat().st_size < 100_000  # the decoder only
    with pytest.raises(ValueError, match="backbone="):
        load_style_model(tmp_path / "m")
    back = load_style_model(tmp_path / "m", backbone=tiny_backbone())
    assert isinstance(back, AdaINStyleNet) and back.config() == net.config()
    x, s = _images(1, 0)[0], _images(1, 1)[0]
    torch.testing.assert_close(back(x, s), net(x, s))
    with pytest.raises(ValueError, match="channels"):  # a backbone with another cut
        load_style_model(tmp_path / "m", backbone=_other_backbone())


def _other_backbone() -> torch.nn.Module:
    from collections import OrderedDict

    return torch.nn.Sequential(
        OrderedDict(conv1=torch.nn.Conv2d(3, 5, 3, stride=4, padding=1), relu2=torch.nn.ReLU())
    )


def test_decaying_adam_follows_its_schedule_after_a_restore() -> None:
    p = torch.nn.Parameter(torch.zeros(2))
    opt = DecayingAdam([p], lr=1e-2, lr_end=1e-4, steps=5)
    assert opt.rate(0) == pytest.approx(1e-2) and opt.rate(4) == pytest.approx(1e-4)
    assert opt.rate(2) == pytest.approx(1e-3)
    for _ in range(3):
        p.grad = torch.ones(2)
        opt.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3)
