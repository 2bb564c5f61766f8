"""Optimizer and schedule: AdamW without decay on biases and norms; linear warmup then linear decay."""

from __future__ import annotations

import torch

from xstilts.config.schema import OptimizerConfig, ScheduleConfig


def build_optimizer(model: torch.nn.Module, config: OptimizerConfig, *, fused: bool = False) -> torch.optim.Optimizer:
    """AdamW over ``model``'s trainable parameters; ``fused``: one kernel per step for all of them (CUDA; the
    parameters must be on a device torch has fused AdamW for when the first step runs)."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        # Biases and LayerNorm weights are 1-d: decaying them only hurts (BERT recipe).
        (no_decay if parameter.ndim < 2 or "norm" in name.lower() else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # fused=None (not False) otherwise: torch then picks its own default (foreach), as before the option existed.
    return torch.optim.AdamW(groups, lr=config.lr, betas=tuple(config.betas), eps=config.eps, fused=fused or None)


def build_schedule(optimizer: torch.optim.Optimizer, config: ScheduleConfig, total_steps: int):
    warmup = int(round(config.warmup * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if config.kind == "constant":
            return 1.0
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
