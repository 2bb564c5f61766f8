"""The GPU path's switches on an encoder: attention kernel, gradient checkpointing, torch.compile, and the
first-token-only last layer of sentence-level heads (families/first_token.py).

Each is a ``runtime`` setting (never part of a lineage key): they change speed and memory, not what a stage
learns, up to floating-point rounding (and, under ``compile``, the random stream of dropout). Fused AdamW is
chosen where the optimizer is built (``optim.build_optimizer``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Any

import torch

from xstilts.config.schema import RuntimeConfig
from xstilts.errors import ConfigError, XstiltsError
from xstilts.families import first_token


def configure_encoder(encoder: torch.nn.Module, runtime: RuntimeConfig, *, training: bool,
                      device: str = "cpu") -> dict[str, Any]:
    """Apply ``runtime.attention`` (always), ``gradient_checkpointing`` and ``compile`` (when ``training``) to
    ``encoder`` in place; returns what it runs with (recorded in the stage's metrics.json)."""
    applied: dict[str, Any] = {"attention": set_attention(encoder, runtime.attention)}
    # A first-token-only last layer swaps the layer for one call, which a compiled graph or a checkpointed
    # layer would not see through; they keep the whole last layer.
    swapped_away = training and (runtime.compile or runtime.gradient_checkpointing)
    first_token_only = runtime.first_token_only and not swapped_away
    setattr(encoder, first_token.SWITCH, first_token_only)
    applied["first_token_only"] = first_token_only
    if training:
        applied["gradient_checkpointing"] = runtime.gradient_checkpointing
        if runtime.gradient_checkpointing:
            enable_gradient_checkpointing(encoder)
        applied["compile"] = runtime.compile
        if runtime.compile:
            problem = compile_problem(device)
            if problem:
                raise XstiltsError(f"runtime.compile: true, but {problem}; set runtime.compile: false")
            # Module.compile compiles in place: the state dict keeps its names (no "_orig_mod." prefix), so
            # checkpoints of a compiled run load anywhere.
            encoder.compile()
    return applied


def set_attention(encoder: torch.nn.Module, wanted: str) -> str:
    """Switch the encoder's attention kernel (``auto``: sdpa where it is supported); returns the one in use."""
    config = getattr(encoder, "config", None)
    current = getattr(config, "_attn_implementation", None) or "eager"
    supports_sdpa = bool(getattr(encoder, "_supports_sdpa", False))
    if wanted == "auto":
        wanted = "sdpa" if supports_sdpa else current
    elif wanted == "sdpa" and not supports_sdpa:
        raise ConfigError([f"runtime.attention: sdpa, but {type(encoder).__name__} has no SDPA attention in this "
                           "version of transformers; use attention: auto (its default kernel) or eager"])
    if wanted != current:
        if not hasattr(encoder, "set_attn_implementation"):  # transformers before 4.48: the load-time choice stays
            return current
        encoder.set_attn_implementation(wanted)
    return wanted


def enable_gradient_checkpointing(encoder: torch.nn.Module) -> None:
    if not getattr(encoder, "supports_gradient_checkpointing", False):
        raise ConfigError([f"runtime.gradient_checkpointing: true, but {type(encoder).__name__} does not support "
                           "it; set it to false"])
    # Non-reentrant checkpointing: works with inputs that need no grad and with autocast, and it restores the
    # RNG state for the recomputation, so dropout masks (hence the numbers) equal those without checkpointing.
    options = {"use_reentrant": False}
    if hasattr(encoder, "activation_checkpointing_enable"):  # its name from transformers 5.x on
        encoder.activation_checkpointing_enable(activation_checkpointing_kwargs=options)
    else:
        encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs=options)


def compile_problem(device: str) -> str | None:
    """Why torch.compile cannot run here (None: it can): inductor needs a C++ compiler on CPUs, Triton on GPUs."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    if device == "cuda":
        return None if importlib.util.find_spec("triton") else "Triton is not installed (pip install triton)"
    compiler = os.environ.get("CXX") or "c++"
    if shutil.which(compiler) or shutil.which("g++") or shutil.which("clang++"):
        return None
    return f"no C++ compiler ({compiler}, g++ or clang++) is on PATH for inductor's CPU code"
