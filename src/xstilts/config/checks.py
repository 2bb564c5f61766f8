"""Semantic checks of a study: what the schema cannot know (tasks, families, languages, references, heads).

Each problem is (key path, printable key, message); the loader adds file and line.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.config.evaluations import evaluation_languages
from xstilts.config.load import format_key_path
from xstilts.config.schema import StudyConfig
from xstilts.families import FAMILY_MODULES, family_spec
from xstilts.languages import check_language
from xstilts.registry import did_you_mean
from xstilts.tasks import check_task, get_task

Problem = tuple[tuple, str, str]



def semantic_problems(config: StudyConfig, base: Path | None = None) -> list[Problem]:
    resolve_dictionary_paths(config, base)
    problems: list[Problem] = _declared_task_problems(config, base)
    if problems:  # the rest would only repeat "unknown task" for every use of a broken declaration
        return problems
    problems += _model_problems(config)
    for name in config.stages:
        problems += _placed(config, name, _stage_problems(config, name))
    problems += _max_length_problems(config)
    problems += _peft_problems(config)
    problems += _model_kind_problems(config)
    for name in config.pipelines:
        problems += _pipeline_problems(config, name)
    problems += _evaluate_language_problems(config)
    problems += _evaluation_problems(config)
    problems += _used_task_problems(config)
    problems += _retrieval_recipe_problems(config)
    problems += _decoding_problems(config)
    problems += _twin_problems(config)
    return problems


def _twin_problems(config: StudyConfig) -> list[Problem]:
    """A ``{twin: NAME}`` variant must name a study that exists (a preset or a file)."""
    from xstilts.config.load import resolve_study_path
    from xstilts.errors import XstiltsError

    problems: list[Problem] = []
    for name, variant in config.variants.items():
        if "twin" not in variant:
            continue
        twin = variant["twin"]
        if set(variant) != {"twin"} or not isinstance(twin, str) or not twin.strip():
            others = sorted(map(str, set(variant) - {"twin"}))
            what = f"not also {', '.join(others)}" if others else f"not {twin!r}"
            problems.append((("variants", name), f"variants.{name}", "a twin variant is only `twin: <preset name "
                             f"or study file>` ({what}): it runs that other study instead of this one"))
            continue
        try:
            if not resolve_study_path(str(twin)).exists():
                raise XstiltsError(f"no study file {twin!r}")
        except XstiltsError as error:
            problems.append((("variants", name, "twin"), f"variants.{name}.twin", str(error)))
    return problems


def _declared_task_problems(config: StudyConfig, base: Path | None) -> list[Problem]:
    """Check the study's own task declarations, then register them so the rest sees ordinary tasks."""
    from xstilts.tasks.custom import declare, in_data_root, register_study_tasks

    problems: list[Problem] = []
    for name, task in config.tasks.items():
        path, key = ("tasks", name), f"tasks.{name}"
        problems += _declaration_problems(task, path, key)
        if problems:
            continue
        declared = declare(name, task, base)
        check_files = not in_data_root(task.files)
        for split, languages in task.splits.items():
            for j, language in enumerate(languages):
                lang_path = path + ("splits", split, j)
                if (message := check_language(language)) is not None:
                    problems.append((lang_path, f"{key}.splits.{split}[{j}]", message))
                    continue
                file = declared.file_for(declared, split, language, Path("."))
                if check_files and not file.exists():
                    problems.append((path + ("files",), key + ".files",
                                     f"no file {file} for split {split!r}, language {language!r}"))
    if not problems:
        problems += [(("tasks",), "tasks", message) for message in register_study_tasks(config.tasks, base)]
    return problems


def declaration_problems_of(data: dict) -> list[Problem]:
    """The family checks of the study's task declarations, from the raw data: they do not depend on the rest of the
    study, so a schema problem elsewhere (which stops the other semantic checks) does not hide them."""
    from pydantic import ValidationError

    from xstilts.config.schema import TaskConfig

    tasks = data.get("tasks") if isinstance(data, dict) else None
    problems: list[Problem] = []
    for name, raw in (tasks.items() if isinstance(tasks, dict) else ()):
        try:
            task = TaskConfig.model_validate(raw)
        except ValidationError:
            continue  # the schema says what is wrong with it
        problems += _declaration_problems(task, ("tasks", name), f"tasks.{name}")
    return problems


def _declaration_problems(task, path: tuple, key: str) -> list[Problem]:
    """A declared task against its family's spec: family, settings, metrics, labels, file kind, model kind."""
    from xstilts.scoring.registry import METRICS
    from xstilts.tasks.custom import declared_metrics, reads_text, reads_tsv

    if task.family not in FAMILY_MODULES:
        problems = [(path + ("family",), key + ".family",
                     f"unknown family {task.family!r}: {did_you_mean(task.family, list(FAMILY_MODULES))}")]
        return problems + [(path + ("metrics", i), f"{key}.metrics[{i}]",
                            f"unknown metric {metric!r}: {did_you_mean(metric, METRICS.names())}")
                           for i, metric in enumerate(task.metrics or []) if metric not in METRICS]
    spec = family_spec(task.family)
    problems = [(path + where, format_key_path(path + where), message)
                for where, message in spec.problems(task.settings, declared_metrics(task))]
    if reads_text(task.files) and not spec.reads_plain_text:
        readers = [name for name in FAMILY_MODULES if family_spec(name).reads_plain_text]
        problems.append((path + ("files",), key + ".files",
                         f"only {' or '.join(readers)} tasks read plain text ({task.files!r}: one text per line); "
                         f"a {task.family} task needs JSON lines (.jsonl) in the family's schema"))
    if spec.needs_labels and len(task.labels) < 2:
        problems.append((path + ("labels",), key + ".labels", f"a {task.family} task needs `labels` (2 or more)"))
    if reads_tsv(task.files) and not spec.reads_tsv_pairs:
        readers = [name for name in FAMILY_MODULES if family_spec(name).reads_tsv_pairs]
        problems.append((path + ("files",), key + ".files",
                         f"only {' or '.join(readers)} tasks read source<TAB>target lines ({task.files!r}); a "
                         f"{task.family} task needs JSON lines (.jsonl) in the family's schema"))
    return problems


def _used_task_problems(config: StudyConfig) -> list[Problem]:
    """Every built-in task the study uses (sources, selection, evaluations, tokenizer corpus) against its
    family's spec, reported where it is first used (the study's own tasks are checked at their declaration)."""
    problems: list[Problem] = []
    for name, (path, key) in _task_uses(config).items():
        if name in config.tasks or check_task(name) is not None:
            continue  # declared in the study (checked there) or unknown (reported where it is used)
        task = get_task(name)
        spec = family_spec(task.family)
        messages = [message for _, message in spec.problems(task.settings, task.metrics)]
        problems += [(path, key, f"task {name!r}: {message}") for message in messages]
    return problems


def _task_uses(config: StudyConfig) -> dict[str, tuple[tuple, str]]:
    """Each task the study uses -> (key path, printable key) of its first use."""
    uses: dict[str, tuple[tuple, str]] = {}
    for name, model in config.model_configs().items():
        if model.tokenizer and model.tokenizer.train:
            for i, task in enumerate(model.tokenizer.train.corpus):
                path = _model_path(config, name) + ("tokenizer", "train", "corpus", i)
                uses.setdefault(task, (path, format_key_path(path)))
    for name, stage in config.stages.items():
        for i, source in enumerate(stage.sources):
            path = ("stages", name, "sources", i, "task")
            uses.setdefault(source.task, (path, format_key_path(path)))
    for name in config.pipelines:
        pipeline = config.pipeline(name)
        tasks = pipeline.evaluate if pipeline.evaluate is not None else default_evaluate_tasks(config, pipeline.stages)
        for i, task in enumerate(tasks):
            path = ("pipelines", name, "evaluate", i)
            uses.setdefault(task, (path, format_key_path(path)))
    for task in config.evaluate.retrieval_by_task:
        path = ("evaluate", "retrieval_by_task", task)
        uses.setdefault(task, (path, format_key_path(path)))
    return uses


def _task_or_problem(name: str, path: tuple, key: str, problems: list[Problem]):
    message = check_task(name)
    if message:
        problems.append((path, key, message))
        return None
    return get_task(name)


def _model_path(config: StudyConfig, name: str) -> tuple:
    return ("model",) if config.models is None else ("models", name)


def _model_problems(config: StudyConfig) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for name, model in config.model_configs().items():
        base = _model_path(config, name)
        tokenizer = model.tokenizer
        if tokenizer and tokenizer.train:
            for i, task in enumerate(tokenizer.train.corpus):
                path = base + ("tokenizer", "train", "corpus", i)
                _task_or_problem(task, path, format_key_path(path), problems)
        # Two names for one model would train every stage twice under one lineage key.
        same = model.model_dump_json(exclude={"label"})
        if same in seen:
            problems.append((base, format_key_path(base),
                             f"the same model as models.{seen[same]}; remove one (the label alone does not "
                             "make another model)"))
        seen.setdefault(same, name)
    return problems


def _model_kind_problems(config: StudyConfig) -> list[Problem]:
    """Every task a pipeline trains or evaluates against the kind of each model it runs with: a generation task
    needs an encoder-decoder, an encoder family's task an encoder (``families/text_to_text.py``); a PEFT stage
    needs an encoder. A model whose kind cannot be known here (a hub name offline, not cached) is not checked."""
    from xstilts.config.model_kinds import checkpoint_config, model_kind
    from xstilts.families.text_to_text import model_kind_problem

    models = config.model_configs()
    kinds = {name: model_kind(model) for name, model in models.items()}
    problems: dict[tuple, Problem] = {}
    for name, model in models.items():
        if model.kind != "encoder-decoder" or model.name_or_path is None:
            continue
        checkpoint = checkpoint_config(model.name_or_path, model.revision)
        if checkpoint is not None and checkpoint.get("is_encoder_decoder") is not True:
            path = _model_path(config, name) + ("kind",)
            problems[(path, name)] = (path, format_key_path(path), (
                f"{model.name_or_path!r} is a {checkpoint.get('model_type')!r} model, not an encoder-decoder (its "
                "config.json has no is_encoder_decoder: true); leave `kind` out"))
    for pipeline_name in config.pipelines:
        pipeline = config.pipeline(pipeline_name)
        for model_name in config.pipeline_models(pipeline_name):
            if model_name not in models:
                continue
            shown = f"model {format_key_path(_model_path(config, model_name))}"
            uses = [(("stages", stage, "sources", i, "task"), source.task)
                    for stage in pipeline.stages if stage in config.stages
                    for i, source in enumerate(config.stages[stage].sources)]
            uses += [(("pipelines", pipeline_name, "evaluate", i), task)
                     for i, task in enumerate(evaluated_tasks(config, pipeline_name))]
            for path, task_name in uses:
                if check_task(task_name) is not None:
                    continue  # unknown: reported where it is used
                message = model_kind_problem(family_spec(get_task(task_name).family), kinds[model_name], shown)
                if message is not None:
                    problems.setdefault((path, model_name), (path, format_key_path(path),
                                                             f"task {task_name!r}: {message}"))
            if kinds[model_name] == "encoder-decoder":
                for stage in pipeline.stages:
                    if stage in config.stages and config.stages[stage].peft is not None:
                        path = ("stages", stage, "peft")
                        problems.setdefault((path, model_name), (path, format_key_path(path), (
                            f"PEFT stages train encoders; {shown} is an encoder-decoder (not supported yet): "
                            "remove `peft` or run the stage on an encoder")))
    return list(problems.values())


def _placed(config: StudyConfig, name: str, problems: list[Problem]) -> list[Problem]:
    """Problems of a stage derived by a grid's `set` point at that `set` entry, where the user can fix them."""
    origin = config._derived.get(name)
    if origin is None:
        return problems
    grid, label, entries = origin
    placed = []
    for path, key, message in problems:
        field = path[2:]  # after ("stages", name)
        culprits = [k for k, parts in entries if parts == field[:len(parts)]] or [k for k, _ in entries]
        placed.append((grid + ("set", culprits[0]), f"{label}: set {', '.join(map(repr, culprits))} -> "
                       f"stage {name!r}: {key}", message))
    return placed


def _max_length_problems(config: StudyConfig) -> list[Problem]:
    """A stage or a source longer than a built encoder that runs it (every pipeline's stages against its
    models)."""
    problems: list[Problem] = []
    models = config.model_configs()
    pairs = {(stage, model) for name in config.pipelines for model in config.pipeline_models(name)
             for stage in config.pipeline(name).stages if stage in config.stages and model in models}
    for stage_name, model_name in sorted(pairs):
        build, stage = models[model_name].build, config.stages[stage_name]
        if build is None:
            continue
        where = format_key_path(_model_path(config, model_name) + ("build", "max_length"))
        lengths = [(("max_length",), stage.max_length)]
        lengths += [(("sources", i, "max_length"), source.max_length) for i, source in enumerate(stage.sources)
                    if source.max_length is not None]
        for field, length in lengths:
            if length <= build.max_length:
                continue
            path = ("stages", stage_name, *field)
            problems += _placed(config, stage_name, [(
                path, format_key_path(path),
                f"{length} exceeds the built encoder's {where} {build.max_length}; lower it or raise "
                "the encoder's")])
    return problems


# The Linear and Embedding modules of a built encoder (``models/encoder.build_encoder``: both architectures
# have BERT's layout), {layer} for each layer; a test holds this to the built models.
BUILT_ADAPTABLE_MODULES = (
    "embeddings.word_embeddings", "embeddings.position_embeddings", "embeddings.token_type_embeddings",
    "encoder.layer.{layer}.attention.self.query", "encoder.layer.{layer}.attention.self.key",
    "encoder.layer.{layer}.attention.self.value", "encoder.layer.{layer}.attention.output.dense",
    "encoder.layer.{layer}.intermediate.dense", "encoder.layer.{layer}.output.dense",
)


def built_adaptable_modules(num_layers: int) -> list[str]:
    return list(dict.fromkeys(name.format(layer=i) for i in range(num_layers) for name in BUILT_ADAPTABLE_MODULES))


def _peft_problems(config: StudyConfig) -> list[Problem]:
    """A PEFT stage needs the peft library, and its target modules must exist in every built encoder that runs
    it (a pretrained encoder's are checked when the stage starts: its module names need the model)."""
    import importlib.util

    problems: list[Problem] = []
    models = config.model_configs()
    pairs = {(stage, model) for name in config.pipelines for model in config.pipeline_models(name)
             for stage in config.pipeline(name).stages if stage in config.stages and model in models}
    for stage_name in sorted({stage for stage, _ in pairs}):
        peft = config.stages[stage_name].peft
        if peft is not None and importlib.util.find_spec("peft") is None:
            path = ("stages", stage_name, "peft")
            problems += _placed(config, stage_name, [(path, format_key_path(path), "needs the peft library: pip "
                                                      "install 'xstilts[peft]' (or pip install peft)")])
    for stage_name, model_name in sorted(pairs):
        peft, build = config.stages[stage_name].peft, models[model_name].build
        if peft is None or build is None:
            continue
        modules = built_adaptable_modules(build.num_layers)
        unknown = [t for t in peft.target_modules if not any(m == t or m.endswith("." + t) for m in modules)]
        if unknown:
            path = ("stages", stage_name, "peft", "target_modules")
            shown = sorted({m.rsplit(".", 1)[-1] for m in modules} | {".".join(m.split(".")[-2:]) for m in modules})
            problems += _placed(config, stage_name, [(
                path, format_key_path(path), f"{', '.join(map(repr, unknown))} name(s) no Linear or Embedding "
                f"module of the built {build.architecture} encoder ({format_key_path(_model_path(config, model_name))}"
                f"); it has: {', '.join(shown)}")])
    return problems


def _stage_problems(config: StudyConfig, name: str) -> list[Problem]:
    problems: list[Problem] = []
    stage = config.stages[name]
    base = ("stages", name)
    for i, source in enumerate(stage.sources):
        path = base + ("sources", i)
        key = f"stages.{name}.sources[{i}]"
        task = _task_or_problem(source.task, path + ("task",), key + ".task", problems)
        if source.max_examples is not None and source.fraction is not None:
            problems.append((path, key, "give `max_examples` or `fraction`, not both"))
        if task is None:
            continue
        if not family_spec(task.family).trainable:
            problems.append(
                (path + ("task",), key + ".task",
                 f"task {task.name!r} is a {task.family} task: it is evaluated, never trained; "
                 "list it under a pipeline's `evaluate` instead")
            )
            continue
        problems += _split_language_problems(task, source.split, source.languages, path, key)
        if source.code_switch is not None:
            problems += _code_switch_problems(task, source, path, key)
        selection = stage.selection
        if selection.enabled and source.task in selection_task_names(stage):
            sel_path, sel_key = base + ("selection",), f"stages.{name}.selection"
            problems += _split_language_problems(task, selection.split, selection.languages, sel_path, sel_key)
    return problems


def selection_task_names(stage) -> list[str]:
    """The tasks model selection evaluates on dev, and a pipeline ending with the stage evaluates by default:
    the stage's tasks that are not MLM (an auxiliary MLM source next to a task is not what the stage is for),
    or every task of an MLM-only stage. Unknown task names are left out (reported elsewhere)."""
    names = list(dict.fromkeys(source.task for source in stage.sources))
    known = [name for name in names if check_task(name) is None]
    supervised = [name for name in known if not family_spec(get_task(name).family).auxiliary]
    return supervised or known


DATA_ROOT_FIELD = "{data_root}"


def resolve_dictionary_paths(config: StudyConfig, base: Path | None) -> None:
    """Code-switching dictionaries are read relative to the study file's folder, like declared task files."""
    if base is None:
        return
    for stage in config.stages.values():
        for source in stage.sources:
            if source.code_switch is not None:
                source.code_switch.dictionaries = {
                    language: str(path if Path(path).is_absolute() or DATA_ROOT_FIELD in path else base / path)
                    for language, path in source.code_switch.dictionaries.items()}


def _code_switch_problems(task, source, path: tuple, key: str) -> list[Problem]:
    from xstilts.data.code_switch import FAMILIES, load_dictionary
    from xstilts.errors import DataError

    path, key = path + ("code_switch",), key + ".code_switch"
    problems: list[Problem] = []
    if task.family not in FAMILIES:
        problems.append((path, key, f"task {task.name!r} is a {task.family} task: code-switching works on "
                         f"{', '.join(FAMILIES)} tasks"))
    if source.languages != ["en"]:
        problems.append((path, key, f"code-switching rewrites English examples, but the source reads "
                         f"{source.languages}: set `languages: [en]` (the dictionaries give the other languages)"))
    for language, file in source.code_switch.dictionaries.items():
        entry_path, entry_key = path + ("dictionaries", language), f"{key}.dictionaries.{language}"
        if (message := check_language(language)) is not None:
            problems.append((entry_path, entry_key, message))
        elif language == "en":
            problems.append((entry_path, entry_key, "an English dictionary switches English into English: key "
                             "each dictionary by its target language (de: en-de.txt)"))
        if DATA_ROOT_FIELD in file:  # under the data root: looked for when the study runs (it may come from $XSTILTS_DATA)
            if not file.startswith(DATA_ROOT_FIELD):
                problems.append((entry_path, entry_key, f"{DATA_ROOT_FIELD} may only start a path: {file}"))
            continue
        if not Path(file).is_file():
            problems.append((entry_path, entry_key, f"no dictionary file {file} (relative paths are read from the "
                             "study file's folder; `xstilts micro dictionary DIR` writes the micro languages' ones)"))
            continue
        try:
            load_dictionary(file)
        except DataError as error:
            problems.append((entry_path, entry_key, str(error)))
    return problems


def _split_language_problems(task, split: str, languages: list[str], path: tuple, key: str) -> list[Problem]:
    if split not in task.splits:
        return [(path + ("split",), key + ".split",
                 f"task {task.name!r} has no split {split!r}; {did_you_mean(split, list(task.splits))}")]
    problems = []
    for j, language in enumerate(languages):
        lang_path, lang_key = path + ("languages", j), f"{key}.languages[{j}]"
        message = check_language(language)
        if message:
            problems.append((lang_path, lang_key, message))
        elif language not in task.splits[split]:
            problems.append(
                (lang_path, lang_key,
                 f"task {task.name!r} has no {language!r} data in split {split!r}; it has "
                 + ", ".join(task.splits[split]))
            )
    return problems


def heads_after(config: StudyConfig, stage_names: list[str]) -> set[str]:
    """Head names the model holds after running these stages in order (new heads unless keep_heads)."""
    heads: set[str] = set()
    for name in stage_names:
        stage = config.stages.get(name)
        if stage is None:
            continue
        if not stage.keep_heads:
            heads = set()
        for source in stage.sources:
            if check_task(source.task) is None:
                heads.add(get_task(source.task).head_name)
    return heads


def default_evaluate_tasks(config: StudyConfig, stage_names: list[str]) -> list[str]:
    last = config.stages.get(stage_names[-1]) if stage_names else None
    if last is None:
        return []
    # An auxiliary MLM source next to a task is not evaluated (as it is not selected on): the task is.
    return selection_task_names(last)


def _pipeline_problems(config: StudyConfig, name: str) -> list[Problem]:
    problems: list[Problem] = []
    pipeline = config.pipeline(name)
    raw_is_list = isinstance(config.pipelines[name], list)
    stages_path = ("pipelines", name) if raw_is_list else ("pipelines", name, "stages")
    for i, stage_name in enumerate(pipeline.stages):
        if stage_name not in config.stages:
            problems.append(
                (stages_path + (i,), format_key_path(stages_path + (i,)),
                 f"unknown stage {stage_name!r}; {did_you_mean(stage_name, list(config.stages))}")
            )
    models = list(config.model_configs())
    if pipeline.model is not None and pipeline.model not in models:
        hint = (did_you_mean(pipeline.model, models) if config.models is not None else
                "a pipeline picks one of the study's `models`; this study has a single `model`")
        problems.append((("pipelines", name, "model"), f"pipelines.{name}.model",
                         f"unknown model {pipeline.model!r}; {hint}"))
    if not pipeline.stages and not pipeline.evaluate:
        problems.append(
            (("pipelines", name), f"pipelines.{name}",
             "a pipeline with no stages evaluates the model as loaded, so it needs the tasks to evaluate: "
             "write it as {stages: [], evaluate: [tatoeba]} (evaluation-only tasks such as retrieval)")
        )
    if problems:
        return problems
    heads = heads_after(config, pipeline.stages)
    tasks = pipeline.evaluate if pipeline.evaluate is not None else default_evaluate_tasks(config, pipeline.stages)
    for i, task_name in enumerate(tasks):
        path, key = ("pipelines", name, "evaluate", i), f"pipelines.{name}.evaluate[{i}]"
        task = _task_or_problem(task_name, path, key, problems)
        if task is None:
            continue
        if config.evaluate.split not in task.splits:
            problems.append(
                (("evaluate", "split"), "evaluate.split",
                 f"task {task.name!r} has no split {config.evaluate.split!r}; it has {', '.join(task.splits)}")
            )
        if config.benchmark is not None:
            problems += _benchmark_task_problems(config, task.name, path, key)
        # An encoder-decoder's generation needs no head: the model itself generates, trained or not.
        spec = family_spec(task.family)
        if spec.trainable and spec.model_kind == "encoder" and task.head_name not in heads:
            problems.append(
                (path, key,
                 f"task {task.name!r} needs the head {task.head_name!r}, which no stage of pipeline {name!r} "
                 "leaves trained (the last stage trains new heads unless `keep_heads: true`); add the task to "
                 "the last stage's sources or evaluate it in another pipeline")
            )
    return problems


def _benchmark_task_problems(config: StudyConfig, task: str, path: tuple, key: str) -> list[Problem]:
    """An evaluated task must be one of the benchmark's: its score would otherwise enter an average that the
    benchmark does not have."""
    from xstilts.tasks.benchmarks import get_benchmark

    benchmark = get_benchmark(config.benchmark)
    if task in benchmark.languages:
        return []
    return [(path, key, f"task {task!r} is not a task of {benchmark.title} (`benchmark: {benchmark.name}`): "
             f"{did_you_mean(task, list(benchmark.tasks))}; evaluate it in a study without `benchmark`, or "
             "with the benchmark it belongs to")]


def _retrieval_recipe_problems(config: StudyConfig) -> list[Problem]:
    problems: list[Problem] = []
    for name in config.evaluate.retrieval_by_task:
        path, key = ("evaluate", "retrieval_by_task", name), f"evaluate.retrieval_by_task.{name}"
        task = _task_or_problem(name, path, key, problems)
        if task is not None and task.family != "retrieval":
            problems.append((path, key, f"task {name!r} is a {task.family} task; retrieval settings apply to "
                             "retrieval tasks only (bucc2018, tatoeba, lareqa, mewslix, ...)"))
    return problems


def _decoding_problems(config: StudyConfig) -> list[Problem]:
    from xstilts.families.text_to_text import decodes

    problems: list[Problem] = []
    for name in config.evaluate.decoding_by_task:
        path, key = ("evaluate", "decoding_by_task", name), f"evaluate.decoding_by_task.{name}"
        task = _task_or_problem(name, path, key, problems)
        if task is not None and not decodes(task.family):
            problems.append((path, key, f"task {name!r} is a {task.family} task; decoding settings apply to "
                             "generation tasks only (and extractive QA run text to text on an encoder-decoder)"))
    return problems


def _evaluate_language_problems(config: StudyConfig) -> list[Problem]:
    languages = config.evaluate.languages
    if languages == "all":
        return []
    return [
        (("evaluate", "languages", i), f"evaluate.languages[{i}]", message)
        for i, language in enumerate(languages)
        if (message := check_language(language))
    ]


def evaluated_tasks(config: StudyConfig, name: str) -> list[str]:
    """The tasks pipeline ``name`` evaluates: its ``evaluate`` list, else the last stage's tasks."""
    pipeline = config.pipeline(name)
    return pipeline.evaluate if pipeline.evaluate is not None else default_evaluate_tasks(config, pipeline.stages)


def _evaluations(config: StudyConfig) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(each evaluated task -> the languages `languages: all` evaluates it in, each pipeline -> its evaluated
    tasks), over the tasks that are known and have the evaluated split (the others are reported elsewhere)."""
    split = config.evaluate.split
    every = config.model_copy(update={"evaluate": config.evaluate.model_copy(update={"languages": "all"})})
    offered: dict[str, list[str]] = {}
    by_pipeline: dict[str, list[str]] = {}
    for name in config.pipelines:
        tasks = [task for task in evaluated_tasks(config, name)
                 if check_task(task) is None and split in get_task(task).splits]
        for task in tasks:
            offered.setdefault(task, evaluation_languages(every, get_task(task), split))
        by_pipeline[name] = tasks
    return offered, by_pipeline


def _evaluation_problems(config: StudyConfig) -> list[Problem]:
    """Every pipeline that evaluates tasks evaluates at least one language of them: ``evaluate.languages`` (or
    the benchmark's official languages) must keep some; otherwise the study would quietly run no evaluation."""
    split, wanted = config.evaluate.split, config.evaluate.languages
    offered, by_pipeline = _evaluations(config)
    if not offered:
        return []  # nothing evaluated (a warning) or only unknown tasks (reported where they are used)
    path, key = ("evaluate", "languages"), "evaluate.languages"
    if wanted != "all" and not wanted:
        return [(path, key, "is empty: list the languages to evaluate in, or write `all`")]
    if wanted != "all" and all(check_language(language) is not None for language in wanted):
        return []  # every listed language is an unknown code, reported as such
    having = sorted({language for languages in offered.values() for language in languages})
    empty = [name for name, tasks in by_pipeline.items()
             if tasks and not any(evaluation_languages(config, get_task(task), split) for task in tasks)]
    if not empty:
        return []
    if wanted != "all" and len(empty) == sum(1 for tasks in by_pipeline.values() if tasks):
        return [(path, key, f"{wanted} selects no {split!r} language of any evaluated task, so the study would "
                 f"evaluate nothing; the tasks have {_shown_languages(having)}")]
    tasks = list(dict.fromkeys(task for name in empty for task in by_pipeline[name]))
    has = "; ".join(f"{task}: {_shown_languages(offered[task])}" for task in tasks[:4])
    why = f"`languages: {wanted}`" if wanted != "all" else f"`benchmark: {config.benchmark}`"
    pipelines = ", ".join(map(repr, empty[:6])) + (f", ... ({len(empty)} in all)" if len(empty) > 6 else "")
    if wanted == "all":  # the benchmark's official languages are what left nothing
        path, key = ("benchmark",), "benchmark"
    plural = "s" if len(empty) > 1 else ""
    return [(path, key, f"pipeline{plural} {pipelines} would evaluate nothing: {why} keeps none of the "
             f"{split!r} languages of {'their' if len(empty) > 1 else 'its'} tasks ({has})")]


def _shown_languages(languages: list[str]) -> str:
    if not languages:
        return "none"
    return ", ".join(languages[:12]) + (f", ... ({len(languages)} in all)" if len(languages) > 12 else "")


def study_warnings(config: StudyConfig) -> list[Problem]:
    """What a study may do but rarely means to: evaluate nothing at all (every pipeline has `evaluate: []`,
    a study that only trains an encoder), or list a language in `evaluate.languages` that no evaluated task has
    (it selects nothing)."""
    if config.pipelines and not any(evaluated_tasks(config, name) for name in config.pipelines):
        return [(("pipelines",), "pipelines", "no pipeline evaluates anything (each has `evaluate: []`): the study "
                 "trains its stages and reports no result")]
    wanted = config.evaluate.languages
    offered, _ = _evaluations(config)
    if wanted == "all" or not offered:
        return []
    having = sorted({language for languages in offered.values() for language in languages})
    split = config.evaluate.split
    return [(("evaluate", "languages", i), f"evaluate.languages[{i}]",
             f"no evaluated task has {split!r} data in {language!r} ({_shown_languages(having)}): it selects nothing")
            for i, language in enumerate(wanted) if language not in having and check_language(language) is None]


def known_families() -> list[str]:
    return list(FAMILY_MODULES)
