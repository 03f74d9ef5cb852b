"""Train the arbitrary-style (AdaIN) network's decoder (Huang & Belongie, ICCV 2017).

Each step draws ``batch_size`` random crops of content photos and, independently, of
paintings (:class:`~attribkit.style.train_data.PairedCrops`), stylizes each photo crop with
its painting crop, and minimizes :class:`~attribkit.style.arbitrary_loss.AdaINLoss`: the
content loss on the AdaIN target features plus the mean/std style loss over the Gatys style
layers. An optional warm-up first trains the decoder to invert the encoder (pixel MSE of the
``alpha=0`` path), which gives the AdaIN phase a decoder that already draws photos. Adam's
learning rate decays geometrically from ``lr`` to ``lr_end`` over the run.

The loop is :func:`attribkit.style.train_loop.run_training`: resumable safetensors + JSON
checkpoints, DDP under ``torchrun`` (each process draws its own share of the crops), and the
final ``model.*`` that :func:`attribkit.style.load_style_model` reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from attribkit._checks import (
    check_finite_number,
    check_non_negative_int,
    check_positive_int,
)
from attribkit.layers.distributed import process_group_from_env
from attribkit.style.adain import FeatureStats
from attribkit.style.arbitrary import ADAIN_LAYER, AdaINResult, AdaINStyleNet
from attribkit.style.arbitrary_loss import AdaINLoss
from attribkit.style.train_data import (
    CropSource,
    ImageSet,
    ImageSource,
    PairedCrops,
    image_sources,
)
from attribkit.style.train_loop import Callback, StyleTrainResult, run_training, training_device

__all__ = ["ArbitraryBatch", "ArbitraryStep", "StepSource", "DecayingAdam", "train_arbitrary"]


@dataclass
class ArbitraryBatch:
    """One step's batch: its number, content crops and style crops."""

    step: int
    content: torch.Tensor
    style: torch.Tensor


class StepSource:
    """A :class:`PairedCrops` whose batches carry their step number (for the warm-up).

    Examples:
        >>> c = CropSource(ImageSet([torch.rand(1, 3, 20, 20)], 20), 16, 2)
        >>> s = CropSource(ImageSet([torch.rand(1, 3, 24, 24)], 24), 16, 2, seed=1)
        >>> StepSource(PairedCrops(c, s)).next_batch(3).step
        3
    """

    def __init__(self, pairs: PairedCrops) -> None:
        self.pairs = pairs

    def next_batch(self, step: int) -> ArbitraryBatch:
        """The crops of step ``step`` (counted from 1)."""
        content, style = self.pairs.next_batch(step)
        return ArbitraryBatch(step, content, style)

    def state(self) -> dict[str, torch.Tensor]:
        """Both crop sources' states."""
        return self.pairs.state()

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """Continue from a :meth:`state`."""
        self.pairs.load_state(state)


class ArbitraryStep:
    """The loss of one AdaIN training step (reconstruction during the warm-up).

    The network is called through its ``forward`` (so that DDP sees the call); the content
    target ``t = AdaIN(f(c), f(s))`` is recomputed without gradient (the encoder is frozen),
    and the output is reflect-padded as the network pads its inputs before it is encoded
    again for the loss.

    Args:
        loss: the :class:`AdaINLoss` (it holds the network whose encoder it runs).
        recon_steps: steps ``1..recon_steps`` minimize the pixel MSE of the network's
            ``alpha=0`` output (decoding the content's own features) to the content.

    Examples:
        >>> enc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        >>> net = AdaINStyleNet(enc, "1", width=4, pad=0)
        >>> step = ArbitraryStep(AdaINLoss(net, ["0", "1"]), recon_steps=1)
        >>> b = ArbitraryBatch(2, torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16))
        >>> sorted(step.loss(net, b))
        ['content', 'loss', 'style']
    """

    def __init__(self, loss: AdaINLoss, recon_steps: int = 0) -> None:
        if not isinstance(loss, AdaINLoss):
            raise TypeError(f"loss must be an AdaINLoss, got {type(loss).__name__}")
        check_non_negative_int(recon_steps, "recon_steps")
        self.criterion, self.recon_steps = loss, recon_steps

    def loss(self, net: nn.Module, batch: ArbitraryBatch) -> dict[str, torch.Tensor]:
        """Loss terms of ``net`` (the network, or its DDP wrapper) on ``batch``."""
        inner = self.criterion.net
        x, s = batch.content, batch.style
        if batch.step <= self.recon_steps:
            zeros = x.new_zeros(x.shape[0], inner.channels, 1, 1)
            y = net(x, FeatureStats(zeros, zeros + 1), alpha=0.0)
            recon = F.mse_loss(y, x)
            return {"loss": recon, "recon": recon.detach()}
        stats = self.criterion.style_stats(s)
        target = stats[inner.layer]
        # one pass: the AdaIN target features come with the images (not encoded again)
        run = net(x, target, details=True)
        y = run.images
        padded, (top, left) = inner.pad_images(y)
        result = AdaINResult(y, padded, run.target, (top, left, y.shape[-2], y.shape[-1]))
        terms = self.criterion(result, stats)
        return {
            "loss": terms.total.mean(),
            "content": terms.content.detach().mean(),
            "style": terms.style.detach().mean(),
        }


class DecayingAdam(torch.optim.Adam):
    """Adam whose learning rate decays geometrically from ``lr`` to ``lr_end`` over ``steps``.

    The rate of step ``t`` is computed from the optimizer's own step count, which the
    training checkpoints restore, so a resumed run follows the same schedule.

    Examples:
        >>> p = nn.Parameter(torch.zeros(1))
        >>> opt = DecayingAdam([p], lr=1e-3, lr_end=1e-4, steps=3)
        >>> rates = []
        >>> for _ in range(3):
        ...     p.grad = torch.ones(1); opt.step(); rates.append(opt.param_groups[0]["lr"])
        >>> [round(r, 6) for r in rates]
        [0.001, 0.000316, 0.0001]
    """

    def __init__(self, params: Iterable[nn.Parameter], lr: float, lr_end: float, steps: int):
        check_finite_number(lr, "lr", positive=True)
        check_finite_number(lr_end, "lr_end", positive=True)
        check_positive_int(steps, "steps")
        self.lr_start, self.lr_end, self.total = float(lr), float(lr_end), steps
        super().__init__(params, lr=lr)

    def rate(self, done: int) -> float:
        """The learning rate of the step after ``done`` steps."""
        frac = min(done, self.total - 1) / max(1, self.total - 1)
        return self.lr_start * math.exp(frac * math.log(self.lr_end / self.lr_start))

    def step(self, closure: Callable[[], float] | None = None) -> Any:  # type: ignore[override]
        """One Adam step at the scheduled rate."""
        first = self.param_groups[0]["params"][0]
        done = self.state.get(first, {}).get("step", 0)
        lr = self.rate(int(done))
        for group in self.param_groups:
            group["lr"] = lr
        return super().step(closure)


def _sources(images: object, split_set: Callable[[], Any]) -> list[ImageSource]:
    if images is None:
        return list(split_set().paths)
    return image_sources(images)


def train_arbitrary(
    content: str | Path | Sequence[ImageSource] | None = None,
    styles: str | Path | Sequence[ImageSource] | None = None,
    *,
    out_dir: str | Path | None = None,
    steps: int = 2000,
    recon_steps: int = 300,
    batch_size: int = 4,
    crop: int = 128,
    content_size: int = 256,
    style_size: int = 256,
    lr: float = 1e-3,
    lr_end: float = 1e-4,
    content_weight: float = 1.0,
    style_weight: float = 5.0,
    width: int = 8,
    layer: str = ADAIN_LAYER,
    backbone: nn.Module | None = None,
    style_layers: Sequence[str] | None = None,
    model: AdaINStyleNet | None = None,
    seed: int = 0,
    checkpoint_every: int = 100,
    sample_every: int = 0,
    samples: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
    resume: bool = True,
    device: torch.device | str | None = None,
    show_progress: bool | None = None,
    callbacks: Sequence[Callback] = (),
) -> StyleTrainResult:
    """Train an :class:`AdaINStyleNet` decoder on photo × painting crops; DDP under torchrun.

    Args:
        content: content images: a folder, a list of images (paths, bundled names,
            ``1×3×H×W`` tensors), or ``None`` for ``photo_set(split="train")`` (the held-out
            photos are never seen).
        styles: style images, the same way; ``None``: ``painting_set(split="train")``.
        out_dir: where checkpoints, samples and ``model.*`` go; ``None`` writes nothing.
        steps: total optimizer steps, the warm-up included.
        recon_steps: warm-up steps of pure reconstruction (0: none).
        batch_size: (content, style) pairs per step and process.
        crop: crop side in pixels (random scale, position and flip).
        content_size: shorter side of the content images before cropping.
        style_size: shorter side of the style images before cropping.
        lr: Adam's first learning rate.
        lr_end: its last (geometric decay in between).
        content_weight: weight of the content loss.
        style_weight: weight of the mean/std style loss.
        width: decoder width (a new network only).
        layer: encoder cut (a new network only).
        backbone: encoder network (default: EfficientNet-Lite0).
        style_layers: style-loss layers (default: the backbone's Gatys style layers).
        model: continue training this network instead of a new one.
        seed: seed of the new decoder and of the crops.
        checkpoint_every: steps between checkpoints (0: only at the end).
        sample_every: steps between sample pictures (0: never).
        samples: ``(content, style)`` image pairs drawn in the samples.
        resume: continue from ``out_dir/checkpoint`` when it exists.
        device: where to train (default: the model's device, else the CPU; ``cuda:LOCAL_RANK``
            under torchrun with ``"cuda"``).
        show_progress: progress bar; ``None``: on a terminal.
        callbacks: ``f(step, losses)`` after each step (process 0).

    Returns:
        A :class:`~attribkit.style.train_loop.StyleTrainResult` (the model in eval mode).

    Examples:
        >>> enc = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        >>> r = train_arbitrary([torch.rand(1, 3, 24, 24)], [torch.rand(1, 3, 24, 24)],
        ...                     backbone=enc, layer="1", style_layers=["0", "1"], steps=3,
        ...                     recon_steps=1, crop=16, content_size=24, style_size=24,
        ...                     width=4, batch_size=2, show_progress=False)
        >>> [sorted(h) for h in r.history][1:]
        [['content', 'loss', 'step', 'style'], ['content', 'loss', 'step', 'style']]
    """
    for name, v in (("steps", steps), ("batch_size", batch_size), ("crop", crop)):
        check_positive_int(v, name)
    check_positive_int(content_size, "content_size")
    check_positive_int(style_size, "style_size")
    check_non_negative_int(recon_steps, "recon_steps")
    check_non_negative_int(seed, "seed")
    check_finite_number(lr, "lr", positive=True)
    check_finite_number(lr_end, "lr_end", positive=True)
    check_finite_number(content_weight, "content_weight", minimum=0.0)
    check_finite_number(style_weight, "style_weight", minimum=0.0)
    if model is not None and not isinstance(model, AdaINStyleNet):
        raise TypeError(f"model must be an AdaINStyleNet, got {type(model).__name__}")
    if backbone is not None and not isinstance(backbone, nn.Module):
        raise TypeError(f"backbone must be an nn.Module, got {type(backbone).__name__}")
    from attribkit.data import painting_set, photo_set

    c_src = _sources(content, lambda: photo_set(split="train"))
    s_src = _sources(styles, lambda: painting_set(split="train"))
    dev = training_device(device, model)
    with process_group_from_env(dev) as (rank, world):
        if model is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                net = AdaINStyleNet(backbone, layer, width=width)
        else:
            net = model
        net = net.to(dev)
        loss = AdaINLoss(
            net, style_layers, content_weight=content_weight, style_weight=style_weight
        )
        data = StepSource(
            PairedCrops(
                CropSource(
                    ImageSet(c_src, content_size),
                    crop,
                    batch_size,
                    seed=seed,
                    rank=rank,
                    world=world,
                ),
                CropSource(
                    ImageSet(s_src, style_size),
                    crop,
                    batch_size,
                    seed=seed + 1,
                    rank=rank,
                    world=world,
                ),
            )
        )
        settings = {
            "content": "photo_set(split='train')" if content is None else str(content)[:200],
            "styles": "painting_set(split='train')" if styles is None else str(styles)[:200],
            "n_content": len(c_src),
            "n_styles": len(s_src),
            "steps": steps,
            "recon_steps": recon_steps,
            "batch_size": batch_size,
            "world_size": world,
            "crop": crop,
            "content_size": content_size,
            "style_size": style_size,
            "lr": lr,
            "lr_end": lr_end,
            "content_weight": content_weight,
            "style_weight": style_weight,
            "style_layers": loss.style_layers,
            "seed": seed,
            "device": str(dev),
            "threads": torch.get_num_threads(),
        }
        pairs = [(c.to(dev), s.to(dev)) for c, s in samples]

        def sample_grid(n: nn.Module) -> torch.Tensor:
            from attribkit.viz import make_grid

            row = []
            for c, s in pairs:
                y = n(c, s)
                s_img = F.interpolate(s, size=c.shape[-2:], mode="bilinear", antialias=True)
                row += [c.cpu(), s_img.clamp(0, 1).cpu(), y.cpu()]
            return make_grid(torch.cat(row), nrow=3)

        return run_training(
            net,
            ArbitraryStep(loss, recon_steps),
            data,
            steps=steps,
            lr=lr,
            optimizer=lambda ps: DecayingAdam(ps, lr, lr_end, steps),
            out_dir=out_dir,
            checkpoint_every=checkpoint_every,
            sample_every=sample_every,
            samples=sample_grid if pairs else None,
            resume=resume,
            settings=settings,
            show_progress=show_progress,
            callbacks=callbacks,
            desc="train-arbitrary",
        )
