"""MaxActivatingPatches: exact streaming top-k, bounded memory, crops, errors, state."""

import itertools

import pytest
import torch
from torch import nn

from attribkit.layers import MaxActivatingPatches, TopK, batch_topk, crop_box, merge_topk
from attribkit.testing import snapshot_world


def _brute(acts: torch.Tensor, k: int, one_per_image: bool) -> list[list[tuple]]:
    """Reference: sort every candidate by (value desc, image, y, x) in Python."""
    b, c, h, w = acts.shape
    out = []
    for ch in range(c):
        cand = []
        for i in range(b):
            pts = [(float(acts[i, ch, y, x]), i, y, x) for y in range(h) for x in range(w)]
            if one_per_image:
                best = max(v for v, *_ in pts)
                pts = [next(p for p in pts if p[0] == best)]
            cand += pts
        cand.sort(key=lambda t: (-t[0], t[1], t[2], t[3]))
        out.append(cand[:k])
    return out


def _as_list(t: TopK) -> list[list[tuple]]:
    return [
        [
            (float(t.values[c, j]), int(t.index[c, j]), int(t.y[c, j]), int(t.x[c, j]))
            for j in range(t.k)
        ]
        for c in range(t.values.shape[0])
    ]


@pytest.mark.parametrize("one_per_image", [True, False])
def test_streaming_topk_is_exact_with_ties(one_per_image: bool) -> None:
    gen = torch.Generator().manual_seed(0)
    acts = torch.randint(0, 3, (13, 3, 3, 2), generator=gen).float()  # many ties
    ref = _brute(acts, 5, one_per_image)
    assert _as_list(batch_topk(acts, 0, 5, one_per_image)) == ref
    state = TopK.empty(3, 5)
    for s in range(0, 13, 4):
        state = merge_topk(state, batch_topk(acts[s : s + 4], s, 5, one_per_image), 5)
    assert _as_list(state) == ref


def test_merge_is_order_independent_for_shards() -> None:
    gen = torch.Generator().manual_seed(1)
    acts = torch.randint(0, 4, (12, 2, 2, 2), generator=gen).float()
    shards = [batch_topk(acts[s : s + 3], s, 4, False) for s in range(0, 12, 3)]
    results = set()
    for perm in itertools.permutations(shards):
        st = TopK.empty(2, 4)
        for sh in perm:
            st = merge_topk(st, sh, 4)
        results.add(str(_as_list(st)))
    assert len(results) == 1 and next(iter(results)) == str(_brute(acts, 4, False))


def _spot_net() -> nn.Sequential:
    # channel 0 responds to red, channel 1 to green; 3×3 box filter, then a 2×2 max pool
    conv = nn.Conv2d(3, 2, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0] = 1.0
        conv.weight[1, 1] = 1.0
    return nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 16, 2))


def _spots(n: int) -> torch.Tensor:
    """Image i has a red dot of brightness i/n at (1 + i % 5, 2) and a green one at (6, 6)."""
    x = torch.zeros(n, 3, 8, 8)
    for i in range(n):
        x[i, 0, 1 + i % 5, 2] = (i + 1) / n
        x[i, 1, 6, 6] = 0.5
    return x


def test_known_hits_and_crops() -> None:
    data = _spots(10)
    mp = MaxActivatingPatches(_spot_net(), "2", k=3, batch_size=4, show_progress=False)
    st = mp.scan(data)
    # red channel: the brightest dots are images 9, 8, 7
    assert st.index[0].tolist() == [9, 8, 7]
    assert torch.allclose(st.values[0], torch.tensor([1.0, 0.9, 0.8]))
    # green channel: all tie at 0.5 → lowest image indices win
    assert st.index[1].tolist() == [0, 1, 2]
    rf = mp.receptive_field()
    assert (rf.size, rf.jump, rf.start) == ((4, 4), (2, 2), (-1, -1))
    p = mp.patches(data, [0], pad_value=0.5)
    assert p.shape == (1, 3, 3, 4, 4)
    # every crop of the red channel contains its dot
    for j, i in enumerate(st.index[0].tolist()):
        assert float(p[0, j, 0].max()) == pytest.approx((i + 1) / 10)
    g = mp.grid(data, channels=mp.top_channels(2), size=8, padding=1)
    assert g.shape == (3, 2 * 9 + 1, 3 * 9 + 1)


def test_memory_does_not_grow_with_data() -> None:
    net = _spot_net()
    mp = MaxActivatingPatches(net, "0", k=4, batch_size=5, show_progress=False)
    mp.scan(_spots(10))
    small = mp.stored_elements
    mp.scan(_spots(200))
    assert mp.stored_elements == small == 2 * 4 * 4  # channels × k × (value, index, y, x)
    # also while streaming: after each update the state has the same size
    mp.reset()
    sizes = []
    for s in range(0, 60, 5):
        mp.update(_spots(60)[s : s + 5])
        sizes.append(mp.stored_elements)
    assert set(sizes) == {small}


def test_k_may_exceed_images_when_positions_compete() -> None:
    mp = MaxActivatingPatches(_spot_net(), "2", k=6, one_per_image=False, show_progress=False)
    st = mp.scan(_spots(2))  # 2 images × 16 positions
    assert st.filled().tolist() == [6, 6]
    with pytest.raises(ValueError, match="32 positions"):
        MaxActivatingPatches(_spot_net(), "2", k=33, one_per_image=False, show_progress=False).scan(
            _spots(2)
        )


def test_iterable_scan_equals_tensor_scan() -> None:
    data = _spots(12)
    a = MaxActivatingPatches(
        _spot_net(), "1", k=4, batch_size=5, one_per_image=False, show_progress=False
    ).scan(data)
    b = MaxActivatingPatches(_spot_net(), "1", k=4, one_per_image=False, show_progress=False).scan(
        [(data[:7], None), (data[7:], None)]
    )
    assert _as_list(a) == _as_list(b)


def test_crop_box_pads_at_borders() -> None:
    img = torch.arange(16.0).view(1, 4, 4)
    c = crop_box(img, (-1, 2, 2, 6), pad_value=-1.0)
    assert c.shape == (1, 3, 4)
    assert c[0].tolist() == [[-1, -1, -1, -1], [2, 3, -1, -1], [6, 7, -1, -1]]
    with pytest.raises(ValueError, match="empty"):
        crop_box(img, (2, 2, 2, 3))


def test_world_unchanged_after_success_and_exception_mid_scan() -> None:
    net = _spot_net().train()
    data = _spots(12)
    snap = snapshot_world(net, data)
    mp = MaxActivatingPatches(net, "2", k=2, batch_size=4, show_progress=False)
    mp.scan(data)
    mp.grid(data)
    snap.assert_unchanged()

    def batches():
        yield data[:4]
        yield data[4:8]
        raise RuntimeError("data source failed")

    with pytest.raises(RuntimeError, match="failed"):
        mp.scan(batches())
    snap.assert_unchanged()

    class Boom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net, self.calls = net, 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("boom")
            return self.net(x)

    boom = Boom()
    snap = snapshot_world(boom, data)
    with pytest.raises(RuntimeError, match="boom"):
        MaxActivatingPatches(boom, "net.2", k=2, batch_size=2, show_progress=False).scan(data)
    snap.assert_unchanged()


def test_exception() -> None:
    net, data = _spot_net(), _spots(5)
    with pytest.raises(ValueError, match="spatial"):
        MaxActivatingPatches(net, "4", k=2, show_progress=False).scan(data)
    with pytest.raises(ValueError, match="larger than the data set"):
        MaxActivatingPatches(net, "2", k=6, show_progress=False).scan(data)
    with pytest.raises(ValueError, match="larger than the data set"):  # iterable: after the scan
        MaxActivatingPatches(net, "2", k=6, show_progress=False).scan([data[:3], data[3:]])
    with pytest.raises(ValueError, match="same size"):
        MaxActivatingPatches(net, "0", k=1, show_progress=False).scan(
            [data, torch.zeros(2, 3, 6, 6)]
        )
    with pytest.raises(ValueError, match="k must be"):
        MaxActivatingPatches(net, "2", k=0)
    with pytest.raises(ValueError, match="does not exist"):
        MaxActivatingPatches(net, "pool")
    mp = MaxActivatingPatches(net, "2", k=2, show_progress=False)
    with pytest.raises(ValueError, match="scan"):
        mp.grid(data)
    mp.scan(data)
    snap = snapshot_world(net, data)
    with pytest.raises(ValueError, match="out of range"):
        mp.patches(data, [7])
    snap.assert_unchanged()
    with pytest.raises(ValueError, match="channels"):
        merge_topk(TopK.empty(2, 2), TopK.empty(3, 2))


def test_random_crops_are_seeded_crops() -> None:
    from attribkit.layers import random_crops

    imgs = [torch.arange(2 * 6 * 7.0).view(2, 6, 7), torch.rand(1, 2, 5, 5)]
    crops, src = random_crops(imgs, 4, 5, seed=3)
    assert crops.shape == (8, 2, 5, 5) and src.tolist() == [0] * 4 + [1] * 4
    again, _ = random_crops(imgs, 4, 5, seed=3)
    assert torch.equal(crops, again)
    # every crop of image 0 is a window of it: consecutive values along rows
    for c in crops[:4]:
        top_left = int(c[0, 0, 0])
        y, x = divmod(top_left, 7)
        assert torch.equal(c, imgs[0][:, y : y + 5, x : x + 5])
    snap = snapshot_world(nn.Identity(), imgs[0])
    with pytest.raises(ValueError, match="at least that large"):
        random_crops(imgs, 1, 6)
    snap.assert_unchanged()
    with pytest.raises(ValueError, match="per_image"):
        random_crops(imgs, 0, 2)
