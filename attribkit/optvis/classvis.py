"""Class-model and neuron visualization by gradient ascent on the image.

The lecture's recipes are named presets (:data:`PRESETS`):

- ``"simonyan"`` (Simonyan et al. 2014): maximize the class score minus an L2 penalty on the
  (mean-centred) image, starting from the mean image, with plain pixels.
- ``"yosinski"`` (Yosinski et al. 2015): normalized-gradient pixel ascent with L2 decay, a
  Gaussian blur every few steps, clipping of pixels with a small norm and of pixels with a small
  contribution, and random jitter.
- ``"lucent"`` (Olah et al. 2017): an FFT parameterization in decorrelated colour with Lucent's
  transforms (pad, jitter, scale, rotate) and Adam.

Multifaceted visualization (Nguyen et al. 2016): :func:`multifaceted_init` clusters the features
of a set of images of the class with k-means and starts one image from each cluster's mean image,
so that one class yields several facets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from attribkit._checks import check_image_batch, check_positive_int, check_target
from attribkit.layers import forward_to, frozen, layer_name, resolve_layer
from attribkit.optvis.loop import OptimizationResult, OptimizationState, optimize
from attribkit.optvis.objectives import Objective, channel, class_logit, l2, neuron
from attribkit.optvis.param import ImageParam, PixelImage, image_param
from attribkit.optvis.transforms import Jitter, Transform, gaussian_blur, standard_transforms

__all__ = [
    "ClassVisualization",
    "NeuronVisualization",
    "Preset",
    "PRESETS",
    "VisualizationResult",
    "multifaceted_init",
    "yosinski_regularizer",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)


@dataclass(frozen=True)
class Preset:
    """A named recipe for activation maximization.

    Attributes:
        name: the preset's name.
        param: ``"pixel"`` or ``"fft"``.
        decorrelate: optimize in decorrelated colour.
        squash: ``"clamp"`` (pixels clipped to [0, 1] after each step) or ``"sigmoid"``.
        init: ``"mean"`` (the mean image, Simonyan's zero image) or ``"noise"``.
        optimizer: optimizer name for :func:`~attribkit.optvis.optimize`.
        lr: its step size.
        steps: default number of steps.
        l2_weight: weight of the L2 penalty in the objective (Simonyan's λ).
        decay: Yosinski's L2 decay: ``x ← x - decay · (x - mean)`` after each step.
        blur_sigma: σ of the Gaussian blur applied every ``blur_every`` steps (0: none).
        blur_every: blur period in steps.
        norm_pct: fraction of pixels with the smallest norm reset to the mean after each step.
        contrib_pct: fraction of pixels with the smallest contribution ``|Σ_c x·∂S/∂x|`` reset.
        jitter: random roll of ±``jitter`` pixels before the model (0: none).
        lucent_transforms: use Lucent's standard transforms (pad, jitter, scale, rotate).
    """

    name: str
    param: str = "pixel"
    decorrelate: bool = False
    squash: str = "clamp"
    init: str = "mean"
    optimizer: str = "normalized"
    lr: float = 0.02
    steps: int = 300
    l2_weight: float = 0.0
    decay: float = 0.0
    blur_sigma: float = 0.0
    blur_every: int = 4
    norm_pct: float = 0.0
    contrib_pct: float = 0.0
    jitter: int = 0
    lucent_transforms: bool = False

    def replace(self, **changes: Any) -> Preset:
        """A copy with some fields changed: ``PRESETS["yosinski"].replace(steps=100)``."""
        return dataclasses.replace(self, **changes)


#: The lecture's recipes (see the module docstring). Tuned on EfficientNet-Lite0 at 224 px.
PRESETS: dict[str, Preset] = {
    "simonyan": Preset(
        "simonyan", optimizer="adam", lr=0.01, steps=200, l2_weight=1e-3, init="mean"
    ),
    "yosinski": Preset(
        "yosinski",
        optimizer="normalized",
        lr=0.02,
        steps=300,
        decay=1e-3,
        blur_sigma=0.6,
        blur_every=4,
        norm_pct=0.2,
        contrib_pct=0.0,
        jitter=8,
    ),
    "lucent": Preset(
        "lucent",
        param="fft",
        decorrelate=True,
        squash="sigmoid",
        init="noise",
        optimizer="adam",
        lr=0.05,
        steps=256,
        lucent_transforms=True,
    ),
}


@dataclass
class VisualizationResult:
    """Images found by activation maximization, and how well they score.

    Attributes:
        images: ``N×3×H×W`` in [0, 1].
        targets: the class or channel each image maximizes.
        probs: for classes, the softmax probability of the target on the final image (no
            transforms); ``None`` for neurons.
        values: the objective's target term on the final image (logit or mean activation).
        history: per-step objective values (``steps × N``), from :func:`optimize`.
        snapshots: images at the requested steps.
        seconds: wall time of the optimization.
        preset: the recipe used.
        seed: the seed used.
    """

    images: torch.Tensor
    targets: list[int]
    probs: torch.Tensor | None
    values: torch.Tensor
    history: torch.Tensor
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0
    preset: Preset | None = None
    seed: int = 0
    steps_run: int = 0

    def filmstrip(self, index: int = 0, size: int | None = 96) -> torch.Tensor:
        """One image's snapshots side by side, labelled with the step."""
        res = OptimizationResult(images=self.images, history=self.history, snapshots=self.snapshots)
        return res.filmstrip(index, size)

    def save(self, path: str | Path, nrow: int | None = None) -> Path:
        """Save the images as one grid PNG and return the path."""
        from attribkit.io import save_image
        from attribkit.viz import make_grid

        return save_image(make_grid(list(self.images), nrow=nrow or len(self.images)), path)


def yosinski_regularizer(
    preset: Preset, mean: torch.Tensor
) -> Callable[[int, OptimizationState], None]:
    """The per-step image regularizers of Yosinski et al. (2015), as a loop callback.

    After each step: decay towards ``mean``, blur every ``blur_every`` steps, then reset to
    ``mean`` the ``norm_pct`` pixels of smallest norm and the ``contrib_pct`` pixels of smallest
    contribution. Works on :class:`~attribkit.optvis.param.PixelImage` parameters.
    """

    def reset_smallest(x: torch.Tensor, score: torch.Tensor, pct: float) -> None:
        # score: N×H×W; reset the pct lowest per image
        flat = score.flatten(1)
        k = int(pct * flat.shape[1])
        if k < 1:
            return
        thresh = flat.kthvalue(k, dim=1).values.view(-1, 1, 1)
        mask = (score <= thresh).unsqueeze(1)
        x.copy_(torch.where(mask, mean.expand_as(x), x))

    def callback(step: int, state: OptimizationState) -> None:
        p = state.param
        if not isinstance(p, PixelImage):
            raise TypeError("Yosinski's regularizers need a PixelImage parameterization")
        with torch.no_grad():
            x = p.pixels
            if preset.decay:
                x.sub_((x - mean) * preset.decay)
            if preset.blur_sigma and step % preset.blur_every == 0:
                x.copy_(gaussian_blur(x, preset.blur_sigma))
            if preset.norm_pct:
                reset_smallest(x, (x - mean).norm(dim=1), preset.norm_pct)
            if preset.contrib_pct and p.pixels.grad is not None:
                contrib = ((x - mean) * p.pixels.grad).sum(1).abs()
                reset_smallest(x, contrib, preset.contrib_pct)
            x.clamp_(0.0, 1.0)

    return callback


def _resolve_preset(preset: str | Preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[preset]


def _model_ref(model: nn.Module) -> torch.Tensor:
    for p in model.parameters():
        return p
    return torch.zeros(())


class _Visualizer:
    """Shared machinery of class and neuron visualization."""

    def __init__(self, model: nn.Module, mean: Sequence[float] = IMAGENET_MEAN) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.model = model
        self.mean = tuple(float(m) for m in mean)

    def _mean_image(self, channels: int, ref: torch.Tensor) -> torch.Tensor:
        if len(self.mean) != channels:
            return torch.full((1, channels, 1, 1), 0.5, dtype=ref.dtype, device=ref.device)
        return torch.tensor(self.mean, dtype=ref.dtype, device=ref.device).view(1, -1, 1, 1)

    def _run(
        self,
        objective: Objective,
        n: int,
        preset: Preset,
        *,
        size: int | tuple[int, int],
        channels: int,
        steps: int | None,
        init: torch.Tensor | None,
        seed: int,
        snapshot_steps: Sequence[int],
        callbacks: Sequence[Callable[[int, OptimizationState], Any]],
        show_progress: bool | None,
        desc: str,
    ) -> tuple[OptimizationResult, ImageParam]:
        ref = _model_ref(self.model)
        h, w = (size, size) if isinstance(size, int) else size
        check_positive_int(h, "size")
        check_positive_int(w, "size")
        steps = check_positive_int(preset.steps if steps is None else steps, "steps")
        shape = (n, channels, h, w)
        mean = self._mean_image(channels, ref)
        if init is not None:
            init = check_image_batch(init, "init", channels=channels, unit_range=True)
            if init.shape[0] not in (1, n) or init.shape[2:] != (h, w):
                raise ValueError(
                    f"init has shape {tuple(init.shape)}; it must be 1 or {n} images of "
                    f"{channels}×{h}×{w}"
                )
            init = init.to(ref.dtype)
        elif preset.init == "mean":
            init = mean.expand(shape)
        param = image_param(
            preset.param,
            shape,
            decorrelate=preset.decorrelate,
            squash=preset.squash,
            init=None if init is None else init.to(ref.device),
            seed=seed,
            dtype=ref.dtype,
        ).to(ref.device)
        if preset.l2_weight:
            objective = objective - preset.l2_weight * l2(center=float(mean.mean()))
        transforms: Transform | None = None
        if preset.lucent_transforms:
            transforms = standard_transforms()
        elif preset.jitter:
            transforms = Jitter(preset.jitter, mode="roll")
        cbs = list(callbacks)
        if preset.decay or preset.blur_sigma or preset.norm_pct or preset.contrib_pct:
            if preset.param != "pixel" or preset.decorrelate:
                raise ValueError(
                    "decay/blur/clipping regularizers need param='pixel' without decorrelation"
                )
            cbs.insert(0, yosinski_regularizer(preset, mean))
        res = optimize(
            self.model,
            objective,
            param,
            transforms=transforms,
            steps=steps,
            optimizer=preset.optimizer,
            lr=preset.lr,
            callbacks=cbs,
            snapshot_steps=snapshot_steps,
            show_progress=show_progress,
            seed=seed,
            keep="last",
            desc=desc,
        )
        return res, param


class ClassVisualization(_Visualizer):
    """Images that maximize a class score (Simonyan 2014; Yosinski 2015; Olah 2017).

    Args:
        model: a classifier taking ``[0, 1]`` images (normalization inside the model).
        mean: the dataset's mean colour, the "zero" image of Simonyan and Yosinski.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        ...                     nn.Flatten(), nn.Linear(4, 3))
        >>> res = ClassVisualization(net).visualize([0, 2], preset="yosinski", steps=5, size=16,
        ...                                         show_progress=False)
        >>> res.images.shape, res.probs.shape
        (torch.Size([2, 3, 16, 16]), torch.Size([2]))
    """

    def visualize(
        self,
        target: int | str | Sequence[int | str],
        preset: str | Preset = "yosinski",
        *,
        steps: int | None = None,
        size: int | tuple[int, int] = 224,
        init: torch.Tensor | None = None,
        seed: int = 0,
        snapshot_steps: Sequence[int] = (),
        callbacks: Sequence[Callable[[int, OptimizationState], Any]] = (),
        show_progress: bool | None = None,
    ) -> VisualizationResult:
        """Maximize the score of ``target`` (several targets run as one batch).

        Args:
            target: a class index or ImageNet class name, or a list of them (one image each).
            preset: ``"simonyan"``, ``"yosinski"``, ``"lucent"`` or a :class:`Preset`.
            steps: optimizer steps (default: the preset's).
            size: image size in pixels.
            init: start images ``[0, 1]`` (1 or one per target), e.g. from
                :func:`multifaceted_init`; default: the preset's start.
            seed: seed of the random start and transforms.
            snapshot_steps: steps at which to keep a copy of the images.
            callbacks: extra ``cb(step, state)`` called after the preset's regularizers.
            show_progress: show a progress bar.

        Returns:
            A :class:`VisualizationResult` with the images and each target's probability.
        """
        targets = self._targets(target)
        p = _resolve_preset(preset)
        n_classes = self._n_classes(size)
        check_target(targets, n_classes, len(targets))
        res, _ = self._run(
            class_logit(targets),
            len(targets),
            p,
            size=size,
            channels=3,
            steps=steps,
            init=init,
            seed=seed,
            snapshot_steps=snapshot_steps,
            callbacks=callbacks,
            show_progress=show_progress,
            desc=f"classvis {p.name}",
        )
        probs, logits = self.score(res.images, targets)
        return VisualizationResult(
            images=res.images,
            targets=targets,
            probs=probs,
            values=logits,
            history=res.history,
            snapshots=res.snapshots,
            seconds=res.seconds,
            preset=p,
            seed=seed,
            steps_run=res.steps_run,
        )

    def visualize_facets(
        self,
        target: int | str,
        images: torch.Tensor,
        k: int = 4,
        preset: str | Preset = "yosinski",
        *,
        layer: str | nn.Module | None = None,
        **kwargs: Any,
    ) -> VisualizationResult:
        """Multifaceted visualization: ``k`` images of one class, each started from the mean
        of one k-means cluster of ``images`` (examples of the class) in feature space.

        Args:
            target: the class.
            images: ``M×3×H×W`` examples of the class in [0, 1] (``M >= k``); their size is used.
            k: the number of facets.
            preset: as in :meth:`visualize`.
            layer: where to take the features (default: the model's output).
            **kwargs: passed to :meth:`visualize`.
        """
        inits = multifaceted_init(self.model, images, k, layer=layer, seed=kwargs.get("seed", 0))
        t = self._targets(target)
        if len(t) != 1:
            raise ValueError("visualize_facets takes one class")
        size = (int(images.shape[2]), int(images.shape[3]))
        return self.visualize(t * k, preset, init=inits, size=size, **kwargs)

    @torch.no_grad()
    def score(
        self, images: torch.Tensor, targets: Sequence[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Softmax probability and logit of each image's target (the model's state is kept)."""
        with frozen(self.model):
            out = self.model(images)
        idx = torch.as_tensor(list(targets), device=out.device).view(-1, 1)
        if idx.shape[0] == 1:
            idx = idx.expand(out.shape[0], 1)
        probs = torch.softmax(out.float(), dim=1).gather(1, idx).squeeze(1)
        return probs, out.gather(1, idx).squeeze(1)

    @staticmethod
    def _targets(target: int | str | Sequence[int | str]) -> list[int]:
        from attribkit.models import class_index

        items = [target] if isinstance(target, (int, str)) else list(target)
        if not items:
            raise ValueError("target must name at least one class")
        out = []
        for t in items:
            if isinstance(t, bool):
                raise TypeError("target must be a class index or name, not a bool")
            if isinstance(t, str):
                out.append(class_index(t))
            elif isinstance(t, int):
                out.append(t)
            else:
                raise TypeError(f"target must be an int or a class name, got {type(t).__name__}")
        return out

    @torch.no_grad()
    def _n_classes(self, size: int | tuple[int, int]) -> int:
        h, w = (size, size) if isinstance(size, int) else size
        ref = _model_ref(self.model)
        with frozen(self.model):
            out = self.model(torch.full((1, 3, h, w), 0.5, dtype=ref.dtype, device=ref.device))
        if out.ndim != 2:
            raise ValueError(f"the model must return N×classes scores, got {tuple(out.shape)}")
        return int(out.shape[1])


class NeuronVisualization(_Visualizer):
    """Images that maximize a channel (or one neuron) of a layer.

    Args:
        model: the network.
        layer: dotted name (or module) of the layer.
        mean: the dataset's mean colour.

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> res = NeuronVisualization(net, "1").visualize([0, 1, 2, 3], steps=3, size=12,
        ...                                               show_progress=False)
        >>> res.images.shape
        torch.Size([4, 3, 12, 12])
    """

    def __init__(
        self, model: nn.Module, layer: str | nn.Module, mean: Sequence[float] = IMAGENET_MEAN
    ) -> None:
        super().__init__(model, mean)
        self.layer = layer_name(model, layer)

    def visualize(
        self,
        channel_index: int | Sequence[int],
        preset: str | Preset = "yosinski",
        *,
        x: int | None = None,
        y: int | None = None,
        neuron_only: bool = False,
        steps: int | None = None,
        size: int | tuple[int, int] = 224,
        init: torch.Tensor | None = None,
        seed: int = 0,
        snapshot_steps: Sequence[int] = (),
        callbacks: Sequence[Callable[[int, OptimizationState], Any]] = (),
        show_progress: bool | None = None,
    ) -> VisualizationResult:
        """Maximize channel ``channel_index`` (a list runs as one batch, one channel per image).

        Args:
            channel_index: a channel or a list of channels.
            preset: ``"simonyan"``, ``"yosinski"``, ``"lucent"`` or a :class:`Preset`.
            x: column of the neuron (with ``neuron_only``; default the centre).
            y: row of the neuron.
            neuron_only: maximize one spatial position instead of the channel mean.
            steps: optimizer steps (default: the preset's).
            size: image size.
            init: start images in [0, 1].
            seed: seed.
            snapshot_steps: steps at which to keep a copy.
            callbacks: extra callbacks.
            show_progress: show a progress bar.

        Returns:
            A :class:`VisualizationResult` (``probs`` is ``None``; ``values`` are activations).
        """
        chans = [channel_index] if isinstance(channel_index, int) else list(channel_index)
        p = _resolve_preset(preset)
        n_ch = self._n_channels(size)
        for c in chans:
            if isinstance(c, bool) or not isinstance(c, int):
                raise TypeError(f"channels must be ints, got {c!r}")
            if not 0 <= c < n_ch:
                raise ValueError(
                    f"channel {c} is out of range: {self.layer} has {n_ch} (valid 0..{n_ch - 1})"
                )
        if neuron_only or x is not None or y is not None:
            obj = neuron(self.layer, chans, x=x, y=y)
        else:
            obj = channel(self.layer, chans)
        res, _ = self._run(
            obj,
            len(chans),
            p,
            size=size,
            channels=3,
            steps=steps,
            init=init,
            seed=seed,
            snapshot_steps=snapshot_steps,
            callbacks=callbacks,
            show_progress=show_progress,
            desc=f"neuronvis {p.name}",
        )
        from attribkit.optvis.objectives import ObjectiveContext

        with torch.no_grad(), frozen(self.model):
            acts = forward_to(self.model, res.images, [self.layer])
            values = obj(ObjectiveContext(res.images, res.images, dict(acts)))
        return VisualizationResult(
            images=res.images,
            targets=chans,
            probs=None,
            values=values,
            history=res.history,
            snapshots=res.snapshots,
            seconds=res.seconds,
            preset=p,
            seed=seed,
            steps_run=res.steps_run,
        )

    @torch.no_grad()
    def _n_channels(self, size: int | tuple[int, int]) -> int:
        h, w = (size, size) if isinstance(size, int) else size
        ref = _model_ref(self.model)
        with frozen(self.model):
            a = forward_to(
                self.model,
                torch.full((1, 3, h, w), 0.5, dtype=ref.dtype, device=ref.device),
                [self.layer],
            )[self.layer]
        if a.ndim < 2:
            raise ValueError(f"layer {self.layer} has no channel dimension")
        return int(a.shape[1])


@torch.no_grad()
def multifaceted_init(
    model: nn.Module,
    images: torch.Tensor,
    k: int,
    *,
    layer: str | nn.Module | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Start images for multifaceted visualization (Nguyen et al. 2016).

    The features of ``images`` (at ``layer``, default the model's output) are clustered with
    k-means; each facet starts from the mean of its cluster's images.

    Args:
        model: the network.
        images: ``M×C×H×W`` examples of one class, in [0, 1], ``M >= k``.
        k: number of clusters (facets).
        layer: feature layer (dotted name or module); ``None`` uses the model's output.
        seed: k-means seed.

    Returns:
        ``k×C×H×W`` start images in [0, 1], largest cluster first.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
        >>> imgs = torch.cat([torch.zeros(3, 3, 2, 2), torch.ones(2, 3, 2, 2)])
        >>> multifaceted_init(net, imgs, 2).mean((1, 2, 3))
        tensor([0., 1.])
    """
    from sklearn.cluster import KMeans

    images = check_image_batch(images, "images", unit_range=True)
    k = check_positive_int(k, "k")
    if images.shape[0] < k:
        raise ValueError(f"need at least k={k} images to form {k} clusters, got {images.shape[0]}")
    with frozen(model):
        if layer is None:
            feats = model(images)
        else:
            name = layer_name(model, resolve_layer(model, layer))
            feats = forward_to(model, images, [name])[name]
    if feats.ndim == 4:
        feats = feats.mean((2, 3))
    x = feats.flatten(1).double().cpu().numpy()
    labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
    lab = torch.as_tensor(labels)
    order = sorted(range(k), key=lambda c: -int((lab == c).sum()))
    means = [images[(lab == c).to(images.device)].mean(0) for c in order]
    return torch.stack(means).clamp(0, 1)
