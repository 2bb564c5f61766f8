"""The commands around a run, as a new user meets them: `plan` before any download (pipelines, honest
unknowns), `ls presets` and `--size`, `init`, where the store lives, and the run -> report loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from xstilts.errors import XstiltsError

SRC = str(Path(__file__).resolve().parents[1] / "src")


def cli(*args: str, cwd: Path | None = None, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    if home is not None:
        env["XSTILTS_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "xstilts", *args], capture_output=True, text=True, cwd=cwd,
                          env=env)


# ----- plan -----

def test_plan_before_the_download_shows_pipelines_and_says_unknown(tmp_path):
    code = ("import sys\nsys.argv = ['xstilts', 'plan', 'phang2020']\nfrom xstilts.cli import main\n"
            "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
            "print('HEAVY', [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "XSTILTS_HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "HEAVY []" in text
    assert all(len(line) <= 160 for line in text.splitlines())
    rows = [line for line in text.splitlines() if line.startswith("│")]
    targets = [line for line in rows if line.startswith("│ target ")]
    assert len(targets) == 78 and len(set(targets)) == 78  # every target row tells its pipeline
    assert any("anli-plus/xnli" in line for line in targets)
    assert any("anli-plus/xnli, anli-plus/pawsx" in line and "more" in line for line in rows
               if line.startswith("│ intermediate "))
    assert any("anli-plus/retrieval" in line for line in rows if line.startswith("│ evaluate x40"))
    # nothing counted from missing data reads 0: it is unknown; what is known (the model) is priced per token
    assert "0FLOP" not in text and " 0 tokens" not in text and "~0.0s" not in text
    # before the download, what has a published size is counted from it (and said so); the rest is unknown
    assert "All: at least " in text and "To run: at least " in text
    flat = " ".join(text.split())  # rich wraps long lines at the console's width
    # 13 stage groups x the languages of XNLI 15, PAWS-X 7, PAN-X 40, XQuAD 11, MLQA 7, Tatoeba 36 (sized), of
    # those plus UD-POS 33, TyDiQA 9 and BUCC 4 (not published as our readers count them)
    sized, every = 13 * (15 + 7 + 40 + 11 + 7 + 36), 13 * (15 + 7 + 40 + 11 + 7 + 36 + 33 + 9 + 4)
    assert f"tokens from published sizes: {sized} of {every} evaluations" in flat
    assert "no published size is known for the evaluations of bucc2018, tydiqa, udpos" in flat
    assert "model xlm-roberta-large: 558.8M parameters" in text
    assert "per token: 1.8GFLOP to train (3.3GFLOP with an mlm source), 604.6MFLOP to evaluate" in text
    assert "1M training tokens take ~7h11m" in text


def test_plan_json_adds_pipelines_and_flops_per_token(xstilts_home, tmp_path):
    from xstilts.config.load import load_study
    from xstilts.studies.context import make_context
    from xstilts.studies.plan_summary import evaluation_groups, plan_summary

    summary = plan_summary(make_context(load_study("tiny"), provisional=True), flops_per_second=1e9)
    model = summary["models"]["tiny-xlmr"]
    per_token = model["flops_per_token"]
    assert per_token["train"] == 6 * model["layer_parameters"] and per_token["evaluate"] == 2 * model["layer_parameters"]
    assert per_token["train_mlm"] == 6 * (model["layer_parameters"] + model["vocab_hidden"])
    for node in summary["nodes"] + summary["evaluation_nodes"]:
        assert node["pipelines"] and node["flops"] == pytest.approx(node["flops_per_token"] * node["tokens"])
    assert summary["compute"]["tokens_unknown"] == 0 and summary["compute"]["unknown"] == 0
    # each target stage is evaluated for the one pipeline that ends in it; retrieval on the intermediate encoder
    assert {tuple(group["pipelines"]) for group in evaluation_groups(summary)} == {
        ("none/ner",), ("none/pos",), ("intermediate/ner",), ("intermediate/pos",), ("retrieval",)}
    json.dumps(summary)


def test_totals_say_at_least_or_unknown_never_a_false_zero():
    from xstilts.cli.study import _totals_lines
    from xstilts.studies.plan_summary import bounded, compact_names, human_count

    assert bounded(0, 3, 3, human_count) == "unknown"
    assert bounded(1500, 1, 3, human_count) == "at least 1.5k"
    assert bounded(1500, 0, 3, human_count) == "1.5k"
    assert bounded(0, 0, 0, human_count) == "0"  # nothing left to run: a true zero
    assert compact_names(["a/x", "a/y", "a/z"], width=12) == "a/x +2 more"
    assert compact_names(["a-very-long-pipeline-name"], width=5) == "a-very-long-pipeline-name"
    assert compact_names(["a", "b"]) == "a, b"

    def node(tokens, per_token, kind="target"):
        flops = None if tokens is None or per_token is None else tokens * per_token
        return {"kind": kind, "model": "m", "done": False, "tokens": tokens, "flops_per_token": per_token,
                "flops": flops, "seconds": None if flops is None else flops / 1e9}

    nodes = [node(1000, 6.0), node(None, 6.0)]
    totals = {"tokens": 1000, "flops": 6000.0, "seconds": 6e-6, "unknown": 1, "tokens_unknown": 1}
    summary = {"kinds": {"mlm": 0, "intermediate": 0, "target": 2, "evaluate": 0}, "flops_per_second": 1e9,
               "nodes": nodes, "evaluation_nodes": [], "compute": totals, "compute_to_run": totals,
               "models": {"m": {"parameters": 10, "how": "built", "flops_per_token":
                                {"train": 6.0, "train_mlm": 12.0, "evaluate": 2.0}}}}
    text = "\n".join(_totals_lines(summary))
    assert "All: at least 1.0k tokens, at least 6.0kFLOP. To run: at least 1.0k tokens, at least 6.0kFLOP, " \
           "time at least 0.0s" in text
    assert "the tokens of 1 of the 2 stages and evaluations to run" in text
    assert "per token: 6FLOP to train, 2FLOP to evaluate" in text  # no mlm stage: no mlm price


# ----- ls presets, --size -----

def test_every_preset_suggests_a_command_that_works_anywhere():
    from xstilts.config.load import preset_names, presets_dir

    for name in preset_names():
        first = (presets_dir() / f"{name}.yaml").read_text().splitlines()[0]
        assert first.startswith(f"# xstilts run {name} ") and "presets/" not in first.split("(")[0], first


def test_size_on_a_study_without_the_variant(tmp_path):
    assert cli("plan", "micro", "--size", "micro", cwd=tmp_path, home=tmp_path / "home").returncode == 0
    result = cli("plan", "micro", "--size", "huge", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no variant 'huge' for --size: study 'micro' has the variants tiny" in result.stderr


# ----- init -----

def test_init_copies_a_preset_with_its_files_and_runs_from_anywhere(tmp_path):
    result = cli("init", "micro-rq4-order-mixed-language", "mine", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "mine" / "micro-rq4-order-mixed-language.yaml"
    lines = copy.read_text().splitlines()
    assert "preset 'micro-rq4-order-mixed-language'" in lines[0]
    assert lines[2].startswith("# xstilts run mine/micro-rq4-order-mixed-language.yaml ")
    assert "run it: xstilts run mine/micro-rq4-order-mixed-language.yaml" in result.stdout
    assert (tmp_path / "mine" / "micro-dictionaries" / "en-qae.txt").is_file()
    assert yaml.safe_load(copy.read_text())["name"] == "micro-rq4-order-mixed-language"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert cli("validate", str(copy), cwd=elsewhere).returncode == 0  # the dictionaries resolve beside the copy
    # no silent overwrite
    copy.write_text(copy.read_text() + "# my edit\n")
    again = cli("init", "micro-rq4-order-mixed-language", "mine", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert copy.read_text().endswith("# my edit\n")
    assert cli("init", "micro-rq4-order-mixed-language", "mine", "--force", cwd=tmp_path).returncode == 0
    assert not copy.read_text().endswith("# my edit\n")


def test_init_refuses_an_unknown_preset(tmp_path):
    result = cli("init", "mikro", "x", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no preset 'mikro': did you mean 'micro'" in result.stderr and not (tmp_path / "x").exists()


def test_shipped_files_are_the_relative_paths_beside_the_presets(tmp_path):
    from xstilts.cli.init_preset import shipped_files

    (tmp_path / "dicts").mkdir()
    (tmp_path / "dicts" / "a.txt").write_text("x y\n")
    data = {"a": ["dicts/a.txt", "{data_root}/dicts/a.txt", "", ".", "../x", "micro"], "b": {"c": "dicts/a.txt"}}
    assert shipped_files(data, tmp_path) == [tmp_path / "dicts"]


# ----- the store's home -----

def test_store_home_follows_xdg_cache_home(monkeypatch, tmp_path):
    from xstilts.studies.store import xstilts_home

    monkeypatch.delenv("XSTILTS_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert xstilts_home() == tmp_path / "cache" / "xstilts"
    monkeypatch.setenv("XSTILTS_HOME", str(tmp_path / "own"))
    assert xstilts_home() == tmp_path / "own"
    monkeypatch.delenv("XSTILTS_HOME")
    for ignored in ("", "relative/cache"):  # the XDG spec ignores a relative path
        monkeypatch.setenv("XDG_CACHE_HOME", ignored)
        assert xstilts_home() == Path.home() / ".cache" / "xstilts"



def test_relative_environment_folders_are_read_against_the_working_directory(monkeypatch, tmp_path):
    """`export XSTILTS_DATA=e5-data` means ./e5-data where it was typed, not a folder beside the study file
    (config paths are relative to the study file; a preset's folder is inside the installed package)."""
    from xstilts.config.load import load_study
    from xstilts.studies.context import resolve_data_root
    from xstilts.studies.store import default_data_root, xstilts_home

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XSTILTS_DATA", "e5-data")
    monkeypatch.setenv("XSTILTS_HOME", "home")
    assert default_data_root() == tmp_path / "e5-data"
    assert xstilts_home() == tmp_path / "home"
    assert resolve_data_root(load_study("tiny")) == tmp_path / "e5-data"

# ----- run -> report -----

def test_report_finds_the_size_that_ran(tmp_path, monkeypatch):
    from test_report_render import write_results
    from xstilts.cli.report import find_results

    monkeypatch.chdir(tmp_path)
    with pytest.raises(XstiltsError) as caught:
        find_results("micro", None, print)
    assert "`xstilts run micro` or `xstilts run micro --size tiny`" in str(caught.value)
    write_results(tmp_path / "xstilts-out" / "micro-tiny", with_examples=False)
    result = cli("report", "micro", "--out", "rep", "--resamples", "0", "--no-plots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "from xstilts-out/micro-tiny/results.csv" in result.stderr and (tmp_path / "rep" / "report.md").is_file()
    # several sizes ran: the most recent, and it says which
    write_results(tmp_path / "xstilts-out" / "micro", with_examples=False)
    older = tmp_path / "xstilts-out" / "micro-tiny" / "results.csv"
    os.utime(older, (1, 1))
    said: list[str] = []
    folder, config, size = find_results("micro", None, said.append)
    assert (folder, config.variant, size) == (Path("xstilts-out/micro"), None, None)
    assert "using xstilts-out/micro" in said[0] and "xstilts-out/micro-tiny" in said[0]
    with pytest.raises(XstiltsError, match=r"run the study first \(`xstilts run phang2020 --size tiny`\)"):
        find_results("phang2020", "tiny", print)


def test_the_run_ends_with_the_report_command():
    from xstilts.cli.app import report_command

    assert report_command("rq3-multitask-vs-sequential", "tiny", None, "micro-rq3-multitask-vs-sequential-tiny") == (
        "xstilts report rq3-multitask-vs-sequential --size tiny --out report-micro-rq3-multitask-vs-sequential-tiny")
    assert report_command("my study.yaml", None, Path("out/x"), "mine") == (
        "xstilts report 'my study.yaml' --results out/x --out report-mine")
