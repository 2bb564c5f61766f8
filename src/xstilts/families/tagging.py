"""Tagging: one tag per word, first-subword labelling (UD-POS, PAN-X/WikiANN NER, CCG supertagging).

Example schema::

    {"id": str, "tokens": [str, ...], "tags": [str, ...]}

``tokens`` and ``tags`` have the same length and every tag is one of ``task.labels``.

Words are tokenized with ``is_split_into_words=True``, into the subwords they have in running text (for a
byte-level BPE tokenizer, ModernBERT's, each word after the first keeps its space: ``needs_spaces_between_words``);
a word's tag is the target at its first subword and every other position (special tokens, later subwords) is
-100, ignored by the loss.

Long sentences: a sentence whose subwords do not fit ``max_length`` is split at word boundaries into several
features, each a contiguous run of words (``word_offset`` is its first word's index); postprocess joins the
word-level predictions again, so every word gets exactly one tag. A single word with more subwords than fit
keeps only its first ones (its tag is read at the first anyway).

Empty sentences (``tokens`` and ``tags`` both ``[]``; PAN-X has them where the official files do, see
``formats.panx``): no feature, so training never sees one; the prediction is ``[]`` and the units are
``(0, 0)``, which add nothing to any score.

Words without subwords: some tokenizers turn a word into nothing (an empty string, some control or
zero-width characters). Such a word has no position to read a prediction from; it is predicted "O" when the
task's label set has it (NER), else the task's first label. The choice is deterministic and documented
rather than clever: these words are rare and the official scorers count them like any other.

Metrics: "f1", "precision", "recall" (seqeval-0.0.12 chunk scores, ``metrics.chunk_prf``) and "accuracy"
(word accuracy, ``metrics.token_accuracy``). Chance: accuracy is exactly 100 / number of labels; the chunk
scores have no simple closed form, so they are a Monte Carlo estimate: the mean over ``CHANCE_DRAWS`` draws
of uniformly random tags for every word, from a ``random.Random(CHANCE_SEED)`` (the same number every time).

Units (:meth:`example_units`), one per sentence: accuracy its correct words over its words; chunk precision
``tp / predicted``, recall ``tp / gold`` and F1 ``2 tp / (predicted + gold)`` of its chunks
(``metrics.chunk_counts``).
"""

from __future__ import annotations

import random
from typing import Any

import torch
import torch.nn.functional as F

from xstilts.errors import XstiltsError
from xstilts.families.base import Family
from xstilts.families.common import (
    IGNORE_INDEX,
    attention_mask_for,
    encode,
    example_ids,
    label_index,
    labels_hint,
    pad_sequences,
    string_fields_problem,
    type_name,
)
from xstilts.families.heads import TokenClassifierHead
from xstilts.families.tagging_settings import CHUNK_METRICS, SPEC
from xstilts.scoring import metrics
from xstilts.scoring.units import Units, scores_from_units

CHANCE_DRAWS = 20
CHANCE_SEED = 20200517
# word_starts entry of a word that produced no subword
NO_POSITION = -1


class TaggingFamily(Family):
    spec = SPEC
    # Per-token labels and a per-token head: a packed batch has the same loss (``models/packing.py``).
    packed_token_keys = {"labels": IGNORE_INDEX}

    # ----- data -----
    def validate_example(self, task: Any, example: dict[str, Any]) -> str | None:
        self.checked(task)  # a bad task raises (it is not the example's fault)
        if problem := string_fields_problem(example, "id"):
            return problem
        for key in ("tokens", "tags"):
            value = example.get(key)
            if not isinstance(value, list):
                return f"'{key}' must be a list of strings, found {type_name(value)}"
            for position, item in enumerate(value):
                if not isinstance(item, str):
                    return f"'{key}' item {position} must be a string, found {type_name(item)} {item!r}"
        tokens, tags = example["tokens"], example["tags"]
        if len(tokens) != len(tags):
            return f"'tokens' has {len(tokens)} words but 'tags' has {len(tags)}"
        if not task.labels:
            return f"task {task.name!r} declares no labels: a tagging task needs `labels` in its declaration"
        known = set(task.labels)
        for position, tag in enumerate(tags):
            if tag not in known:
                return f"tag {tag!r} of word {position} is not one of the task's labels: {labels_hint(task.labels)}"
        return None

    def featurize(
        self, task: Any, examples: list[dict[str, Any]], tokenizer: Any, max_length: int
    ) -> list[dict[str, Any]]:
        prefix, suffix = special_tokens_around(tokenizer)
        budget = max_length - len(prefix) - len(suffix)
        if budget < 1:
            raise XstiltsError(
                f"max_length {max_length} leaves no room for words: the tokenizer adds "
                f"{len(prefix) + len(suffix)} special tokens. Raise the stage's max_length."
            )
        tag_ids = label_index(task)
        # An empty sentence gets no feature (see the module docstring), and is kept out of the tokenizer call,
        # which not every tokenizer accepts an empty word list in.
        worded = [index for index, example in enumerate(examples) if example["tokens"]]
        if not worded:
            return []
        # One call for every sentence, without special tokens: each word's subwords as they come in context.
        spaced = needs_spaces_between_words(tokenizer)
        batch = tokenizer(
            [with_spaces(examples[index]["tokens"]) if spaced else examples[index]["tokens"] for index in worded],
            is_split_into_words=True,
            add_special_tokens=False,
            return_attention_mask=False,
        )
        features = []
        for row, index in enumerate(worded):
            example = examples[index]
            pieces = word_pieces(batch["input_ids"][row], batch.word_ids(row), len(example["tokens"]))
            tags = example.get("tags")
            targets = [tag_ids[tag] for tag in tags] if tags is not None else [IGNORE_INDEX] * len(pieces)
            for start, end in word_runs(pieces, budget):
                input_ids, labels, word_starts = list(prefix), [IGNORE_INDEX] * len(prefix), []
                for word in range(start, end):
                    subwords = pieces[word][:budget]
                    if not subwords:
                        word_starts.append(NO_POSITION)
                        continue
                    word_starts.append(len(input_ids))
                    labels += [targets[word]] + [IGNORE_INDEX] * (len(subwords) - 1)
                    input_ids += subwords
                input_ids += suffix
                labels += [IGNORE_INDEX] * len(suffix)
                features.append(
                    {
                        "input_ids": input_ids,
                        "labels": labels,
                        "word_starts": word_starts,
                        "word_offset": start,
                        "example_index": index,
                        "length": len(input_ids),
                    }
                )
        return features

    def collate(
        self, features: list[dict[str, Any]], pad_token_id: int, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        input_ids = pad_sequences([f["input_ids"] for f in features], pad_token_id)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask_for(
                input_ids, pad_token_id, [len(f["input_ids"]) for f in features]
            ),
            "labels": pad_sequences([f["labels"] for f in features], IGNORE_INDEX),
        }

    # ----- model -----
    def build_head(self, task: Any, encoder_config: Any) -> torch.nn.Module:
        return TokenClassifierHead.for_encoder(encoder_config, len(task.labels))

    def forward(
        self, encoder: torch.nn.Module, head: torch.nn.Module | None, batch: dict[str, torch.Tensor]
    ) -> Any:
        return head(encode(encoder, batch).last_hidden_state)

    def loss(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        labels = batch["labels"]
        if not bool((labels != IGNORE_INDEX).any()):
            # Only words without subwords (or unlabelled data): cross-entropy of nothing would be NaN.
            return outputs.sum() * 0.0
        return F.cross_entropy(outputs.float().flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)

    def predict(self, outputs: torch.Tensor, batch: dict[str, torch.Tensor]) -> list[Any]:
        """The best tag id at every real position of each feature (postprocess reads the word starts)."""
        best = outputs.detach().argmax(dim=-1).cpu().numpy()
        lengths = batch["attention_mask"].sum(dim=1).tolist()
        return [row[:length] for row, length in zip(best, lengths, strict=True)]

    # ----- results -----
    def postprocess(
        self, task: Any, examples: list[dict[str, Any]], features: list[dict[str, Any]], raw: list[Any]
    ) -> list[Any]:
        if len(features) != len(raw):
            raise ValueError(f"{len(raw)} raw outputs for {len(features)} features")
        fallback = empty_word_tag(task)
        predictions: list[list[str | None]] = [[None] * len(example["tokens"]) for example in examples]
        for feature, best in zip(features, raw, strict=True):
            sentence = predictions[feature["example_index"]]
            for offset, position in enumerate(feature["word_starts"]):
                word = feature["word_offset"] + offset
                if sentence[word] is not None:
                    raise ValueError(f"word {word} of example {feature['example_index']} is in two features")
                sentence[word] = task.labels[int(best[position])] if position != NO_POSITION else fallback
        for index, sentence in enumerate(predictions):
            if any(tag is None for tag in sentence):
                raise ValueError(f"example {examples[index].get('id', index)!r} has words no feature covers")
        return predictions

    def score(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, float]:
        return scores_from_units(task.metrics, self.example_units(task, examples, predictions))

    def example_units(self, task: Any, examples: list[dict[str, Any]], predictions: list[Any]) -> dict[str, Units]:
        self.checked(task)
        references = [example["tags"] for example in examples]
        ids = example_ids(examples)
        units: dict[str, Units] = {}
        chunk: dict[str, Any] | None = None
        for metric in task.metrics:
            if metric in CHUNK_METRICS:
                chunk = chunk or metrics.chunk_units(predictions, references)
                units[metric] = Units.of(ids, chunk[metric])
            else:  # accuracy
                units[metric] = Units.of(ids, metrics.token_accuracy_units(predictions, references))
        return units

    def chance(self, task: Any, examples: list[dict[str, Any]]) -> dict[str, float]:
        self.checked(task)
        out: dict[str, float] = {}
        if "accuracy" in task.metrics:
            out["accuracy"] = 100.0 / len(task.labels)
        wanted = [metric for metric in task.metrics if metric in CHUNK_METRICS]
        if wanted:
            rng = random.Random(CHANCE_SEED)
            references = [example["tags"] for example in examples]
            totals = dict.fromkeys(wanted, 0.0)
            for _ in range(CHANCE_DRAWS):
                draw = [rng.choices(task.labels, k=len(tags)) for tags in references]
                prf = metrics.chunk_prf(draw, references)
                for metric in wanted:
                    totals[metric] += prf[metric]
            out.update({metric: total / CHANCE_DRAWS for metric, total in totals.items()})
        return {metric: out[metric] for metric in task.metrics}


def needs_spaces_between_words(tokenizer: Any) -> bool:
    """Whether words tokenized apart (``is_split_into_words``) must carry the space before them to come out as
    in running text. Byte-level BPE tokenizers without a prefix space (ModernBERT's, mmBERT's) fold that space
    into the next word's first token ("Ġword"); split words would lose it and be tokenized as if they started
    a text, unlike anything the encoder saw. Sentencepiece and WordPiece tokenizers split the same either way."""
    words = ["a", "b"]
    text = tokenizer(" ".join(words), add_special_tokens=False)["input_ids"]
    split = tokenizer(words, is_split_into_words=True, add_special_tokens=False)["input_ids"]
    if split == text:
        return False
    return tokenizer(with_spaces(words), is_split_into_words=True, add_special_tokens=False)["input_ids"] == text


def with_spaces(words: list[str]) -> list[str]:
    return [words[0], *(" " + word for word in words[1:])]


def special_tokens_around(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after a single sequence (<s> and </s> for XLM-R,
    [CLS] and [SEP] for BERT), read from how it encodes a one-word probe."""
    probe = tokenizer([["x"]], is_split_into_words=True)
    ids, words = probe["input_ids"][0], probe.word_ids(0)
    inside = [position for position, word in enumerate(words) if word is not None]
    if not inside:
        raise XstiltsError("the tokenizer turns the word 'x' into nothing: it cannot be used for tagging")
    return list(ids[: inside[0]]), list(ids[inside[-1] + 1 :])


def word_pieces(ids: list[int], word_ids: list[int | None], num_words: int) -> list[list[int]]:
    """The subword ids of each word (an empty list for a word that produced none)."""
    pieces: list[list[int]] = [[] for _ in range(num_words)]
    for token_id, word in zip(ids, word_ids, strict=True):
        if word is not None:
            pieces[word].append(token_id)
    return pieces


def word_runs(pieces: list[list[int]], budget: int) -> list[tuple[int, int]]:
    """Split words into contiguous runs [start, end) of at most ``budget`` subwords each (a word longer than
    the budget counts as ``budget`` and sits alone). No words give one empty run (featurize never asks: an
    empty sentence has no feature)."""
    runs, start, used = [], 0, 0
    for word, subwords in enumerate(pieces):
        size = min(len(subwords), budget)
        if used + size > budget and word > start:
            runs.append((start, word))
            start, used = word, 0
        used += size
    runs.append((start, len(pieces)))
    return runs


def empty_word_tag(task: Any) -> str:
    """The tag given to a word without subwords (see the module docstring)."""
    return "O" if "O" in task.labels else task.labels[0]


FAMILY = TaggingFamily()
