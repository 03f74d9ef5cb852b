"""A tiny CNN for scikit-learn's 8×8 digits, trained in seconds on the CPU."""

from __future__ import annotations

import torch
from torch import nn

from attribkit._checks import check_finite_number, check_non_negative_int, check_positive_int
from attribkit._progress import progress_bar

__all__ = ["DigitsCNN", "load_digits_tensors", "train_digits_cnn"]


class DigitsCNN(nn.Module):
    """Three conv layers and a linear classifier for 1×8×8 images in [0, 1].

    Layers: ``conv1``/``relu1`` (16×8×8), ``conv2``/``relu2`` (32×8×8), ``pool`` (32×4×4),
    ``conv3``/``relu3`` (64×4×4), ``gap`` + ``flatten`` (the 64-d penultimate features), ``fc``.
    """

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        check_positive_int(n_classes, "n_classes")
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        x = self.relu3(self.conv3(self.pool(x)))
        return self.fc(self.flatten(self.gap(x)))


def load_digits_tensors(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Return scikit-learn's digits as ``(images N×1×8×8 in [0, 1], labels N)``.

    Examples:
        >>> x, y = load_digits_tensors()
        >>> tuple(x.shape), int(y.max())
        ((1797, 1, 8, 8), 9)
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=dtype).unsqueeze(1) / 16.0
    return x, torch.tensor(d.target, dtype=torch.long)


def train_digits_cnn(
    epochs: int = 15,
    seed: int = 0,
    batch_size: int = 64,
    lr: float = 3e-3,
    holdout: float = 0.2,
    show_progress: bool = False,
) -> tuple[DigitsCNN, float]:
    """Train :class:`DigitsCNN` deterministically and return it with its held-out accuracy.

    The split, the initialization and the batch order all come from ``seed``; the global RNG
    is left untouched.

    Args:
        epochs: passes over the training split.
        seed: seed for the split, the weights and the batch order.
        batch_size: mini-batch size.
        lr: Adam learning rate.
        holdout: fraction of the 1,797 digits kept for the accuracy figure.
        show_progress: show a progress bar over epochs.

    Returns:
        ``(model in eval mode, accuracy on the held-out split)``.

    Examples:
        >>> model, acc = train_digits_cnn(epochs=2)
        >>> acc > 0.5
        True
    """
    check_non_negative_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    check_finite_number(lr, "lr", positive=True)
    check_finite_number(holdout, "holdout", minimum=0.0)
    if holdout >= 1:
        raise ValueError(f"holdout must be a fraction in [0, 1), got {holdout!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    x, y = load_digits_tensors()
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x), generator=gen)
    n_test = int(len(x) * holdout)
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in progress_bar(range(epochs), desc="digits CNN", show_progress=show_progress):
        order = train_idx[torch.randperm(len(train_idx), generator=gen)]
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    model.eval()
    for p in model.parameters():
        p.grad = None
    with torch.no_grad():
        acc = (
            float((model(x[test_idx]).argmax(1) == y[test_idx]).float().mean())
            if n_test
            else float("nan")
        )
    return model, acc
