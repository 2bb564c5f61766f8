"""Parallel sentence mining and its scoring, as BUCC 2018 is evaluated in XTREME (see benchmarks.md).

The official definition, step by step, each a function here:

1. :func:`mine` - over de-duplicated, L2-normalised embeddings, every source takes its best target by ratio
   margin among its k=4 cosine neighbours (forward) and every target its best source (backward); the two
   lists are pooled, sorted by margin, and read greedily: a pair is kept unless its source or its target is
   already taken ("max" retrieval, one-to-one). Only pairs with a margin above 0 are emitted, as the official
   mine_bitext writes only scores above its threshold of 0 (strictly): a pair whose cosine is negative (the
   ratio margin of a positive denominator) is no candidate at all. Read best first, the pairs left out are
   the tail of the greedy list, so dropping them changes nothing before them.
2. :func:`candidate_pairs` - mined sentence pairs become id pairs. A sentence text that occurs under several
   ids cannot be mapped to one id and is dropped, as the official scorer drops it (its sent2id mapping).
3. :func:`choose_threshold` - on dev (BUCC's "sample" split), the margin threshold that maximises F1 against
   the gold pairs: the candidates sorted by score, F1 of every prefix, and the midpoint between the best
   prefix's last score and the next score.
4. :func:`extract` + :func:`precision_recall_f1` - on test (BUCC's "training" split), the pairs scoring at
   least the threshold, scored as sets of ``(source id, English id)`` against the gold. The set counts split
   by source sentence (:func:`pair_counts`): each source's (correct, extracted, gold) pairs are its units.

The threshold rule (``rule`` of :func:`choose_threshold`; the retrieval setting ``threshold_rule``):

- ``official`` (the default) is the released driver's (XTREME's utils_retrieve.bucc_optimize, from LASER):
  every prefix of the ranked candidates is a cut, ties included; with no correct candidate at all the threshold
  stays 0, so every candidate is extracted. Where the driver crashes (the best F1 at the last candidate: it
  reads ``items[i + 1]``) the threshold is the last candidate's score itself, so every candidate is extracted.
- ``change-points`` is ours, a named option: only prefixes that end where the score changes are cuts (a cut
  inside a run of equal scores is one no threshold can make, so the chosen threshold reproduces the chosen
  F1 exactly), and with no correct candidate nothing is extracted (threshold None: an honest 0 on test
  rather than the precision of "everything"). On real embeddings margins rarely tie, and the two agree.

Either way an empty gold is an error (the driver divides by zero), and so is an id that occurs twice in one set.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from xstilts.errors import XstiltsError
from xstilts.scoring.metrics import prf_scores
from xstilts.scoring.retrieval import DEFAULT_CHUNK_SIZE, DEFAULT_MARGIN_K, margin_neighbours

Pair = tuple[str, str]
# mine_bitext's default threshold in "max" mode: only margins strictly above it are written.
MIN_MARGIN = 0.0


@dataclass(frozen=True)
class Mined:
    """Mined pairs as row indices into the (de-duplicated) source and target arrays, best margin first."""

    sources: np.ndarray
    targets: np.ndarray
    scores: np.ndarray


def mine(
    sources: np.ndarray,
    targets: np.ndarray,
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **search: Any,
) -> Mined:
    """Greedy one-to-one ratio-margin mining in both directions ("max" retrieval) of two embedding arrays.

    ``search``: ``key_block``, ``backend``, ``device`` (see :func:`xstilts.scoring.retrieval.top_k`).
    The proposals are read best margin first; equal margins in the order forward (by source) then backward
    (by target), so the result does not depend on the sort algorithm. Pairs with a margin of 0 or below are
    not returned (see the module docstring).
    """
    found = margin_neighbours(sources, targets, k, chunk_size, **search)
    forward_best = found.forward_margins.argmax(axis=1)
    backward_best = found.backward_margins.argmax(axis=1)
    n_sources, n_targets = len(found.forward_indices), len(found.backward_indices)
    proposal_sources = np.concatenate([np.arange(n_sources), found.backward_indices[np.arange(n_targets), backward_best]])
    proposal_targets = np.concatenate([found.forward_indices[np.arange(n_sources), forward_best], np.arange(n_targets)])
    proposal_scores = np.concatenate(
        [found.forward_margins[np.arange(n_sources), forward_best], found.backward_margins[np.arange(n_targets), backward_best]]
    )
    order = np.argsort(-proposal_scores, kind="stable")
    taken_sources, taken_targets = set(), set()
    kept = []
    for proposal in order.tolist():
        if not proposal_scores[proposal] > MIN_MARGIN:
            break  # best first: every proposal from here on is at or below the threshold as well
        source, target = int(proposal_sources[proposal]), int(proposal_targets[proposal])
        if source in taken_sources or target in taken_targets:
            continue
        taken_sources.add(source)
        taken_targets.add(target)
        kept.append(proposal)
    kept_array = np.asarray(kept, dtype=np.int64)
    return Mined(proposal_sources[kept_array], proposal_targets[kept_array], proposal_scores[kept_array])


def unique_sentences(side: Sequence[tuple[str, str]], name: str = "sentences") -> tuple[list[int], list[str | None]]:
    """De-duplicate ``(id, sentence)`` rows by sentence text.

    Returns the row of the first occurrence of each distinct sentence (the rows to embed and mine) and, per
    distinct sentence, its id, or None when the text occurs under several ids (then no id can be given).
    """
    counts = Counter(sentence_id for sentence_id, _ in side)
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if repeated:
        raise XstiltsError(f"{name}: ids must be unique, but these occur more than once: {', '.join(repeated[:5])}")
    ids_of: dict[str, list[str]] = defaultdict(list)
    first_rows: list[int] = []
    for row, (sentence_id, sentence) in enumerate(side):
        if sentence not in ids_of:
            first_rows.append(row)
        ids_of[sentence].append(sentence_id)
    owners = [ids_of[side[row][1]] for row in first_rows]
    return first_rows, [ids[0] if len(ids) == 1 else None for ids in owners]


def candidate_pairs(
    sources: Sequence[tuple[str, str]],
    source_vectors: np.ndarray,
    targets: Sequence[tuple[str, str]],
    target_vectors: np.ndarray,
    k: int = DEFAULT_MARGIN_K,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    **search: Any,
) -> dict[Pair, float]:
    """Mined ``(source id, target id) -> margin`` for one language pair of BUCC.

    ``sources``/``targets``: ``(id, sentence)`` rows (e.g. ``("de-000000001", "Ein Satz.")``);
    ``*_vectors``: their embeddings, one row each, in the same order.
    """
    for side, vectors, name in ((sources, source_vectors, "sources"), (targets, target_vectors, "targets")):
        if len(side) != len(vectors):
            raise XstiltsError(f"{len(side)} {name} but {len(vectors)} embeddings: give one embedding per sentence")
        if not len(side):
            raise XstiltsError(f"there are no {name} to mine")
    source_rows, source_ids = unique_sentences(sources, "sources")
    target_rows, target_ids = unique_sentences(targets, "targets")
    mined = mine(np.asarray(source_vectors)[source_rows], np.asarray(target_vectors)[target_rows], k, chunk_size,
                 **search)
    pairs: dict[Pair, float] = {}
    for source, target, score in zip(mined.sources.tolist(), mined.targets.tolist(), mined.scores.tolist(), strict=True):
        if source_ids[source] is not None and target_ids[target] is not None:
            pairs[(source_ids[source], target_ids[target])] = float(score)
    return pairs


@dataclass(frozen=True)
class ThresholdChoice:
    """The dev threshold (None: no candidate was correct, extract nothing) and the dev scores it gives (0-100)."""

    threshold: float | None
    precision: float
    recall: float
    f1: float


THRESHOLD_RULES = ("official", "change-points")


def choose_threshold(candidates: dict[Pair, float], gold: Iterable[Pair], rule: str = "official") -> ThresholdChoice:
    """The margin threshold that maximises F1 of the extracted pairs against ``gold`` (see the module doc for
    the two rules)."""
    if rule not in THRESHOLD_RULES:
        raise XstiltsError(f"unknown threshold rule {rule!r}: choose one of {', '.join(THRESHOLD_RULES)}")
    gold = set(gold)
    if not gold:
        raise XstiltsError("the gold has no pairs: a threshold cannot be chosen against an empty gold")
    ranked = sorted(candidates.items(), key=lambda item: -item[1])
    # official: the driver starts from threshold 0 (every candidate, margins being above 0) with F1 0
    best = ThresholdChoice(0.0 if rule == "official" else None, 0.0, 0.0, 0.0)
    best_f1, correct = 0.0, 0
    for position, (pair, score) in enumerate(ranked):
        correct += pair in gold
        next_score = ranked[position + 1][1] if position + 1 < len(ranked) else None
        if correct == 0 or (rule == "change-points" and next_score == score):
            continue  # change-points: a cut inside a run of equal scores cannot be made by a threshold
        precision, recall = correct / (position + 1), correct / len(gold)
        f1 = 2 * precision * recall / (precision + recall)
        if f1 > best_f1:  # strictly: of equal F1s, the first (highest threshold) stays
            best_f1 = f1
            threshold = score if next_score is None else (score + next_score) / 2
            best = ThresholdChoice(threshold, 100 * precision, 100 * recall, 100 * f1)
    return best


def extract(candidates: dict[Pair, float], threshold: float | None) -> set[Pair]:
    """The candidate pairs scoring at least ``threshold`` (none when the threshold is None)."""
    if threshold is None or (isinstance(threshold, float) and math.isnan(threshold)):
        return set()
    return {pair for pair, score in candidates.items() if score >= threshold}


def pair_counts(
    sources: Sequence[str], predicted: Iterable[Pair], gold: Iterable[Pair]
) -> list[tuple[int, int, int]]:
    """Per source id of ``sources``: (correct, predicted, gold) among the distinct pairs whose source it is.
    Summed, they are the set counts :func:`precision_recall_f1` scores; a pair whose source is not listed is
    an error (it would be lost from the sums)."""
    predicted, gold = set(predicted), set(gold)
    position = {source: i for i, source in reversed(list(enumerate(sources)))}  # the first of repeated ids
    counts = [[0, 0, 0] for _ in sources]
    for found, column in ((predicted & gold, 0), (predicted, 1), (gold, 2)):
        for pair in found:
            if pair[0] not in position:
                raise XstiltsError(f"pair {pair!r} has a source that is not one of the scored sentences")
            counts[position[pair[0]]][column] += 1
    return [(correct, n_pred, n_gold) for correct, n_pred, n_gold in counts]


def precision_recall_f1(predicted: Iterable[Pair], gold: Iterable[Pair]) -> dict[str, float]:
    """Set-based precision, recall and F1 (0-100) of predicted pairs against gold pairs."""
    predicted, gold = set(predicted), set(gold)
    if not gold:
        raise XstiltsError("the gold has no pairs: recall is undefined")
    sources = sorted({source for source, _ in predicted | gold})
    return prf_scores(pair_counts(sources, predicted, gold))


def bucc_scores(
    dev_candidates: dict[Pair, float],
    dev_gold: Iterable[Pair],
    test_candidates: dict[Pair, float],
    test_gold: Iterable[Pair],
) -> dict[str, Any]:
    """BUCC for one language: threshold from dev, P/R/F1 on test, and the extracted test pairs (sorted)."""
    choice = choose_threshold(dev_candidates, dev_gold)
    extracted = extract(test_candidates, choice.threshold)
    return {
        **precision_recall_f1(extracted, test_gold),
        "threshold": choice.threshold,
        "dev_f1": choice.f1,
        "predictions": sorted(extracted),
    }
