"""Family specs: each family's settings (strict, typed, range-checked), metrics, model kind and description,
declared once without torch; `xstilts validate` checks every task a study uses against them before anything
trains, pointing at file:line and key path."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import empty_task
from xstilts.config.load import load_study
from xstilts.errors import ConfigError, XstiltsError
from xstilts.families import FAMILY_MODULES, SPECS, family_spec, get_family
from xstilts.families.multiple_choice_settings import MultipleChoiceSettings
from xstilts.families.retrieval_settings import RetrievalSettings
from xstilts.families.span_qa_settings import SpanQASettings
from xstilts.tasks import TASKS, get_task

SRC = str(Path(__file__).resolve().parents[1] / "src")
TASK = "my-task"

STUDY = """\
name: t
tasks:
  {task}:
    family: {family}
    files: "{{data_root}}/{task}/{{split}}-{{language}}.jsonl"
    splits: {{train: [en], dev: [en], test: [en, de]}}
{extra}
model:
  build: {{hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64}}
  tokenizer: {{train: {{corpus: [mock-mlm], vocab_size: 500}}}}
stages:
  target:
    sources: [{{task: {source}}}]
    steps: 5
pipelines:
  only: [target]
"""


def study(tmp_path: Path, family: str, extra: str, source: str = TASK, task: str = TASK) -> Path:
    """A study declaring ``task`` (a study's tasks join the one registry: each declaration needs its own name)."""
    path = tmp_path / f"{task}.yaml"
    path.write_text(STUDY.format(family=family, extra=extra.rstrip("\n"), source=source, task=task))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_study(path)
    return caught.value.problems


def line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# ------------------------------------------------------------------ the review's cases, through validate


@pytest.mark.parametrize(("family", "extra", "key", "fragment"), [
    ("span_qa", "    metrics: [f1]\n    settings: {max_answer_lenght: 50}", "tasks.my-task.settings.max_answer_lenght",
     "unknown span_qa setting 'max_answer_lenght'; did you mean 'max_answer_length'?"),
    ("multiple_choice", "    settings:\n      num_choice: 4", "tasks.my-task.settings.num_choice",
     "unknown multiple_choice setting 'num_choice'; did you mean 'num_choices'?"),
    ("span_qa", "    metrics: [f1]\n    settings: {with_negativ: true}", "tasks.my-task.settings.with_negativ",
     "did you mean 'with_negative'?"),
    ("retrieval", "    metrics: [accuracy]\n    settings: {pooling: maen}", "tasks.my-task.settings.pooling",
     "pooling 'maen' is not one of mean, cls; did you mean 'mean'?"),
    ("retrieval", "    settings: {poolng: cls}", "tasks.my-task.settings.poolng",
     "unknown retrieval setting 'poolng'; did you mean 'pooling'?"),
    ("classification", "    labels: [a, b]\n    metrics: [accuracy, exact_match]", "tasks.my-task.metrics[1]",
     "the classification family does not compute the metric 'exact_match'; it computes accuracy, ndcg"),
    ("multiple_choice", "    settings: {num_choices: 1}", "tasks.my-task.settings.num_choices",
     "num_choices must be an integer >= 2, got 1"),
    ("span_qa", "    settings: {doc_stride: 0}", "tasks.my-task.settings.doc_stride",
     "doc_stride must be an integer >= 1, got 0"),
    ("span_qa", "    settings: {doc_stride: -8}", "tasks.my-task.settings.doc_stride",
     "doc_stride must be an integer >= 1, got -8"),
    ("span_qa", "    settings: {max_answer_length: 2.5}", "tasks.my-task.settings.max_answer_length",
     "max_answer_length must be an integer >= 1, got 2.5"),
    ("span_qa", "    settings: {with_negative: 'yes'}", "tasks.my-task.settings.with_negative",
     "with_negative must be true or false, got 'yes'"),
    ("retrieval", "    settings: {protocol: mining, similarity: margin}\n    metrics: [accuracy]",
     "tasks.my-task.metrics[0]", "the mining protocol of the retrieval family does not compute the metric "
     "'accuracy'; it computes f1, precision, recall"),
    ("retrieval", "    settings: {protocol: ranking, similarity: margin}", "tasks.my-task.settings.similarity",
     "the ranking protocol ranks candidates by cosine"),
    ("retrieval", "    settings: {layer: 13/12}", "tasks.my-task.settings.layer", 'layer must be an integer'),
    ("retrieval", "    settings: {chunk_size: 0}", "tasks.my-task.settings.chunk_size",
     "chunk_size must be an integer >= 1, got 0"),
    ("tagging", "    labels: [A, B]\n    settings: {scheme: bio}", "tasks.my-task.settings.scheme",
     "unknown setting 'scheme': the tagging family has no settings"),
    ("mlm", "    settings: {vocab_size: 1}", "tasks.my-task.settings.vocab_size",
     "vocab_size must be an integer >= 2, got 1"),
])
def test_bad_family_settings_and_metrics_name_file_line_and_key(tmp_path, family, extra, key, fragment):
    source = "my-task" if family not in ("retrieval", "mlm") else "mock-nli"
    path = study(tmp_path, family, extra, source)
    found = problems(path)
    setting = key.rsplit(".", 1)[1]
    marker = "metrics" if "metrics[" in key else setting
    expected = f"{path}:{line_of(path, marker)}: {key}: "
    assert any(p.startswith(expected) and fragment in p for p in found), (expected, fragment, found)


def test_every_problem_of_a_declaration_at_once(tmp_path):
    path = study(tmp_path, "span_qa", "    metrics: [f1, accuracy]\n"
                 "    settings: {max_answer_lenght: 50, doc_stride: 0, n_best: zero, with_negative: 1}")
    found = problems(path)
    for key in ("settings.max_answer_lenght", "settings.doc_stride", "settings.n_best", "settings.with_negative",
                "metrics[1]"):
        assert sum(f"tasks.my-task.{key}:" in p for p in found) == 1, (key, found)


def test_validate_reports_before_anything_trains_and_without_torch(tmp_path):
    path = study(tmp_path, "span_qa", "    settings: {max_answer_lenght: 50}")
    code = ("import sys\nfrom xstilts.cli import app\n"
            f"sys.argv = ['xstilts', 'validate', {str(path)!r}]\n"
            "try:\n    app(standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('torch', 'transformers') if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert f"{path}:{line_of(path, 'max_answer_lenght')}: tasks.my-task.settings.max_answer_lenght" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_declared_task_without_metrics_gets_its_family_main_metric(tmp_path):
    qa = load_study(study(tmp_path, "span_qa", "    settings: {max_answer_length: 50}", "spec-qa", "spec-qa"))
    assert get_task("spec-qa").metrics == ("f1",) and qa.tasks["spec-qa"].metrics is None
    load_study(study(tmp_path, "retrieval", "    settings: {protocol: mining, similarity: margin}", "mock-nli",
                     "my-mining"))
    assert get_task("my-mining").metrics == ("f1",)
    load_study(study(tmp_path, "retrieval", "", "mock-nli", "my-nearest"))
    assert get_task("my-nearest").metrics == ("accuracy",)


def test_good_declarations_pass(tmp_path):
    extra = "    metrics: [mlqa_f1, mlqa_exact_match]\n    settings: {max_answer_length: 50, doc_stride: 64, " \
            "with_negative: true, null_score_diff_threshold: 0}"
    load_study(study(tmp_path, "span_qa", extra, "good-qa", "good-qa"))
    load_study(study(tmp_path, "multiple_choice", "    settings: {num_choices: 2}", "good-mc", "good-mc"))
    load_study(study(tmp_path, "retrieval", '    settings: {layer: "7/12", pooling: cls, prefix: "query: ", '
                     "backend: exact, protocol: ranking}\n    metrics: [mrr@20, map@20]", "mock-nli", "good-ranking"))


# ------------------------------------------------------------------ built-in tasks a study uses


@pytest.fixture()
def broken_mock_qa():
    task = get_task("mock-qa")
    TASKS.replace("mock-qa", dataclasses.replace(task, settings={**task.settings, "max_answer_lenght": 9},
                                                 metrics=("f1", "accuracy")))
    yield
    TASKS.replace("mock-qa", task)


def test_a_used_built_in_task_is_checked_where_it_is_used(tmp_path, broken_mock_qa):
    path = study(tmp_path, "classification", "    labels: [a, b]", "mock-qa", "my-labels")
    found = problems(path)
    where = f"{path}:{line_of(path, 'task: mock-qa')}: stages.target.sources[0].task: task 'mock-qa': "
    assert any(p.startswith(where) and "did you mean 'max_answer_length'" in p for p in found), found
    assert any(p.startswith(where) and "does not compute the metric 'accuracy'" in p for p in found), found


@pytest.mark.parametrize("name", ["mock-qa", "mock-choice", "mock-retrieval", "mock-mlm", "mock-pos"])
def test_families_refuse_a_bad_task_at_run_time_too(name):
    # the runtime guard: the same spec, one error naming every problem (validate has said it before)
    task = get_task(name)
    family = get_family(task.family)
    bad = dataclasses.replace(task, settings={**task.settings, "bogus": 1})
    with pytest.raises(XstiltsError, match=f"task {name!r} does not fit the {task.family} family: "
                       f"unknown .*'bogus'"):
        family.checked(bad)
    assert family.checked(task) == family_spec(task.family).settings.parse(task.settings)[0]


def test_a_family_needing_an_encoder_decoder_is_refused(tmp_path):
    spec = family_spec("span_qa")
    SPECS.replace("span_qa", dataclasses.replace(spec, model_kind="encoder-decoder"))
    try:
        path = study(tmp_path, "span_qa", "", source="encdec-task", task="encdec-task")
        found = problems(path)
    finally:
        SPECS.replace("span_qa", spec)
    # refused where the encoder model would run it (the model's kind decides, not the declaration)
    assert any(": stages.target.sources[0].task: task 'encdec-task': the span_qa family needs an encoder-decoder model"
               in p and "is an encoder" in p for p in found), found


# ------------------------------------------------------------------ the settings spec itself


def test_settings_parse_defaults_null_and_types():
    settings, found = SpanQASettings.parse({"max_answer_length": None, "doc_stride": 64})
    assert found == [] and settings == SpanQASettings(doc_stride=64)
    assert (settings.max_answer_length, settings.with_negative, settings.n_best) == (30, False, 20)
    assert MultipleChoiceSettings.parse({})[0].num_choices is None
    # booleans are not integers, integers are numbers
    assert SpanQASettings.parse({"n_best": True})[1] == [("n_best", "n_best must be an integer >= 1, got True")]
    assert SpanQASettings.parse({"null_score_diff_threshold": 1})[1] == []
    assert RetrievalSettings.parse({"prefix": 3})[1] == [("prefix", "prefix must be a string, got 3")]
    assert RetrievalSettings.parse({"threshold_split": ""})[1][0][0] == "threshold_split"


def test_retrieval_metrics_follow_the_protocol():
    spec = family_spec("retrieval")
    assert spec.problems({"protocol": "ranking"}, ["map@20", "mrr@20"]) == []
    ((where, message),) = spec.problems({"protocol": "ranking"}, ["accuracy"])
    assert where == ("metrics", 0) and "the ranking protocol" in message and "map@20, mrr@20" in message
    # broken settings: the metrics are checked against every metric of the family
    assert [w for w, _ in spec.problems({"protocol": "minning"}, ["f1", "bleu"])] == [
        ("settings", "protocol"), ("metrics", 1)]


def test_the_runtime_memo_does_not_confuse_true_with_one():
    family = get_family("span_qa")
    family.checked(empty_task("span_qa", settings={"with_negative": True}, metrics=("f1",)))
    with pytest.raises(XstiltsError, match="with_negative must be true or false, got 1"):
        family.checked(empty_task("span_qa", settings={"with_negative": 1}, metrics=("f1",)))


# ------------------------------------------------------------------ one description, the family's own


def test_ls_families_prints_each_family_own_description():
    result = subprocess.run([sys.executable, "-m", "xstilts", "ls", "families"], capture_output=True, text=True,
                            env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [f"{name:16} {get_family(name).description}" for name in FAMILY_MODULES]
    # the stale copy the review found: retrieval is not only Tatoeba's nearest neighbour
    assert "margin mining or ranking" in get_family("retrieval").description
