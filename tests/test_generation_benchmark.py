"""The parts of benchmarks/generation.py that decide what is compared: every side decodes the same examples with
the same settings, and xstilts' sorted batches give the loop's outputs, in the examples' order. No timing here."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "generation.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("generation_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.mark.parametrize("beams", [1, 2])
def test_every_side_decodes_the_same_outputs(bench, beams):
    args = argparse.Namespace(examples=12, batch_size=5, beams=beams, max_new_tokens=4, hidden=32, layers=1)
    model, tokenizer, task, data, features = bench.setup(args)
    assert task.settings == {"num_beams": beams, "max_new_tokens": 4}
    ours = bench.run_xstilts(model, tokenizer, task, data, features, args)
    loop = bench.run_plain(model, tokenizer, data, args, batch_size=1)
    assert len(ours) == len(loop) == 12 and ours == loop  # sorted into batches, returned in example order
    assert bench.run_plain(model, tokenizer, data, args, batch_size=5) == loop
