"""The parts of benchmarks/throughput.py that decide what is compared: the study it builds (settings pass
through), the FLOPs it counts, HF's collators and the check that HF's flattening packs an architecture.
No timing here: the benchmark itself measures."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from helpers import SYLLABLE_WORDS, syllable_tokenizer, tiny_encoder
from xstilts.config.load import parse_study

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "throughput.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("throughput_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def arguments(**fields) -> argparse.Namespace:
    values = dict(size="tiny", device="cpu", precision="auto", set=[], batch_size=8)
    return argparse.Namespace(**{**values, **fields})


def test_the_study_takes_precision_and_stage_settings_from_the_command_line(bench, tmp_path):
    args = arguments(precision="bf16", set=["stage.optimizer.lr=0.001", "runtime.threads=1"])
    study = parse_study(bench.study_data(args, steps=5, store=tmp_path))
    assert study.runtime.precision == "bf16"
    assert study.runtime.threads == 1
    assert study.runtime.trackers == []  # nothing written that HF Trainer (report_to=[]) would not write
    assert set(study.stages) == {w.name for w in bench.WORKLOADS}
    for stage in study.stages.values():
        assert stage.optimizer.lr == 0.001
        assert (stage.steps, stage.batch_size, stage.checkpoint_every) == (5, 8, 5)
        assert stage.sources[0].max_examples == 40
        assert not stage.selection.enabled


def test_a_setting_without_a_value_is_refused(bench, tmp_path):
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        bench.study_data(arguments(set=["runtime.precision"]), steps=5, store=tmp_path)


def test_useful_flops_count_real_tokens_by_hand(bench):
    tokenizer = syllable_tokenizer(SYLLABLE_WORDS)
    encoder = tiny_encoder(tokenizer, layers=2, seed=0)  # hidden 32, intermediate 64
    # per layer: Q, K, V, output 4 x (32 x 32 + 32), FFN 32 x 64 + 64 + 64 x 32 + 32, two LayerNorms 2 x 64
    per_layer = 4 * (32 * 32 + 32) + (32 * 64 + 64) + (64 * 32 + 32) + 2 * 64
    assert bench.non_embedding_params(encoder) == 2 * per_layer
    lengths = [3, 5]
    expected = 6 * 2 * per_layer * 8 + 12 * 2 * 32 * (9 + 25)
    assert bench.useful_flops(encoder, lengths) == expected


def test_native_bf16_is_a_yes_or_no(bench):
    assert bench.native_bf16("cpu") in (True, False)


def prepared(bench, workload: str, tokenizer, encoder, features):
    chosen = next(w for w in bench.WORKLOADS if w.name == workload)
    return SimpleNamespace(workload=chosen, encoder=encoder, features=features)


def test_hf_flattening_packs_xlm_r_with_positions_from_padding_idx_plus_one(bench):
    tokenizer = syllable_tokenizer(SYLLABLE_WORDS)
    encoder = tiny_encoder(tokenizer, seed=0)
    assert bench.position_start(encoder.config) == tokenizer.pad_token_id + 1
    texts = ["kalo mire tusa", "pove drani kalo mire tusa pove"]
    features = [{"input_ids": tokenizer(t)["input_ids"]} for t in texts]
    assert bench.flattening_supported(prepared(bench, "tagging", tokenizer, encoder, features))


def test_hf_collators_pad_or_flatten_the_rows(bench):
    tokenizer = syllable_tokenizer(SYLLABLE_WORDS)
    encoder = tiny_encoder(tokenizer, seed=0)
    encoded = [tokenizer(t, return_special_tokens_mask=True) for t in ["kalo mire", "pove drani kalo mire tusa"]]
    rows = [{"input_ids": e["input_ids"], "special_tokens_mask": e["special_tokens_mask"]} for e in encoded]
    total = sum(len(r["input_ids"]) for r in rows)
    item = prepared(bench, "mlm", tokenizer, encoder, [])

    padded = bench.hf_collator(item, tokenizer, flat=False, device="cpu")(rows)
    assert padded["input_ids"].shape == (2, max(len(r["input_ids"]) for r in rows))

    torch.manual_seed(0)
    flat = bench.hf_collator(item, tokenizer, flat=True, device="cpu")(rows)
    assert flat["input_ids"].shape == flat["labels"].shape == flat["position_ids"].shape == (1, total)
    start = tokenizer.pad_token_id + 1
    expected_positions = [start + i for r in rows for i in range(len(r["input_ids"]))]
    assert flat["position_ids"][0].tolist() == expected_positions
    special = torch.tensor([m for r in rows for m in r["special_tokens_mask"]], dtype=torch.bool)
    assert (flat["labels"][0][special] == -100).all()  # special tokens are never masked

    tags = prepared(bench, "tagging", tokenizer, encoder, [])
    tag_rows = [{"input_ids": r["input_ids"], "labels": [0] * len(r["input_ids"])} for r in rows]
    tagged = bench.hf_collator(tags, tokenizer, flat=False, device="cpu")(tag_rows)
    assert tagged["labels"].shape == tagged["input_ids"].shape
    assert (tagged["labels"][0, len(rows[0]["input_ids"]):] == -100).all()  # padded labels are ignored


@pytest.mark.parametrize("script", ["gpu_check.sh", "gpu_wheels.sh"])
def test_the_gpu_scripts_parse(script):
    import subprocess

    path = PATH.parent / script
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
