"""The model a stage trains: one encoder and named task heads (tasks may share a head by name)."""

from __future__ import annotations

import torch


class EncoderWithHeads(torch.nn.Module):
    def __init__(self, encoder: torch.nn.Module, heads: dict[str, torch.nn.Module]):
        super().__init__()
        self.encoder = encoder
        self.heads = torch.nn.ModuleDict(heads)

    def head(self, name: str) -> torch.nn.Module | None:
        return self.heads[name] if name in self.heads else None
