"""The incremental engine: box geometry, patched activations, local rules, plans."""

import doctest
import importlib

import pytest
import torch
import torch.nn.functional as F
from helpers.occlusion_models import InPlaceShared, OpZoo, SqueezeExcite, seeded
from torch import nn

from attribkit.attr.incremental import Boxes, IncrementalModel, Limits, NotIncremental
from attribkit.attr.incremental.geometry import Sliding, through_sliding, union
from attribkit.attr.incremental.patch import Patch, flat_cache
from attribkit.attr.incremental.scoring import WindowScorer
from attribkit.attr.incremental.windows import WindowGrid


@pytest.mark.parametrize(
    "k,s,p,d,n",
    [(3, 1, 1, 1, 12), (3, 2, 1, 1, 13), (5, 2, 2, 1, 16), (3, 1, 2, 2, 12), (2, 2, 0, 1, 12),
     (7, 2, 3, 1, 15), (1, 2, 0, 1, 11), (3, 3, 0, 2, 17)],
)  # fmt: skip
def test_boxes_cover_every_changed_output(k, s, p, d, n):
    g = torch.Generator().manual_seed(k * 100 + s * 10 + p + d)
    w = torch.randn(1, 1, k, k, generator=g, dtype=torch.float64)
    x = torch.randn(1, 1, n, n, generator=g, dtype=torch.float64)
    base = F.conv2d(x, w, stride=s, padding=p, dilation=d)
    size = 3
    tops = torch.arange(n - size + 1)
    boxes = Boxes(tops, tops.flip(0), size, size, n, n)
    op = Sliding((k, k), (s, s), (p, p), (d, d))
    out = through_sliding(boxes, op, *base.shape[-2:], Limits())
    for i, (t, left) in enumerate(zip(boxes.top.tolist(), boxes.left.tolist())):
        y = x.clone()
        y[..., t : t + size, left : left + size] += 1.0
        changed = (F.conv2d(y, w, stride=s, padding=p, dilation=d) != base)[0, 0].nonzero()
        ot, ol = int(out.top[i]), int(out.left[i])
        assert (changed[:, 0] >= ot).all() and (changed[:, 0] < ot + out.height).all()
        assert (changed[:, 1] >= ol).all() and (changed[:, 1] < ol + out.width).all()
    assert 0 <= int(out.top.min()) and int(out.top.max()) + out.height <= base.shape[-2]


def test_threshold_caps_the_box_and_union_covers_both():
    boxes = Boxes(torch.tensor([0, 5]), torch.tensor([2, 9]), 6, 6, 16, 16)
    capped = through_sliding(boxes, Sliding((3, 3), (1, 1), (1, 1)), 16, 16, Limits(0.25))
    assert (capped.height, capped.width) == (4, 4)
    u = union([boxes, Boxes(torch.tensor([1, 1]), torch.tensor([0, 0]), 2, 2, 16, 16)], Limits())
    assert (u.top.tolist(), u.left.tolist()) == ([0, 1], [0, 0])
    assert (u.height, u.width) == (10, 15)
    with pytest.raises(ValueError, match="threshold"):
        Limits(threshold=0.0)


def test_patch_region_and_full_match_a_dense_tensor():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(1, 3, 6, 7, generator=g)
    box = torch.randn(2, 3, 2, 3, generator=g)
    top, left = torch.tensor([0, 4]), torch.tensor([4, 1])
    patch = Patch(box, top, left, (6, 7), flat_cache(ref))
    dense = ref.repeat(2, 1, 1, 1)
    for i in range(2):
        dense[i, :, top[i] : top[i] + 2, left[i] : left[i] + 3] = box[i]
    assert torch.equal(patch.full(), dense)
    padded = F.pad(dense, (2, 2, 2, 2), value=-5.0)
    rt, rl = torch.tensor([-2, 3]), torch.tensor([1, -1])
    region = patch.region(rt, rl, 5, 4, fill=-5.0)
    for i in range(2):
        want = padded[i, :, rt[i] + 2 : rt[i] + 7, rl[i] + 2 : rl[i] + 6]
        assert torch.equal(region[i], want)
    assert patch.shape == (2, 3, 6, 7) and patch.size(1) == 3 and patch.dim() == 4


def _dense(model, grid, x, baseline):
    _, y0, x0 = grid.starts()
    c0 = grid.starts()[0]
    occ = x.repeat(len(grid), 1, 1, 1)
    kc, kh, kw = grid.window
    for i in range(len(grid)):
        occ[i, c0[i] : c0[i] + kc, y0[i] : y0[i] + kh, x0[i] : x0[i] + kw] = baseline[
            c0[i] : c0[i] + kc, y0[i] : y0[i] + kh, x0[i] : x0[i] + kw
        ]
    with torch.no_grad():
        return model(occ)


@pytest.mark.parametrize(
    "make,dtype",
    [(lambda: OpZoo(dilation=1), torch.float64), (OpZoo, torch.float32),
     (SqueezeExcite, torch.float64)],
)  # fmt: skip
@pytest.mark.parametrize("window,stride", [((3, 4, 4), (3, 3, 3)), ((2, 5, 3), (1, 5, 4))])
def test_incremental_outputs_equal_full_passes(make, dtype, window, stride):
    model = seeded(make()).to(dtype)
    g = torch.Generator().manual_seed(3)
    x = torch.rand(1, 3, 20, 20, generator=g).to(dtype)
    baseline = torch.rand(3, 20, 20, generator=g).to(dtype)
    grid = WindowGrid((3, 20, 20), window, stride)
    scorer = WindowScorer(model, x, grid, batch_size=9)
    with torch.no_grad():
        ref = scorer.plan.reference(x, model(x))
    pos = torch.arange(len(grid))
    outs = [
        scorer.plan.evaluate(ref, grid.occluded(x[0], baseline, scorer.boxes, p), p)
        for p in pos.split(9)
    ]
    full = _dense(model, grid, x, baseline)
    tol = 1e-12 if dtype == torch.float64 else 1e-5 * float(full.abs().max())
    assert torch.allclose(torch.cat(outs), full, atol=tol, rtol=0)


def test_op_zoo_runs_every_rule_up_to_the_flatten():
    model = seeded(OpZoo())
    inc = IncrementalModel(model, torch.rand(1, 3, 20, 20))
    plan = inc.plan(WindowGrid((3, 20, 20), (3, 4, 4), (3, 2, 2)).boxes())
    kinds = {type(r).__name__ for r in plan.rules.values()}
    assert kinds >= {"ConvRule", "PassRule", "PointwiseRule", "ShiftRule", "SlidingRule",
                     "UnionRule"}  # fmt: skip
    assert [n.name for n in plan.frontier] == ["flatten"]
    # both batch norms were folded into the convolution before them
    assert sum(type(r).__name__ == "PassRule" for r in plan.rules.values()) == 2
    assert 0 < plan.work_fraction < 1


def test_squeeze_excite_is_not_local():
    inc = IncrementalModel(seeded(SqueezeExcite()), torch.rand(1, 3, 12, 12))
    plan = inc.plan(WindowGrid((3, 12, 12), (3, 3, 3), (3, 3, 3)).boxes())
    # the global pooling of the excitation branch and the product it scales run whole
    assert "mul" in [n.name for n in plan.frontier]


@pytest.mark.parametrize(
    "model,reason",
    [
        (nn.Sequential(nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2)).train(), "training mode"),
        (seeded(InPlaceShared()), "in place"),
        (nn.Sequential(nn.Flatten(), nn.Linear(48, 2)).eval(), "no operation"),
    ],
)
def test_models_that_cannot_run_incrementally_say_why(model, reason):
    with pytest.raises(NotIncremental, match=reason):
        inc = IncrementalModel(model, torch.rand(1, 3, 4, 4))
        inc.plan(WindowGrid((3, 4, 4), (3, 2, 2), (3, 2, 2)).boxes())


def test_threshold_one_is_exact_and_smaller_thresholds_shrink_the_work():
    model = seeded(OpZoo())
    inc = IncrementalModel(model, torch.rand(1, 3, 20, 20))
    boxes = WindowGrid((3, 20, 20), (3, 4, 4), (3, 2, 2)).boxes()
    exact, approx = inc.plan(boxes), inc.plan(boxes, Limits(threshold=0.3))
    assert approx.work_fraction < exact.work_fraction
    assert inc.plan(boxes, Limits(threshold=1.0)).work_fraction == exact.work_fraction


@pytest.mark.parametrize(
    "module",
    ["geometry", "patch", "rules", "local_ops", "plan", "engine", "windows", "scoring",
     "approximate", "attribute"],
)  # fmt: skip
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"attribkit.attr.incremental.{module}")
    result = doctest.testmod(mod)
    assert result.failed == 0 and result.attempted > 0
