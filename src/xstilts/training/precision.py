"""Which numeric precision a run uses: bf16 autocast where the chip computes bf16 natively, fp32 elsewhere.

``runtime.precision: auto`` asks the hardware at run time, never a model name or a machine list: CUDA devices
of compute capability 8 or more (A100, H100, ...) and CPUs with AMX-BF16 (Intel Sapphire Rapids and later),
AVX512-BF16 (Intel Cooper Lake, AMD Zen 4 and later) or Arm's BF16 extension compute bf16 matrix products
natively, several times faster than fp32; on other CPUs torch emulates bf16, which is slower than fp32.
``bf16`` forced on such a CPU still runs, with a warning. ``XSTILTS_NATIVE_BF16=0`` (or ``1``) overrides the
CPU's detection, so tests can play a CPU without it (a GPU is always asked).

The precision is a runtime setting: it is recorded with every result but is no part of a stage's lineage key,
so a finished stage is never trained again because another machine would pick another precision.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

NATIVE_BF16_ENV = "XSTILTS_NATIVE_BF16"
# CPU capability names (torch.cpu.get_capabilities(), /proc/cpuinfo flags) that mean bf16 matrix products in
# hardware: x86 AMX tiles and AVX512-BF16 dot products, Arm's BF16 extension (BFMMLA; "bf16" on Linux).
CPU_BF16_FEATURES = ("amx_bf16", "avx512_bf16", "bf16", "sve_bf16")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class Precision:
    """The precision a stage or evaluation runs in (``fp32`` or ``bf16``), and why."""

    name: str
    device: str  # "cuda" or "cpu"
    native_bf16: bool
    reason: str

    @property
    def accelerate_name(self) -> str:
        """accelerate's ``mixed_precision`` value: bf16 autocast, or "no" (fp32)."""
        return "bf16" if self.name == "bf16" else "no"


def cpu_bf16_features() -> list[str]:
    """The bf16 features of this CPU: torch's own run-time query (torch >= 2.8), else Linux's /proc/cpuinfo."""
    import torch

    query = getattr(getattr(torch, "cpu", None), "get_capabilities", None)
    if query is not None:
        try:
            capabilities = dict(query())
        except (RuntimeError, OSError):  # cpuinfo could not read the CPU: fall back to the kernel's flags
            capabilities = None
        if capabilities is not None:
            return [name for name in CPU_BF16_FEATURES if capabilities.get(name) is True]
    return [name for name in CPU_BF16_FEATURES if name in _proc_cpuinfo_flags()]


def _proc_cpuinfo_flags(path: Path | None = None) -> set[str]:
    """The feature flags of the first CPU in /proc/cpuinfo (x86 ``flags``, Arm ``Features``); none elsewhere."""
    try:
        text = (path or CPUINFO).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cuda_native_bf16() -> bool:
    """The current CUDA device computes bf16 natively (compute capability 8 or more; ROCm devices do)."""
    import torch

    if not torch.cuda.is_available():
        return False
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # torch < 2.3 has no `including_emulation`
        return torch.cuda.get_device_capability()[0] >= 8


def native_bf16(device: str) -> tuple[bool, str]:
    """Whether ``device`` ("cuda" or "cpu") computes bf16 natively, and what said so."""
    # The override plays another CPU (the test suite runs as one without bf16); GPUs are always asked.
    forced = os.environ.get(NATIVE_BF16_ENV, "").strip().lower() if device == "cpu" else ""
    if forced in _TRUE | _FALSE:
        return forced in _TRUE, f"{NATIVE_BF16_ENV}={forced}"
    if forced:
        from xstilts.errors import XstiltsError

        raise XstiltsError(f"{NATIVE_BF16_ENV}={forced!r} is neither 1 nor 0: set it to 0 to play a machine without "
                           "native bf16, 1 to claim it, or unset it to detect")
    if device == "cuda":
        import torch

        name = torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA device"
        return cuda_native_bf16(), name
    features = cpu_bf16_features()
    return bool(features), "CPU with " + "/".join(features) if features else "CPU without bf16 instructions"


def resolve_precision(requested: str, device: str, *, native: bool | None = None, warn: bool = True) -> Precision:
    """The precision of a run: ``requested`` is ``runtime.precision`` (auto, fp32 or bf16); ``native`` overrides
    the detection (tests). Forcing bf16 where it is emulated is allowed, with a warning (it is slower than fp32)."""
    why = "given" if native is not None else ""
    if native is None:
        native, why = native_bf16(device)
    if requested == "fp32":
        return Precision("fp32", device, native, "runtime.precision: fp32")
    if requested == "bf16":
        if not native and warn:
            warnings.warn(f"runtime.precision: bf16 on a {device} without native bf16 ({why}): torch emulates it, "
                          "which is slower than fp32 and no more accurate; use precision: auto or fp32 here",
                          stacklevel=2)
        return Precision("bf16", device, native, "runtime.precision: bf16")
    if requested != "auto":
        from xstilts.errors import ConfigError

        raise ConfigError([f"runtime.precision: {requested!r} is not one of auto, fp32, bf16"])
    name = "bf16" if native else "fp32"
    return Precision(name, device, native, f"auto: {'native' if native else 'no native'} bf16 ({why})")


def precision_label(trained: str | None, evaluated: str) -> str:
    """The ``precision`` of a result row: the stage's (what it was trained in), saying so when the evaluation ran
    in another. ``trained`` is None for the model as loaded (never trained: the evaluation's precision) and
    ``"unrecorded"`` for a stage trained before precisions were recorded."""
    if trained is None or trained == evaluated:
        return evaluated
    return f"{trained} (evaluated in {evaluated})"
