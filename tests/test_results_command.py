"""End to end: a tiny study writes per-example units and example_scores.jsonl that add up to results.csv, and
`xstilts results` gives the rows of results.csv as CSV, JSON and Parquet."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from typer.testing import CliRunner

from helpers import tiny_model_yaml
from xstilts.cli import app
from xstilts.config.load import parse_study
from xstilts.errors import XstiltsError
from xstilts.scoring.example_scores import read_example_scores
from xstilts.studies.results_files import RESULT_COLUMNS
from xstilts.studies.runner import run_study

# One short stage on a task of every trainable family, evaluated in both languages, and retrieval.
STUDY = f"""
name: units
{tiny_model_yaml()}stages:
  target:
    sources: [{{task: mock-nli, max_examples: 16}}, {{task: mock-ner, max_examples: 16}},
              {{task: mock-qa, max_examples: 16}}, {{task: mock-choice, max_examples: 16}}]
    steps: 2
    batch_size: 8
    max_length: 64
    selection: {{enabled: false}}
pipelines:
  only: [target]
  retrieval: {{stages: [target], evaluate: [mock-retrieval]}}
evaluate: {{max_examples: 10}}
runtime: {{progress: false, threads: 1}}
"""


def read_csv_text(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def study_run(xstilts_home, tmp_path_factory):
    root = tmp_path_factory.mktemp("units-study")
    data = yaml.safe_load(STUDY)
    data["store"] = str(root / "store")
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump(data))
    rows = run_study(parse_study(data), root / "out")
    return path, root / "out", root / "store", rows


def cli(*args: str):
    """The command in this process (XSTILTS_HOME is the session's); tests/test_config.py runs it in a fresh
    interpreter to check that it imports no torch."""
    return CliRunner().invoke(app, list(args))


def test_units_files_and_example_scores_add_up_to_results_csv(study_run):
    _, out, store, rows = study_run
    table = read_csv_text((out / "results.csv").read_text())
    records = read_example_scores(out / "example_scores.jsonl")
    assert {(r["eval_key"], r["metric"]) for r in records} == {(r["eval_key"], r["metric"]) for r in table}
    assert len(records) == len({(r["eval_key"], r["metric"]) for r in records})  # one line per pair
    values = {(r["eval_key"], r["metric"]): r["value"] for r in table}
    for record in records:
        recomputed = 100 * sum(record["num"]) / sum(record["den"]) if sum(record["den"]) else 0.0
        assert f"{recomputed:.4f}" == values[(record["eval_key"], record["metric"])]
        assert len(record["ids"]) == len(record["num"]) == len(record["den"]) > 0
    families = {(r["task"], r["metric"]) for r in records}
    assert {("mock-nli", "accuracy"), ("mock-ner", "f1"), ("mock-qa", "exact_match"), ("mock-choice", "accuracy"),
            ("mock-retrieval", "accuracy")} <= families
    # The store holds one units file per evaluation, with the ids of every evaluated example.
    units_files = sorted(store.glob("*/eval/*.units.json"))
    assert len(units_files) == len({r["eval_key"] for r in table})
    first = json.loads(units_files[0].read_text())
    assert first["key"] == units_files[0].name.removesuffix(".units.json") and first["ids"]
    nli = next(r for r in records if r["task"] == "mock-nli")
    assert nli["ids"] == json.loads((store / nli["stage_key"] / "eval" / f"{nli['eval_key']}.units.json")
                                    .read_text())["ids"]


def test_evaluations_without_units_are_left_out(study_run):
    # An evaluation done by an older xstilts has no units file: it is not redone, and example_scores.jsonl
    # simply lacks it while results.csv keeps its rows.
    path, out, store, _ = study_run
    data = yaml.safe_load(path.read_text())
    victim = sorted(store.glob("*/eval/*.units.json"))[0]
    key = victim.name.removesuffix(".units.json")
    saved = victim.read_bytes()
    victim.unlink()
    try:
        rows = run_study(parse_study(data), out.parent / "out-again")
        records = read_example_scores(out.parent / "out-again" / "example_scores.jsonl")
        assert key in {row["eval_key"] for row in rows} and key not in {r["eval_key"] for r in records}
        assert not victim.exists()
    finally:
        victim.write_bytes(saved)


def test_results_command_gives_the_rows_of_results_csv(study_run, xstilts_home, tmp_path):
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    path, out, _, _ = study_run
    expected = read_csv_text((out / "results.csv").read_text())

    as_csv = cli("results", str(path))
    assert as_csv.exit_code == 0, as_csv.stderr
    assert as_csv.stdout_bytes.decode() == (out / "results.csv").read_text()
    n = len({r["eval_key"] for r in expected})
    assert f"{n} of {n} evaluations done, 0 missing" in as_csv.stderr

    as_json = cli("results", str(path), "--format", "json", "--output", str(tmp_path / "r.json"))
    assert as_json.exit_code == 0, as_json.stderr
    objects = json.loads((tmp_path / "r.json").read_text())
    assert [list(o) for o in objects] == [RESULT_COLUMNS] * len(expected)
    for got, want in zip(objects, expected, strict=True):
        assert isinstance(got["value"], float) and isinstance(got["seed"], int) and isinstance(got["main"], bool)
        assert f"{got['value']:.4f}" == want["value"] and str(got["main"]) == want["main"]
        assert {k: str(v) for k, v in got.items() if k not in ("value", "chance", "weight")} == {
            k: v for k, v in want.items() if k not in ("value", "chance", "weight")}
        assert got["weight"] is None if want["weight"] == "" else f"{got['weight']:.4f}" == want["weight"]

    as_parquet = cli("results", str(path), "--format", "parquet", "--output", str(tmp_path / "r.parquet"))
    assert as_parquet.exit_code == 0, as_parquet.stderr
    table = pyarrow_parquet.read_table(tmp_path / "r.parquet")
    assert table.column_names == RESULT_COLUMNS
    assert str(table.schema.field("value").type) == "double" and str(table.schema.field("main").type) == "bool"
    assert table.to_pylist() == objects  # the same typed rows as the JSON (all values here are finite)

    examples = cli("results", str(path), "--examples")
    assert examples.exit_code == 0, examples.stderr
    lines = [json.loads(line) for line in examples.stdout_bytes.decode().splitlines()]
    assert lines == read_example_scores(out / "example_scores.jsonl")


def test_results_command_errors(study_run):
    path = str(study_run[0])
    parquet = cli("results", path, "--format", "parquet")
    assert isinstance(parquet.exception, XstiltsError) and "give it with --output" in str(parquet.exception)
    assert not parquet.stdout_bytes
    unknown = cli("results", path, "--format", "xlsx")
    assert unknown.exit_code == 2 and "'xlsx' is not one of 'csv'," in unknown.stderr  # (rich wraps the line)
    mixed = cli("results", path, "--examples", "--format", "csv")
    assert isinstance(mixed.exception, XstiltsError) and "--examples writes JSON lines" in str(mixed.exception)


def test_results_of_a_study_not_run_yet(xstilts_home, tmp_path):
    data = yaml.safe_load(STUDY)
    data["store"] = str(tmp_path / "empty-store")
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data))
    result = cli("results", str(path), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout_bytes) == []
    assert "0 of 9 evaluations done, 9 missing" in result.stderr
