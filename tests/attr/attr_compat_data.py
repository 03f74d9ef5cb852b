"""Float64 models and inputs shared by the Captum compatibility tables."""

from __future__ import annotations

import torch
from attr_nets import GridNet, PlainNet, TokenNet, TwoInputNet, quadrants, rand

D = torch.float64
NET, TWO, GRID, TOKENS = PlainNet(), TwoInputNet(), GridNet(), TokenNet()
X = rand(2, 3, 6, 6, seed=1, dtype=D)
B = rand(2, 3, 6, 6, seed=2, dtype=D) * 0.1
DIST = rand(4, 3, 6, 6, seed=3, dtype=D)
XT, YT = rand(2, 4, seed=4, dtype=D), rand(2, 2, seed=5, dtype=D)
SCALE = rand(2, 1, seed=6, dtype=D) + 0.5
V = rand(2, 4, seed=7, dtype=D)
IDS = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
MASK = quadrants(X)
T = [0, 2]
