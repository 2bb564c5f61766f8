"""Expand a study into concrete nodes keyed by lineage.

A *stage node* is one stage of one pipeline for one seed, identified by a hash of everything that
determines its output: the model, the upstream stage's key, the stage's config, the data it reads
(content hashes), the seed and the toolkit's major version. Pipelines that share a prefix share nodes.
An *evaluation node* is one (stage node, task, split, language). The plan is pure data: building it reads
data files (for their hashes) but trains nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts import MAJOR_VERSION
from xstilts.config.checks import default_evaluate_tasks, selection_task_names
from xstilts.config.schema import DEFAULT_EVAL_MAX_LENGTH, ModelConfig, StageConfig, StudyConfig
from xstilts.tasks import get_task
from xstilts.tasks.base import file_digest, stable_hash

# Fields that do not change what a stage produces (resume is exact), so they stay out of its key.
_NOT_IN_KEY = {"checkpoint_every"}


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
    model_key: str
    stages: list[StageNode]  # parents before children
    evaluations: list[EvalNode]

    def counts(self) -> dict[str, int]:
        return {"stages": len(self.stages), "evaluations": len(self.evaluations)}


def model_key(model: ModelConfig, data_root: Path) -> str:
    described: dict[str, Any] = model.model_dump(exclude={"label"})
    if model.name_or_path and Path(model.name_or_path).is_dir():
        folder = Path(model.name_or_path)
        described["files"] = {p.name: file_digest(p) for p in sorted(folder.iterdir()) if p.is_file()}
    tokenizer = model.tokenizer
    if tokenizer and tokenizer.train:
        described["corpus"] = corpus_fingerprints(tokenizer.train.corpus, data_root)
    if tokenizer and tokenizer.path and Path(tokenizer.path).is_dir():
        folder = Path(tokenizer.path)
        described["tokenizer_files"] = {p.name: file_digest(p) for p in sorted(folder.iterdir()) if p.is_file()}
    return stable_hash({"v": MAJOR_VERSION, "model": described})


def corpus_fingerprints(tasks: list[str], data_root: Path) -> dict[str, str]:
    out = {}
    for name in tasks:
        task = get_task(name)
        for split, languages in task.splits.items():
            for language in languages:
                out[f"{name}/{split}/{language}"] = task.fingerprint(split, language, data_root)
    return out


def _stage_described(stage: StageConfig) -> dict[str, Any]:
    """The stage config as its key sees it. A source's ``code_switch`` is left out here: ``_stage_data`` holds
    it with its dictionaries' content hashes instead of their paths (moving a study keeps its keys), and a
    source without it keeps the key it had before the option existed."""
    described = stage.model_dump(exclude=_NOT_IN_KEY)
    for source in described["sources"]:
        source.pop("code_switch", None)
    return described


def _stage_data(stage: StageConfig, data_root: Path) -> list[dict[str, Any]]:
    selected = selection_task_names(stage)
    described = []
    for source in stage.sources:
        task = get_task(source.task).with_data(data_root)
        entry = {"task": task.describe(), "split": source.split, "languages": source.languages,
                 "max_examples": source.max_examples, "fraction": source.fraction,
                 "files": [task.fingerprint(source.split, lang, data_root) for lang in source.languages]}
        if source.code_switch is not None:
            from xstilts.data.code_switch import RULE_VERSION, dictionary_digests

            switch = source.code_switch
            entry["code_switch"] = {"rule": RULE_VERSION, "dictionaries": dictionary_digests(switch),
                                    "ratio": switch.ratio, "seed": switch.seed,
                                    "language_choice": switch.language_choice}
        if stage.selection.enabled and source.task in selected:
            entry["dev"] = [task.fingerprint(stage.selection.split, lang, data_root)
                            for lang in stage.selection.languages]
        described.append(entry)
    return described


def stage_is_zero_shot(stage: StageConfig) -> bool:
    """Training or selecting on non-English data of a task (not MLM) leaves the zero-shot setting: a source in
    another language (a translate-train split), or a code-switched one (its English examples hold
    target-language words). MLM sources are exempt, code-switched or not: unlabelled text in any language is
    what multilingual pretraining reads anyway."""
    for source in stage.sources:
        if get_task(source.task).family == "mlm":
            continue
        if source.languages != ["en"] or source.code_switch is not None:
            return False
        if stage.selection.enabled and stage.selection.languages != ["en"]:
            return False
    return True


def eval_max_length(study: StudyConfig, stage: StageNode) -> int:
    """Tokens per example when evaluating on ``stage``: the study's ``evaluate.max_length``, else the stage's."""
    if study.evaluate.max_length is not None:
        return study.evaluate.max_length
    return DEFAULT_EVAL_MAX_LENGTH if stage.config is None else stage.config.max_length


def build_plan(study: StudyConfig, data_root: Path) -> Plan:
    root_key = model_key(study.model, data_root)
    nodes: dict[str, StageNode] = {}
    evaluations: dict[str, EvalNode] = {}
    for seed in study.seeds:
        for pipeline_name in study.pipelines:
            pipeline = study.pipeline(pipeline_name)
            parent: StageNode | None = None
            for stage_name in pipeline.stages:
                stage = study.stages[stage_name]
                key = stable_hash({
                    "v": MAJOR_VERSION,
                    "parent": parent.key if parent else root_key,
                    "seed": seed,
                    "stage": _stage_described(stage),
                    "data": _stage_data(stage, data_root),
                })
                if key not in nodes:
                    zero_shot = (parent.zero_shot if parent else True) and stage_is_zero_shot(stage)
                    nodes[key] = StageNode(key, stage_name, seed, stage, parent, zero_shot)
                node = nodes[key]
                if pipeline_name not in node.pipelines:
                    node.pipelines.append(pipeline_name)
                parent = node
            if parent is None:  # no stages: evaluate the model itself (seeded: a built encoder is random)
                parent = StageNode(stable_hash({"v": MAJOR_VERSION, "untrained": root_key, "seed": seed}),
                                   "(model)", seed, None, None, True, [pipeline_name])
            tasks = pipeline.evaluate if pipeline.evaluate is not None else default_evaluate_tasks(
                study, pipeline.stages)
            for task_name in tasks:
                task = get_task(task_name).with_data(data_root)
                split = study.evaluate.split
                wanted = study.evaluate.languages
                languages = [lang for lang in task.splits[split] if wanted == "all" or lang in wanted]
                for language in languages:
                    described = {
                        "v": MAJOR_VERSION, "stage": parent.key, "task": task.describe(), "split": split,
                        "language": language, "data": task.fingerprint(split, language, data_root),
                        "max_examples": study.evaluate.max_examples,
                    }
                    if parent.untrained or study.evaluate.max_length is not None:
                        # Only then does the limit not follow from the stage (keys of other runs unchanged).
                        described["max_length"] = eval_max_length(study, parent)
                    key = stable_hash(described)
                    evaluations[f"{pipeline_name}/{key}"] = EvalNode(
                        key, parent, pipeline_name, seed, task_name, split, language)
    return Plan(study, root_key, list(nodes.values()), list(evaluations.values()))
