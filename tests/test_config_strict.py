"""Strict study files: hand-written bad configs, each refused at once with file:line, key path and what is allowed.

The YAML itself (duplicate keys, bytes that are not UTF-8, nesting, a top level that is not a mapping), numbers
(no booleans, no inf or nan, ranges), variants (each merged into the study and validated), path templates, and
studies that would evaluate nothing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from xstilts.config import schema
from xstilts.config.load import load_study
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
    optimizer: {lr: 1.0e-4}
pipelines:
  baseline: [target]
  stilts: [inter, target]
"""


def write(tmp_path: Path, text: str | bytes, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text))
    return path


def problems_of(tmp_path: Path, text: str | bytes, size: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_study(write(tmp_path, text), size=size)
    return caught.value.problems


def one_problem(tmp_path: Path, text: str | bytes) -> str:
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    return problems[0]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xstilts", *args], capture_output=True, text=True,
                          env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})


# --- the YAML ------------------------------------------------------------------------------------------------

def test_duplicate_top_level_key_names_both_lines(tmp_path):
    text = GOOD + "stages:\n  other:\n    sources: [{task: mock-pos}]\n    steps: 1\n"
    problem = one_problem(tmp_path, text)
    assert ":16: stages: duplicate key: 'stages' is given on line 5 and again on line 16 of the same mapping" in problem


@pytest.mark.parametrize("old,new,where", [
    ("    steps: 5\n  target", "    steps: 5\n    steps: 6\n  target", ":9: stages.inter.steps: duplicate key"),
    ("optimizer: {lr: 1.0e-4}", "optimizer: {lr: 1.0e-4, lr: 1}", ":12: stages.target.optimizer.lr: duplicate key"),
    ("  baseline: [target]", "  baseline: [target]\n  baseline: [inter]", ":15: pipelines.baseline: duplicate key"),
])
def test_duplicate_keys_at_any_level(tmp_path, old, new, where):
    problems = problems_of(tmp_path, GOOD.replace(old, new))
    assert any(where in p for p in problems), problems


def test_merge_keys_may_be_overridden(tmp_path):
    text = GOOD.replace("  target:\n    sources: [{task: mock-nli}]", "  target: &t\n    sources: [{task: mock-nli}]")
    text = text.replace("pipelines:\n", "  copy: {<<: *t, steps: 9}\npipelines:\n  copied: [copy]\n")
    config = load_study(write(tmp_path, text))
    assert config.stages["copy"].steps == 9 and config.stages["copy"].optimizer.lr == 1e-4


def test_invalid_utf8_names_line_and_column(tmp_path):
    text = GOOD.replace("name: t", "name: t\ndescription: caf\xe9 ok").encode("utf-8")
    text = text.replace("é".encode(), b"\xe9")  # Latin-1, not UTF-8
    problem = one_problem(tmp_path, text)
    assert ":2:17: not UTF-8 text: byte 0xe9" in problem
    # far beyond the first 8 KB: still the line, not an offset in a decoding chunk
    long = ("# " + "x" * 100 + "\n") * 200
    problem = one_problem(tmp_path, (long + GOOD).encode() + b"  \xff: 1\n")
    assert f":{200 + GOOD.count(chr(10)) + 1}:3: not UTF-8 text: byte 0xff" in problem


def test_control_character_names_line(tmp_path):
    problem = one_problem(tmp_path, GOOD.replace("name: t", "name: t\x01"))
    assert ":1:8: not valid YAML: the character '\\x01' is not allowed" in problem


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "{a: " * 200 + "1" + "}" * 200,
                                    "\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 120)) + "  " * 120 + "v"])
def test_deep_nesting_is_an_error_not_a_recursion_error(tmp_path, nested):
    problem = one_problem(tmp_path, GOOD + f"description: {nested}\n")
    assert "not valid YAML: nested more than 64 levels deep" in problem and ".yaml:" in problem


@pytest.mark.parametrize("text,kind", [("- a\n- b\n", "a single list"), ("", "empty"), ("hello\n", "a single text"),
                                       ("42\n", "a single number"), ("# only a comment\n", "empty")])
def test_top_level_must_be_a_mapping(tmp_path, text, kind):
    problem = one_problem(tmp_path, text)
    assert f"(top level): the study file is {kind}; a study is a YAML mapping" in problem


def test_keys_that_are_not_text(tmp_path):
    problems = problems_of(tmp_path, GOOD + "yes: 1\nevaluate: {retrieval_by_task: {3: {layer: 2}}}\n")
    assert any(":16: (top level): the key True is not text (YAML reads it as a boolean)" in p for p in problems)
    assert any(":17: evaluate.retrieval_by_task: the key 3 is not text" in p for p in problems)


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    problem = one_problem(tmp_path, GOOD.replace("  baseline: [target]", "  baseline: [target"))
    assert ":15:" in problem and "not valid YAML" in problem


# --- numbers -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("old,new,message", [
    ("    steps: 5\n  target", "    steps: yes\n  target",
     ":8: stages.inter.steps: expected a number, not the boolean true"),
    ("    steps: 5\n  target", "    steps: 5\n    batch_size: true\n  target",
     ":9: stages.inter.batch_size: expected a number, not the boolean true"),
    ("{lr: 1.0e-4}", "{lr: true}", ":12: stages.target.optimizer.lr: expected a number, not the boolean true"),
    ("{lr: 1.0e-4}", "{lr: .inf}", ":12: stages.target.optimizer.lr: inf is not allowed: give a finite number"),
    ("{lr: 1.0e-4}", "{lr: .nan}", ":12: stages.target.optimizer.lr: nan is not allowed: give a finite number"),
    ("{lr: 1.0e-4}", "{lr: '-inf'}", ":12: stages.target.optimizer.lr: '-inf' is not allowed: give a finite"),
    ("{lr: 1.0e-4}", "{lr: 0}", ":12: stages.target.optimizer.lr: Input should be greater than 0, not 0"),
    ("{lr: 1.0e-4}", "{betas: [1.5, 2.0]}", ":12: stages.target.optimizer.betas[0]: Input should be less than 1"),
    ("{lr: 1.0e-4}", "{betas: [0.9, -0.1]}", ":12: stages.target.optimizer.betas[1]: Input should be greater "
                                            "than or equal to 0"),
    ("{lr: 1.0e-4}", "{eps: 0}", ":12: stages.target.optimizer.eps: Input should be greater than 0"),
    ("{lr: 1.0e-4}", "{weight_decay: .inf}", ":12: stages.target.optimizer.weight_decay: inf is not allowed"),
    ("    steps: 5\n  target", "    epochs: .inf\n  target", ":8: stages.inter.epochs: inf is not allowed"),
    ("    steps: 5\n  target", "    epochs: 1.0e+300\n  target", ":8: stages.inter.epochs: Input should be less"),
    ("    steps: 5\n  target", "    steps: 99999999999999999999\n  target", ":8: stages.inter.steps: "
                                                                         "99999999999999999999 is out of range"),
    ("    steps: 5\n  target", "    steps: 2.5\n  target", ":8: stages.inter.steps: Input should be a valid integer"),
    ("    steps: 5\n  target", "    steps: 5\n    grad_accumulation: 0\n  target", ":9: stages.inter.grad_accumulation"),
    ("    steps: 5\n  target", "    steps: 5\n    schedule: {warmup: .nan}\n  target", ":9: stages.inter.schedule"
                                                                                   ".warmup: nan is not allowed"),
    ("    steps: 5\n  target", "    steps: 5\n    sampler: {kind: temperature, temperature: 0.001}\n  target",
     ":9: stages.inter.sampler.temperature: Input should be greater than or equal to 0.1"),
    ("[{task: mock-qa}]", "[{task: mock-qa, fraction: true}]", ":7: stages.inter.sources[0].fraction: expected a number"),
    ("[{task: mock-qa}]", "[{task: mock-qa, fraction: .nan}]", ":7: stages.inter.sources[0].fraction: nan is not"),
    ("    steps: 5\n  target", "    steps: 5\n    keep_heads: 1\n  target",
     ":9: stages.inter.keep_heads: expected true or false, not 1"),
    ("    steps: 5\n  target", "    steps: 5\n    selection: {enabled: 'yes'}\n  target",
     ":9: stages.inter.selection.enabled: expected true or false, not 'yes'"),
    ("name: t", "name: t\nseeds: [0, true]", ":2: seeds[1]: expected a number, not the boolean true"),
    ("name: t", "name: t\nseeds: [1, 2, 1]", ":2: seeds: seed 1 listed more than once"),
    ("name: t", "name: t\nruntime: {threads: false}", ":2: runtime.threads: expected a number, not the boolean"),
    ("name: t", "name: t\nruntime: {ray: {num_cpus: .inf}}", ":2: runtime.ray.num_cpus: inf is not allowed"),
    ("name: t", "name: t\nevaluate: {batch_size: on}", ":2: evaluate.batch_size: expected a number, not the boolean"),
    ("name: t", "name: t\nevaluate: {retrieval: {layer: true}}", ":2: evaluate.retrieval.layer"),
    ("intermediate_size: 64}", "intermediate_size: 64, dropout: 1.0}", ":3: model.build.dropout: Input should "
                                                                       "be less than 1"),
])
def test_strict_numbers(tmp_path, old, new, message):
    assert old in GOOD
    problems = problems_of(tmp_path, GOOD.replace(old, new, 1))
    assert any(message in p for p in problems), problems


def test_text_field_given_a_yaml_boolean_says_to_quote(tmp_path):
    problems = problems_of(tmp_path, GOOD.replace("[{task: mock-qa}]", "[{task: mock-qa, languages: [en, no]}]"))
    assert any(":7: stages.inter.sources[0].languages[1]: expected text, not the boolean false" in p
               and "quote" in p for p in problems), problems


def _numbers_in(annotation: typing.Any) -> list[typing.Any]:
    """Every int, float or bool inside an annotation, with the Annotated wrapper it is in (or None)."""
    found = []
    stack: list[tuple[typing.Any, typing.Any]] = [(annotation, None)]
    while stack:
        current, wrapper = stack.pop()
        if typing.get_origin(current) is typing.Annotated:
            stack.append((typing.get_args(current)[0], current))
        elif current in (int, float, bool):
            found.append((current, wrapper))
        else:
            stack += [(arg, None) for arg in typing.get_args(current)]
    return found


def _models(root: type[BaseModel]) -> set[type[BaseModel]]:
    seen: set[type[BaseModel]] = set()
    stack = [root]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        for info in model.model_fields.values():
            args, todo = [], [info.annotation]
            while todo:
                current = todo.pop()
                args.append(current)
                todo += list(typing.get_args(current))
            stack += [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    return seen


def test_every_number_and_flag_of_the_schema_is_strict():
    """One mechanism: a number is :data:`Int` or :data:`Float`, a flag :data:`Bool`; a plain int/float/bool in a
    field of a study block would take `true` for 1 (except in a grid axis value, which may be a flag)."""
    loose = []
    for model in _models(schema.StudyConfig):
        assert model.model_config.get("allow_inf_nan") is False, model
        assert model.model_config.get("extra") == "forbid", model
        hints = typing.get_type_hints(model, include_extras=True)  # the annotations as written (Int, not int)
        for name in model.model_fields:
            for kind, wrapper in _numbers_in(hints[name]):
                if wrapper is None and not (model is schema.PipelineConfig and name == "axes") and not (
                        model is schema.GridConfig and name == "axes"):
                    loose.append(f"{model.__name__}.{name}: {kind.__name__}")
    assert not loose, f"use Int, Float or Bool for: {loose}"


# --- variants ------------------------------------------------------------------------------------------------

VARIANTS = GOOD + """\
variants:
  small:
    stages:
      inter: {stepz: 2}
      target: {steps: true, optimizer: {lr: .inf}}
  fine:
    stages: {target: {steps: 2}}
  broken:
    pipelines: {extra: [nope]}
  shaped: [1, 2]
"""


def test_each_variant_is_merged_and_validated(tmp_path):
    problems = problems_of(tmp_path, VARIANTS)
    assert any(":19: variants.small.stages.inter.stepz: unknown key; did you mean 'steps'?" in p for p in problems)
    assert any(":20: variants.small.stages.target.steps: expected a number" in p for p in problems)
    assert any(":20: variants.small.stages.target.optimizer.lr: inf is not allowed" in p for p in problems)
    assert any(":25: variants.shaped: Input should be a valid dictionary" in p for p in problems)
    # semantic problems of a variant show once the schema problems are gone
    problems = problems_of(tmp_path, VARIANTS.replace("  shaped: [1, 2]\n", "").replace(
        "inter: {stepz: 2}", "inter: {steps: 2}").replace("{steps: true, optimizer: {lr: .inf}}", "{steps: 3}"))
    assert len(problems) == 1 and ":24: variants.broken.pipelines.extra[0]: unknown stage 'nope'" in problems[0]


def test_size_reports_the_variant_where_it_is_written(tmp_path):
    problems = problems_of(tmp_path, GOOD + "variants:\n  small:\n    stages: {target: {epochs: .nan}}\n", size="small")
    assert len(problems) == 1 and ":18: variants.small.stages.target.epochs: nan is not allowed" in problems[0]


def test_a_variant_problem_outside_its_keys_names_the_variant(tmp_path):
    # the variant adds epochs to a stage that has steps: the merged stage has both
    problems = problems_of(tmp_path, GOOD + "variants:\n  small:\n    stages: {target: {epochs: 1}}\n")
    assert len(problems) == 1 and ":18: variants.small.stages.target: give exactly one of `steps` or `epochs`" \
        in problems[0], problems
    # the variant shrinks the encoder below the stages' length: the problem is at a key the variant does not set
    problems = problems_of(tmp_path, GOOD + "variants:\n  small:\n    model: {build: {max_length: 64}}\n")
    assert len(problems) == 2, problems
    assert ":17: variants.small (merged into the study): stages.inter.max_length: 256 exceeds the built " \
           "encoder's model.build.max_length 64" in problems[0]


@pytest.mark.parametrize("variant,message", [
    ("{rename_tasks: [micro-]}", ":17: variants.v.rename_tasks: expected a mapping of task-name prefixes"),
    ("{variants: {}}", ":17: variants.v.variants: a variant cannot set it"),
    ("{twin: micro, stages: {}}", ":17: variants.v: a twin variant is only `twin: <preset name or study file>`"),
    ("{twin: 5}", ":17: variants.v: a twin variant is only"),
    ("{twin: SELF}", ":17: variants.v.twin: the twins lead back to a study of the chain"),
])
def test_variant_shapes(tmp_path, variant, message):
    variant = variant.replace("SELF", str(tmp_path / "study.yaml"))
    problems = problems_of(tmp_path, GOOD + f"variants:\n  v: {variant}\n")
    assert any(message in p for p in problems), problems


def test_twin_loop_is_an_error_with_size(tmp_path):
    other = write(tmp_path, GOOD.replace("name: t", "name: o") + f"variants:\n  v: {{twin: {tmp_path / 'study.yaml'}}}\n",
                  "other.yaml")
    assert other.exists()
    study = write(tmp_path, GOOD + f"variants:\n  v: {{twin: {other}}}\n")
    with pytest.raises(ConfigError, match="leads back to a study of the chain"):
        load_study(study, size="v")


def test_variant_may_declare_a_task_otherwise(tmp_path):
    """Each variant registers its declared tasks while it is checked; the study's own come back after."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train-en", "dev-en", "test-en", "small-en"):
        (data / f"{name}.jsonl").write_text('{"id": "1", "text": "a", "label": "x"}\n')
    text = GOOD.replace("task: mock-nli", "task: strict-variant-task") + textwrap.dedent("""\
        tasks:
          strict-variant-task: {family: classification, files: "data/{split}-{language}.jsonl", labels: [x, y],
                 splits: {train: [en], dev: [en], test: [en]}}
        variants:
          small:
            tasks: {strict-variant-task: {splits: {train: [en], dev: [en], test: [en], small: [en]}}}
        """)
    config = load_study(write(tmp_path, text))
    from xstilts.tasks import get_task

    assert "small" not in get_task("strict-variant-task").splits  # the study's declaration, not the variant's
    assert load_study(tmp_path / "study.yaml", size="small").tasks["strict-variant-task"].splits["small"] == ["en"]
    assert config.name == "t"


# --- templates -----------------------------------------------------------------------------------------------

TASK = """\
tasks:
  mine:
    family: classification
    files: "{files}"
    splits: {{train: [en], test: [en, de]}}
    labels: [a, b]
"""


@pytest.mark.parametrize("files,message", [
    ("{data_root.x}/mine/{split}-{language}.jsonl", "has the field {data_root.x}; a template may hold only"),
    ("{data_root[0]}/mine/{split}-{language}.jsonl", "has the field {data_root[0]}"),
    ("data/{0}-{split}-{language}.jsonl", "has the field {0}"),
    ("data/{}-{split}-{language}.jsonl", "has the field {}"),
    ("data/{split!r}-{language}.jsonl", "has the field {split!r}"),
    ("data/{split:>5}-{language}.jsonl", "has the field {split:>5}"),
    ("data/{split-{language}.jsonl", "is not a path template"),
    ("data/split}-{language}.jsonl", "is not a path template"),
    ("data/{dataroot}/{split}-{language}.jsonl", "has the field {dataroot}"),
    ("data/{data_root}/{split}-{language}.jsonl", "{data_root} may only start the path"),
    (" ", "`files` is empty"),
])
def test_bad_files_template_names_the_task(tmp_path, files, message):
    problems = problems_of(tmp_path, GOOD + TASK.format(files=files))
    assert any(":19: tasks.mine.files:" in p and message in p for p in problems), problems


def test_bad_grid_template(tmp_path):
    text = GOOD + 'grids:\n  - {name: "g/{inter.x}", stages: ["{inter}", target], axes: {inter: [inter]}}\n'
    problems = problems_of(tmp_path, text)
    assert any(":17: grid 'g/{inter.x}': cannot fill its templates" in p for p in problems), problems


# --- evaluations ---------------------------------------------------------------------------------------------

def test_languages_no_evaluated_task_has(tmp_path):
    problem = one_problem(tmp_path, GOOD + "evaluate: {languages: [de, fr]}\n")
    assert ":16: evaluate.languages: ['de', 'fr'] selects no 'test' language of any evaluated task, so the " \
           "study would evaluate nothing; the tasks have en, qad" in problem


def test_empty_languages(tmp_path):
    assert ":16: evaluate.languages: is empty" in one_problem(tmp_path, GOOD + "evaluate: {languages: []}\n")


def test_a_pipeline_that_would_evaluate_nothing(tmp_path):
    text = GOOD + "  retrieval: {stages: [inter], evaluate: [mock-retrieval]}\nevaluate: {languages: [en]}\n"
    problem = one_problem(tmp_path, text)
    assert ":17: evaluate.languages: pipeline 'retrieval' would evaluate nothing" in problem
    assert "(mock-retrieval: qad)" in problem


def test_a_language_some_task_lacks_is_a_warning(tmp_path):
    config = load_study(write(tmp_path, GOOD + "evaluate: {languages: [en, de]}\n"))
    assert config._warnings == ["evaluate.languages[1]: no evaluated task has 'test' data in 'de' (en, qad): "
                                "it selects nothing"]
    result = run_cli("validate", str(tmp_path / "study.yaml"))
    assert result.returncode == 0 and "warning:" in result.stderr and "'de'" in result.stderr


def test_a_study_that_only_trains_is_a_warning(tmp_path):
    # as `xstilts micro pretrain` builds its internal study: pipelines that evaluate nothing
    text = GOOD.replace("  baseline: [target]\n  stilts: [inter, target]\n",
                        "  pretrain: {stages: [inter], evaluate: []}\n")
    config = load_study(write(tmp_path, text))
    assert len(config._warnings) == 1 and "no pipeline evaluates anything" in config._warnings[0]


def test_micro_pretrain_study_still_builds():
    from xstilts.config.schema import PipelineConfig

    study = load_study("micro", size="tiny")
    study.pipelines = {"pretrain": PipelineConfig(stages=["mlm"], evaluate=[])}
    assert study.pipeline("pretrain").evaluate == []


# --- other checks are not masked ---------------------------------------------------------------------------

def test_family_settings_are_still_checked_next_to_a_schema_problem(tmp_path):
    text = GOOD.replace("    steps: 5\n  target", "    steps: true\n  target") + textwrap.dedent("""\
        tasks:
          qa:
            family: span_qa
            files: "{data_root}/qa/{split}-{language}.jsonl"
            splits: {train: [en], test: [en]}
            settings: {max_answer_length: 0, doc_strid: 128}
        """)
    problems = problems_of(tmp_path, text)
    assert any("stages.inter.steps: expected a number" in p for p in problems), problems
    assert any("tasks.qa.settings.max_answer_length" in p for p in problems), problems
    assert any("tasks.qa.settings.doc_strid" in p for p in problems), problems


# --- the command ---------------------------------------------------------------------------------------------

def test_validate_reports_every_file_and_exits_2(tmp_path):
    bad_bytes = write(tmp_path, GOOD.encode() + b"description: \xff\n", "bytes.yaml")
    deep = write(tmp_path, GOOD + "description: " + "[" * 3000 + "]" * 3000 + "\n", "deep.yaml")
    dup = write(tmp_path, GOOD + "name: u\n", "dup.yaml")
    result = run_cli("validate", str(bad_bytes), str(tmp_path / "absent.yaml"), str(deep), str(dup), "tiny")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "bytes.yaml:16:14: not UTF-8 text: byte 0xff" in result.stderr
    assert "no such study file" in result.stderr
    assert "deep.yaml:16:" in result.stderr and "nested more than 64 levels deep" in result.stderr
    assert "dup.yaml:16: name: duplicate key" in result.stderr
    assert "tiny: ok" in result.stdout


def test_plan_refuses_inf_before_anything_runs(tmp_path):
    path = write(tmp_path, GOOD.replace("    steps: 5\n  target", "    epochs: .inf\n  target"))
    result = run_cli("plan", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "stages.inter.epochs: inf is not allowed" in result.stderr


def test_alias_bomb_and_recursive_alias(tmp_path):
    # seven levels of ten aliases each: 10**8 values once written out ("billion laughs")
    bomb = GOOD + "description: x\nseeds_: &s0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"seeds{i + 1}_: &s{i + 1} [{', '.join(['*s' + str(i)] * 10)}]\n" for i in range(7))
    problem = one_problem(tmp_path, bomb)
    assert "its aliases (*name) expand to" in problem and "more than 1,000,000" in problem
    problem = one_problem(tmp_path, GOOD + "evaluate: &e {retrieval_by_task: {x: *e}}\n")
    assert ":16: not valid YAML for a study: an alias (*name) inside the value it names makes it contain itself" \
        in problem


@pytest.mark.parametrize("old,new,message", [
    ("  build: {hidden_size: 32", "  revision: ''\n  build: {hidden_size: 32", ":3: model.revision: is empty"),
    ("name: t", "name: t\ndata_root: ' '", ":2: data_root: is empty: give a name or a path"),
    ("[{task: mock-qa}]", "[{task: ''}]", ":7: stages.inter.sources[0].task: is empty"),
])
def test_blank_names_and_paths(tmp_path, old, new, message):
    problems = problems_of(tmp_path, GOOD.replace(old, new))
    assert any(message in p for p in problems), problems
