"""A small real multilingual classification task made from LASER's Tatoeba pairs: is the sentence a question?

Why: the XNLI and PAWS-X samples we may use offline hold 1 to 3 rows per language, too few to fine-tune on.
LASER's Tatoeba files hold 1000 real, human-translated sentence pairs per language, and about one English
sentence in eight is a question. The label comes from the English side (it ends with "?"); the final
punctuation is then stripped from both sides, so a model must read words and word order (question words,
inversion, particles such as 吗, か, هل), not the question mark.

Layout written under a data root (the shared convention, so ``tatoeba`` reads it too)::

    <root>/tatoeba/tatoeba.<xxx>-eng.{<xxx>,eng}         the LASER files, copied as-is
    <root>/tatoeba-questions/train-en.jsonl              English, lines [0, 400) of every pair file
    <root>/tatoeba-questions/dev-en.jsonl                English, lines [400, 500)
    <root>/tatoeba-questions/test-en.jsonl               English, lines [500, 1000) of every file
    <root>/tatoeba-questions/test-<xx>.jsonl             the same lines of <xx> (XTREME's 2-letter code)

Every set is balanced (all its questions and as many statements, drawn with a fixed seed), so chance is 50
and always answering one class also scores 50. A dev or test pair whose English sentence also occurs in the
training set is dropped, so zero-shot test sentences are never translations of training sentences.

``python -m xstilts.data.tatoeba_questions LASER_DIR DATA_ROOT`` writes it; it is idempotent.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sys
from pathlib import Path

from xstilts.atomic import write_text_atomic
from xstilts.errors import DataError, XstiltsError
from xstilts.formats.tatoeba import LASER_CODES

TASK_FOLDER = "tatoeba-questions"
LABELS = ("statement", "question")
TRAIN_LINES, DEV_LINES, TEST_LINES = range(0, 400), range(400, 500), range(500, 1000)
SEED = 0
# Sentence-final punctuation and closing quotes of the sample languages (ASCII, CJK full-width, Arabic).
FINAL_PUNCTUATION = re.compile(r"[\s.?!。？！؟…\"'」』”’]+$")
_CODE_OF_LASER = {laser: code for code, laser in LASER_CODES.items()}


def strip_final(text: str) -> str:
    return FINAL_PUNCTUATION.sub("", text.strip())


def is_question(english: str) -> bool:
    return english.rstrip().rstrip("\"'”’").endswith("?")


def laser_pairs(laser_dir: Path) -> dict[str, tuple[Path, Path]]:
    """XTREME code -> (file in the language, English file) for every LASER pair file in the folder."""
    found = {}
    for path in sorted(Path(laser_dir).glob("tatoeba.*-eng.*")):
        laser = path.name.split(".")[1].removesuffix("-eng")
        if path.suffix == f".{laser}" and laser in _CODE_OF_LASER:
            english = path.with_suffix(".eng")
            if not english.is_file():
                raise DataError(english, "missing: every tatoeba.<xxx>-eng.<xxx> needs its .eng file beside it")
            found[_CODE_OF_LASER[laser]] = (path, english)
    if not found:
        raise XstiltsError(f"{laser_dir}: no LASER Tatoeba files (tatoeba.<xxx>-eng.<xxx> and .eng) found")
    return found


def _pair_lines(path: Path, english_path: Path) -> tuple[list[str], list[str]]:
    lines, english = (p.read_text(encoding="utf-8").splitlines() for p in (path, english_path))
    if len(lines) != len(english):
        raise DataError(path, f"{len(lines)} lines but its pair file has {len(english)}: the files must be line-aligned")
    if len(lines) < TEST_LINES.stop:
        raise DataError(path, f"{len(lines)} lines; this task needs LASER's {TEST_LINES.stop} pairs per language")
    return lines, english


def _balanced(rows: list[dict], rng: random.Random) -> list[dict]:
    questions = [r for r in rows if r["label"] == "question"]
    statements = [r for r in rows if r["label"] == "statement"]
    kept = questions + rng.sample(statements, min(len(questions), len(statements)))
    return sorted(kept, key=lambda r: r["id"])


def build_sets(laser_dir: Path) -> dict[tuple[str, str], list[dict]]:
    """(split, language) -> balanced examples ``{"id", "text", "label"}``; ids are ``<xx>-<line>``."""
    pairs = laser_pairs(laser_dir)
    texts = {code: _pair_lines(path, english_path) for code, (path, english_path) in pairs.items()}

    def rows(code: str, lines: range, side: int) -> list[dict]:
        other, english = texts[code]
        return [{"id": f"{code}-{i + 1}", "text": strip_final((other, english)[side][i]),
                 "label": LABELS[is_question(english[i])], "english": strip_final(english[i]).lower()}
                for i in lines]

    train = [row for code in pairs for row in rows(code, TRAIN_LINES, 1)]
    seen = {row["english"] for row in train}
    fresh = lambda rs: [r for r in rs if r["english"] not in seen]  # noqa: E731
    rng = random.Random(SEED)
    sets = {("train", "en"): _balanced(train, rng),
            ("dev", "en"): _balanced(fresh([r for c in pairs for r in rows(c, DEV_LINES, 1)]), rng)}
    # Balance on line numbers once, so English and every language test the same pairs.
    test_lines = {code: sorted(int(r["id"].split("-")[1]) - 1 for r in _balanced(fresh(rows(code, TEST_LINES, 1)), rng))
                  for code in pairs}
    sets[("test", "en")] = [r for c in pairs for r in rows(c, test_lines[c], 1)]
    for code in pairs:
        sets[("test", code)] = rows(code, test_lines[code], 0)
    return {key: [{k: r[k] for k in ("id", "text", "label")} for r in rs] for key, rs in sets.items()}


def write_data_root(laser_dir: Path, data_root: Path) -> dict[tuple[str, str], int]:
    """Copy the LASER files to ``<root>/tatoeba/`` and write the question task; returns example counts."""
    data_root = Path(data_root)
    tatoeba = data_root / "tatoeba"
    tatoeba.mkdir(parents=True, exist_ok=True)
    for path, english in laser_pairs(laser_dir).values():
        for source in (path, english):
            if not (tatoeba / source.name).exists() or (tatoeba / source.name).read_bytes() != source.read_bytes():
                shutil.copyfile(source, tatoeba / source.name)
    counts = {}
    for (split, language), examples in build_sets(laser_dir).items():
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples)
        write_text_atomic(data_root / TASK_FOLDER / f"{split}-{language}.jsonl", text)
        counts[(split, language)] = len(examples)
    return counts


def main(argv: list[str]) -> int:
    import typer

    if len(argv) != 2:
        typer.echo("usage: python -m xstilts.data.tatoeba_questions LASER_DIR DATA_ROOT", err=True)
        return 2
    try:
        counts = write_data_root(Path(argv[0]), Path(argv[1]))
    except XstiltsError as error:
        typer.echo(f"error: {error}", err=True)
        return 1
    for (split, language), n in counts.items():
        typer.echo(f"{TASK_FOLDER}/{split}-{language}.jsonl: {n} examples")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
