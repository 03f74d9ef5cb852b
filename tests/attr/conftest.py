import pytest
import torch
import torch.nn.functional as F
from torch import nn


class TinyNet(nn.Module):
    """A small CNN mixing every rectifier form attribkit must guide.

    ``fail`` makes the forward pass raise after the first conv (to test exception paths).
    """

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu6 = nn.ReLU6()
        self.conv3 = nn.Conv2d(6, 6, 3, padding=1)
        self.leaky = nn.LeakyReLU(0.1)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(24, 3)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        self.fail = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv1(x))
        if self.fail:
            raise RuntimeError("forward failed on purpose")
        x = self.relu6(self.conv2(x) * 3)
        x = F.relu(self.conv3(x)) - 0.1
        x = self.leaky(x)
        return self.fc(self.pool(x).flatten(1))


@pytest.fixture
def tiny_net() -> TinyNet:
    return TinyNet()


@pytest.fixture
def images() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.rand(2, 3, 8, 8, generator=g)
