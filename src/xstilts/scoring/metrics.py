"""Metrics, written to the official definitions (see shared docs: benchmarks.md). All return 0-100.

Every metric here is a ratio of sums over the examples (or query groups) of a set, so each has a ``*_units``
function giving the per-example ``(num, den)`` (see :mod:`xstilts.scoring.units`) and computes its score
from them: the score and its units cannot drift apart.

Pure Python (no torch), so scoring files never needs the model stack.
"""

from __future__ import annotations

import functools
import math
import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Sequence

from xstilts.scoring.units import Counts, ratio

# ---------------------------------------------------------------- classification


def accuracy_units(predictions: Sequence, references: Sequence) -> Counts:
    """Per example: 1 or 0 over 1."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    return [float(p == r) for p, r in zip(predictions, references, strict=True)], [1.0] * len(references)


def accuracy(predictions: Sequence, references: Sequence) -> float:
    """Exact equality, as the official XNLI/PAWS-X scorer compares label strings."""
    return ratio(*accuracy_units(predictions, references))


# ---------------------------------------------------------------- tagging


def token_accuracy_units(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> Counts:
    """Per sentence: its correctly tagged words over its words (micro accuracy over words)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences for {len(references)} references")
    num, den = [], []
    for pred, gold in zip(predictions, references, strict=True):
        if len(pred) != len(gold):
            raise ValueError(f"a sentence has {len(pred)} predicted tags for {len(gold)} words")
        num.append(float(sum(p == g for p, g in zip(pred, gold, strict=True))))
        den.append(float(len(gold)))
    return num, den


def token_accuracy(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    return ratio(*token_accuracy_units(predictions, references))


def _split_tag(tag: str) -> tuple[str, str]:
    """(prefix letter, type) the way seqeval 0.0.12 reads a tag: the first character is the B/I/E/S/O
    prefix and the text after the last '-' is the type. For raw UPOS tags ("NOUN") that gives ("N", "NOUN"),
    the quirk the official UD-POS score depends on."""
    return tag[:1], tag.split("-")[-1]


def chunks(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """Chunks (type, first, last) of one flat tag sequence under seqeval 0.0.12's rules.

    A chunk closes when the previous prefix was E or S, when a B/I chunk meets B, S or O, or when the type
    changes (unless the previous tag was O or '.'). A chunk opens at B or S, at E/I after E, S or O, and at
    any type change (unless the tag is O or '.').
    """
    found: set[tuple[str, int, int]] = set()
    prev_prefix, prev_type, start = "O", "", 0
    for position, tag in enumerate([*tags, "O"]):
        prefix, type_ = _split_tag(tag)
        closes = (
            prev_prefix in ("E", "S")
            or (prev_prefix in ("B", "I") and prefix in ("B", "S", "O"))
            or (prev_prefix not in ("O", ".") and prev_type != type_)
        )
        opens = (
            prefix in ("B", "S")
            or (prev_prefix in ("E", "S", "O") and prefix in ("E", "I"))
            or (prefix not in ("O", ".") and prev_type != type_)
        )
        if closes:
            found.add((prev_type, start, position - 1))
        if opens:
            start = position
        prev_prefix, prev_type = prefix, type_
    return found


def chunk_counts(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> list[tuple[int, int, int]]:
    """Per sentence: (correct, predicted, gold) chunks, summing to the micro counts of :func:`chunk_prf`.

    The chunks are read exactly as seqeval reads a list of sentences (all of them joined, an 'O' between
    two), and each chunk is counted in the sentence where it starts, so the sums equal the counts on the
    joined sequence whatever the tags (a chunk crossing the 'O' separator needs a tag of type O that is not
    "O", such as "X-O", and is still counted once).
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predicted sentences for {len(references)} references")
    starts, flat_pred, flat_gold = [], [], []
    for pred, gold in zip(predictions, references, strict=True):
        if len(pred) != len(gold):
            raise ValueError(f"a sentence has {len(pred)} predicted tags for {len(gold)} words")
        starts.append(len(flat_pred))
        flat_pred.extend([*pred, "O"])
        flat_gold.extend([*gold, "O"])
    sentence_of = [0] * len(flat_pred)
    for sentence, start in enumerate(starts):
        end = starts[sentence + 1] if sentence + 1 < len(starts) else len(flat_pred)
        sentence_of[start:end] = [sentence] * (end - start)
    predicted, gold = chunks(flat_pred), chunks(flat_gold)
    counts = [[0, 0, 0] for _ in starts]
    for found, column in ((predicted & gold, 0), (predicted, 1), (gold, 2)):
        for _, first, _ in found:
            counts[sentence_of[first]][column] += 1
    return [(correct, n_pred, n_gold) for correct, n_pred, n_gold in counts]


def prf_units(counts: Sequence[tuple[int, int, int]]) -> dict[str, Counts]:
    """Precision, recall and F1 units from per-unit (correct, predicted, gold) counts: precision
    ``correct / predicted``, recall ``correct / gold``, F1 ``2 correct / (predicted + gold)`` (the harmonic
    mean of the micro precision and recall, written as one ratio of sums)."""
    return {
        "precision": ([float(c) for c, _, _ in counts], [float(p) for _, p, _ in counts]),
        "recall": ([float(c) for c, _, _ in counts], [float(g) for _, _, g in counts]),
        "f1": ([2.0 * c for c, _, _ in counts], [float(p + g) for _, p, g in counts]),
    }


def chunk_units(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, Counts]:
    """Per-sentence units of chunk precision, recall and F1 (seqeval 0.0.12)."""
    return prf_units(chunk_counts(predictions, references))


def prf_scores(counts: Sequence[tuple[int, int, int]]) -> dict[str, float]:
    """Micro precision, recall and F1 (0-100) from the summed (correct, predicted, gold) counts, in the
    official scripts' float arithmetic (seqeval: F1 = 2PR / (P + R)), so official-parity scoring matches them
    to the last bit. The units' ratios (:func:`prf_units`) are the same numbers up to float rounding."""
    correct, predicted, gold = (sum(column) for column in zip(*counts, strict=True)) if counts else (0, 0, 0)
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": 100.0 * precision, "recall": 100.0 * recall, "f1": 100.0 * f1}


def chunk_prf(predictions: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro precision, recall and F1 over chunks, sentences joined with an 'O' between them (seqeval's
    list-of-sentences behaviour), from the per-sentence counts of :func:`chunk_counts`."""
    return prf_scores(chunk_counts(predictions, references))


# ---------------------------------------------------------------- extractive QA (SQuAD and MLQA scripts)
#
# One implementation serves the engine (span_qa family) and the official scorers (scoring/official/qa.py).
# The scripts differ in two places: the normalisation (SQuAD v1.1: ASCII punctuation and English articles;
# MLQA: Unicode punctuation, each language's articles, zh characters as tokens) and the F1 of an answer that
# normalises to nothing (SQuAD v1.1 and MLQA: 0, since no token is shared; SQuAD 2.0: 1 when both sides are
# empty, the rule that scores "no answer" on unanswerable questions).

Normalizer = Callable[[str], str]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCTUATION = set(string.punctuation)


def squad_normalize(text: str) -> str:
    """Lower-case, drop ASCII punctuation, drop English articles, fold white space."""
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


@functools.cache
def mlqa_punctuation() -> frozenset[str]:
    """Every code point of a Unicode punctuation category (P*) below sys.maxunicode, plus ASCII punctuation
    (which adds symbols such as $ + < = > ^ ` | ~). Built on first use: it scans all of Unicode."""
    return frozenset(
        {chr(i) for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P")}
        | set(string.punctuation)
    )


_MLQA_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    # Every "ال" is replaced by a space, even inside a word (the official pattern's other branch never matches).
    "ar": re.compile("ال"),
}
_WHITESPACE_LANGUAGES = frozenset({"en", "es", "hi", "vi", "de", "ar"})
_CJK = re.compile("[\u4e00-\u9fa5]")
MLQA_LANGUAGES = ("en", "es", "de", "ar", "hi", "vi", "zh")


def _mixed_segmentation(text: str) -> list[str]:
    """zh: each character in U+4E00..U+9FA5 and each punctuation mark is a token; other runs split on white
    space."""
    punctuation = mlqa_punctuation()
    tokens: list[str] = []
    pending = ""
    for char in text:
        if _CJK.match(char) or char in punctuation:
            tokens.extend(pending.split())
            pending = ""
            tokens.append(char)
        else:
            pending += char
    tokens.extend(pending.split())
    return tokens


def mlqa_normalize(text: str, language: str) -> str:
    """MLQA's normalisation: lower-case, drop Unicode and ASCII punctuation, drop the language's articles,
    re-join the tokens (zh: one token per CJK character)."""
    if language not in MLQA_LANGUAGES:
        raise ValueError(f"MLQA has no normalisation for language {language!r}; it has {', '.join(MLQA_LANGUAGES)}")
    punctuation = mlqa_punctuation()
    text = "".join(ch for ch in text.lower() if ch not in punctuation)
    if language in _MLQA_ARTICLES:
        text = _MLQA_ARTICLES[language].sub(" ", text)
    tokens = text.split() if language in _WHITESPACE_LANGUAGES else _mixed_segmentation(text)
    return " ".join(t for t in tokens if t.strip())


def mlqa_normalizer(language: str) -> Normalizer:
    """``mlqa_normalize`` bound to one language (checked now, not at the first answer)."""
    if language not in MLQA_LANGUAGES:
        raise ValueError(f"MLQA has no normalisation for language {language!r}; it has {', '.join(MLQA_LANGUAGES)}")
    return functools.partial(mlqa_normalize, language=language)


def answer_exact(prediction: str, gold: str, normalize: Normalizer = squad_normalize) -> float:
    return float(normalize(prediction) == normalize(gold))


def answer_f1(prediction: str, gold: str, normalize: Normalizer = squad_normalize, null_match: bool = True) -> float:
    """Token F1 after ``normalize``. ``null_match``: SQuAD 2.0's rule, an empty side scores 1 when both are
    empty; without it (SQuAD v1.1, MLQA) no shared token means 0."""
    pred_tokens, gold_tokens = normalize(prediction).split(), normalize(gold).split()
    if null_match and (not pred_tokens or not gold_tokens):
        return float(pred_tokens == gold_tokens)
    common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def best_em_f1(
    prediction: str, golds: Sequence[str], normalize: Normalizer = squad_normalize, null_match: bool = True
) -> tuple[float, float]:
    """(EM, F1) of one question: the max over its gold answers, each 0 or 1 / 0..1 (not x100)."""
    return (
        max(answer_exact(prediction, gold, normalize) for gold in golds),
        max(answer_f1(prediction, gold, normalize, null_match) for gold in golds),
    )


def squad_exact(prediction: str, gold: str) -> float:
    return answer_exact(prediction, gold)


def squad_f1(prediction: str, gold: str) -> float:
    """SQuAD 2.0's F1 (normalisation of v1.1, both-empty rule of 2.0)."""
    return answer_f1(prediction, gold)


def squad_em_f1_units(
    predictions: Sequence[str], gold_answers: Sequence[Sequence[str]], normalize: Normalizer = squad_normalize,
    null_match: bool = True,
) -> dict[str, Counts]:
    """Per question: its EM and F1 (0..1, the max over its gold answers) over 1. A question without gold
    answers is a null question whose only correct prediction is the empty string (SQuAD 2.0's rule, whatever
    ``null_match`` says for answers that merely normalise to nothing)."""
    if len(predictions) != len(gold_answers):
        raise ValueError(f"{len(predictions)} predictions for {len(gold_answers)} questions")
    em, f1 = [], []
    for prediction, golds in zip(predictions, gold_answers, strict=True):
        golds = list(golds)
        question_em, question_f1 = best_em_f1(prediction, golds or [""], normalize, null_match or not golds)
        em.append(question_em)
        f1.append(question_f1)
    ones = [1.0] * len(em)
    return {"exact_match": (em, ones), "f1": (f1, ones)}


def squad_em_f1(
    predictions: Sequence[str], gold_answers: Sequence[Sequence[str]], normalize: Normalizer = squad_normalize,
    null_match: bool = True,
) -> dict[str, float]:
    """Mean over questions of the max over gold answers, x100 (see :func:`squad_em_f1_units`)."""
    units = squad_em_f1_units(predictions, gold_answers, normalize, null_match)
    return {"exact_match": ratio(*units["exact_match"]), "f1": ratio(*units["f1"])}


# ---------------------------------------------------------------- ranking (XGLUE WPR)


def _discount(rank: int) -> float:
    """DCG discount of a 0-based rank: 1 / log2(rank + 2)."""
    return 1.0 / math.log2(rank + 2)


def _tie_averaged_dcg(gains: Sequence[float], scores: Sequence[float]) -> float:
    """DCG of ``gains`` ranked by descending ``scores``, ties averaged over all their orders (sklearn's
    ``ndcg_score`` with ``ignore_ties=False``): a group of tied items occupying ranks r..r+c-1 contributes the
    mean gain of the group times the sum of the discounts of those ranks."""
    groups: dict[float, list[float]] = {}
    for gain, score in zip(gains, scores, strict=True):
        groups.setdefault(score, []).append(gain)
    dcg, rank = 0.0, 0
    for score in sorted(groups, reverse=True):
        members = groups[score]
        discounts = sum(_discount(r) for r in range(rank, rank + len(members)))
        dcg += sum(members) / len(members) * discounts
        rank += len(members)
    return dcg


def ndcg(relevances: Sequence[float], scores: Sequence[float]) -> float:
    """nDCG (0-1) of one ranking, as sklearn's ``ndcg_score([relevances], [scores])``: linear gains, log2
    discounts, every position counted (no cut-off), ties averaged; 0 when no item is relevant."""
    ideal = sum(gain * _discount(rank) for rank, gain in enumerate(sorted(relevances, reverse=True)))
    if ideal == 0:
        return 0.0
    return _tie_averaged_dcg(relevances, scores) / ideal


def grouped_ndcg_units(
    scores: Sequence[float], relevances: Sequence[float], groups: Sequence[str]
) -> tuple[list[str], Counts]:
    """(group ids, units): one unit per group (query) of 2 or more items, its nDCG (0-1) over 1, in the
    order the groups first appear. Groups with fewer than 2 items are no unit (XGLUE leaves them out)."""
    if not len(scores) == len(relevances) == len(groups):
        raise ValueError(f"{len(scores)} scores, {len(relevances)} relevances and {len(groups)} groups")
    by_group: dict[str, tuple[list[float], list[float]]] = {}
    for score, relevance, group in zip(scores, relevances, groups, strict=True):
        pair = by_group.setdefault(group, ([], []))
        pair[0].append(float(relevance))
        pair[1].append(float(score))
    kept = [group for group, (rel, _) in by_group.items() if len(rel) >= 2]
    if not kept:
        raise ValueError("no group has 2 or more items: nDCG per query needs queries with several candidates")
    values = [ndcg(*by_group[group]) for group in kept]
    return kept, (values, [1.0] * len(values))


def grouped_ndcg(scores: Sequence[float], relevances: Sequence[float], groups: Sequence[str]) -> float:
    """Mean nDCG over groups (queries), x100, as XGLUE's ``simple_ndcg`` computes WPR: items are grouped by
    their group id, groups with fewer than 2 items are left out, the rest averaged with equal weight."""
    _, units = grouped_ndcg_units(scores, relevances, groups)
    return ratio(*units)


# ---------------------------------------------------------------- ranked retrieval (LAReQA AP@k, Mewsli-X RR@k)
#
# The one implementation of both, used by the engine (per-query units) and by ``xstilts score``. Gold comes
# first in every signature, as in the official code (LAReQA's average_precision_at_k(targets,
# ranked_predictions, k), Mewsli-X's mean_reciprocal_rank(golds, predictions)); ``k`` is keyword-only so that
# a cut-off is never mistaken for a ranking.


def _positive(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"the cut-off k must be a positive integer, got {k!r}")
    return k


def average_precision_at_k(relevant: Collection[Hashable], ranked: Sequence[Hashable], *, k: int) -> float:
    """AP@k (0-1) of one ranking, as LAReQA's official code defines it: over the top ``k``, the precision at
    each rank that holds a relevant candidate not already ranked higher, summed, divided by
    ``min(len(relevant), k)`` (a perfect top k scores 1 even with more than k relevant candidates).

    A candidate repeated in the ranking counts once (official: ``pred not in ranked_predictions[:i]``), so a
    ranking can never score above 1; the repeat still takes up its rank."""
    relevant = set(relevant)
    if not relevant:
        raise ValueError("a query has no relevant candidate: its average precision is undefined")
    hits, total, seen = 0, 0.0, set()
    for rank, candidate in enumerate(list(ranked)[: _positive(k)], start=1):
        if candidate in relevant and candidate not in seen:
            hits += 1
            total += hits / rank
        seen.add(candidate)
    return total / min(len(relevant), k)


def reciprocal_rank_at_k(gold: Hashable, ranked: Sequence[Hashable], *, k: int) -> float:
    """RR@k (0-1) of one ranking, as Mewsli-X's official code computes it: 1 / the rank of the first
    occurrence of ``gold`` among the top ``k``, 0 if it is not there (or the ranking is empty)."""
    for rank, candidate in enumerate(list(ranked)[: _positive(k)], start=1):
        if candidate == gold:
            return 1.0 / rank
    return 0.0


def _per_query(what: str, golds: Sequence, rankings: Sequence) -> None:
    if len(golds) != len(rankings) or not rankings:
        raise ValueError(f"{len(rankings)} rankings for {len(golds)} queries' {what}: give one ranking per query "
                         "(at least one)")


def average_precision_units(
    relevant: Sequence[Collection[Hashable]], rankings: Sequence[Sequence[Hashable]], *, k: int
) -> Counts:
    """Per query: its AP@k over 1 (``relevant[i]``: the relevant candidates of query ``i``)."""
    _per_query("relevant candidates", relevant, rankings)
    values = [average_precision_at_k(r, ranked, k=k) for r, ranked in zip(relevant, rankings, strict=True)]
    return values, [1.0] * len(values)


def mean_average_precision_at_k(
    relevant: Sequence[Collection[Hashable]], rankings: Sequence[Sequence[Hashable]], *, k: int
) -> float:
    """mAP@k (0-100): the mean AP@k over queries (LAReQA's mean_avg_prec_at_k, x100)."""
    return ratio(*average_precision_units(relevant, rankings, k=k))


def reciprocal_rank_units(golds: Sequence[Hashable], rankings: Sequence[Sequence[Hashable]], *, k: int) -> Counts:
    """Per query: its RR@k over 1 (``golds[i]``: the one gold candidate of query ``i``)."""
    _per_query("gold candidates", golds, rankings)
    values = [reciprocal_rank_at_k(gold, ranked, k=k) for gold, ranked in zip(golds, rankings, strict=True)]
    return values, [1.0] * len(values)


def mean_reciprocal_rank_at_k(golds: Sequence[Hashable], rankings: Sequence[Sequence[Hashable]], *, k: int) -> float:
    """MRR@k (0-100): the mean RR@k over queries (Mewsli-X's evaluate with top-k predictions, x100; the
    official name of this metric is "map@20")."""
    return ratio(*reciprocal_rank_units(golds, rankings, k=k))
