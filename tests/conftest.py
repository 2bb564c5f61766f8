"""Shared fixtures: offline mode, a private XSTILTS_HOME per session, fixed seeds and one thread."""

from __future__ import annotations

import os
import random

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The suite plays a CPU without native bf16, so that `runtime.precision: auto` means fp32 and pinned numbers are
# the same on every machine; tests of the bf16 path set the precision (or this variable) themselves.
os.environ.setdefault("XSTILTS_NATIVE_BF16", "0")


@pytest.fixture(autouse=True)
def _deterministic():
    """Reset seeds and use one thread, so tests neither depend on order nor fight over the two cores."""
    import numpy as np

    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        yield
        return
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def xstilts_home(tmp_path_factory):
    """One XSTILTS_HOME for the whole session: mock data, tokenizers and features are made once."""
    home = tmp_path_factory.mktemp("xstilts-home")
    old = os.environ.get("XSTILTS_HOME")
    os.environ["XSTILTS_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("XSTILTS_HOME", None)
    else:
        os.environ["XSTILTS_HOME"] = old


@pytest.fixture(scope="session")
def architecture_folder(xstilts_home, tmp_path_factory):
    """name -> the tiny hub-style checkpoint folder of that architecture (tests/architectures.py), each built
    once per session on first use."""
    from architectures import checkpoint

    root = tmp_path_factory.mktemp("architectures")
    return lambda name: checkpoint(name, xstilts_home, root)
