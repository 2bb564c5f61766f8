"""The cheapest estimator: how alike the tasks' texts look to the encoder the candidates start from (TextEmb /
SEmb in Poth et al. 2021, the text embeddings of Vu et al. 2020).

The encoder after the problem's prefix stages (the grid's own nodes, trained now through the normal runner if
nobody has yet; the model as loaded when there are none) mean-pools its last hidden states over the tokens of
the first ``settings.examples`` English training examples of each task (a multiple choice example's context and
choices as one text, a QA example's question and context, a tagged sentence's words). A task's vector is the
mean of its examples'; a candidate's, the mean over its sources' examples (each source equally; MLM sources and
non-English sources left out, so a candidate that only adds non-English data looks like its English twin).
With ``settings.centre`` every vector is first moved by the mean of all the tasks' vectors (see settings.py).

Score(candidate, target, ALL) = cosine(candidate, target's English vector). Per language ``l``: the target's
unlabelled inputs in ``l`` (its dev split; a retrieval example's non-English side) against the candidate's
English vector. A target with no English data (a retrieval task evaluated only across languages) gets ALL as
the mean of its languages' scores.
"""

from __future__ import annotations

import time

import numpy as np

from xstilts.families import family_spec
from xstilts.families.spec import PRETRAINING_FAMILIES
from xstilts.selection.estimate import ALL, Cost, Estimate
from xstilts.selection.estimators import cache
from xstilts.selection.estimators.costs import forward_flops, with_grid
from xstilts.selection.estimators.nodes import lineage_keys, nodes_for, prefix_node, run_nodes
from xstilts.selection.estimators.settings import EstimatorSettings
from xstilts.selection.problem import SelectionProblem
from xstilts.studies.context import Context, Say, ensure_tokenizer
from xstilts.tasks import get_task

NAME = "similarity"


def estimate(problem: SelectionProblem, context: Context, settings: EstimatorSettings, say: Say) -> Estimate:
    prefix = prefix_node(context, problem)
    english = _english_sources(problem, context)
    languages = {task: _language_sources(context, task, target.languages)
                 for task, target in problem.targets.items()}
    path = cache.cache_path(context, NAME, {
        "encoder": prefix.key if prefix else context.plan.model_keys[problem.model],
        "english": {name: [_describe(context, *source) for source in sources] for name, sources in english.items()},
        "languages": {task: {language: _describe(context, *source) for language, source in by_language.items()}
                      for task, by_language in languages.items()},
        "settings": {k: getattr(settings, k) for k in ("examples", "language_examples", "centre", "max_length")},
    })
    cached = cache.load(path)
    if cached is not None:
        return cached
    notes: list[str] = []
    if prefix is not None:
        times = run_nodes(context, nodes_for(context, lineage_keys([prefix]), set()), say)
        trained = sum(t.seconds for t in times.values() if not t.cached)
        if trained:
            notes.append(f"prefix stage {prefix.name!r} trained now ({trained:.1f} s): the grid shares it, so "
                         "it is not counted in this estimate's cost")
    from xstilts.selection.estimators.features import load_encoder, mean_pooled

    say(f"select: similarity on the encoder after {prefix.name!r}" if prefix else
        "select: similarity on the model as loaded")
    start = time.perf_counter()
    encoder = load_encoder(context, problem.model, prefix)
    tokenizer, _ = ensure_tokenizer(context, problem.model)
    tokens = 0

    def vector(sources: list[tuple[str, str, str]], limit: int) -> np.ndarray | None:
        nonlocal tokens
        per_source = []
        for task_name, split, language in sources:
            texts = _texts(context, task_name, split, language, limit)
            if texts:
                pooled, used = mean_pooled(encoder, tokenizer, texts, settings.max_length, settings.batch_size)
                tokens += used
                per_source.append(pooled.mean(axis=0))
        return np.mean(per_source, axis=0) if per_source else None

    english_vectors = {name: vector(sources, settings.examples) for name, sources in english.items()}
    language_vectors = {task: {language: vector([source], settings.language_examples)
                               for language, source in by_language.items()}
                        for task, by_language in languages.items()}
    known = [v for v in english_vectors.values() if v is not None]
    centre = np.mean(known, axis=0) if settings.centre and known else 0.0
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for task, target in problem.targets.items():
        candidates = [c for c in problem.candidates if c in target.pipelines and english_vectors[c] is not None]
        for language, target_vector in language_vectors[task].items():
            if target_vector is not None:
                scores[(task, language)] = {c: _cosine(english_vectors[c] - centre, target_vector - centre)
                                            for c in candidates}
        if english_vectors[_target_key(task)] is not None:
            scores[(task, ALL)] = {c: _cosine(english_vectors[c] - centre, english_vectors[_target_key(task)] - centre)
                                   for c in candidates}
        else:
            per_language = [scores[(task, language)] for language in language_vectors[task]
                            if (task, language) in scores]
            if not per_language:
                notes.append(f"target {task!r}: no English data and no inputs in its languages: no score")
                continue
            notes.append(f"target {task!r} has no English data: its overall score is the mean over its languages")
            scores[(task, ALL)] = {c: float(np.mean([s[c] for s in per_language])) for c in candidates}
    for candidate in problem.candidates:
        if english_vectors[candidate] is None:
            notes.append(f"candidate {candidate!r} has no English task data (MLM or non-English sources only): "
                         "no score")
    seconds = time.perf_counter() - start
    result = Estimate(NAME, scores, with_grid(Cost(seconds, forward_flops(context, problem.model, tokens)),
                                              context, problem, notes), notes)
    cache.store(path, result)
    return result


def _target_key(task: str) -> str:
    return f"target:{task}"  # a target's English vector, beside the candidates' in one table


def _english_sources(problem: SelectionProblem, context: Context) -> dict[str, list[tuple[str, str, str]]]:
    """(task, split, "en") read for each candidate and (as ``target:<task>``) each target's English vector."""
    out = {}
    for candidate in problem.candidates:
        out[candidate] = [(source.task, source.split, "en") for stage in problem.stages_of(candidate)
                          for source in stage.sources
                          if "en" in source.languages and get_task(source.task).family not in PRETRAINING_FAMILIES]
    for task in problem.targets:
        split = _split_with(get_task(task), "en", prefer="train")
        out[_target_key(task)] = [(task, split, "en")] if split else []
    return out


def _language_sources(context: Context, task_name: str, languages: list[str]) -> dict[str, tuple[str, str, str]]:
    task = get_task(task_name)
    out = {}
    for language in languages:
        split = _split_with(task, language, prefer="dev") or context.study.evaluate.split
        out[language] = (task_name, split, language)
    return out


def _split_with(task, language: str, prefer: str) -> str | None:
    """``prefer`` if it has ``language``, else dev (test inputs only when nothing else has the language)."""
    for split in (prefer, "dev", *task.splits):
        if language in task.splits.get(split, ()):
            return split
    return None


def _describe(context: Context, task_name: str, split: str, language: str) -> dict:
    task = get_task(task_name).with_data(context.data_root)
    task.ensure_files(context.data_root)
    return {"task": task.describe(), "split": split, "language": language,
            "data": task.fingerprint(split, language, context.data_root)}


def _texts(context: Context, task_name: str, split: str, language: str, limit: int) -> list[str]:
    """The inputs of the first ``limit`` examples, labels left out."""
    task = get_task(task_name).with_data(context.data_root)
    examples = task.load(split, language, context.data_root, limit=limit)
    if task.family == "retrieval":  # the side in ``language``: the other one is the English pivot
        return [example["source"] for example in examples if example.get("source")]
    texts = family_spec(task.family).texts
    if task.family == "generation":
        texts = lambda example: [example["source"]]  # noqa: E731 - the target text is the label
    return [" ".join(texts(example)) for example in examples]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm > 0 else 0.0
