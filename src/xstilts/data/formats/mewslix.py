"""Mewsli-X (XTREME-R's entity retrieval), as its authors' pipeline (get-mewsli-x.sh) leaves it:
``wikinews_mentions-{dev,test}.jsonl`` (one WikiNews article section per line: ``{"context": {"language",
"text", "sentence_spans", ...}, "mentions": [{"example_id", "mention_span": {"start", "end", "text"},
"entity_id"}, ...]}``) and ``candidate_set_entities.jsonl`` (one entity per line: ``{"entity_id", "title",
"description", ...}``), all in one folder.

Each mention of the language becomes a query (``source``) whose single gold is its entity id; every entity of
the candidate set becomes a candidate (``target``, id = its QID). Query text: the sentence that contains the
mention with the mention wrapped in ``{`` ``}`` (braces already in the text become parentheses), the
mention markup of Mewsli-X's own preprocessing with a window of no extra sentences. Candidate text: the
entity's description (which starts by naming it). Scored as MRR@20 (the official "map@20").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xstilts.data.formats.common import json_lines, require
from xstilts.errors import DataError

CANDIDATES_FILE = "candidate_set_entities.jsonl"
LANGUAGES = ("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk")
_BRACES = re.compile(r"\{(.*?)\}")


def mentions_file(folder: Path, split: str) -> Path:
    return folder / f"wikinews_mentions-{split}.jsonl"


def _marked(path: Path, line: int, context: dict[str, Any], mention: dict[str, Any]) -> str:
    """The mention's sentence, the mention marked with braces."""
    text = require(path, context, "text", str, "context", line)
    span = require(path, mention, "mention_span", dict, "mention", line)
    start = require(path, span, "start", int, "mention_span", line)
    end = require(path, span, "end", int, "mention_span", line)
    if not 0 <= start < end <= len(text) or text[start:end] != span.get("text"):
        raise DataError(path, f"mention {mention.get('example_id')!r}: span [{start}, {end}) does not hold its "
                              f"text {span.get('text')!r:.40} in the context", line)
    sentence = (0, len(text))
    for s, item in enumerate(require(path, context, "sentence_spans", list, "context", line)):
        bounds = (require(path, item, "start", int, f"sentence_spans[{s}]", line),
                  require(path, item, "end", int, f"sentence_spans[{s}]", line))
        if bounds[0] <= start and end <= bounds[1]:
            sentence = bounds
            break

    def unbraced(part: str) -> str:
        return _BRACES.sub(r"(\1)", part)

    before, inside, after = text[sentence[0]:start], text[start:end], text[end:sentence[1]]
    return f"{unbraced(before)}{{{unbraced(inside)}}}{unbraced(after)}".strip()


def read_candidates(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        raise DataError(path, "missing Mewsli-X candidate set: copy candidate_set_entities.jsonl from "
                              "mewsli_x/output/dataset/ (get-mewsli-x.sh) beside the mention files")
    for line, entity in json_lines(path):
        entity_id = require(path, entity, "entity_id", str, "entity", line)
        description = require(path, entity, "description", str, "entity", line).strip()
        if not description:
            raise DataError(path, f"entity {entity_id!r} has an empty description", line)
        yield line, {"id": entity_id, "source": None, "target": description}


def read_mewslix(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``path`` is ``wikinews_mentions-<split>.jsonl``; the candidates come from the file beside it."""
    if not path.exists():
        raise DataError(path, "missing Mewsli-X mention file (wikinews_mentions-{dev,test}.jsonl of get-mewsli-x.sh)")
    queries = 0
    for line, row in json_lines(path):
        context = require(path, row, "context", dict, "line", line)
        if require(path, context, "language", str, "context", line) != language:
            continue
        for mention in require(path, row, "mentions", list, "line", line):
            example_id = require(path, mention, "example_id", str, "mention", line)
            entity_id = require(path, mention, "entity_id", str, "mention", line)
            queries += 1
            yield line, {"id": example_id, "source": _marked(path, line, context, mention), "target": None,
                         "gold_targets": [entity_id]}
    if not queries:
        raise DataError(path, f"no mention in language {language!r}")
    yield from read_candidates(path.with_name(CANDIDATES_FILE))
