"""Expand a study into concrete nodes keyed by lineage.

A *stage node* is one stage of one pipeline for one model and one seed, identified by a hash of everything
that determines its output: the model, the upstream stage's key, the stage's config, the data it reads
(content hashes), the seed and the toolkit's major version. Pipelines that share a prefix share nodes;
pipelines of different models never do (the model is the root of every key). An *evaluation node* is one
(stage node, task, split, language). The plan is pure data: building it reads data files (for their
hashes) but trains nothing.

Each trained node has a *kind*: ``mlm`` (every source is of the mlm family), ``target`` (the last stage of
some pipeline, training a task that pipeline evaluates) or ``intermediate`` (any other trained stage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts import MAJOR_VERSION
from xstilts.config.checks import default_evaluate_tasks, selection_task_names
from xstilts.config.evaluations import (
    eval_max_length,
    evaluated_task,
    evaluation_languages,
    max_length_is_explicit,
)
from xstilts.config.schema import ModelConfig, StageConfig, StudyConfig
from xstilts.errors import XstiltsError
from xstilts.families.spec import PRETRAINING_FAMILIES
from xstilts.families.text_to_text import run_as
from xstilts.tasks import get_task
from xstilts.tasks.base import file_digest, stable_hash

# Fields that do not change what a stage produces (resume is exact), so they stay out of its key.
# target_recipe only changes how results are labelled.
_NOT_IN_KEY = {"checkpoint_every", "target_recipe", "seed"}  # seed: in the key on its own


@dataclass
class StageNode:
    """One concrete stage; or, with ``config`` None, the model as loaded (what a pipeline with no stages
    evaluates: never trained, never in ``Plan.stages``; its folder holds only evaluations)."""

    key: str
    name: str
    seed: int
    config: StageConfig | None
    parent: StageNode | None
    zero_shot: bool
    pipelines: list[str] = field(default_factory=list)
    model: str = ""  # the model's name (a key of the study's ``models``, or the single model's display name)
    kind: str = "intermediate"  # mlm | intermediate | target; "model" for the model as loaded

    @property
    def untrained(self) -> bool:
        return self.config is None

    @property
    def lineage(self) -> list[StageNode]:
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]


@dataclass
class EvalNode:
    key: str
    stage: StageNode
    pipeline: str
    seed: int
    task: str
    split: str
    language: str


@dataclass
class Plan:
    study: StudyConfig
    model_keys: dict[str, str]  # model name -> root lineage key
    stages: list[StageNode]  # parents before children
    evaluations: list[EvalNode]  # one per pipeline that asks for it (several pipelines may share a key)
    # Data files that are not there (a provisional plan only: see ``build_plan``); keys that read them are
    # provisional.
    missing: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"stages": len(self.stages), "evaluations": len(self.evaluations)}

    def kinds(self) -> dict[str, int]:
        """Stages of each kind, and distinct evaluations (``evaluate``) and the stages they read."""
        counts = {"mlm": 0, "intermediate": 0, "target": 0}
        for node in self.stages:
            counts[node.kind] += 1
        distinct = {(e.stage.key, e.key) for e in self.evaluations}
        return {**counts, "evaluate": len(distinct), "evaluation_groups": len({stage for stage, _ in distinct})}


Missing = set[str] | None  # where a provisional plan records missing data files; None: a missing file is an error


def _fingerprint(task, split: str, language: str, data_root: Path, missing: Missing) -> str:
    """The content hash of one data file; in a provisional plan, a placeholder naming a missing file."""
    if missing is not None:
        path = task.path(split, language, data_root)
        if not path.exists():
            task.ensure_files(data_root)  # generated tasks make their files
        if not path.exists():
            missing.add(str(path))
            return f"missing:{path}"
    return task.fingerprint(split, language, data_root)


def _task_with_data(name: str, data_root: Path, missing: Missing):
    """``get_task(name).with_data``; in a provisional plan a task whose labels come from absent data (CCG)
    stays as declared."""
    task = get_task(name)
    if missing is None or task.labels_from is None or task.labels:
        return task.with_data(data_root)
    try:
        return task.with_data(data_root)
    except XstiltsError:
        missing.add(str(data_root / task.data_dir))
        return task


def model_key(model: ModelConfig, data_root: Path, missing: Missing = None) -> str:
    """The root of every lineage key of a model. Its kind enters only for an encoder-decoder (an mT5 run whole
    is another model than its encoder alone), a build's ``num_decoder_layers`` only when set and a trained
    tokenizer's ``sentinels`` only when there are some: other models keep the keys they had before these existed."""
    from xstilts.config.model_kinds import ENCODER_DECODER, model_kind

    described: dict[str, Any] = model.model_dump(exclude={"label", "kind"})
    if described.get("build") is not None and described["build"].get("num_decoder_layers") is None:
        described["build"].pop("num_decoder_layers")
    train = (described.get("tokenizer") or {}).get("train")
    if train is not None and not train.get("sentinels"):
        train.pop("sentinels")
    if model_kind(model) == ENCODER_DECODER:
        described["kind"] = ENCODER_DECODER
    if model.name_or_path and Path(model.name_or_path).is_dir():
        folder = Path(model.name_or_path)
        described["files"] = {p.name: file_digest(p) for p in sorted(folder.iterdir()) if p.is_file()}
    tokenizer = model.tokenizer
    if tokenizer and tokenizer.train:
        described["corpus"] = corpus_fingerprints(tokenizer.train.corpus, data_root, missing)
    if tokenizer and tokenizer.path and Path(tokenizer.path).is_dir():
        folder = Path(tokenizer.path)
        described["tokenizer_files"] = {p.name: file_digest(p) for p in sorted(folder.iterdir()) if p.is_file()}
    return stable_hash({"v": MAJOR_VERSION, "model": described})


def corpus_fingerprints(tasks: list[str], data_root: Path, missing: Missing = None) -> dict[str, str]:
    out = {}
    for name in tasks:
        task = get_task(name)
        for split, languages in task.splits.items():
            for language in languages:
                out[f"{name}/{split}/{language}"] = _fingerprint(task, split, language, data_root, missing)
    return out


def _stage_described(stage: StageConfig) -> dict[str, Any]:
    """The stage config as its key sees it. A source's ``code_switch`` is left out here: ``_stage_data`` holds
    it with its dictionaries' content hashes instead of their paths (moving a study keeps its keys), and a
    source without it keeps the key it had before the option existed. A source's ``max_length`` is left out
    when it is unset or the stage's own (the same features either way): such a source keeps its old key. ``peft``
    (method, rank, targets, merge) is in the key when set, and left out when not: a LoRA stage is another stage
    than its full fine-tuning twin, and stages without it keep the keys they had before the option existed."""
    described = stage.model_dump(exclude=_NOT_IN_KEY)
    if described.get("peft") is None:
        described.pop("peft", None)
    for source in described["sources"]:
        source.pop("code_switch", None)
        if source.get("max_length") in (None, stage.max_length):
            source.pop("max_length", None)
    return described


def _stage_data(stage: StageConfig, data_root: Path, missing: Missing = None,
                kind: str | None = None) -> list[dict[str, Any]]:
    """The data of a stage as its key sees it; a task as it runs on a model of ``kind`` (text to text on an
    encoder-decoder: ``families/text_to_text.run_as``)."""
    selected = selection_task_names(stage)
    described = []
    for source in stage.sources:
        task = run_as(_task_with_data(source.task, data_root, missing), kind)
        entry = {"task": task.describe(), "split": source.split, "languages": source.languages,
                 "max_examples": source.max_examples, "fraction": source.fraction,
                 "files": [_fingerprint(task, source.split, lang, data_root, missing) for lang in source.languages]}
        if source.code_switch is not None:
            from xstilts.data.code_switch import RULE_VERSION

            switch = source.code_switch
            entry["code_switch"] = {"rule": RULE_VERSION, "dictionaries": _dictionary_digests(switch, missing),
                                    "ratio": switch.ratio, "seed": switch.seed,
                                    "language_choice": switch.language_choice}
        if stage.selection.enabled and source.task in selected:
            entry["dev"] = [_fingerprint(task, stage.selection.split, lang, data_root, missing)
                            for lang in stage.selection.languages]
        described.append(entry)
    return described


def _dictionary_digests(switch, missing: Missing) -> dict[str, str]:
    from xstilts.data.code_switch import dictionary_digests

    absent = {language: path for language, path in switch.dictionaries.items() if not Path(path).is_file()}
    if missing is None or not absent:
        return dictionary_digests(switch)
    missing.update(absent.values())
    return {language: f"missing:{path}" for language, path in sorted(switch.dictionaries.items())}


def stage_is_zero_shot(stage: StageConfig) -> bool:
    """Training or selecting on non-English data of a task (not MLM) leaves the zero-shot setting: a source in
    another language (a translate-train split), or a code-switched one (its English examples hold
    target-language words). MLM sources are exempt, code-switched or not: unlabelled text in any language is
    what multilingual pretraining reads anyway."""
    for source in stage.sources:
        if get_task(source.task).family in PRETRAINING_FAMILIES:
            continue
        if source.languages != ["en"] or source.code_switch is not None:
            return False
        if stage.selection.enabled and stage.selection.languages != ["en"]:
            return False
    return True


def build_plan(study: StudyConfig, data_root: Path, provisional: bool = False) -> Plan:
    """The plan of ``study``. A missing data file is an error, unless ``provisional``: then its content hash is
    a placeholder, ``Plan.missing`` lists it, and the keys that read it will change once the data is there
    (``xstilts plan`` on a study whose data is not downloaded yet: counts and estimates, no run)."""
    from xstilts.config.model_kinds import model_kind

    missing: Missing = set() if provisional else None
    model_keys = {name: model_key(model, data_root, missing) for name, model in study.model_configs().items()}
    kinds = {name: model_kind(model) for name, model in study.model_configs().items()}
    nodes: dict[str, StageNode] = {}
    evaluations: dict[str, EvalNode] = {}
    targets: set[str] = set()
    for model_name, root_key in model_keys.items():
        for seed in study.seeds:
            for pipeline_name in study.pipelines:
                if model_name not in study.pipeline_models(pipeline_name):
                    continue
                parent = _stage_nodes(study, pipeline_name, model_name, root_key, seed, data_root, nodes, missing,
                                      kinds[model_name])
                tasks = _evaluated_tasks(study, pipeline_name)
                if parent is None:  # no stages: evaluate the model itself (seeded: a built encoder is random)
                    parent = StageNode(stable_hash({"v": MAJOR_VERSION, "untrained": root_key, "seed": seed}),
                                       "(model)", seed, None, None, True, [pipeline_name], model_name, "model")
                elif {get_task(t).head_name for t in tasks} & {get_task(s.task).head_name
                                                               for s in parent.config.sources}:
                    targets.add(parent.key)
                _add_evaluations(study, pipeline_name, parent, tasks, data_root, evaluations, missing,
                                 kinds[model_name])
    for node in nodes.values():
        if all(get_task(s.task).family in PRETRAINING_FAMILIES for s in node.config.sources):
            node.kind = "mlm"  # the pretraining kind: MLM, or span corruption for an encoder-decoder
        elif node.key in targets:
            node.kind = "target"
    return Plan(study, model_keys, list(nodes.values()), list(evaluations.values()), sorted(missing or ()))


def _evaluated_tasks(study: StudyConfig, pipeline_name: str) -> list[str]:
    pipeline = study.pipeline(pipeline_name)
    return pipeline.evaluate if pipeline.evaluate is not None else default_evaluate_tasks(study, pipeline.stages)


def _stage_nodes(study: StudyConfig, pipeline_name: str, model_name: str, root_key: str, seed: int,
                 data_root: Path, nodes: dict[str, StageNode], missing: Missing = None,
                 kind: str | None = None) -> StageNode | None:
    """Add one pipeline's stages for one model and seed (reusing nodes already there); return the last."""
    parent: StageNode | None = None
    for stage_name in study.pipeline(pipeline_name).stages:
        stage = study.stages[stage_name]
        stage_seed = seed if stage.seed is None else stage.seed  # a stage's own seed: trained once, shared
        key = stable_hash({
            "v": MAJOR_VERSION,
            "parent": parent.key if parent else root_key,
            "seed": stage_seed,
            "stage": _stage_described(stage),
            "data": _stage_data(stage, data_root, missing, kind),
        })
        if key not in nodes:
            zero_shot = (parent.zero_shot if parent else True) and stage_is_zero_shot(stage)
            nodes[key] = StageNode(key, stage_name, stage_seed, stage, parent, zero_shot, model=model_name)
        node = nodes[key]
        if pipeline_name not in node.pipelines:
            node.pipelines.append(pipeline_name)
        parent = node
    return parent


def _add_evaluations(study: StudyConfig, pipeline_name: str, parent: StageNode, tasks: list[str], data_root: Path,
                     evaluations: dict[str, EvalNode], missing: Missing = None, kind: str | None = None) -> None:
    for task_name in tasks:
        task = evaluated_task(study, run_as(_task_with_data(task_name, data_root, missing), kind))
        split = study.evaluate.split
        for language in evaluation_languages(study, task, split):
            described = {
                "v": MAJOR_VERSION, "stage": parent.key, "task": task.describe(), "split": split,
                "language": language, "data": _fingerprint(task, split, language, data_root, missing),
                "max_examples": study.evaluate.max_examples,
            }
            if parent.untrained or max_length_is_explicit(study, task):
                # Only then does the limit not follow from the stage (keys of other runs unchanged).
                described["max_length"] = eval_max_length(study, parent, task)
            key = stable_hash(described)
            evaluations[f"{pipeline_name}/{key}"] = EvalNode(key, parent, pipeline_name, parent.seed, task_name,
                                                            split, language)
