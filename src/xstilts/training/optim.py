"""Optimizer and schedule: AdamW without decay on biases and norms; linear warmup then linear decay."""

from __future__ import annotations

import torch

from xstilts.config.schema import OptimizerConfig, ScheduleConfig


def fused_adamw_available(device_type: str) -> bool:
    """Whether this torch has a fused AdamW kernel for ``device_type`` (CUDA; CPUs since torch 2.4)."""
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # a torch too old to say
        return device_type == "cuda"
    return device_type in _get_fused_kernels_supported_devices()


def build_optimizer(model: torch.nn.Module, config: OptimizerConfig, *, fused: bool = False) -> torch.optim.Optimizer:
    """AdamW over ``model``'s trainable parameters; ``fused``: one kernel per step for all of them (the
    parameters must be on a device torch has fused AdamW for when the first step runs: fused_adamw_available).
    On a CPU torch's default is the per-tensor loop, which costs a base encoder's step 4-5x the fused kernel's
    time (benchmarks/throughput.py profiles it)."""
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
    # fused=None (not False) otherwise: torch then picks its own default (foreach on CUDA, per tensor on CPUs).
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
