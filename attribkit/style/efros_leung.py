"""Non-parametric texture synthesis: Efros & Leung 1999, and image quilting (Efros & Freeman 2001).

Efros–Leung grows the output pixel by pixel outward from a seed patch copied from the sample.
Each unfilled pixel on the boundary of the known region takes its value from the centre of a
sample patch whose known neighbourhood matches well: the distance is a Gaussian-weighted sum
of squared differences (SSD) over the pixels already filled, every sample patch within
``(1 + ε)`` of the best one is a candidate, and one candidate is drawn at random. Every output
pixel is therefore a copy of a sample pixel.

The SSD against *all* sample patches is one pair of matrix products per pixel
(``Σ w (t − p)² = Σ w t² − 2 (w t)·p + w·p²``), so a 64×64 texture takes seconds, not minutes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from attribkit._checks import (
    check_image_batch,
    check_non_negative_number,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_size,
)
from attribkit._progress import progress_bar

__all__ = ["efros_leung", "image_quilting"]


def _generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A local generator: the one given, or a new one seeded from ``seed`` (fresh entropy when
    ``None``); the global generator is never drawn from."""
    if isinstance(seed, torch.Generator):
        return seed
    g = torch.Generator()
    checked = check_seed(seed)
    if checked is None:
        g.seed()  # entropy from the OS, not from torch's global generator
    else:
        g.manual_seed(checked)
    return g


def _gaussian_window(window: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    r = torch.arange(window, dtype=like.dtype, device=like.device) - (window - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    return torch.outer(g, g)


def efros_leung(
    sample: torch.Tensor,
    size: int | tuple[int, int],
    window: int = 11,
    *,
    epsilon: float = 0.1,
    max_error: float = 0.3,
    sigma: float | None = None,
    seed_size: int = 3,
    seed: int | torch.Generator | None = None,
    show_progress: bool | None = None,
) -> torch.Tensor:
    """Synthesize a texture of ``size`` from ``sample`` with the Efros–Leung algorithm.

    Args:
        sample: the source texture, ``1×C×h×w`` in [0, 1] (grayscale may be ``C = 1``).
        size: output ``(height, width)`` or one int for a square; independent of the sample's.
        window: odd side of the square neighbourhood compared (larger captures larger
            structures, and costs more).
        epsilon: candidates are the sample patches whose distance is at most
            ``(1 + epsilon)`` times the best one.
        max_error: a pixel is filled in this pass only if its chosen match has a distance
            (mean squared difference per channel, Gaussian-weighted) below this; when a
            whole pass fills nothing the threshold grows by 10 %.
        sigma: standard deviation of the Gaussian weights in pixels
            (default ``window / 6.4``, as in the paper).
        seed_size: side of the random sample patch copied to the output's centre to start.
        seed: an int or a ``torch.Generator`` for reproducible draws; ``None`` seeds a local
            generator from the operating system (the global RNG is not touched either way).
        show_progress: show a progress bar over the pixels.

    Returns:
        A ``1×C×H×W`` tensor whose every pixel value is copied from ``sample``.

    Raises:
        ValueError: the window is not an odd integer ≥ 3, or is larger than the sample or
            the output, the sample is not a single image, or a number is negative, NaN or
            infinite.

    Examples:
        >>> import torch
        >>> sample = torch.rand(1, 1, 16, 16)
        >>> out = efros_leung(sample, 12, window=5, seed=0, show_progress=False)
        >>> out.shape
        torch.Size([1, 1, 12, 12])
        >>> bool(torch.isin(out, sample).all())
        True
    """
    sample = check_image_batch(sample, "sample")
    if sample.shape[0] != 1:
        raise ValueError(f"sample must be one image (1×C×h×w), got a batch of {sample.shape[0]}")
    out_h, out_w = check_size(size)
    if isinstance(window, bool) or not isinstance(window, int) or window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 3, got {window!r}")
    _, c, sh, sw = sample.shape
    if window > min(sh, sw):
        raise ValueError(
            f"window {window} is larger than the sample ({sh}×{sw}); use a smaller window "
            "or a larger sample"
        )
    if window > min(out_h, out_w):
        raise ValueError(
            f"the output {out_h}×{out_w} is smaller than the window {window}; ask for a larger "
            "size or a smaller window"
        )
    epsilon = check_non_negative_number(epsilon, "epsilon")
    max_error = check_positive_number(max_error, "max_error")
    sigma = window / 6.4 if sigma is None else check_positive_number(sigma, "sigma")
    check_positive_int(seed_size, "seed_size")
    if not 1 <= seed_size <= min(sh, sw, out_h, out_w):
        raise ValueError(f"seed_size must be between 1 and the smaller image side, got {seed_size}")
    gen = _generator(seed)
    x = sample.detach()[0]
    dtype = x.dtype if x.dtype == torch.float64 else torch.float32
    x = x.to(dtype)
    half = window // 2
    gauss = _gaussian_window(window, sigma, x)

    # every full window of the sample, as rows: K × (C·w·w), and the centre values K × C
    patches = F.unfold(x[None], window)[0].T.contiguous()
    patches_sq = patches * patches
    kh, kw = sh - window + 1, sw - window + 1
    ky, kx = torch.meshgrid(torch.arange(kh), torch.arange(kw), indexing="ij")
    centre_y = (ky.flatten() + half).to(x.device)
    centre_x = (kx.flatten() + half).to(x.device)

    # output canvas padded by half a window (the padding stays unknown forever)
    canvas = torch.zeros(c, out_h + 2 * half, out_w + 2 * half, dtype=dtype, device=x.device)
    known = torch.zeros(out_h + 2 * half, out_w + 2 * half, dtype=torch.bool, device=x.device)
    sy = int(torch.randint(0, sh - seed_size + 1, (1,), generator=gen))
    sx = int(torch.randint(0, sw - seed_size + 1, (1,), generator=gen))
    oy, ox = half + (out_h - seed_size) // 2, half + (out_w - seed_size) // 2
    canvas[:, oy : oy + seed_size, ox : ox + seed_size] = x[
        :, sy : sy + seed_size, sx : sx + seed_size
    ]
    known[oy : oy + seed_size, ox : ox + seed_size] = True

    ones3 = torch.ones(1, 1, 3, 3, dtype=dtype, device=x.device)
    ones_w = torch.ones(1, 1, window, window, dtype=dtype, device=x.device)
    total = out_h * out_w
    threshold = max_error
    bar = progress_bar(total=total, desc="Efros–Leung", show_progress=show_progress)
    bar.update(seed_size * seed_size)
    filled = seed_size * seed_size
    try:
        # a pass that fills nothing raises the threshold so that the next one fills a pixel
        # (see below): at most 2 passes per pixel, so the loop is bounded
        for _ in range(2 * total):
            if filled >= total:
                break
            k = known.to(dtype)[None, None]
            frontier = (F.conv2d(k, ones3, padding=1)[0, 0] > 0) & ~known
            frontier[:half] = False
            frontier[-half:] = False
            frontier[:, :half] = False
            frontier[:, -half:] = False
            counts = F.conv2d(k, ones_w, padding=half)[0, 0]
            ys, xs = torch.nonzero(frontier, as_tuple=True)
            # most-constrained pixels first; random order among ties
            perm = torch.randperm(ys.numel(), generator=gen).to(ys.device)
            ys, xs = ys[perm], xs[perm]
            order = torch.argsort(counts[ys, xs], descending=True, stable=True)
            progress = False
            lowest = math.inf  # the smallest threshold that accepts some pixel of this pass
            for y, xx in zip(ys[order].tolist(), xs[order].tolist()):
                tmpl = canvas[:, y - half : y + half + 1, xx - half : xx + half + 1].reshape(-1)
                mask = known[y - half : y + half + 1, xx - half : xx + half + 1].to(dtype)
                wts = (gauss * mask).repeat(c, 1, 1).reshape(-1)
                wsum = wts.sum()
                wt = wts * tmpl
                # Gaussian-weighted SSD to every sample patch, per channel, normalized
                ssd = (wt @ tmpl - 2.0 * (patches @ wt) + patches_sq @ wts) / wsum
                ssd = ssd.clamp_min(0)
                best = ssd.min()
                bound = best * (1 + epsilon) + 1e-12
                cand = torch.nonzero(ssd <= bound, as_tuple=True)[0]
                pick = cand[int(torch.randint(0, cand.numel(), (1,), generator=gen))]
                lowest = min(lowest, float(bound))
                if float(ssd[pick]) <= threshold:
                    canvas[:, y, xx] = x[:, centre_y[pick], centre_x[pick]]
                    known[y, xx] = True
                    filled += 1
                    bar.update(1)
                    progress = True
            if not progress:
                # grow by 10 %, and at least to where the best-matched pixel's every candidate
                # passes: the next pass then fills a pixel, so the loop always ends
                threshold = max(threshold * 1.1, lowest)
    finally:
        bar.close()
    return canvas[:, half : half + out_h, half : half + out_w][None].to(sample.dtype)


def image_quilting(
    sample: torch.Tensor,
    size: int | tuple[int, int],
    block: int = 24,
    overlap: int | None = None,
    *,
    tolerance: float = 0.1,
    seed: int | torch.Generator | None = None,
) -> torch.Tensor:
    """Synthesize a texture by stitching sample blocks along minimum-error cuts (Efros & Freeman).

    Blocks are placed in raster order; each is drawn at random among the sample blocks whose
    SSD on the overlap with what is already placed is within ``(1 + tolerance)`` of the best,
    and joined along the minimum-error boundary path (dynamic programming). Much faster than
    :func:`efros_leung`, and every output pixel is still copied from the sample.

    Args:
        sample: ``1×C×h×w`` texture in [0, 1].
        size: output ``(height, width)`` or an int.
        block: side of the square blocks.
        overlap: overlap between neighbouring blocks (default ``block // 6``, at least 1).
        tolerance: relative slack of the candidate set.
        seed: int or ``torch.Generator``.

    Returns:
        A ``1×C×H×W`` tensor.

    Examples:
        >>> import torch
        >>> out = image_quilting(torch.rand(1, 3, 32, 32), 40, block=12, seed=0)
        >>> out.shape
        torch.Size([1, 3, 40, 40])
    """
    sample = check_image_batch(sample, "sample")
    if sample.shape[0] != 1:
        raise ValueError(f"sample must be one image (1×C×h×w), got a batch of {sample.shape[0]}")
    out_h, out_w = check_size(size)
    tolerance = check_non_negative_number(tolerance, "tolerance")
    _, c, sh, sw = sample.shape
    if isinstance(block, bool) or not isinstance(block, int) or block < 2 or block > min(sh, sw):
        raise ValueError(
            f"block must be an int in [2, {min(sh, sw)}] (the sample side), got {block}"
        )
    ov = max(1, block // 6) if overlap is None else overlap
    if isinstance(ov, bool) or not isinstance(ov, int) or not 0 < ov < block:
        raise ValueError(f"overlap must be in [1, block - 1], got {ov}")
    if block > min(out_h, out_w):
        raise ValueError(f"the output {out_h}×{out_w} is smaller than the block {block}")
    gen = _generator(seed)
    x = sample.detach()[0].float()
    step = block - ov
    ny = math.ceil((out_h - ov) / step)
    nx = math.ceil((out_w - ov) / step)
    big_h, big_w = ny * step + ov, nx * step + ov
    out = torch.zeros(c, big_h, big_w, device=x.device)
    blocks = F.unfold(x[None], block)[0].T.reshape(-1, c, block, block)  # K×C×b×b

    def pick(cost: torch.Tensor) -> int:
        best = cost.min()
        cand = torch.nonzero(cost <= best * (1 + tolerance) + 1e-12, as_tuple=True)[0]
        return int(cand[int(torch.randint(0, cand.numel(), (1,), generator=gen))])

    def min_cut(err: torch.Tensor) -> torch.Tensor:
        """Boolean mask (rows × ov) True where the new block wins, along a vertical seam."""
        rows, cols = err.shape
        cost = err.clone()
        for i in range(1, rows):
            prev = cost[i - 1]
            left = torch.cat([prev.new_tensor([math.inf]), prev[:-1]])
            right = torch.cat([prev[1:], prev.new_tensor([math.inf])])
            cost[i] += torch.minimum(prev, torch.minimum(left, right))
        path = [int(cost[-1].argmin())]
        for i in range(rows - 2, -1, -1):
            j = path[-1]
            lo, hi = max(0, j - 1), min(cols, j + 2)
            path.append(lo + int(cost[i, lo:hi].argmin()))
        path.reverse()
        col = torch.arange(cols, device=err.device)[None]
        return col >= torch.tensor(path, device=err.device)[:, None]

    for by in range(ny):
        for bx in range(nx):
            y0, x0 = by * step, bx * step
            cost = torch.zeros(blocks.shape[0], device=x.device)
            region = out[:, y0 : y0 + block, x0 : x0 + block]
            if bx > 0:
                cost += (blocks[..., :ov] - region[None, :, :, :ov]).pow(2).sum((1, 2, 3))
            if by > 0:
                cost += (blocks[:, :, :ov, :] - region[None, :, :ov, :]).pow(2).sum((1, 2, 3))
            if bx > 0 and by > 0:
                cost -= (blocks[:, :, :ov, :ov] - region[None, :, :ov, :ov]).pow(2).sum((1, 2, 3))
            k = (
                pick(cost)
                if (bx or by)
                else int(torch.randint(0, blocks.shape[0], (1,), generator=gen))
            )
            new = blocks[k]
            mask = torch.ones(block, block, dtype=torch.bool, device=x.device)
            if bx > 0:
                err = (new[:, :, :ov] - region[:, :, :ov]).pow(2).sum(0)
                mask[:, :ov] &= min_cut(err)
            if by > 0:
                err = (new[:, :ov, :] - region[:, :ov, :]).pow(2).sum(0)
                mask[:ov, :] &= min_cut(err.T).T
            out[:, y0 : y0 + block, x0 : x0 + block] = torch.where(mask, new, region)
    return out[:, :out_h, :out_w][None].to(sample.dtype)
