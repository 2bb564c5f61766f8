"""Mewsli-X (XTREME-R's entity retrieval), as its authors' pipeline (get-mewsli-x.sh) leaves it:
``wikinews_mentions-{dev,test}.jsonl`` (one WikiNews article section per line: ``{"context": {"language",
"text", "sentence_spans", ...}, "mentions": [{"example_id", "mention_span": {"start", "end", "text"},
"entity_id"}, ...]}``) and ``candidate_set_entities.jsonl`` (one entity per line: ``{"entity_id", "title",
"description", "sentence_spans", ...}``), all in one folder.

Each mention of the language becomes a query (``source``) whose single gold is its entity id; every entity of
the candidate set becomes a candidate (``target``, id = its QID). Both texts are those of the official
baseline preprocessing (utils_mewslix.preprocess_mention and preprocess_entity_description in XTREME's
third_party), reproduced character for character:

- query: the one sentence (``sentence_spans``) that wholly holds the mention, as ``<mention>: <left> {
  <mention> } <right>``, where left and right are the sentence's text before and after the mention, in which
  ``{...}`` (shortest match) becomes ``(...)`` so that the only braces mark the mention; the mention itself
  is left as it is. A mention in no sentence (none, or one that crosses a sentence break) is a DataError:
  the official code asserts there.
- candidate: the entity's sentences (``sentence_spans`` over its ``description``; text outside them is
  dropped) joined with single spaces.

Both are then normalised as the official code does: every line break becomes a space, ``"  "`` becomes
``" "`` in ONE pass (so three spaces become two, as the official single ``str.replace`` leaves them), and
the ends are stripped. Scored as MRR@20 (the official "map@20").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.common import json_lines, require

CANDIDATES_FILE = "candidate_set_entities.jsonl"
LANGUAGES = ("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk")
_BRACES = re.compile(r"\{(.*?)\}")


def mentions_file(folder: Path, split: str) -> Path:
    return folder / f"wikinews_mentions-{split}.jsonl"


def normalized(text: str) -> str:
    """Mewsli-X's normalisation: line breaks (those of str.splitlines) become spaces, one replace pass turns
    double spaces into single ones, the ends are stripped. One pass on purpose: the official strings keep a
    double space where there were three."""
    return " ".join(text.splitlines()).replace("  ", " ").strip()


def _spans(path: Path, line: int, container: dict[str, Any], text: str, where: str) -> list[tuple[int, int]]:
    """``sentence_spans`` as (start, end) pairs, each a non-empty span of ``text``."""
    spans = []
    for s, item in enumerate(require(path, container, "sentence_spans", list, where, line)):
        start = require(path, item, "start", int, f"{where}.sentence_spans[{s}]", line)
        end = require(path, item, "end", int, f"{where}.sentence_spans[{s}]", line)
        if not 0 <= start < end <= len(text):
            raise DataError(path, f"{where}.sentence_spans[{s}]: [{start}, {end}) is not a non-empty span of the "
                                  f"text ({len(text)} characters)", line)
        spans.append((start, end))
    return spans


def _query(path: Path, line: int, context: dict[str, Any], mention: dict[str, Any]) -> str:
    """The mention in its sentence, marked with braces (see the module docstring)."""
    text = require(path, context, "text", str, "context", line)
    span = require(path, mention, "mention_span", dict, "mention", line)
    start = require(path, span, "start", int, "mention_span", line)
    end = require(path, span, "end", int, "mention_span", line)
    surface = require(path, span, "text", str, "mention_span", line)
    name = f"mention {mention.get('example_id')!r}"
    if not 0 <= start < end <= len(text) or text[start:end] != surface:
        raise DataError(path, f"{name}: span [{start}, {end}) does not hold its text {surface!r:.40} in "
                              "the context", line)
    spans = _spans(path, line, context, text, "context")
    # The first sentence that wholly holds the mention (ends may coincide), as the official locate_in.
    sentence = next(((s, e) for s, e in spans if s <= start and end <= e), None)
    if sentence is None:
        raise DataError(path, f"{name}: span [{start}, {end}) lies in no single sentence of context.sentence_spans "
                              f"({len(spans)} spans); the official preprocessing needs the mention's sentence "
                              "(fix the spans or drop the mention)", line)
    left = _BRACES.sub(r"(\1)", text[sentence[0]:start])
    right = _BRACES.sub(r"(\1)", text[end:sentence[1]])
    mention_text = text[start:end]
    return normalized(f"{mention_text}: {left} {{ {mention_text} }} {right}")


def candidate_text(path: Path, line: int, entity: dict[str, Any]) -> str:
    """The entity's sentences joined with spaces, normalised (see the module docstring)."""
    description = require(path, entity, "description", str, "entity", line)
    spans = _spans(path, line, entity, description, "entity")
    return normalized(" ".join(description[start:end] for start, end in spans))


def read_candidates(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Every entity of the candidate set (none at all, or one entity twice, is an error)."""
    if not path.exists():
        raise DataError(path, "missing Mewsli-X candidate set: copy candidate_set_entities.jsonl from "
                              "mewsli_x/output/dataset/ (get-mewsli-x.sh) beside the mention files")
    candidates = []
    seen: dict[str, int] = {}
    for line, entity in json_lines(path):
        entity_id = require(path, entity, "entity_id", str, "entity", line)
        if entity_id in seen:
            raise DataError(path, f"entity {entity_id!r} occurs twice (first at line {seen[entity_id]})", line)
        seen[entity_id] = line
        text = candidate_text(path, line, entity)
        if not text:
            # The official code would encode an empty string; an example here needs a text to embed.
            raise DataError(path, f"entity {entity_id!r}: its sentences (sentence_spans over the description) "
                                  "give an empty text", line)
        candidates.append((line, {"id": entity_id, "source": None, "target": text}))
    if not candidates:
        raise DataError(path, "holds no entities: the candidate set is empty (is the file empty or cut short?)")
    return candidates


def read_mewslix(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``path`` is ``wikinews_mentions-<split>.jsonl``; the candidates come from the file beside it. Every
    mention of the file is checked (its language, span, sentence and gold entity, which must be in the
    candidate set), also those of the other languages."""
    if not path.exists():
        raise DataError(path, "missing Mewsli-X mention file (wikinews_mentions-{dev,test}.jsonl of get-mewsli-x.sh)")
    candidates_path = path.with_name(CANDIDATES_FILE)
    candidates = read_candidates(candidates_path)
    known = {example["id"] for _, example in candidates}
    queries = []
    seen: dict[str, int] = {}
    for line, row in json_lines(path):
        context = require(path, row, "context", dict, "line", line)
        row_language = require(path, context, "language", str, "context", line)
        if row_language not in LANGUAGES:
            raise DataError(path, f"context.language {row_language[:20]!r} is not a Mewsli-X language "
                                  f"({', '.join(LANGUAGES)})", line)
        for m, mention in enumerate(require(path, row, "mentions", list, "line", line)):
            where = f"mentions[{m}]"
            example_id = require(path, mention, "example_id", str, where, line)
            entity_id = require(path, mention, "entity_id", str, where, line)
            if example_id in seen:
                raise DataError(path, f"{where}: example_id {example_id!r} occurs twice (first at line "
                                      f"{seen[example_id]})", line)
            seen[example_id] = line
            if entity_id not in known:
                raise DataError(path, f"{where}: the gold entity {entity_id!r} of mention {example_id!r} is not in the "
                                      f"candidate set {candidates_path.name} ({len(known)} entities): it could never "
                                      "be retrieved", line)
            query = _query(path, line, context, mention)
            if row_language == language:
                queries.append((line, {"id": example_id, "source": query, "target": None,
                                       "gold_targets": [entity_id]}))
    if not queries:
        raise DataError(path, f"no mention in language {language!r}")
    yield from queries
    yield from candidates
