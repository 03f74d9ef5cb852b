"""Fooling images: closed-form budgets on a linear model, agreement with captum.robust.PGD,
early stopping, reports, sweeps, pictures, state restoration and bad input."""

from __future__ import annotations

import pytest
import torch
from helpers.nets import RaiseOnCall, linear_net, small_cnn
from torch import nn

from attribkit.adversarial import (
    FoolingImage,
    FoolingReport,
    ProjectedImage,
    fooling_figure,
    fooling_sweep,
)
from attribkit.testing import snapshot_world


def fool(net: nn.Module, x: torch.Tensor, *args: object, **kwargs: object) -> tuple:
    """``(images, report)`` of one run."""
    res = FoolingImage(net).run(x, *args, show_progress=False, **kwargs)  # type: ignore[arg-type]
    report = res.extras["report"]
    assert isinstance(report, FoolingReport)
    return res.images, report


def test_closed_form_budget_linf() -> None:
    """From x = 0.3 (Σx = 3.6), class 1 wins once Σx < 3, i.e. after a change of 0.05 per pixel;
    p(1) >= 0.9 needs 6 - 2Σx >= ln 9, i.e. Σx <= 1.90, a change of 0.142."""
    net = linear_net()
    x = torch.full((1, 3, 2, 2), 0.3)
    need = 0.3 - (6 - torch.log(torch.tensor(9.0))) / 2 / 12
    ok_img, ok = fool(net, x, 1, epsilon=float(need) + 0.01, lr=0.005, steps=60)
    assert bool(ok.success[0]) and float(ok.prob_after[0]) >= 0.9
    assert float(ok.linf[0]) == pytest.approx(float(need), abs=0.006)
    torch.testing.assert_close(ok.l2, ok.linf * 12**0.5)
    _, fail = fool(net, x, 1, epsilon=float(need) - 0.01, lr=0.005, steps=60)
    assert not bool(fail.success[0]) and float(fail.prob_after[0]) < 0.9
    assert float(fail.linf[0]) == pytest.approx(float(need) - 0.01, abs=1e-6)  # used it all
    assert int(fail.steps[0]) == 60


def test_l2_budget_and_untargeted() -> None:
    net = linear_net()
    x = torch.full((1, 3, 2, 2), 0.3)
    img, rep = fool(net, x, None, norm="l2", epsilon=1.0, lr=0.05, steps=50)
    # untargeted: leave class 0 (Σx < 3 needs a uniform change of 0.05, L2 = 0.05·√12 = 0.17)
    assert bool(rep.success[0]) and int(rep.predicted_after[0]) != 0
    assert int(rep.target[0]) == -1 and int(rep.original_class[0]) == 0
    assert float(rep.l2[0]) <= 1.0 + 1e-6
    assert float(rep.prob_after[0]) < float(rep.prob_before[0])
    assert "untargeted" in rep.summary(0)


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
def test_matches_captum_pgd() -> None:
    captum_pgd = pytest.importorskip("captum.robust").PGD
    net = small_cnn()
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    net = net.double()
    ours, rep = fool(net, x, 2, epsilon=0.05, lr=0.01, steps=7, method="pgd", threshold=1.0)
    pgd = captum_pgd(net, nn.CrossEntropyLoss(reduction="none"), lower_bound=0.0, upper_bound=1.0)
    pgd.fgsm.zero_thresh = 0.0  # Captum skips |grad| <= 1e-6 by default; we step on any sign
    theirs = pgd.perturb(
        x, radius=0.05, step_size=0.01, step_num=7, target=torch.full((3,), 2), targeted=True
    )
    not_done = ~rep.success
    torch.testing.assert_close(ours[not_done], theirs[not_done])


def test_batch_stops_each_image_and_matches_single_runs() -> None:
    net = small_cnn()
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    imgs, rep = fool(net, x, 3, epsilon=0.3, lr=0.02, steps=40, threshold=0.6)
    for i in range(3):
        one, r1 = fool(net, x[i : i + 1], 3, epsilon=0.3, lr=0.02, steps=40, threshold=0.6)
        torch.testing.assert_close(one[0], imgs[i])
        assert int(r1.steps[0]) == int(rep.steps[i])
    assert torch.all(rep.linf <= 0.3 + 1e-6)
    assert torch.all(rep.success == (rep.prob_after >= 0.6))


def test_random_start_is_seeded() -> None:
    net = small_cnn()
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    state = torch.random.get_rng_state()
    a, ra = fool(net, x, 1, random_start=True, seed=5, steps=3)
    b, _ = fool(net, x, 1, random_start=True, seed=5, steps=3)
    c, _ = fool(net, x, 1, random_start=True, seed=6, steps=3)
    assert torch.equal(a, b) and not torch.equal(a, c) and ra.seed == 5
    assert torch.equal(state, torch.random.get_rng_state())
    _, rl2 = fool(net, x, 1, norm="l2", epsilon=0.5, random_start=True, steps=2)
    assert torch.all(rl2.l2 <= 0.5 + 1e-5)


def test_sweep_success_rises_with_epsilon() -> None:
    net = linear_net()
    g = torch.Generator().manual_seed(0)
    x = 0.25 + 0.2 * torch.rand(6, 3, 2, 2, generator=g)  # class 0 images of varying margin
    eps = [0.01, 0.05, 0.1, 0.2, 0.4]
    res = fooling_sweep(net, x, 1, eps, lr=0.005, steps=100, show_progress=False)
    assert res.epsilons == eps and len(res.reports) == len(eps)
    assert all(a <= b for a, b in zip(res.success_rate, res.success_rate[1:]))
    assert res.success_rate[0] == 0.0 and res.success_rate[-1] == 1.0
    # closed form: image i flips (p >= 0.9) when eps >= x̄_i - (6 - ln 9) / 24
    need = x.flatten(1).mean(1) - (6 - torch.log(torch.tensor(9.0))) / 24
    for e, rate in zip(eps, res.success_rate):
        assert rate == pytest.approx(float((need <= e - 0.005).float().mean()), abs=1 / 6 + 1e-6)


def test_figure() -> None:
    a = torch.full((1, 3, 8, 8), 0.5)
    b = a.clone()
    b[..., 0, 0] += 0.01
    fig = fooling_figure(a, b, magnify=10)
    assert fig.shape[0] == 3 and fig.shape[2] > 3 * 8
    norm = fooling_figure(a, b, magnify="normalize")
    assert float(norm.max()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="magnify"):
        fooling_figure(a, b, magnify=-1)
    with pytest.raises(ValueError, match="differ in shape"):
        fooling_figure(a, torch.zeros(1, 3, 4, 4))


def test_projected_image_stays_in_the_ball() -> None:
    origin = torch.full((2, 3, 4, 4), 0.95)
    p = ProjectedImage(origin, 0.1, "linf")
    with torch.no_grad():
        p.pixels.add_(torch.linspace(-1, 1, 96).view(2, 3, 4, 4))
    out = p().detach()  # projected on the way out, before any post_step
    assert float((out - origin).abs().max()) <= 0.1 + 1e-6 and float(out.max()) <= 1.0
    p.post_step()
    assert torch.equal(p.pixels, out)
    start = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    l2 = ProjectedImage(origin * 0.5, 0.3, "l2", start=start)
    assert torch.all((l2().detach() - origin * 0.5).flatten(1).norm(dim=1) <= 0.3 + 1e-5)
    with pytest.raises(ValueError, match="norm"):
        ProjectedImage(origin, 0.1, "l1")
    with pytest.raises(ValueError, match="finite"):
        ProjectedImage(origin, float("nan"))


def test_world_restored() -> None:
    net = small_cnn().train()
    for p in net.parameters():
        p.grad = torch.zeros_like(p)
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(4))
    snap = snapshot_world(net, x)
    FoolingImage(net).perturb(x, 0, steps=3, show_progress=False)
    snap.assert_unchanged()
    boom = RaiseOnCall(net, k=3)
    snap2 = snapshot_world(boom, x)
    with pytest.raises(RuntimeError, match="boom"):
        FoolingImage(boom).perturb(x, 0, steps=5, threshold=1.0, show_progress=False)
    snap2.assert_unchanged()


def test_exception() -> None:
    net = small_cnn()
    f = FoolingImage(net)
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(5))
    with pytest.raises(ValueError, match="out of range"):
        f.perturb(x, 4, show_progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        f.perturb(x + 1, 0, show_progress=False)
    with pytest.raises(ValueError, match="norm"):
        f.perturb(x, 0, norm="l1", show_progress=False)
    with pytest.raises(ValueError, match="method"):
        f.perturb(x, 0, method="cw", show_progress=False)
    with pytest.raises(ValueError, match="epsilon"):
        f.perturb(x, 0, epsilon=0.0, show_progress=False)
    with pytest.raises(ValueError, match="epsilon must be a finite number"):
        f.perturb(x, 0, epsilon=float("nan"), show_progress=False)
    with pytest.raises(ValueError, match="lr must be a finite number"):
        f.perturb(x, 0, lr=float("inf"), show_progress=False)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        f.perturb(x, 0, steps=0, show_progress=False)
    with pytest.raises(ValueError, match="threshold"):
        f.perturb(x, 0, threshold=1.5, show_progress=False)
    with pytest.raises(ValueError, match="one per input"):
        f.perturb(x, [0, 1], show_progress=False)
    with pytest.raises(TypeError, match="whole class index"):
        f.perturb(x, 1.5, show_progress=False)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nn.Module"):
        FoolingImage(lambda t: t)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epsilons"):
        fooling_sweep(net, x, 0, [])
