"""The run-folder layout is the store's on-disk format: RunFolder must keep naming the parts as stores have them."""

from __future__ import annotations

from pathlib import Path

from xstilts.run_folder import RunFolder
from xstilts.studies.store import RunStore


def test_run_folder_names_the_parts_of_the_store_format(tmp_path):
    run = RunFolder(tmp_path / "k1")
    names = {
        run.config: "config.yaml", run.log: "log.jsonl", run.state: "state", run.checkpoint: "checkpoint",
        run.metrics: "metrics.json", run.tracking_ids: "tracking.json", run.tensorboard: "tensorboard",
        run.done_marker: "DONE", run.predictions: "predictions", run.task_predictions("xnli"): "predictions/xnli",
        run.prediction_file("xnli", "test", "de"): "predictions/xnli/test-de.jsonl",
        run.eval_result("e1"): "eval/e1.json", run.eval_units("e1"): "eval/e1.units.json",
    }
    for path, name in names.items():
        assert path == tmp_path / "k1" / name


def test_store_hands_out_run_folders_and_marks_them_done(tmp_path):
    store = RunStore(tmp_path)
    assert store.run("k1") == RunFolder(Path(str(tmp_path / "k1"))) and store.run("k1").path == store.path("k1")
    assert not store.is_done("k1")
    store.mark_done("k1")
    assert (tmp_path / "k1" / "DONE").read_text() == "done\n" and store.is_done("k1")
