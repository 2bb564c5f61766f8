"""A study's plan and where its things live (store, data, caches), shared by every node that runs; and the two
inputs every node prepares from it: a model's tokenizer and a task's features.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts.config.schema import StudyConfig
from xstilts.errors import ConfigError
from xstilts.studies.plan import Plan, build_plan
from xstilts.studies.processes import Processes
from xstilts.studies.store import RunStore, default_data_root, xstilts_home
from xstilts.tasks.custom import DATA_ROOT_FIELD

# One line for the person running the study (stderr); never results, which go to files.
Say = Callable[[str], None]


def quiet(message: str) -> None:
    """A ``Say`` that says nothing."""


@dataclass
class Context:
    study: StudyConfig
    plan: Plan
    store: RunStore
    data_root: Path
    home: Path
    processes: Processes = field(default_factory=Processes)
    # model name -> (tokenizer, tokenizer id): every model of a study has its own
    tokenizers: dict[str, tuple[Any, str]] = field(default_factory=dict)

    @property
    def features_root(self) -> Path:
        return self.home / "features"


def resolve_data_root(study: StudyConfig) -> Path:
    return Path(study.data_root) if study.data_root else default_data_root()


def with_data_root_paths(study: StudyConfig, data_root: Path) -> StudyConfig:
    """The study with ``{data_root}`` filled in where paths may use it (code-switching dictionaries, e.g.
    ``{data_root}/muse/en-de.txt``): like task files under the data root, they are looked for at run time."""
    if not any(s.code_switch and DATA_ROOT_FIELD in p for stage in study.stages.values()
               for s in stage.sources for p in (s.code_switch.dictionaries.values() if s.code_switch else ())):
        return study
    study = study.model_copy(deep=True)
    for stage in study.stages.values():
        for source in stage.sources:
            if source.code_switch is not None:
                source.code_switch.dictionaries = {
                    language: path.replace(DATA_ROOT_FIELD, str(data_root))
                    for language, path in source.code_switch.dictionaries.items()}
    return study


def make_context(study: StudyConfig, provisional: bool = False) -> Context:
    """The plan and where things live. ``provisional``: a missing data file does not stop the plan (see
    ``build_plan``); for ``xstilts plan`` only, never to run."""
    data_root = resolve_data_root(study)
    study = with_data_root_paths(study, data_root)
    home = xstilts_home()
    store = RunStore(Path(study.store) if study.store else home / "runs")
    return Context(study, build_plan(study, data_root, provisional), store, data_root, home)


def ensure_tokenizer(context: Context, model: str | None = None) -> tuple[Any, str]:
    """(tokenizer, tokenizer id) of a model of the study (``None``: its only model), prepared once."""
    if model is None:
        (model,) = context.plan.model_keys  # callers of a several-model study always name the model
    if model not in context.tokenizers:
        from xstilts.models.setup import prepare_tokenizer

        with context.processes.main_first():
            tokenizer, tokenizer_id = prepare_tokenizer(
                context.study.model_configs()[model], context.data_root, context.home / "tokenizers",
                context.plan.model_keys[model])
        # Checked at the first load, so before any of the model's stages trains (the tokenizer is loaded for
        # the first stage, and this looks at all of them).
        problems = tokenizer_problems(context.plan, model, tokenizer)
        if problems:
            raise ConfigError(problems)
        context.tokenizers[model] = tokenizer, tokenizer_id
    return context.tokenizers[model]


def tokenizer_problems(plan: Plan, model: str, tokenizer: Any) -> list[str]:
    """What the model's tokenizer cannot do that its stages ask for: masked language modelling needs a mask
    token, and T5-style tokenizers (mT5's) have none (T5 was pretrained on spans replaced by sentinels)."""
    if getattr(tokenizer, "mask_token_id", None) is not None:
        return []
    from xstilts.tasks import get_task

    problems = {}
    for node in plan.stages:
        if node.model != model or node.config is None:
            continue
        for number, source in enumerate(node.config.sources):
            if get_task(source.task).family == "mlm":
                problems[(node.name, number)] = (
                    f"stages.{node.name}.sources[{number}]: task {source.task!r} is masked language modelling, "
                    f"but the tokenizer of model {model!r} has no mask token ({type(tokenizer).__name__}; mT5's "
                    "encoder has none): leave this stage out of the model's pipelines, or use an encoder whose "
                    "tokenizer has a mask token")
    return list(problems.values())


def model_kind_of(context: Context, model: str) -> str:
    """What the runner builds or loads for a model of the study: "encoder" or "encoder-decoder"
    (``config/model_kinds.py``; a kind that cannot be read before loading is taken as an encoder, as before
    encoder-decoders existed, and loading then says what is wrong)."""
    from xstilts.config.model_kinds import model_kind

    return model_kind(context.study.model_configs()[model]) or "encoder"


def checked_model_kind(context: Context, model: str, tasks) -> str:
    """The model's kind, after checking that every task of ``tasks`` can run on it (the runtime guard of what
    `xstilts validate` says with file and line: a kind that only became known now is checked here too)."""
    from xstilts.errors import XstiltsError
    from xstilts.families import family_spec
    from xstilts.families.text_to_text import model_kind_problem

    kind = model_kind_of(context, model)
    for task in tasks:
        message = model_kind_problem(family_spec(task.family), kind, f"model {model!r}")
        if message is not None:
            raise XstiltsError(f"task {task.name!r}: {message}")
    return kind


def featurize(context: Context, task, split: str, language: str, max_length: int, limit: int | None,
               model: str | None = None):
    from xstilts.data.cache import featurize_cached

    tokenizer, tokenizer_id = ensure_tokenizer(context, model)
    with context.processes.main_first():
        return featurize_cached(task, split, language, data_root=context.data_root, cache_root=context.features_root,
                                tokenizer=tokenizer, tokenizer_id=tokenizer_id, max_length=max_length, limit=limit)
