import pytest
import torch
from attr_nets import StateNet, TinyNet, rand


@pytest.fixture
def tiny_net() -> TinyNet:
    return TinyNet()


@pytest.fixture
def state_net() -> StateNet:
    return StateNet()


@pytest.fixture
def images() -> torch.Tensor:
    return rand(2, 3, 8, 8, seed=1)
