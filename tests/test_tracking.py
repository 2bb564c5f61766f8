"""Experiment tracking: TensorBoard by default (its scalars equal log.jsonl), none with `trackers: []`, config
errors with suggestions, a clear error for a tracker that is not installed, resume without duplicate steps,
lineage keys untouched by tracker settings; MLflow and W&B in local/offline mode when installed (slow)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from helpers import by_tag, read_events, target_study_yaml
from xstilts import faults
from xstilts.config.load import parse_study
from xstilts.errors import ConfigError, XstiltsError
from xstilts.studies.context import resolve_data_root
from xstilts.studies.plan import build_plan
from xstilts.studies.runner import run_study

DEV_EVERY = 3


def study_data(store: Path, runtime: str = "{progress: false}", steps: int = 6, **stage) -> dict:
    settings = dict(sources="[{task: mock-paraphrase, max_examples: 64}]", steps=steps, batch_size=8, max_length=32,
                    optimizer="{lr: 1.0e-3}", selection=f"{{every: {DEV_EVERY}, max_examples: 16}}")
    settings.update(stage)
    data = yaml.safe_load(target_study_yaml("tracked", evaluate=8, runtime=runtime, **settings))
    data["store"] = str(store)
    return data


def stage_folder(store: Path) -> Path:
    (folder,) = [p for p in store.iterdir() if p.is_dir() and (p / "config.yaml").exists()]
    return folder


def read_log(folder: Path) -> tuple[list[dict], list[dict]]:
    records = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    return [r for r in records if "loss" in r], [r["dev"] for r in records if "dev" in r]


def test_tensorboard_by_default_logs_what_log_jsonl_says(xstilts_home, tmp_path):
    store = tmp_path / "runs"
    study = parse_study(study_data(store))
    assert study.runtime.trackers == ["tensorboard"]
    run_study(study, tmp_path / "out")
    folder = stage_folder(store)
    (run_dir,) = (folder / "tensorboard").iterdir()
    assert run_dir.name == f"target-seed0-{folder.name[:8]}"
    scalars = read_events(run_dir)
    train, dev = read_log(folder)

    # 6 steps, fewer than 50: every step is logged; dev evaluations at steps 3 and 6
    assert [r["step"] for r in train] == [1, 2, 3, 4, 5, 6]
    for name in ("loss", "lr", "examples_per_s", "epoch"):
        expected = [(r["step"], pytest.approx(r[name], rel=1e-6)) for r in train]
        assert by_tag(scalars, f"train/{name}") == expected, name
    # warmup round(0.1 * 6) = 1 step, then linear decay: the rate after step s is 1e-3 * (6 - s) / 5
    assert [v for _, v in by_tag(scalars, "train/lr")] == pytest.approx([1e-3 * (6 - s) / 5 for s in range(1, 7)])
    assert [d["step"] for d in dev] == [DEV_EVERY, 2 * DEV_EVERY]
    assert by_tag(scalars, "dev/score") == [(d["step"], pytest.approx(d["score"])) for d in dev]
    assert by_tag(scalars, "dev/mock-paraphrase/en") == [
        (d["step"], pytest.approx(d["scores"]["mock-paraphrase/en"])) for d in dev]
    assert {tag for tag, _, _ in scalars} == {"train/loss", "train/lr", "train/examples_per_s", "train/epoch",
                                             "dev/score", "dev/mock-paraphrase/en"}


def test_no_trackers_writes_no_tensorboard_folder(xstilts_home, tmp_path):
    store = tmp_path / "runs"
    run_study(parse_study(study_data(store, runtime="{progress: false, trackers: []}")), tmp_path / "out")
    folder = stage_folder(store)
    assert (folder / "log.jsonl").exists() and (folder / "DONE").exists()
    assert not (folder / "tensorboard").exists() and not (folder / "tracking.json").exists()


def test_tracker_settings_stay_out_of_lineage_keys(xstilts_home, tmp_path):
    plain = parse_study(study_data(tmp_path / "runs", runtime="{trackers: []}"))
    tracked = parse_study(study_data(tmp_path / "runs", runtime=(
        "{trackers: [tensorboard, mlflow, wandb], tracking: {project: elsewhere, "
        "mlflow_uri: 'http://localhost:5000', wandb_mode: offline}}")))
    keys = []
    for study in (plain, tracked):
        plan = build_plan(study, resolve_data_root(study))
        keys.append(([n.key for n in plan.stages], [e.key for e in plan.evaluations]))
    assert keys[0] == keys[1] and keys[0][0]


def test_unknown_or_repeated_tracker_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        parse_study(study_data(tmp_path, runtime="{trackers: [tensorboard, mlfow]}"), source="s.yaml")
    assert "runtime.trackers[1]: 'mlfow' is not allowed; did you mean 'mlflow'?" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_study(study_data(tmp_path, runtime="{trackers: [wandb, wandb]}"), source="s.yaml")
    assert "runtime.trackers: 'wandb' listed more than once" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        parse_study(study_data(tmp_path, runtime="{tracking: {wandb_mode: ofline}}"), source="s.yaml")
    assert "runtime.tracking.wandb_mode: 'ofline' is not allowed; did you mean 'offline'" in str(caught.value)


@pytest.mark.parametrize("tracker, command", [
    ("mlflow", "pip install 'xstilts[mlflow]'"),
    ("wandb", "pip install 'xstilts[wandb]'"),
    ("tensorboard", "pip install tensorboardX"),
])
def test_missing_tracker_fails_before_training_and_names_the_install(xstilts_home, tmp_path, monkeypatch,
                                                                     tracker, command):
    import xstilts.training.tracking as tracking

    providers = {"mlflow": {"mlflow"}, "wandb": {"wandb"}, "tensorboard": {"tensorboard", "tensorboardX"}}
    real = tracking._installed
    monkeypatch.setattr(tracking, "_installed", lambda module: module not in providers[tracker] and real(module))
    store = tmp_path / "runs"
    study = parse_study(study_data(store, runtime=f"{{progress: false, trackers: [{tracker}]}}"))
    with pytest.raises(XstiltsError) as caught:
        run_study(study, tmp_path / "out")
    assert f"runtime.trackers asks for {tracker!r}, which is not installed: {command}" in str(caught.value)
    assert not store.exists() or not any(p.is_dir() for p in store.iterdir())  # nothing trained


def test_the_run_says_how_to_view_its_logs(monkeypatch):
    from xstilts.config.schema import RuntimeConfig
    from xstilts.training import tracking
    from xstilts.training.tracking import viewing_hint

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking, "_installed", lambda module: True)
    assert viewing_hint(RuntimeConfig(), Path("/store")) == "tracking: tensorboard --logdir /store"
    # without the viewer (tensorboardX can write the logs but has none), the hint installs it first
    monkeypatch.setattr(tracking, "_installed", lambda module: module != "tensorboard")
    assert viewing_hint(RuntimeConfig(), Path("/store")) == (
        "tracking: pip install tensorboard && tensorboard --logdir /store")
    assert viewing_hint(RuntimeConfig(trackers=[]), Path("/store")) is None
    both = RuntimeConfig(trackers=["mlflow", "wandb"], tracking={"project": "p"})
    assert viewing_hint(both, Path("/store")) == (
        "tracking: mlflow ui --backend-store-uri sqlite:////store/mlflow.db; W&B project p")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracker:5000")
    assert viewing_hint(both, Path("/store")) == "tracking: MLflow at http://tracker:5000; W&B project p"


def test_cli_shows_the_install_command_with_its_brackets(capsys):
    from xstilts.cli import _err

    _err("runtime.trackers asks for 'mlflow', which is not installed: pip install 'xstilts[mlflow]'")
    assert "pip install 'xstilts[mlflow]'" in capsys.readouterr().err  # not eaten as rich markup


def crash_at_step(study, out: Path, step: int) -> None:
    """Run ``study`` until it crashes right after training step ``step`` (the test-only fault seam)."""
    with faults.armed(f"train.step@{step}:raise"), pytest.raises(faults.InjectedFault):
        run_study(study, out)


def test_resumed_stage_continues_its_tensorboard_run_without_duplicate_steps(xstilts_home, tmp_path):
    store = tmp_path / "runs"
    study = parse_study(study_data(store, steps=8, checkpoint_every=4))
    crash_at_step(study, tmp_path / "out", 5)  # after the state saved at step 4 and the dev evaluation at 3
    run_study(study, tmp_path / "out")

    folder = stage_folder(store)
    assert json.loads((folder / "metrics.json").read_text())["resumed_from"] == 4
    (run_dir,) = (folder / "tensorboard").iterdir()  # the same run folder, a second event file
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 2
    scalars = read_events(run_dir)
    train, dev = read_log(folder)
    assert [step for step, _ in by_tag(scalars, "train/loss")] == list(range(1, 9))  # 5 logged twice, shown once
    assert by_tag(scalars, "train/loss") == [(r["step"], pytest.approx(r["loss"], rel=1e-6)) for r in train]
    assert by_tag(scalars, "dev/score") == [(d["step"], pytest.approx(d["score"])) for d in dev]
    assert [d["step"] for d in dev] == [3, 6, 8]
    # The first run's step 5 is in its file still; TensorBoard hides it by the restart marker at step 5.
    raw = read_events(run_dir, honour_restarts=False)
    assert [step for step, _ in by_tag(raw, "train/loss")] == [1, 2, 3, 4, 5, 5, 6, 7, 8]


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def crash_then_resume(study, store: Path, out: Path) -> tuple[Path, dict, dict]:
    """Run ``study`` until a crash at step 5, then again to the end; returns the stage folder and its
    tracking ids (tracking.json) after the crash and after the resume."""
    crash_at_step(study, out, 5)
    folder = stage_folder(store)
    first = json.loads((folder / "tracking.json").read_text())
    run_study(study, out)
    return folder, first, json.loads((folder / "tracking.json").read_text())


@pytest.mark.slow
@pytest.mark.skipif(not _have("mlflow"), reason="mlflow is not installed: pip install 'xstilts[mlflow]'")
def test_mlflow_logs_to_a_sqlite_store_and_a_resumed_stage_reopens_its_run(xstilts_home, tmp_path, monkeypatch):
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.chdir(tmp_path)  # nothing may land in the working folder
    store = tmp_path / "runs"
    study = parse_study(study_data(store, runtime="{progress: false, trackers: [mlflow]}", steps=8,
                                   checkpoint_every=4))
    folder, first, ids = crash_then_resume(study, store, tmp_path / "out")
    assert ids == first  # the same run, continued
    assert ids["mlflow_uri"] == f"sqlite:///{store.resolve() / 'mlflow.db'}"
    client = mlflow.MlflowClient(ids["mlflow_uri"])
    run = client.get_run(ids["mlflow_run_id"])
    assert run.info.run_name == f"target-seed0-{folder.name[:8]}" and run.info.status == "FINISHED"
    assert client.get_experiment(run.info.experiment_id).name == "tracked"  # the study's name
    assert run.data.params["optimizer.lr"] == "0.001" and run.data.params["key"] == folder.name
    train, dev = read_log(folder)
    losses = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, "train/loss"))
    # MLflow keeps every point: step 5, logged before the crash and again after the resume, is there twice.
    assert [step for step, _ in losses] == [1, 2, 3, 4, 5, 5, 6, 7, 8]
    assert sorted(set(losses)) == [(r["step"], pytest.approx(r["loss"])) for r in train]
    scores = client.get_metric_history(run.info.run_id, "dev/mock-paraphrase/en")
    assert sorted((m.step, m.value) for m in scores) == [(d["step"], d["scores"]["mock-paraphrase/en"]) for d in dev]
    assert not (folder / "tensorboard").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out", "runs"]


@pytest.mark.slow
@pytest.mark.skipif(not _have("mlflow"), reason="mlflow is not installed: pip install 'xstilts[mlflow]'")
def test_mlflow_store_that_cannot_be_used_is_a_clear_error(xstilts_home, tmp_path):
    store = tmp_path / "runs"
    runtime = "{progress: false, trackers: [mlflow], tracking: {mlflow_uri: 'nosuchscheme://x'}}"
    with pytest.raises(XstiltsError) as caught:
        run_study(parse_study(study_data(store, runtime=runtime)), tmp_path / "out")
    message = str(caught.value)
    assert "could not start the trackers ['mlflow']" in message and "MLflow URI: nosuchscheme://x" in message
    folder = stage_folder(store)
    assert read_log(folder) == ([], []) and not (folder / "DONE").exists()  # stopped before the first step


@pytest.mark.slow
@pytest.mark.skipif(not _have("wandb"), reason="wandb is not installed: pip install 'xstilts[wandb]'")
def test_wandb_offline_writes_into_the_stage_folder_and_a_resumed_stage_keeps_its_run_id(xstilts_home, tmp_path,
                                                                                         monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")  # no tracking.wandb_mode: the environment decides
    monkeypatch.setenv("WANDB_SILENT", "true")
    store = tmp_path / "runs"
    study = parse_study(study_data(store, runtime="{progress: false, trackers: [wandb]}", steps=8,
                                   checkpoint_every=4))
    folder, first, ids = crash_then_resume(study, store, tmp_path / "out")
    assert ids == first and ids["wandb_id"]
    # One offline folder per session of the same run, each with the run's records for `wandb sync`.
    sessions = sorted((folder / "wandb").glob("offline-run-*"))
    assert len(sessions) == 2 and all(s.name.endswith("-" + ids["wandb_id"]) for s in sessions)
    assert all(list(s.glob("*.wandb")) for s in sessions)
