"""Extractive question answering, SQuAD 1.1 and 2.0 style (SQuAD, XQuAD, MLQA, TyDiQA-GoldP).

Example: ``{"id": str, "question": str, "context": str, "answers": [{"text": str, "start": int}, ...]}`` with
``start`` the character offset of the answer in ``context``, and optionally ``"language"`` (the answers'
language; the MLQA metrics need it). An empty ``answers`` list marks an unanswerable question, allowed only
in tasks with ``settings["with_negative"]`` (SQuAD 2.0).

Metrics (a task lists the ones it reports): ``exact_match`` and ``f1`` with SQuAD's normalisation (XQuAD,
TyDiQA-GoldP, SQuAD), and ``mlqa_exact_match`` and ``mlqa_f1`` with the MLQA script's per-language
normalisation (MLQA, XGLUE's MLQA). Answers that normalise to nothing follow the task's official script: the
SQuAD 2.0 rule (both empty is a match) with ``with_negative``, else the v1.1 / MLQA rule (F1 0). Every metric
is a mean over questions: one unit per example, its EM or F1 (0..1) over 1 (:meth:`example_units`).

Feature (one per window of a long context): ``input_ids``, ``example_index``, ``length``, ``offsets`` (one
``[start, end]`` character span per token, ``[-1, -1]`` for question and special tokens) and the training
targets ``start_position``/``end_position`` (token indices; both 0, the ``<s>``/CLS token, when the answer is
not fully inside the window or there is none). ``token_type_ids`` too, for tokenizers that make them (BERT).

Raw prediction per feature: a float32 array of shape ``(2, length)``, start logits then end logits.
Prediction per example: the answer text (``""`` for "no answer").

Settings (``task.settings``; names, types, defaults and ranges in :mod:`xstilts.families.span_qa_settings`):
``doc_stride`` (tokens of overlap between windows), ``max_answer_length`` (tokens), ``n_best`` (start and end
candidates per window), ``with_negative`` (unanswerable questions allowed) and ``null_score_diff_threshold``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from xstilts.errors import XstiltsError
from xstilts.families.base import Family
from xstilts.families.common import attention_mask_for, encode, example_ids, pad_sequences
from xstilts.families.span_qa_settings import MLQA_METRICS, SPEC, SpanQASettings
from xstilts.scoring.metrics import (
    MLQA_LANGUAGES,
    Normalizer,
    answer_exact,
    answer_f1,
    mlqa_normalizer,
    squad_em_f1_units,
    squad_normalize,
)
from xstilts.scoring.units import Units, scores_from_units

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

    from xstilts.tasks.base import Task

NO_SPAN = [-1, -1]


class SpanQAFamily(Family):
    spec = SPEC

    # ------------------------------------------------------------------ data

    def validate_example(self, task: Task, example: dict[str, Any]) -> str | None:
        # Bad settings are the task's fault, not the example's: they raise, on the first example read.
        settings = self.checked(task)
        if not isinstance(example, dict):
            return f"an example must be a JSON object, got {type(example).__name__}"
        missing = [key for key in ("id", "question", "context", "answers") if key not in example]
        if missing:
            return (
                f"missing field(s) {', '.join(missing)}: a span_qa example has id, question, context, answers"
            )
        if not isinstance(example["id"], str):
            return f"id must be a string, got {example['id']!r}"
        for key in ("question", "context"):
            if not isinstance(example[key], str) or not example[key].strip():
                return f"example {example['id']!r}: {key} must be a non-empty string, got {example[key]!r}"
        answers, context = example["answers"], example["context"]
        if not isinstance(answers, list):
            return f"example {example['id']!r}: answers must be a list of {{text, start}}, got {answers!r}"
        if not answers and not settings.with_negative:
            return (
                f"example {example['id']!r} has no answers; unanswerable questions need a SQuAD 2.0-style task "
                f"(settings with_negative: true), task {task.name!r} does not allow them"
            )
        for number, answer in enumerate(answers):
            problem = _answer_problem(answer, context)
            if problem:
                return f"example {example['id']!r}, answer {number}: {problem}"
        return None

    def featurize(
        self, task: Task, examples: list[dict[str, Any]], tokenizer: PreTrainedTokenizerFast, max_length: int
    ) -> list[dict[str, Any]]:
        settings = self.checked(task)
        if not examples:
            return []
        n_special = tokenizer.num_special_tokens_to_add(pair=True)
        # Questions get at most half the room, so that every window keeps space for context (the original
        # BERT recipe caps questions at 64 tokens for the same reason).
        question_budget = (max_length - n_special) // 2
        if question_budget < 1:
            raise XstiltsError(
                f"max_length {max_length} is too short for question answering: it needs room for the "
                f"{n_special} special tokens, a question and a context; use a max_length of 64 or more"
            )
        # Leading white space in questions only wastes tokens (some SQuAD questions have a lot of it).
        questions = [example["question"].lstrip() for example in examples]
        questions, question_lengths = _fit_questions(questions, tokenizer, question_budget)
        stride = _window_stride(
            settings.doc_stride, max_length - n_special - max(question_lengths, default=0)
        )

        encoded = tokenizer(
            questions,
            [example["context"] for example in examples],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        features = []
        for row, input_ids in enumerate(encoded["input_ids"]):
            example_index = encoded["overflow_to_sample_mapping"][row]
            sequence_ids = encoded.sequence_ids(row)
            context = examples[example_index]["context"]
            offsets = [
                _trimmed(context, int(start), int(end)) if sequence_ids[i] == 1 else list(NO_SPAN)
                for i, (start, end) in enumerate(encoded["offset_mapping"][row])
            ]
            start_position, end_position = _targets(offsets, examples[example_index]["answers"])
            feature = {
                "input_ids": list(input_ids),
                "example_index": example_index,
                "length": len(input_ids),
                "offsets": offsets,
                "start_position": start_position,
                "end_position": end_position,
            }
            if "token_type_ids" in encoded:
                feature["token_type_ids"] = list(encoded["token_type_ids"][row])
            features.append(feature)
        return features

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        lengths = [feature["length"] for feature in features]
        input_ids = pad_sequences([feature["input_ids"] for feature in features], pad_token_id)
        batch = {
            "input_ids": input_ids,
            "attention_mask": attention_mask_for(input_ids, pad_token_id, lengths),
            "length": torch.tensor(lengths, dtype=torch.long),
            "start_positions": torch.tensor(
                [feature["start_position"] for feature in features], dtype=torch.long
            ),
            "end_positions": torch.tensor(
                [feature["end_position"] for feature in features], dtype=torch.long
            ),
        }
        if all("token_type_ids" in feature for feature in features):
            batch["token_type_ids"] = pad_sequences([feature["token_type_ids"] for feature in features], 0)
        return batch

    # ------------------------------------------------------------------ model

    def build_head(self, task: Task, encoder_config: Any) -> torch.nn.Module:
        head = torch.nn.Linear(encoder_config.hidden_size, 2)
        # The encoders' own initialisation (normal, std 0.02), so a fresh head starts near uniform logits.
        torch.nn.init.normal_(head.weight, std=getattr(encoder_config, "initializer_range", 0.02))
        torch.nn.init.zeros_(head.bias)
        return head

    def forward(
        self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        if head is None:
            raise ValueError("span_qa needs a head")
        hidden = encode(encoder, batch).last_hidden_state
        logits = head(hidden)
        # Padding positions can never be an answer; masking them also makes the loss independent of how much
        # padding the batch happens to have.
        padding = (batch["attention_mask"] == 0).unsqueeze(-1)
        logits = logits.masked_fill(padding, torch.finfo(logits.dtype).min)
        return {"start_logits": logits[..., 0], "end_logits": logits[..., 1]}

    def loss(self, outputs: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> torch.Tensor:
        start = torch.nn.functional.cross_entropy(outputs["start_logits"].float(), batch["start_positions"])
        end = torch.nn.functional.cross_entropy(outputs["end_logits"].float(), batch["end_positions"])
        return (start + end) / 2

    def predict(self, outputs: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> list[np.ndarray]:
        both = (
            torch.stack([outputs["start_logits"], outputs["end_logits"]], dim=1)
            .detach()
            .float()
            .cpu()
            .numpy()
        )
        lengths = batch["length"].tolist() if "length" in batch else batch["attention_mask"].sum(-1).tolist()
        return [both[row, :, :length] for row, length in enumerate(lengths)]

    # ------------------------------------------------------------------ results

    def postprocess(
        self, task: Task, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[str]:
        if len(features) != len(raw):
            raise ValueError(f"{len(raw)} raw outputs for {len(features)} features")
        settings = self.checked(task)
        windows: dict[int, list[int]] = defaultdict(list)
        for position, feature in enumerate(features):
            windows[feature["example_index"]].append(position)

        predictions = []
        for example_index, example in enumerate(examples):
            best_score, best_text, null_score = -np.inf, "", np.inf
            for position in windows.get(example_index, []):
                start_logits, end_logits = np.asarray(raw[position], dtype=np.float64)
                # SQuAD 2.0 recipe: the null score of an example is its lowest over windows, i.e. the null
                # answer must be likely in every window to win.
                null_score = min(null_score, start_logits[0] + end_logits[0])
                span = best_span(start_logits, end_logits, features[position]["offsets"], settings)
                if span is not None and span[0] > best_score:
                    best_score, (char_start, char_end) = span[0], span[1:]
                    best_text = example["context"][char_start:char_end]
            if settings.with_negative and null_score - best_score > settings.null_score_diff_threshold:
                best_text = ""
            predictions.append(best_text)
        return predictions

    def score(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        return scores_from_units(task.metrics, self.example_units(task, examples, predictions))

    def example_units(self, task: Task, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        """Per example (in example order, whatever its language group): EM and F1 of its prediction."""
        null_match = self.checked(task).with_negative
        values: dict[str, list[float]] = {}
        for prefix, group in _normalizer_groups(task, examples):
            golds = [[answer["text"] for answer in examples[i]["answers"]] for i in group.indices]
            found = squad_em_f1_units([str(predictions[i]) for i in group.indices], golds, group.normalize,
                                      null_match)
            for name, (num, _) in found.items():
                column = values.setdefault(prefix + name, [0.0] * len(examples))
                for i, value in zip(group.indices, num, strict=True):
                    column[i] = value
        ids = example_ids(examples)
        ones = [1.0] * len(examples)
        return {metric: Units.of(ids, (num, ones)) for metric, num in _pick_metrics(task, values).items()}

    def chance(self, task: Task, examples: list[dict[str, Any]]) -> dict[str, float]:
        """Expected EM/F1 of picking uniformly among all spans of 1..max_answer_length white-space words of
        the context (plus the null answer with ``with_negative``). Exact: every candidate is counted, through
        prefix sums over normalised tokens instead of one string comparison per span."""
        settings = self.checked(task)
        values: dict[str, float] = {}
        for prefix, group in _normalizer_groups(task, examples):
            for i in group.indices:
                golds = [answer["text"] for answer in examples[i]["answers"]]
                example_em, example_f1 = span_chance(
                    examples[i]["context"], golds, settings.max_answer_length, settings.with_negative,
                    group.normalize, null_match=settings.with_negative or not golds,
                )
                values[prefix + "exact_match"] = values.get(prefix + "exact_match", 0.0) + example_em
                values[prefix + "f1"] = values.get(prefix + "f1", 0.0) + example_f1
        n = max(len(examples), 1)
        return _pick_metrics(task, {name: 100.0 * value / n for name, value in values.items()})


@dataclass
class _Group:
    normalize: Normalizer
    indices: list[int]


def _normalizer_groups(task: Task, examples: list[dict[str, Any]]) -> list[tuple[str, _Group]]:
    """(metric prefix, examples sharing one normalisation) for the metrics the task reports: SQuAD's for
    ``exact_match``/``f1``, MLQA's per language for ``mlqa_*`` (the language read from each example)."""
    groups: list[tuple[str, _Group]] = []
    if any(metric in ("exact_match", "f1") for metric in task.metrics):
        groups.append(("", _Group(squad_normalize, list(range(len(examples))))))
    if any(metric in MLQA_METRICS for metric in task.metrics):
        by_language: dict[str, list[int]] = {}
        for index, example in enumerate(examples):
            language = example.get("language")
            if language not in MLQA_LANGUAGES:
                raise XstiltsError(
                    f"task {task.name!r}: the MLQA metrics normalise answers per language, but example "
                    f"{example.get('id')!r} has language {language!r}; each example needs a 'language' that "
                    f"MLQA's script knows ({', '.join(MLQA_LANGUAGES)}), given by the task's reader"
                )
            by_language.setdefault(language, []).append(index)
        for language, indices in by_language.items():
            groups.append(("mlqa_", _Group(mlqa_normalizer(language), indices)))
    return groups


# ---------------------------------------------------------------------- helpers


def _answer_problem(answer: Any, context: str) -> str | None:
    if not isinstance(answer, dict) or "text" not in answer or "start" not in answer:
        return f"each answer must be an object with text and start, got {answer!r}"
    text, start = answer["text"], answer["start"]
    if not isinstance(text, str) or not text:
        return f"text must be a non-empty string, got {text!r}"
    if isinstance(start, bool) or not isinstance(start, int):
        return f"start must be an integer character offset, got {start!r}"
    found = context[start : start + len(text)] if start >= 0 else ""
    if found != text:
        where = context.find(text)
        hint = (
            f"the text first occurs at offset {where}"
            if where >= 0
            else "the text does not occur in the context at all"
        )
        return (
            f"text {text!r} does not match the context at start {start} (context[{start}:{start + len(text)}] "
            f"is {found!r}); start must be a character offset into context ({hint})"
        )
    return None


def _fit_questions(
    questions: list[str], tokenizer: PreTrainedTokenizerFast, budget: int
) -> tuple[list[str], list[int]]:
    """Cut questions longer than ``budget`` tokens (at a token's end) and return them with their token
    counts. Cutting text can re-tokenize differently at the cut, so the cut ones are measured again (one
    batched call per round; each round strictly shortens them, so it ends)."""
    questions = list(questions)
    lengths = [0] * len(questions)
    pending = list(range(len(questions)))
    while pending:
        encoded = tokenizer(
            [questions[i] for i in pending], add_special_tokens=False, return_offsets_mapping=True
        )
        still_long = []
        for i, ids, offsets in zip(pending, encoded["input_ids"], encoded["offset_mapping"], strict=True):
            lengths[i] = len(ids)
            if len(ids) > budget:
                cut = min(offsets[budget - 1][1], len(questions[i]) - 1)
                questions[i] = questions[i][:cut]
                still_long.append(i)
        pending = still_long
    return questions, lengths


def _window_stride(doc_stride: int, room: int) -> int:
    """The overlap between windows, in tokens. The tokenizer needs it below the room left for context in
    every window; when the configured stride does not fit, half the room keeps windows overlapping while
    each one still moves forward. One stride serves the whole batched call, so the tightest room decides."""
    if doc_stride < room:
        return doc_stride
    return max(room // 2, 0)


def _trimmed(context: str, start: int, end: int) -> list[int]:
    """A token's character span without the white space in front: byte-level BPE tokenizers (ModernBERT's)
    fold the space before a word into its token ("Ġword"), so an untrimmed answer would start with it."""
    while start < end and context[start].isspace():
        start += 1
    return [start, end]


def _targets(offsets: list[list[int]], answers: list[dict[str, Any]]) -> tuple[int, int]:
    """Token indices of the first gold answer in one window, or (0, 0) (CLS) when it is not fully inside."""
    if not answers:
        return 0, 0
    char_start = answers[0]["start"]
    char_end = char_start + len(answers[0]["text"])
    context = [i for i, span in enumerate(offsets) if span[0] >= 0]
    if not context or offsets[context[0]][0] > char_start or offsets[context[-1]][1] < char_end:
        return 0, 0
    # The start token is the last one starting at or before the answer; the end token the first one from
    # there on that ends at or after it. Neighbours can share offsets: a lone "▁" carries the span of the
    # character after it, so "▁", "7" both read (19, 20) and the answer "7" must start and end at "7".
    start = max(i for i in context if offsets[i][0] <= char_start)
    end = min(i for i in context if i >= start and offsets[i][1] >= char_end)
    if end < start:
        return 0, 0
    return start, end


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, offsets: list[list[int]], settings: SpanQASettings
) -> tuple[float, int, int] | None:
    """(score, char start, char end) of the best valid span of one window among its n-best start and end
    tokens, or None when no pair is valid. Valid: both tokens in the context, end >= start, at most
    ``max_answer_length`` tokens."""
    spans = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    n = min(len(spans), len(start_logits), len(end_logits))
    in_context = spans[:n, 0] >= 0
    # Stable sort: equal logits keep token order, so ties go to the earlier token.
    starts = np.argsort(-start_logits[:n], kind="stable")[: settings.n_best]
    ends = np.argsort(-end_logits[:n], kind="stable")[: settings.n_best]
    width = ends[None, :] - starts[:, None] + 1
    valid = in_context[starts][:, None] & in_context[ends][None, :] & (width >= 1)
    valid &= width <= settings.max_answer_length
    if not valid.any():
        return None
    scores = np.where(valid, start_logits[starts][:, None] + end_logits[ends][None, :], -np.inf)
    row, column = np.unravel_index(int(np.argmax(scores)), scores.shape)
    start, end = int(starts[row]), int(ends[column])
    return float(scores[row, column]), int(spans[start, 0]), int(spans[end, 1])


def span_chance(
    context: str, golds: list[str], max_words: int, with_null: bool, normalize: Normalizer = squad_normalize,
    null_match: bool = True,
) -> tuple[float, float]:
    """Expected (EM, F1), as fractions, of a uniform pick among the context's spans of 1..max_words words
    (and the null answer when ``with_null``); ``golds`` empty means a null question. ``normalize`` and
    ``null_match`` as in :func:`~xstilts.scoring.metrics.answer_f1`.

    SQuAD normalisation (and MLQA's: punctuation, articles as whole words or, for ar, a letter pair inside a
    word, zh one token per CJK character) works word by word (lower-casing and punctuation removal act on characters, and the
    article rule on whole words between non-word characters), so a span's normalised tokens are the
    concatenation of its words' normalised tokens. A span is then a range [a, b) of that token list, and
    its overlap with a gold is a difference of prefix counts: every span is scored at once with numpy.
    """
    word_tokens = [normalize(word).split() for word in context.split()]
    tokens = [token for tokens_of_word in word_tokens for token in tokens_of_word]
    word_start = np.concatenate([[0], np.cumsum([len(t) for t in word_tokens], dtype=np.int64)])
    n_words = len(word_tokens)
    first = np.repeat(np.arange(n_words), max_words)
    last = first + np.tile(np.arange(max_words), n_words)  # inclusive
    keep = last < n_words
    a, b = word_start[first[keep]], word_start[last[keep] + 1]
    span_length = b - a

    golds = golds or [""]  # a null question's only right answer is "" (as squad_em_f1 scores it)
    best_em = np.zeros(len(a))
    best_f1 = np.zeros(len(a))
    for gold in golds:
        gold_tokens = normalize(gold).split()
        g = len(gold_tokens)
        common = np.zeros(len(a))
        for token, count in Counter(gold_tokens).items():
            seen = np.concatenate([[0], np.cumsum([t == token for t in tokens], dtype=np.int64)])
            common += np.minimum(seen[b] - seen[a], count)
        if g:
            # 2PR/(P+R) with P = c/len(span), R = c/g simplifies to 2c/(len(span) + g).
            f1 = 2 * common / np.maximum(span_length + g, 1)
        else:  # a gold that normalises to nothing: only the SQuAD 2.0 rule lets an empty span match it
            f1 = (span_length == 0).astype(float) if null_match else np.zeros(len(a))
        starts_gold = np.array([tokens[p : p + g] == gold_tokens for p in range(len(tokens) + 1)], dtype=bool)
        em = (span_length == g) & starts_gold[a]
        best_em, best_f1 = np.maximum(best_em, em), np.maximum(best_f1, f1)

    total_em, total_f1, candidates = float(best_em.sum()), float(best_f1.sum()), len(a)
    if with_null:
        total_em += max(answer_exact("", gold, normalize) for gold in golds)
        total_f1 += max(answer_f1("", gold, normalize, null_match) for gold in golds)
        candidates += 1
    if candidates == 0:
        return 0.0, 0.0
    return total_em / candidates, total_f1 / candidates


def _pick_metrics(task: Task, values: dict[str, Any]) -> dict[str, Any]:
    """The task's metrics (checked against the spec before any was computed)."""
    return {metric: values[metric] for metric in task.metrics}


FAMILY = SpanQAFamily()
