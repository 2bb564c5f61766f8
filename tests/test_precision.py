"""Precision by capability: bf16 autocast where the device computes bf16 natively, fp32 elsewhere; the precision
is recorded with every result and stays out of lineage keys."""

from __future__ import annotations

import csv
import json

import pytest
import torch
import yaml

from helpers import target_study_yaml
from xstilts.config.load import parse_study
from xstilts.config.schema import RuntimeConfig
from xstilts.errors import XstiltsError
from xstilts.studies.plan import build_plan
from xstilts.studies.results_files import RESULT_COLUMNS, results_csv_text
from xstilts.studies.runner import run_study
from xstilts.studies.store import default_data_root
from xstilts.training import precision as precision_module
from xstilts.training.loop import make_accelerator, run_precision
from xstilts.training.optim import fused_adamw_available
from xstilts.training.precision import native_bf16, precision_label, resolve_precision


@pytest.mark.parametrize("native, expected", [(False, "fp32"), (True, "bf16")])
def test_auto_follows_the_hardware(native, expected):
    assert resolve_precision("auto", "cpu", native=native).name == expected
    assert resolve_precision("fp32", "cpu", native=native).name == "fp32"


def test_forced_bf16_without_native_bf16_runs_with_a_warning():
    with pytest.warns(UserWarning, match="emulates"):
        chosen = resolve_precision("bf16", "cpu", native=False)
    assert chosen.name == "bf16" and chosen.accelerate_name == "bf16"


def test_the_environment_forces_native_bf16_off_and_on(monkeypatch):
    monkeypatch.setenv("XSTILTS_NATIVE_BF16", "0")
    assert native_bf16("cpu") == (False, "XSTILTS_NATIVE_BF16=0")
    assert run_precision(RuntimeConfig(device="cpu")).name == "fp32"
    monkeypatch.setenv("XSTILTS_NATIVE_BF16", "1")
    assert run_precision(RuntimeConfig(device="cpu")).name == "bf16"
    monkeypatch.setenv("XSTILTS_NATIVE_BF16", "maybe")
    with pytest.raises(XstiltsError, match="XSTILTS_NATIVE_BF16"):
        native_bf16("cpu")
    monkeypatch.setenv("XSTILTS_NATIVE_BF16", "0")  # a GPU is always asked
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    assert native_bf16("cuda") == (True, "Fake GPU")


def test_cpu_features_from_torch_then_from_proc_cpuinfo(monkeypatch, tmp_path):
    monkeypatch.delenv("XSTILTS_NATIVE_BF16")
    capabilities = {"avx512_bf16": True, "amx_bf16": False, "avx2": True}
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities, raising=False)
    assert native_bf16("cpu") == (True, "CPU with avx512_bf16")
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx2": True}, raising=False)
    assert native_bf16("cpu") == (False, "CPU without bf16 instructions")

    def unreadable():
        raise RuntimeError("cpuinfo failed")

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n\nprocessor\t: 1\n")
    monkeypatch.setattr(torch.cpu, "get_capabilities", unreadable, raising=False)
    monkeypatch.setattr(precision_module, "CPUINFO", cpuinfo)
    assert precision_module.cpu_bf16_features() == ["amx_bf16"]
    monkeypatch.setattr(precision_module, "CPUINFO", tmp_path / "absent")
    assert precision_module.cpu_bf16_features() == []


def test_cuda_path_mocked(monkeypatch):
    """On a CUDA device of compute capability 8+ auto picks bf16; on an older one (bf16 only emulated) fp32."""
    monkeypatch.delenv("XSTILTS_NATIVE_BF16")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)
    chosen = run_precision(RuntimeConfig())
    assert (chosen.device, chosen.name, chosen.reason) == ("cuda", "bf16", "auto: native bf16 (Fake GPU)")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    assert run_precision(RuntimeConfig()).name == "fp32"
    assert run_precision(RuntimeConfig(device="cpu", precision="fp32")).device == "cpu"


def test_accelerators_of_both_precisions_in_one_process():
    """accelerate keeps one state per process; stages of another precision still get theirs."""
    bf16 = make_accelerator(RuntimeConfig(device="cpu"), precision=resolve_precision("bf16", "cpu", native=True))
    with bf16.autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    fp32 = make_accelerator(RuntimeConfig(device="cpu", precision="fp32"))
    with fp32.autocast():
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_precision_label():
    assert precision_label("bf16", "bf16") == "bf16"
    assert precision_label(None, "fp32") == "fp32"  # the model as loaded: never trained
    assert precision_label("bf16", "fp32") == "bf16 (evaluated in fp32)"
    assert precision_label("unrecorded", "fp32") == "unrecorded (evaluated in fp32)"


def test_runtime_keys_are_validated():
    runtime = RuntimeConfig(precision="bf16", attention="eager", compile=True, gradient_checkpointing=True,
                            fused_optimizer=False)
    assert (runtime.attention, runtime.compile, runtime.gradient_checkpointing) == ("eager", True, True)
    for bad in ({"precision": "fp16"}, {"attention": "flash"}, {"compile": "yes"}, {"gradient_checkpointing": 1},
                {"fused_optimizer": None}, {"fused": True}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            RuntimeConfig(**bad)


STUDY = yaml.safe_load(target_study_yaml("precision", evaluate=8, sources="[{task: mock-paraphrase, max_examples: 32}]",
                                         steps=3, batch_size=8, max_length=32, selection="{enabled: false}"))


def _study(tmp_path, **runtime):
    data = json.loads(json.dumps(STUDY))
    data["store"] = str(tmp_path / "runs")
    data["runtime"].update(runtime)
    return parse_study(data)


def test_precision_is_in_no_lineage_key(xstilts_home, tmp_path):
    keys = {}
    for name in ("auto", "fp32", "bf16"):
        plan = build_plan(_study(tmp_path, precision=name, attention="eager", compile=name == "bf16",
                                 gradient_checkpointing=True, fused_optimizer=False), default_data_root())
        keys[name] = ([s.key for s in plan.stages], [e.key for e in plan.evaluations])
    assert keys["auto"] == keys["fp32"] == keys["bf16"]


@pytest.mark.slow
def test_results_and_metrics_record_the_precision(xstilts_home, tmp_path, monkeypatch):
    """A stage trained in bf16 says so in metrics.json and in every result row; the same study on a machine that
    picks fp32 does not train it again, and its new evaluations say they ran in fp32."""
    monkeypatch.setenv("XSTILTS_NATIVE_BF16", "1")
    run_study(_study(tmp_path), tmp_path / "out")
    (stage,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    metrics = json.loads((stage / "metrics.json").read_text())
    assert metrics["precision"] == "bf16" and metrics["device"] == "cpu"
    # fused AdamW wherever torch has the kernel: CPUs too since torch 2.4
    assert metrics["runtime"]["attention"] == "sdpa"
    assert metrics["runtime"]["fused_optimizer"] is fused_adamw_available("cpu")
    with open(tmp_path / "out" / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {r["precision"] for r in rows} == {"bf16"}

    monkeypatch.setenv("XSTILTS_NATIVE_BF16", "0")
    for result in (stage / "eval").glob("*.json"):
        result.unlink()  # evaluate again, on "another machine"
    run_study(_study(tmp_path), tmp_path / "again")
    assert json.loads((stage / "metrics.json").read_text()) == metrics  # not retrained
    with open(tmp_path / "again" / "results.csv") as handle:
        assert {r["precision"] for r in csv.DictReader(handle)} == {"bf16 (evaluated in fp32)"}


def test_the_precision_column():
    assert RESULT_COLUMNS[-1] == "precision"
    assert results_csv_text([{"task": "t", "precision": "bf16"}]).splitlines()[1].endswith(",bf16")
