"""UD-POS as XTREME builds it from the Universal Dependencies release (v2.5; v2.7 for XTREME-R's added
languages), read straight from the extracted treebanks: ``ud-treebanks-v2.5/UD_*/<lang>_<tb>-ud-<split>.conllu``.

The official steps, in order (facts of google-research/xtreme's download script and utils_preprocess.py):

1. every ``*.conllu`` of the release belongs to the language before the first ``_`` of its file name;
2. multiword tokens are collapsed to their fused form (:mod:`xstilts.formats.conllu`);
3. a sentence is dropped when its forms are mostly ``_`` (treebanks whose text is withheld): kept only if
   no form is ``_`` or fewer than ``len - 1`` are;
4. all treebanks of a language are concatenated per split in sorted file-name order; a file's split is the
   first of ``train``, ``dev``, ``test`` that its name contains;
5. zero-width non-joiners (U+200C) and spaces are removed from inside words (forms are stripped first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xstilts.errors import DataError
from xstilts.formats.conllu import collapse_multiword, read_conllu

UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
    "SCONJ", "SYM", "VERB", "X",
)
SPLITS = ("train", "dev", "test")
UD_V25_FOLDER = "ud-treebanks-v2.5"
UD_V27_FOLDER = "ud-treebanks-v2.7"
# XTREME-R's UD-POS languages that come from UD v2.7 (the others from v2.5).
XTREME_R_ADDED = ("lt", "pl", "uk", "wo", "ro")
ZWNJ = "\u200c"


@dataclass(frozen=True)
class UdSentence:
    words: list[str]
    tags: list[str]
    path: Path
    line: int


def file_language(path: Path) -> str:
    return path.name.split("_")[0]


def file_split(path: Path) -> str | None:
    # The official script tests the converted name (".conllu" -> ".conll"); the split words are the same.
    name = path.name.replace("conllu", "conll", 1)
    return next((split for split in SPLITS if split in name), None)


def release_folder(root: Path, language: str) -> Path:
    """The release that XTREME takes a language from, below the task folder ``udpos``: v2.7 for XTREME-R's
    added languages, v2.5 for the others. A folder without releases in it is searched as it is."""
    release = root / (UD_V27_FOLDER if language in XTREME_R_ADDED else UD_V25_FOLDER)
    has_releases = (root / UD_V25_FOLDER).is_dir() or (root / UD_V27_FOLDER).is_dir()
    return release if has_releases else root


def treebank_files(root: Path, language: str, split: str) -> list[Path]:
    """The CoNLL-U files of one language and split anywhere below a folder, in the official order."""
    files = [
        path for path in root.rglob("*.conllu")
        if file_language(path) == language and file_split(path) == split
    ]
    return sorted(files, key=lambda path: path.name.replace("conllu", "conll", 1))


def mostly_blank(words: list[str]) -> bool:
    blanks = sum(word == "_" for word in words)
    return not (blanks == 0 or blanks < len(words) - 1)


def clean_word(word: str) -> str:
    return "".join(word.replace(ZWNJ, "").split(" "))


def file_sentences(path: Path, language: str) -> Iterator[UdSentence]:
    """The sentences of one treebank file after steps 2, 3 and 5. A file without any sentence is an error
    naming it (an empty or cut file); one whose sentences are all dropped in step 3 is not (withheld text)."""
    found = False
    for sentence in read_conllu(path, UPOS_TAGS):
        found = True
        pairs = [(form.strip(), upos.strip()) for form, upos in collapse_multiword(path, sentence, language)]
        words = [form for form, _ in pairs]
        if mostly_blank(words):
            continue
        cleaned = [clean_word(word) for word in words]
        if not all(cleaned):
            position = cleaned.index("")
            raise DataError(path, f"word {position + 1} of the sentence is empty once spaces and zero-width "
                                  "non-joiners are removed", sentence.line)
        yield UdSentence(cleaned, [tag for _, tag in pairs], path, sentence.line)
    if not found:
        raise DataError(path, "holds no sentences: is the file empty or cut short?")


def language_sentences(root: Path, language: str, split: str) -> Iterator[UdSentence]:
    files = treebank_files(root, language, split)
    if not files:
        raise DataError(
            root, f"no UD-POS {split} file for language {language!r}: expected "
            f"{root}/UD_*/{language}_*-ud-{split}.conllu (the extracted Universal Dependencies release)",
        )
    kept = 0
    for path in files:
        for sentence in file_sentences(path, language):
            kept += 1
            yield sentence
    if not kept:
        names = ", ".join(str(path) for path in files)
        raise DataError(files[0], f"every sentence of {names} has its text withheld (its forms are '_'): "
                                  f"there is no UD-POS {split} data for {language!r}")


def read_udpos(path: Path, split: str, language: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Examples ``{"id", "tokens", "tags"}`` of one language and split; ``path`` is the release folder. UPOS
    tags are checked at their word's line (:func:`~xstilts.formats.conllu.read_conllu`)."""
    for count, sentence in enumerate(language_sentences(path, language, split), start=1):
        yield sentence.line, {"id": f"{split}-{language}-{count}", "tokens": sentence.words, "tags": sentence.tags}
