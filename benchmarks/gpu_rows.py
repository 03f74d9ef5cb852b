"""The rows of ``benchmarks/gpu.py`` (issue #15); the helpers are in ``gpu_timing.py``.

Each ``*_rows(device, sizes)`` function builds its models and inputs, times attribkit's call,
its peer's and the bare network cost in one interleaved loop, and returns :class:`Result` rows.
See ``benchmarks/gpu.py`` for what each row compares and how to run it.
"""

from __future__ import annotations

import copy
import inspect
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from conftest import bare_forwards, synchronize  # noqa: E402
from gpu_timing import (  # noqa: E402
    Result,
    Sizes,
    best_bare,
    config_of,
    dtype_name,
    guarded,
    interleave,
    void,
)  # fmt: skip

import attribkit  # noqa: E402
from attribkit.attr import count_occlusions  # noqa: E402
from attribkit.layers import forward_to  # noqa: E402

TARGET_CLASS = 285
#: Seconds per row group on an H200, from the issue's anchors at the default sizes and rounds.
def _frozen(model: nn.Module, dev: torch.device, dtype: torch.dtype = torch.float32) -> nn.Module:
    model = model.to(device=dev, dtype=dtype).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _resnet50(dev: torch.device, dtype: torch.dtype = torch.float32) -> nn.Module:
    from torchvision.models import resnet50

    torch.manual_seed(0)
    return _frozen(resnet50(weights=None), dev, dtype)


def _image(size: int, dev: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return attribkit.sample_image("chelsea", size=size, crop=size).to(dev, dtype)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


# ---------------------------------------------------------------- attribution rows


def _occlusion_one(
    dev: torch.device, sizes: Sizes, name: str, window: int, dtype: torch.dtype
) -> Result:
    from captum.attr import Occlusion as CaptumOcclusion

    has_incremental = "incremental" in inspect.signature(attribkit.Occlusion).parameters
    model = (
        _resnet50(dev, dtype) if name == "resnet50"
        else _frozen(attribkit.efficientnet_lite0(), dev, dtype)
    )  # fmt: skip
    x = _image(sizes.occ, dev, dtype)
    shape = (3, sizes.occ, sizes.occ)
    n = count_occlusions(shape, (3, window, window), (3, 8, 8)) + 1
    per_image, where = best_bare(model, shape, dev, sizes.batch_sizes, dtype=dtype)
    batch, in_cl, model_cl = config_of(where)
    if model_cl:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    bare = bare_forwards(model, shape, n, batch, in_cl, device=dev, dtype=dtype)
    if model_cl:
        model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]

    def bare_call(bare: Callable[[], None] = bare, model_cl: bool = model_cl,
                  model: nn.Module = model) -> None:  # fmt: skip
        if model_cl:
            model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        try:
            bare()
        finally:
            model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]

    ours = attribkit.Occlusion(model)
    calls: dict[str, Callable[[], float | None]] = {
        "ours": void(lambda ours=ours, x=x, w=window: ours.attribute(
            x, w, strides=8, target=TARGET_CLASS
        )),
        "bare": bare_call,
    }
    if has_incremental:
        full = attribkit.Occlusion(model, incremental=False)  # type: ignore[call-arg]
        calls["ours full passes"] = void(lambda full=full, x=x, w=window: full.attribute(
            x, w, strides=8, target=TARGET_CLASS
        ))
    peers = []
    if dtype == torch.float32:
        cap = CaptumOcclusion(model)
        calls["captum default"] = void(lambda cap=cap, x=x, w=window: cap.attribute(
            x, (3, w, w), strides=(3, 8, 8), target=TARGET_CLASS
        ))
        peers = ["captum default"]
    times, samples = interleave(calls, sizes.rounds, dev, peers, sizes.peer_rounds)
    res = Result(
        f"occlusion-{name}-{dtype_name(dtype)}",
        f"Occlusion, {name} {sizes.occ}², window {window} stride 8 ({n} passes)",
        "ours ≤ 1.25× bare; with incremental, below bare",
        times=times, samples=samples,
    )  # fmt: skip
    res.ratios = {k: v for k, v in {
        "ours/bare": _ratio(times["ours"], times["bare"]),
        "captum/ours": _ratio(times.get("captum default"), times["ours"]),
        "full passes/bare": _ratio(times.get("ours full passes"), times["bare"]),
    }.items() if v is not None}  # fmt: skip
    res.meets = res.ratios["ours/bare"] <= 1.25
    res.notes.append(f"bare at {where}; last method {getattr(ours, 'last_method', 'full')}")
    if not has_incremental:
        res.notes.append("no incremental occlusion in this build")
    return res


def occlusion_rows(dev: torch.device, sizes: Sizes) -> list[Result]:
    cases = [("resnet50", 15, torch.float32), ("resnet50", 15, torch.bfloat16),
             ("lite0", 16, torch.float32)]  # fmt: skip
    return [
        guarded(f"occlusion-{n}-{dtype_name(d)}", lambda n=n, w=w, d=d: _occlusion_one(
            dev, sizes, n, w, d))
        for n, w, d in cases
    ]  # fmt: skip


def saliency_rows(dev: torch.device, sizes: Sizes) -> list[Result]:
    from captum.attr import Saliency as CaptumSaliency

    model = _resnet50(dev)
    x = _image(sizes.sal, dev)
    ours, cap = attribkit.Saliency(model), CaptumSaliency(model)
    xs = {False: x.clone(), True: x.clone().contiguous(memory_format=torch.channels_last)}

    def bare(channels_last: bool) -> None:
        xi = xs[channels_last].detach().requires_grad_(True)
        torch.autograd.grad(model(xi)[:, TARGET_CLASS].sum(), xi)

    calls: dict[str, Callable[[], float | None]] = {
        "ours": void(lambda: ours.attribute(x, target=TARGET_CLASS)),
        "captum": void(lambda: cap.attribute(x.clone(), target=TARGET_CLASS)),
        "bare": lambda: bare(False),
        "bare channels_last": lambda: bare(True),
    }
    with warnings.catch_warnings():  # Captum: "did not already require gradients"
        warnings.simplefilter("ignore", UserWarning)
        times, samples = interleave(calls, sizes.rounds * 4, dev)
    best = min(times["bare"], times["bare channels_last"])
    res = Result("saliency-resnet50", f"Saliency, ResNet-50 {sizes.sal}², one image",
                 "ours ≤ 1.05× bare", "s", times, samples)  # fmt: skip
    res.ratios = {"ours/bare": times["ours"] / best, "ours/captum": times["ours"] / times["captum"]}
    res.meets = res.ratios["ours/bare"] <= 1.05
    return [res]


# ---------------------------------------------------------------- feature visualization


def featvis_rows(dev: torch.device, sizes: Sizes) -> list[Result]:
    from lucent.optvis import param as lparam
    from lucent.optvis import render
    from lucent.optvis import transform as ltf

    from attribkit.optvis import (
        Compose,
        DecorrelatedColor,
        FFTImage,
        Jitter,
        Pad,
        RandomScale,
        channel,
        optimize,
    )  # fmt: skip

    model = _resnet50(dev)
    lucent_model = copy.deepcopy(model)  # Lucent hooks every module: its own copy
    s, k = sizes.fv, sizes.fv_channels
    scales = [1 + (i - 5) / 50 for i in range(11)]

    def ours(steps: int) -> None:
        param = DecorrelatedColor(FFTImage((k, 3, s, s), seed=0))
        tf = Compose(Pad(12, mode="constant", value=0.5), Jitter(8), RandomScale(scales), Jitter(4))
        optimize(model, channel("layer3", list(range(k))), param, transforms=tf, steps=steps,
                 optimizer="adam", lr=0.05, show_progress=False, seed=0)  # fmt: skip

    def lucent(steps: int) -> None:
        tfs = [ltf.pad(12, mode="constant", constant_value=0.5), ltf.jitter(8),
               ltf.random_scale(scales), ltf.jitter(4)]  # fmt: skip
        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            torch.manual_seed(0)
            render.render_vis(lucent_model, "layer3:0", lambda: lparam.image(s), transforms=tfs,
                              thresholds=(steps,), preprocess=False, progress=False,
                              show_image=False)  # fmt: skip

    def bare(batch: int, steps: int) -> None:
        side = s + 2 * 12 - 8 - 4  # what the model sees after pad 12, jitter 8 and jitter 4
        x = torch.rand(batch, 3, side, side, device=dev, requires_grad=True)
        opt = torch.optim.Adam([x], lr=0.05)
        for _ in range(steps):
            opt.zero_grad()
            (-forward_to(model, x, ["layer3"])["layer3"][:, 0].mean()).backward()
            opt.step()

    for warm in (ours, lucent):
        warm(2)
    bare(1, 2)
    bare(k, 2)
    n = sizes.fv_steps
    calls: dict[str, Callable[[], float | None]] = {
        f"ours {k} channels": lambda: ours(n),
        "lucent 1 channel": lambda: lucent(n),
        "bare 1 channel": lambda: bare(1, n),
        f"bare {k} channels": lambda: bare(k, n),
    }
    times, samples = interleave(calls, sizes.peer_rounds, dev, warm=False)
    res = Result("featvis-resnet50-layer3",
                 f"Feature visualization, ResNet-50 layer3, {s}², {n} steps",
                 f"{k} channels in ≤ Lucent's 1-channel time", "s", times, samples)  # fmt: skip
    ours_t = times[f"ours {k} channels"]
    res.ratios = {
        "ours/lucent": ours_t / times["lucent 1 channel"],
        "ours/bare": ours_t / times[f"bare {k} channels"],
    }
    res.meets = res.ratios["ours/lucent"] <= 1.0
    res.notes.append("bare: forward to layer3 + backward + Adam at the transformed size")
    return [res]


# ---------------------------------------------------------------- style rows


def _gatys_one(
    dev: torch.device, sizes: Sizes, name: str, model: nn.Module, optimizer: str
) -> Result:
    from attribkit.models import default_layers
    from attribkit.style import StyleTransfer

    s, steps = sizes.gatys, sizes.gatys_steps
    content = _image(s, dev)
    style = attribkit.sample_image("starry_night", size=s, crop=s).to(dev)
    st = StyleTransfer(model)
    layers = [*default_layers(model, "content"), *default_layers(model, "style")]
    x = F.pad(content, (st.pad,) * 4, mode="reflect").requires_grad_(True)

    def bare() -> float:
        times = []
        for _ in range(steps):
            synchronize(dev)
            t0 = time.perf_counter()
            acts = forward_to(model, x, layers)
            sum(a.pow(2).mean() for a in acts.values()).backward()  # type: ignore[union-attr]
            x.grad = None
            synchronize(dev)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    evals: list[float] = []

    def ours() -> float:
        """Seconds per loss evaluation (L-BFGS's line search evaluates more than once a step)."""
        stamps: list[tuple[float, int]] = []
        passes = [0]

        def stamp(step: int, state: object) -> None:
            synchronize(dev)
            stamps.append((time.perf_counter(), passes[0]))

        deepest = dict(model.named_modules())[layers[-1]]
        hook = deepest.register_forward_hook(lambda *_: passes.__setitem__(0, passes[0] + 1))
        extra = {"lr": 0.02} if optimizer == "adam" else {}
        try:
            st.transfer(content, style, steps=steps, optimizer=optimizer, callbacks=[stamp],
                        show_progress=False, seed=0, **extra)  # type: ignore[arg-type]
        finally:
            hook.remove()
        (t0, n0), (t1, n1) = stamps[0], stamps[-1]
        evals.append((n1 - n0) / (len(stamps) - 1))
        return (t1 - t0) / max(1, n1 - n0)

    times, samples = interleave({"ours": ours, "bare": bare}, sizes.rounds, dev)
    res = Result(
        f"gatys-{name}-{optimizer}",
        f"Gatys step, {name} to {layers[-1]}, {s}², {optimizer}, {steps} steps",
        "ours ≤ 1.15× bare (per loss evaluation)", "s/eval", times, samples,
    )  # fmt: skip
    res.ratios = {
        "ours/bare": times["ours"] / times["bare"],
        "evaluations/step": statistics.median(evals),
    }
    res.meets = res.ratios["ours/bare"] <= 1.15
    res.notes.append(f"bare: forward_to({', '.join(layers)}) + backward, same padded input")
    res.notes.append("ours: time per loss evaluation (forward + backward), between callbacks")
    return res


def gatys_rows(dev: torch.device, sizes: Sizes) -> list[Result]:
    torch.manual_seed(0)
    out = []
    for name, model in (("vgg19", attribkit.vgg19()), ("lite0", attribkit.efficientnet_lite0())):
        model = _frozen(model, dev)
        out += [
            guarded(f"gatys-{name}-{opt}", lambda m=model, n=name, o=opt: _gatys_one(
                dev, sizes, n, m, o))
            for opt in ("adam", "lbfgs")
        ]  # fmt: skip
    return out


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float((a.float() - b.float()).pow(2).mean())
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def _faststyle_one(dev: torch.device, sizes: Sizes, name: str, net: nn.Module, s: int) -> Result:
    from attribkit.style import stylize

    weights = 0 if isinstance(net, attribkit.MultiStyleNet) else None
    batches = [b for b in sizes.batch_sizes if b <= (4 if s < 1024 else 2)]
    _, where = best_bare(net, (3, s, s), dev, batches)
    batch, in_cl, model_cl = config_of(where)
    x = _image(s, dev).expand(batch, -1, -1, -1).contiguous()
    xb = x.contiguous(memory_format=torch.channels_last) if in_cl else x.clone()

    def bare() -> float:
        if model_cl:
            net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        try:
            synchronize(dev)
            t0 = time.perf_counter()
            with torch.no_grad():
                net(xb) if weights is None else net(xb, weights)
            synchronize(dev)
            return (time.perf_counter() - t0) / batch
        finally:
            net.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]

    def ours(half: bool) -> float:
        synchronize(dev)
        t0 = time.perf_counter()
        stylize(net, x, weights, half=half, batch_size=batch)
        synchronize(dev)
        return (time.perf_counter() - t0) / batch

    calls: dict[str, Callable[[], float | None]] = {"ours": lambda: ours(False), "bare": bare}
    if dev.type == "cuda":
        calls["ours half"] = lambda: ours(True)
    times, samples = interleave(calls, sizes.rounds, dev)
    res = Result(f"faststyle-{name}-{s}", f"Fast style, {name} {s}², per image",
                 "ours ≤ 1.1× bare; half PSNR ≥ 40 dB vs fp32", "s", times, samples)  # fmt: skip
    res.ratios = {"ours/bare": times["ours"] / times["bare"]}
    res.meets = res.ratios["ours/bare"] <= 1.1
    res.notes.append(f"bare at {where}")
    if dev.type == "cuda":
        psnr = _psnr(stylize(net, x[:1], weights), stylize(net, x[:1], weights, half=True))  # type: ignore[arg-type]
        res.ratios["half/bare"] = times["ours half"] / times["bare"]
        res.ratios["half PSNR dB"] = psnr
        res.meets = res.meets and psnr >= 40
    else:
        res.notes.append("half precision: CUDA only, not run")
    return res


def faststyle_rows(dev: torch.device, sizes: Sizes) -> list[Result]:
    from attribkit.style import load_shipped_model

    torch.manual_seed(0)
    transformer = _frozen(attribkit.TransformerNet(), dev)
    multi = _frozen(load_shipped_model(), dev)
    return [
        *(
            guarded(f"faststyle-transformer-{s}", lambda s=s: _faststyle_one(
                dev, sizes, "transformer", transformer, s))
            for s in sizes.fast
        ),
        guarded(f"faststyle-multistyle-{sizes.fast[0]}", lambda: _faststyle_one(
            dev, sizes, "multistyle", multi, sizes.fast[0])),
    ]


ROWS: dict[str, Callable[[torch.device, Sizes], list[Result]]] = {
    "occlusion": occlusion_rows,
    "saliency": saliency_rows,
    "featvis": featvis_rows,
    "gatys": gatys_rows,
    "faststyle": faststyle_rows,
}
