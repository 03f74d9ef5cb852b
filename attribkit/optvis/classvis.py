"""Class-model and neuron visualization by gradient ascent on the image.

:class:`ClassVisualization` maximizes a class score and :class:`NeuronVisualization` a channel
(or one neuron) of a layer, with the lecture's recipes (:mod:`attribkit.optvis.presets`).
Several targets run as one batch, one image each. Multifaceted visualization starts each image
from a facet of the class (:func:`~attribkit.optvis.facets.multifaceted_init`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from attribkit._checks import check_positive_int, check_size
from attribkit.layers import forward_to, frozen
from attribkit.layers.hooks import LayerRef
from attribkit.models.normalize import IMAGENET_MEAN
from attribkit.optvis.facets import multifaceted_init
from attribkit.optvis.loop import Callback, OptimizationResult
from attribkit.optvis.objectives import Objective, ObjectiveContext, channel, class_logit, neuron
from attribkit.optvis.param import image_param
from attribkit.optvis.penalties import l2
from attribkit.optvis.presets import Preset, resolve_preset, yosinski_regularizer
from attribkit.optvis.synthesis import ImageSynthesis, Problem, RunOptions, SynthesisResult
from attribkit.optvis.transforms import Jitter, Transform, standard_transforms

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from attribkit.optvis.synthesis import SynthesisOptions

__all__ = ["ClassVisualization", "NeuronVisualization"]


@dataclass(frozen=True)
class _Request:
    objective: Objective
    targets: list[int]
    preset: Preset
    size: tuple[int, int]
    init: torch.Tensor | None


class _ActivationMaximization(ImageSynthesis[_Request]):
    """What class and neuron visualization share: the preset's start, transforms and
    regularizers around one objective."""

    def __init__(self, model: nn.Module, mean: Sequence[float] = IMAGENET_MEAN) -> None:
        super().__init__(model)
        mean_values = tuple(float(m) for m in mean)
        if not mean_values:
            raise ValueError("mean must give one value per channel, e.g. (0.485, 0.456, 0.406)")
        self.mean = mean_values

    def _mean_image(self) -> torch.Tensor:
        """The mean colour as a ``1×3×1×1`` image (grey unless ``mean`` has 3 values)."""
        mean = self.mean if len(self.mean) == 3 else (0.5, 0.5, 0.5)
        return torch.tensor(mean, dtype=self.dtype, device=self.device).view(1, 3, 1, 1)

    def _probe(self, size: tuple[int, int]) -> torch.Tensor:
        """One grey image of ``size`` on the model's device."""
        return torch.full((1, 3, *size), 0.5, dtype=self.dtype, device=self.device)

    def _stages(
        self, request: _Request, options: RunOptions, done: list[OptimizationResult]
    ) -> Iterator[Problem]:
        p = request.preset
        n = len(request.targets)
        shape = (n, 3, *request.size)
        mean = self._mean_image()
        init = request.init
        if init is not None:
            init = self._start(init, shape, options.seed)
        elif p.init == "mean":
            init = mean.expand(shape)
        param = image_param(
            p.param,
            shape,
            decorrelate=p.decorrelate,
            squash=p.squash,
            init=init,
            seed=options.seed,
            dtype=self.dtype,
        ).to(self.device)
        objective = request.objective
        if p.l2_weight:
            objective = objective - p.l2_weight * l2(center=float(mean.mean()))
        transforms: Transform | None = None
        if p.lucent_transforms:
            transforms = standard_transforms()
        elif p.jitter:
            transforms = Jitter(p.jitter, mode="roll")
        callbacks: list[Callback] = []
        if p.decay or p.blur_sigma or p.norm_pct or p.contrib_pct:
            if p.param != "pixel" or p.decorrelate:
                raise ValueError(
                    "decay/blur/clipping regularizers need param='pixel' without decorrelation"
                )
            callbacks.append(yosinski_regularizer(p, mean))
        yield Problem(
            objective,
            param,
            transforms=transforms,
            steps=p.steps,
            optimizer=p.optimizer,
            lr=p.lr,
            callbacks=callbacks,
            keep="last",
            desc=f"{type(self).__name__} {p.name}",
        )


class ClassVisualization(_ActivationMaximization):
    """Images that maximize a class score (Simonyan 2014; Yosinski 2015; Olah 2017).

    Args:
        model: a classifier taking ``[0, 1]`` images (normalization inside the model).
        mean: the dataset's mean colour, the "zero" image of Simonyan and Yosinski.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        ...                     nn.Flatten(), nn.Linear(4, 3))
        >>> vis = ClassVisualization(net)
        >>> vis.visualize([0, 2], "yosinski", steps=5, size=16, show_progress=False).shape
        torch.Size([2, 3, 16, 16])
        >>> res = vis.run([0, 2], "yosinski", steps=5, size=16, show_progress=False)
        >>> res.extras["probs"].shape
        torch.Size([2])
    """

    visualize = ImageSynthesis.images
    """The verb: ``run(...).images`` with the same arguments as :meth:`run`, ``N×C×H×W`` in
    [0, 1]."""

    def run(
        self,
        target: int | str | Sequence[int | str],
        preset: str | Preset = "yosinski",
        *,
        size: int | tuple[int, int] = 224,
        init: torch.Tensor | None = None,
        **options: Unpack[SynthesisOptions],
    ) -> SynthesisResult:
        """Maximize the score of ``target`` (several targets run as one batch).

        Args:
            target: a class index or ImageNet class name, or a list of them (one image each).
            preset: ``"simonyan"``, ``"yosinski"``, ``"lucent"`` or a
                :class:`~attribkit.optvis.presets.Preset`.
            size: image size in pixels (int or ``(height, width)``).
            init: start images in [0, 1] (1 or one per target), e.g. from
                :func:`~attribkit.optvis.facets.multifaceted_init`; default: the preset's.
            **options: the common keywords (:class:`~attribkit.optvis.SynthesisOptions`); the preset
                gives the defaults of ``steps``, ``lr`` and ``optimizer``; ``callbacks`` run after
                its regularizers.

        Returns:
            A :class:`~attribkit.optvis.synthesis.SynthesisResult`; ``extras``: ``"targets"``,
            ``"probs"`` (softmax probability of each target on the final image, without
            transforms), ``"logits"`` and ``"preset"``.
        """
        run_options = self._options(options)
        init = self._checked_init(init)
        targets = _class_targets(target)
        p = resolve_preset(preset)
        hw = check_size(size)
        with torch.no_grad():
            out = self._frozen_forward(self._probe(hw))
        if out.ndim != 2:
            raise ValueError(f"the model must return N×classes scores, got {tuple(out.shape)}")
        _check_in_range(targets, int(out.shape[1]), "target", "the model's outputs")
        request = _Request(class_logit(targets), targets, p, hw, init)
        return self._synthesize(request, run_options)

    def visualize_facets(
        self,
        target: int | str,
        images: torch.Tensor,
        k: int = 4,
        preset: str | Preset = "yosinski",
        *,
        layer: LayerRef | None = None,
        **kwargs: Any,
    ) -> torch.Tensor:
        """Multifaceted visualization: ``k`` images of one class, each started from the mean
        of one k-means cluster of ``images`` (examples of the class) in feature space.

        Args:
            target: the class.
            images: ``M×3×H×W`` examples of the class in [0, 1] (``M >= k``); their size is used.
            k: the number of facets.
            preset: as in :meth:`run`.
            layer: where to take the features (default: the model's output).
            **kwargs: the other keywords of :meth:`run`.

        Returns:
            ``k×3×H×W`` images in [0, 1].
        """
        targets = _class_targets(target)
        if len(targets) != 1:
            raise ValueError("visualize_facets takes one class")
        check_positive_int(k, "k")
        inits = multifaceted_init(self.model, images, k, layer=layer, seed=kwargs.get("seed") or 0)
        size = (int(images.shape[2]), int(images.shape[3]))
        return self.visualize(targets * k, preset, init=inits, size=size, **kwargs)

    def score(
        self, images: torch.Tensor, targets: Sequence[int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Softmax probability and logit of each image's target (the model's state is kept)."""
        with torch.no_grad():
            out = self._frozen_forward(self._to_model(images))
        idx = torch.as_tensor(list(targets), device=out.device).view(-1, 1)
        if idx.shape[0] == 1:
            idx = idx.expand(out.shape[0], 1)
        probs = torch.softmax(out.float(), dim=1).gather(1, idx).squeeze(1)
        return probs, out.gather(1, idx).squeeze(1)

    def _frozen_forward(self, x: torch.Tensor) -> torch.Tensor:
        with frozen(self.model):
            out: torch.Tensor = self.model(x)
        return out

    def _finish(
        self, request: _Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        images = runs[-1].images
        probs, logits = self.score(images, request.targets)
        extras = {"targets": request.targets, "probs": probs, "logits": logits}
        return images, {**extras, "preset": request.preset}


class NeuronVisualization(_ActivationMaximization):
    """Images that maximize a channel (or one neuron) of a layer.

    Args:
        model: the network.
        layer: dotted name (or module) of the layer.
        mean: the dataset's mean colour.

    Examples:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> NeuronVisualization(net, "1").visualize([0, 1, 2, 3], steps=3, size=12,
        ...                                         show_progress=False).shape
        torch.Size([4, 3, 12, 12])
    """

    def __init__(
        self, model: nn.Module, layer: LayerRef, mean: Sequence[float] = IMAGENET_MEAN
    ) -> None:
        super().__init__(model, mean)
        self.layer = self._layer(layer)

    visualize = ImageSynthesis.images
    """The verb: ``run(...).images`` with the same arguments as :meth:`run`, ``N×C×H×W`` in
    [0, 1]."""

    def run(
        self,
        target: int | Sequence[int],
        preset: str | Preset = "yosinski",
        *,
        x: int | None = None,
        y: int | None = None,
        neuron_only: bool = False,
        size: int | tuple[int, int] = 224,
        init: torch.Tensor | None = None,
        **options: Unpack[SynthesisOptions],
    ) -> SynthesisResult:
        """Maximize channel ``target`` of the layer (a list runs as one batch, one per image).

        Args:
            target: a channel or a list of channels.
            preset: ``"simonyan"``, ``"yosinski"``, ``"lucent"`` or a
                :class:`~attribkit.optvis.presets.Preset`.
            x: column of the neuron (with ``neuron_only``; default the centre).
            y: row of the neuron.
            neuron_only: maximize one spatial position instead of the channel mean.
            size: image size.
            init: start images in [0, 1].
            **options: the common keywords (:class:`~attribkit.optvis.SynthesisOptions`); the preset
                gives the defaults of ``steps``, ``lr`` and ``optimizer``.

        Returns:
            A :class:`~attribkit.optvis.synthesis.SynthesisResult`; ``extras``: ``"targets"``,
            ``"values"`` (the objective on the final images) and ``"preset"``.
        """
        run_options = self._options(options)
        init = self._checked_init(init)
        chans = [target] if isinstance(target, int) and not isinstance(target, bool) else target
        if isinstance(chans, (str, bytes)) or not isinstance(chans, Sequence) or not chans:
            raise TypeError(f"target must be a channel index or a list of them, got {target!r}")
        for c in chans:
            if isinstance(c, bool) or not isinstance(c, int):
                raise TypeError(f"channels must be ints, got {c!r}")
        for name, v in (("x", x), ("y", y)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                raise ValueError(f"{name} must be a non-negative int or None, got {v!r}")
        p = resolve_preset(preset)
        hw = check_size(size)
        with torch.no_grad(), frozen(self.model):
            act = forward_to(self.model, self._probe(hw), [self.layer])[self.layer]
        if act.ndim < 2:
            raise ValueError(f"layer {self.layer} has no channel dimension")
        _check_in_range(chans, int(act.shape[1]), "channel", f"the channels of {self.layer}")
        chans = list(chans)
        if neuron_only or x is not None or y is not None:
            obj = neuron(self.layer, chans, x=x, y=y)
        else:
            obj = channel(self.layer, chans)
        return self._synthesize(_Request(obj, chans, p, hw, init), run_options)

    def _finish(
        self, request: _Request, runs: list[OptimizationResult]
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        images = runs[-1].images
        acts = forward_to(self.model, images, [self.layer])
        values = request.objective(ObjectiveContext(images, images, dict(acts)))
        return images, {"targets": request.targets, "values": values, "preset": request.preset}


def _check_in_range(values: Sequence[int], n: int, what: str, of: str) -> None:
    for v in values:
        if not 0 <= v < n:
            raise ValueError(f"{what} {v} is out of range: {of} are 0..{n - 1}")


def _class_targets(target: object) -> list[int]:
    from attribkit.models import class_index

    items = [target] if isinstance(target, (int, float, str)) else target
    if isinstance(items, torch.Tensor):
        items = items.flatten().tolist()
    if not isinstance(items, Sequence) or not items:
        raise TypeError(f"target must be a class index or name, or a list of them, got {target!r}")
    out = []
    for t in items:
        if isinstance(t, bool):
            raise TypeError("target must be a class index or name, not a bool")
        if isinstance(t, str):
            out.append(class_index(t))
        elif isinstance(t, int):
            out.append(t)
        else:
            raise TypeError(
                f"target must be an int or a class name, got {type(t).__name__} {t!r}; "
                "give a whole class index such as 285"
            )
    return out
