"""Config validation: typed schema + semantic checks, every problem at once, with key path, line and hint."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from xstilts.config.load import load_study, parse_study
from xstilts.errors import ConfigError

SRC = str(Path(__file__).resolve().parents[1] / "src")

GOOD = """\
name: t
model:
  build: {hidden_size: 32, num_layers: 1, num_heads: 2, intermediate_size: 64}
  tokenizer: {train: {corpus: [mock-mlm], vocab_size: 500}}
stages:
  inter:
    sources: [{task: mock-qa}]
    steps: 5
  target:
    sources: [{task: mock-nli}]
    steps: 5
pipelines:
  baseline: [target]
  stilts: [inter, target]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_study(write(tmp_path, text))
    return caught.value.problems


def test_good_config_loads_with_defaults(tmp_path):
    config = load_study(write(tmp_path, GOOD))
    assert config.seeds == [0]
    assert config.stages["target"].optimizer.lr == 1e-5  # the paper's learning rate is the default
    assert config.pipeline("stilts").stages == ["inter", "target"]


def test_unknown_key_names_path_line_and_suggestion(tmp_path):
    text = GOOD.replace("    sources: [{task: mock-qa}]", "    sorces: [{task: mock-qa}]")
    problems = problems_of(tmp_path, text)
    unknown = [p for p in problems if "sorces" in p]
    assert len(unknown) == 1
    # line 7 of the file holds `sorces:`
    assert ":7: stages.inter.sorces: unknown key; did you mean 'sources'?" in unknown[0]


def test_all_problems_reported_at_once(tmp_path):
    text = (GOOD.replace("task: mock-qa", "task: mock-qaa")
                .replace("steps: 5\n  target", "steps: -1\n  target")
                .replace("stilts: [inter, target]", "stilts: [intr, target]"))
    problems = problems_of(tmp_path, text)
    joined = "\n".join(problems)
    # the schema problem (steps) is reported; the semantic ones need a valid schema first
    assert "stages.inter.steps" in joined and "greater than 0" in joined
    text = GOOD.replace("task: mock-qa", "task: mock-qaa").replace("stilts: [inter, target]", "stilts: [intr, target]")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    assert any("unknown task 'mock-qaa': did you mean 'mock-qa'" in p for p in problems)
    assert any("pipelines.stilts[0]" in p and "did you mean 'inter'" in p for p in problems)


def test_language_codes_are_validated(tmp_path):
    text = GOOD.replace("{task: mock-nli}", "{task: mock-nli, languages: [en, dee]}")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert "stages.target.sources[0].languages[1]" in problems[0] and "unknown language code 'dee'" in problems[0]


def test_language_the_task_lacks(tmp_path):
    # mock-nli's training data is English only (zero-shot): asking for qad training data is an error, though
    # its dev and test sets are in qad too
    text = GOOD.replace("{task: mock-nli}", "{task: mock-nli, languages: [qad]}")
    problems = problems_of(tmp_path, text)
    assert "has no 'qad' data in split 'train'" in problems[0]


def test_contradictory_settings(tmp_path):
    text = GOOD.replace("    sources: [{task: mock-nli}]\n    steps: 5",
                        "    sources: [{task: mock-nli, max_examples: 5, fraction: 0.5}]\n    steps: 5\n    epochs: 1")
    problems = "\n".join(problems_of(tmp_path, text))
    assert "exactly one of `steps` or `epochs`" in problems


def test_max_examples_and_fraction_conflict(tmp_path):
    text = GOOD.replace("{task: mock-nli}", "{task: mock-nli, max_examples: 5, fraction: 0.5}")
    problems = problems_of(tmp_path, text)
    assert problems == [p for p in problems if "`max_examples` or `fraction`, not both" in p] and problems


def test_source_max_length_defaults_to_the_stage_and_is_validated_like_it(tmp_path):
    text = GOOD.replace("{task: mock-nli}", "{task: mock-nli, max_length: 64}")
    stage = load_study(write(tmp_path, text)).stages["target"]
    assert stage.max_length == 256 and stage.source_max_length(stage.sources[0]) == 64
    inter = load_study(write(tmp_path, text)).stages["inter"]
    assert inter.sources[0].max_length is None and inter.source_max_length(inter.sources[0]) == 256
    # too short and not a number: both reported at once, each at its key path and line
    bad = GOOD.replace("{task: mock-nli}", "{task: mock-nli, max_length: 8}").replace(
        "{task: mock-qa}", "{task: mock-qa, max_length: long}")
    problems = problems_of(tmp_path, bad)
    assert len(problems) == 2
    assert any(":10: stages.target.sources[0].max_length" in p and "greater than or equal to 16" in p
               for p in problems)
    assert any(":7: stages.inter.sources[0].max_length" in p and "valid integer" in p for p in problems)


def test_source_longer_than_the_built_encoder(tmp_path):
    # the built encoder of GOOD keeps BuildConfig's default max_length, 512
    text = GOOD.replace("{task: mock-nli}", "{task: mock-nli, max_length: 600}")
    (problem,) = problems_of(tmp_path, text)
    assert "stages.target.sources[0].max_length: 600 exceeds the built encoder's model.build.max_length 512" in problem


def test_retrieval_is_never_a_training_source(tmp_path):
    text = GOOD.replace("{task: mock-qa}", "{task: mock-retrieval}")
    problems = problems_of(tmp_path, text)
    assert any("evaluated, never trained" in p for p in problems)


def test_evaluated_task_needs_a_trained_head(tmp_path):
    text = GOOD.replace("stilts: [inter, target]", "stilts: {stages: [inter, target], evaluate: [mock-qa]}")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1 and "needs the head 'mock-qa'" in problems[0]
    # keep_heads carries the intermediate head into the target stage: now it is fine
    fixed = text.replace("    sources: [{task: mock-nli}]\n", "    sources: [{task: mock-nli}]\n    keep_heads: true\n")
    assert load_study(write(tmp_path, fixed)).stages["target"].keep_heads


def test_model_needs_exactly_one_source(tmp_path):
    text = GOOD.replace("model:\n", "model:\n  name_or_path: /nowhere\n")
    problems = problems_of(tmp_path, text)
    assert any("exactly one of `name_or_path`" in p for p in problems)


def test_literal_choice_has_suggestion(tmp_path):
    text = GOOD.replace("    steps: 5\npipelines", "    steps: 5\n    sampler: {kind: temprature}\npipelines")
    problems = problems_of(tmp_path, text)
    assert "did you mean 'temperature'" in problems[0]


def test_parse_from_dict_without_file():
    import yaml

    config = parse_study(yaml.safe_load(GOOD))
    assert set(config.pipelines) == {"baseline", "stilts"}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts", *args], capture_output=True, text=True, cwd=cwd,
                          env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})


def test_cli_validate_exit_2_without_traceback(tmp_path):
    path = write(tmp_path, GOOD.replace("steps: 5\n  target", "stepz: 5\n  target"))
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "stepz" in result.stderr and "did you mean 'steps'" in result.stderr


def test_cli_run_refuses_invalid_config(tmp_path):
    path = write(tmp_path, GOOD.replace("task: mock-nli", "task: mock-nly"))
    result = run_cli("run", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "did you mean 'mock-nli'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_missing_file_and_bad_yaml(tmp_path):
    result = run_cli("validate", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2 and "no such study file" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstages: [unclosed\n")
    result = run_cli("validate", str(bad))
    assert result.returncode == 2 and "not valid YAML" in result.stderr and "Traceback" not in result.stderr


def _heavy_modules_after(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run the CLI with ``args`` in a fresh interpreter; its stdout ends with the heavy modules it imported."""
    code = (
        "import sys\n"
        f"sys.argv = ['xstilts', *{args!r}]\n"
        "from xstilts.cli import app\n"
        "try:\n    app(standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", **env})


@pytest.mark.parametrize("args", [["--help"], ["ls", "tasks"], ["ls", "families"], ["ls", "presets"],
                                  ["ls", "metrics"], ["validate", "tiny"], ["report", "--help"], ["init", "--help"]])
def test_light_commands_do_not_import_torch(args):
    result = _heavy_modules_after(args)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("args", [["results", "tiny"], ["results", "tiny", "--format", "json", "--examples"]])
def test_results_command_does_not_import_torch(args, tmp_path):
    # Plans the study (which writes the mock data into XSTILTS_HOME, hence a private one) and reads the store.
    result = _heavy_modules_after(args, XSTILTS_HOME=str(tmp_path))
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert "evaluations done" in result.stderr


@pytest.mark.parametrize("args", [["runn"], ["run", "--sise", "tiny"], ["ls", "taskz"]])
def test_usage_errors_exit_2_with_a_hint(args):
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Did you mean" in result.stderr or "Possible options" in result.stderr or "not one of" in result.stderr


def test_unknown_size_names_the_variants():
    from xstilts.errors import XstiltsError

    with pytest.raises(XstiltsError, match="no variant 'tinny' for --size: did you mean 'tiny'"):
        load_study("micro", size="tinny")
    with pytest.raises(XstiltsError, match="no variant 'huge' for --size: study 'micro' has the variants tiny"):
        load_study("micro", size="huge")
    with pytest.raises(XstiltsError, match="defines no `variants`"):
        load_study("tiny", size="micro")


@pytest.mark.parametrize(("study", "size"), [("micro", "micro"), ("micro-phang2020", "micro"), ("tiny", "tiny"),
                                             ("phang2020", "micro")])
def test_size_a_study_already_is_runs_it_as_it_is(study, size):
    # `micro --size micro`: no such variant, but the study is that size already (its name says so)
    config = load_study(study, size=size)
    assert config.variant is None and (config.name == size or config.name.startswith(f"{size}-"))


def test_micro_generate_unknown_size_exits_2():
    result = run_cli("micro", "generate", "--size", "huge")
    assert result.returncode == 2 and "unknown micro-benchmark size 'huge'" in result.stderr


def test_twin_variant_loads_the_other_study(tmp_path):
    # `--size tiny` of a real-data study runs its offline twin with the twin's own `tiny` variant
    twin = write(tmp_path, GOOD + "variants:\n  tiny: {stages: {target: {steps: 2}}}\n")
    real = tmp_path / "real.yaml"
    real.write_text(GOOD.replace("name: t", "name: real") + f"variants:\n  tiny: {{twin: {twin}}}\n  micro: {{twin: {twin}}}\n")
    assert load_study(real).name == "real"
    tiny = load_study(real, size="tiny")
    assert (tiny.name, tiny.variant, tiny.stages["target"].steps) == ("t", "tiny", 2)
    micro = load_study(real, size="micro")  # the twin has no `micro` variant: it runs as it is
    assert (micro.name, micro.variant, micro.stages["target"].steps) == ("t", None, 5)


def test_twin_variant_must_exist(tmp_path):
    problems = problems_of(tmp_path, GOOD + "variants:\n  tiny: {twin: micro-nope}\n")
    assert len(problems) == 1 and "variants.tiny.twin" in problems[0] and "did you mean 'micro'" in problems[0]


def test_xquad_mlqa_and_xcopa_are_evaluated_with_the_heads_of_their_training_tasks(tmp_path):
    # XTREME trains XQuAD and MLQA on SQuAD v1.1; XTREME-R trains SocialIQa, then COPA, and evaluates XCOPA:
    # shared heads
    study = load_study(write(tmp_path, """\
        name: heads
        model: {name_or_path: xlm-roberta-base}
        stages:
          squad: {sources: [{task: squad}], epochs: 2}
          siqa: {sources: [{task: socialiqa}], epochs: 2}
          copa: {sources: [{task: copa}], epochs: 2, keep_heads: true}
        pipelines:
          qa: {stages: [squad], evaluate: [xquad, mlqa]}
          siqa-only: {stages: [siqa], evaluate: [xcopa]}
          xtreme-r: {stages: [siqa, copa], evaluate: [xcopa]}
        """))
    assert set(study.pipelines) == {"qa", "siqa-only", "xtreme-r"}
    problems = problems_of(tmp_path, """\
        name: heads
        model: {name_or_path: xlm-roberta-base}
        stages:
          nli: {sources: [{task: mnli}], epochs: 2}
        pipelines:
          qa: {stages: [nli], evaluate: [xquad]}
        """)
    assert len(problems) == 1 and "needs the head 'squad'" in problems[0]
