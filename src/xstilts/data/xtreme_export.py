"""The processed files of XTREME's official preprocessing (google-research/xtreme utils_preprocess.py), written
from the raw official files byte for byte: the same lines, separators, CSV quoting and line ends, so that
models and scorers built for the official files can read ours.

Each exporter takes the task's raw folder (as in the data layout: ``udpos``, ``panx``, ``pawsx``, ``xnli``)
and writes ``<split>-<lang>.tsv`` files into an output folder; test files carry no labels, as officially.
Where the official script crashes or silently drops bad input, these raise a DataError instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from pathlib import Path

from xstilts.atomic import write_bytes_atomic
from xstilts.errors import DataError, XstiltsError
from xstilts.formats import panx, pawsx, udpos, xnli
from xstilts.formats.common import text_lines

# Official language lists of the preprocessing (utils_preprocess.py).
PANX_LANGUAGES = (
    "ar he vi id jv ms tl eu ml ta te af nl en de el bn hi mr ur fa fr it pt es bg ru ja ka ko th sw yo my zh "
    "kk tr et fi hu qu pl uk az lt pa gu ro"
).split()
UDPOS_LANGUAGES = (
    "af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr ur vi yo zh lt pl uk wo ro"
).split()
PAWSX_LANGUAGES = ("en", "de", "es", "fr", "ja", "ko", "zh")
PAWSX_FILES = {"train": "train", "test": "test_2k", "dev": "dev_2k"}


def _tsv_rows(rows: Iterable[list[str]]) -> bytes:
    """Rows as Python's csv.writer writes them with a tab delimiter (excel dialect): CRLF line ends and
    double quotes around fields that hold a quote, a tab or a line break."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter="\t")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


# ------------------------------------------------------------------ UD-POS


def udpos_tsv(sentences: list[udpos.UdSentence], with_tags: bool) -> bytes:
    """``word<TAB>tag`` lines (words only for test), a blank line after each sentence but the last, and a
    final line end, as utils_preprocess.udpos_preprocess writes them."""
    parts: list[str] = []
    for s_index, sentence in enumerate(sentences):
        for w_index, (word, tag) in enumerate(zip(sentence.words, sentence.tags, strict=True)):
            last = s_index == len(sentences) - 1 and w_index == len(sentence.words) - 1
            parts.append((f"{word}\t{tag}" if with_tags else word) + ("" if last else "\n"))
        parts.append("\n")
    return "".join(parts).encode("utf-8")


def export_udpos(source: Path, out: Path, languages: Iterable[str] = UDPOS_LANGUAGES) -> list[Path]:
    written = []
    for language in languages:
        root = udpos.release_folder(source, language)
        for split in udpos.SPLITS:
            files = udpos.treebank_files(root, language, split) if root.is_dir() else []
            sentences = [s for path in files for s in udpos.file_sentences(path, language)]
            if sentences:
                target = out / f"{split}-{language}.tsv"
                write_bytes_atomic(target, udpos_tsv(sentences, with_tags=split != "test"))
                written.append(target)
    return written


# ------------------------------------------------------------------ PAN-X


def panx_tsv(path: Path, with_tags: bool) -> bytes:
    """utils_preprocess.panx_preprocess: one trailing blank line dropped; ``<lang>:<token><TAB><tag>``
    becomes ``token<TAB>tag`` (``token`` for test); any other line becomes a blank line, so blank lines in a
    row stay in a row (the empty sentences that panx.read_panx yields)."""
    lines = [line for _, line in text_lines(path)]
    if not lines:
        raise DataError(path, "the file is empty")
    if not lines[-1].strip():
        lines = lines[:-1]
    out = []
    for number, line in enumerate(lines, start=1):
        fields = line.strip().split("\t")
        if len(fields) == 2:
            token = panx.split_token(path, number, fields[0])
            out.append(f"{token}\t{fields[1].strip()}\n" if with_tags else f"{token}\n")
        else:
            out.append("\n")
    return "".join(out).encode("utf-8")


def export_panx(source: Path, out: Path, languages: Iterable[str] = PANX_LANGUAGES) -> list[Path]:
    """``source`` holds one folder per language with the files ``train``, ``dev`` and ``test``."""
    written = []
    for language in languages:
        if not (source / language).is_dir():
            continue
        for split in ("train", "test", "dev"):
            path = source / language / split
            if not path.exists():
                raise DataError(path, f"missing PAN-X {split} file of {language!r} (extract {language}.tar.gz here)")
            target = out / f"{split}-{language}.tsv"
            write_bytes_atomic(target, panx_tsv(path, with_tags=split != "test"))
            written.append(target)
    return written


# ------------------------------------------------------------------ PAWS-X


def export_pawsx(source: Path, out: Path, languages: Iterable[str] = PAWSX_LANGUAGES) -> list[Path]:
    """``source`` holds ``x-final/<lang>/``; English train, every language's dev and test (test unlabelled)."""
    written = []
    for language in languages:
        folder = source / "x-final" / language
        if not folder.is_dir():
            continue
        for split in ("train", "test", "dev"):
            if split == "train" and language != "en":
                continue
            path = folder / f"{PAWSX_FILES[split]}.tsv"
            if not path.exists():
                raise DataError(path, f"missing PAWS-X {split} file of {language!r}")
            rows = [
                [first.strip(), second.strip()] + ([label] if split != "test" else [])
                for _, (_, first, second, label) in pawsx.pawsx_rows(path)
            ]
            target = out / f"{split}-{language}.tsv"
            write_bytes_atomic(target, _tsv_rows(rows))
            written.append(target)
    return written


# ------------------------------------------------------------------ XNLI


def export_xnli(source: Path, out: Path, languages: Iterable[str] | None = None) -> list[Path]:
    """``source`` holds XNLI-1.0/ and XNLI-MT-1.0/: ``train-en.tsv`` from MNLI, and per language the dev
    and test files (test unlabelled), labels with ``contradictory`` read as ``contradiction``."""
    written = []
    train = source / "XNLI-MT-1.0" / "multinli" / "multinli.train.en.tsv"
    if train.exists():
        rows = [[ex["text"], ex["text_pair"], ex["label"]] for _, ex in xnli.read_xnli(train, "train", "en")]
        write_bytes_atomic(out / "train-en.tsv", _tsv_rows(rows))
        written.append(out / "train-en.tsv")
    for split in ("test", "dev"):
        path = source / "XNLI-1.0" / f"xnli.{split}.tsv"
        if not path.exists():
            continue
        found = [row[0] for _, row in _xnli_languages(path)]
        for language in dict.fromkeys(found):  # the order of first appearance, as officially
            if languages is not None and language not in languages:
                continue
            rows = [
                [ex["text"], ex["text_pair"]] + ([ex["label"]] if split != "test" else [])
                for _, ex in xnli.read_xnli(path, split, language)
            ]
            write_bytes_atomic(out / f"{split}-{language}.tsv", _tsv_rows(rows))
            written.append(out / f"{split}-{language}.tsv")
    return written


def _xnli_languages(path: Path) -> Iterable[tuple[int, list[str]]]:
    lines = text_lines(path)
    next(lines, None)
    for number, line in lines:
        if line.strip():
            yield number, [line.split("\t")[0].strip()]


EXPORTERS: dict[str, Callable[[Path, Path], list[Path]]] = {
    "udpos": export_udpos,
    "panx": export_panx,
    "pawsx": export_pawsx,
    "xnli": export_xnli,
}


def export(task: str, source: Path, out: Path) -> list[Path]:
    if task not in EXPORTERS:
        raise XstiltsError(f"no XTREME export for task {task!r}: choose one of {', '.join(EXPORTERS)}")
    if not source.is_dir():
        raise XstiltsError(f"{task}: raw data folder {source} does not exist (see the data layout in the docs)")
    written = EXPORTERS[task](source, out)
    if not written:
        raise XstiltsError(f"{task}: found no raw files to export under {source}")
    return written
