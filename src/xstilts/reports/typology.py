"""Typological distance of each evaluated language from English (the language every model was trained in).

- Micro-benchmark languages: the generator's own typology vectors
  (:func:`xstilts.micro.languages.typological_distance`: mean absolute difference of ten binary features).
- Real languages: URIEL's syntax features as lang2vec predicts them (``syntax_knn``, 103 features, no gaps),
  compared by cosine distance, the "syntactic distance" of Littell et al. (2017). lang2vec is the optional
  extra ``typology`` (only its data files are read); without it, or for a code URIEL does not know, the
  language is left out with a note.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable

import numpy as np

ENGLISH = "en"
URIEL_FEATURES = "syntax_knn"


def _uriel_syntax() -> tuple[dict[str, str], dict[str, np.ndarray]] | None:
    """lang2vec's ISO 639-1 -> 639-3 table and its ``syntax_knn`` vectors (the S_ features of the "predicted"
    source), read from the package's data files as its ``get_features`` does. Reading them directly skips
    ``import lang2vec.lang2vec``, which scans every URIEL language at import (seconds) and needs
    ``pkg_resources``, gone from setuptools >= 81. None when lang2vec is not installed."""
    if not _has_lang2vec():
        return None
    from importlib import resources

    data = resources.files("lang2vec") / "data"
    letter_codes = json.loads((data / "letter_codes.json").read_text())
    with resources.as_file(data / "feature_predictions.npz") as path, np.load(path) as database:
        features = [i for i, name in enumerate(database["feats"]) if str(name).startswith("S_")]
        source = list(database["sources"]).index("predicted")
        values = database["data"][:, features, source]
        vectors = {str(code): values[i] for i, code in enumerate(database["langs"])}
    return letter_codes, vectors


def uriel_distances(languages: Iterable[str]) -> tuple[dict[str, float], list[str]]:
    """Cosine distance of URIEL syntax vectors from English; the second value lists the codes left out."""
    uriel = _uriel_syntax()
    if uriel is None:
        return {}, list(languages)
    letter_codes, vectors = uriel

    def vector(code: str) -> np.ndarray | None:
        found = vectors.get(letter_codes.get(code, code))
        return None if found is None or np.any(found < 0) else found  # -1 marks a missing value

    english = vector(ENGLISH)
    out, missing = {}, []
    for language in languages:
        values = vector(language)
        if values is None or english is None:
            missing.append(language)
            continue
        cosine = float(values @ english / (np.linalg.norm(values) * np.linalg.norm(english)))
        out[language] = 1.0 - cosine
    return out, missing


def language_distances(languages: Iterable[str]) -> tuple[dict[str, tuple[float, str]], list[str]]:
    """language -> (distance from English, where it comes from), and notes on what was left out."""
    from xstilts.micro.languages import LANGUAGES as MICRO
    from xstilts.micro.languages import typological_distance

    languages = list(dict.fromkeys(languages))
    out: dict[str, tuple[float, str]] = {}
    micro = [lg for lg in languages if lg in MICRO and lg != ENGLISH]
    real = [lg for lg in languages if lg not in MICRO]
    for language in micro:
        out[language] = (typological_distance(ENGLISH, language), "micro generator")
    notes = []
    if ENGLISH in languages:
        out[ENGLISH] = (0.0, "micro generator" if micro and not real else "URIEL syntax_knn")
    if real:
        found, missing = uriel_distances(real)
        out.update({lg: (d, "URIEL syntax_knn") for lg, d in found.items()})
        if missing and not found and not _has_lang2vec():
            notes.append(f"Typological distances of real languages ({', '.join(missing)}) need lang2vec: "
                         "pip install 'xstilts[typology]'.")
        elif missing:
            notes.append(f"URIEL has no syntax features for {', '.join(missing)}; left out of the typology plot.")
    return out, notes


def _has_lang2vec() -> bool:
    return importlib.util.find_spec("lang2vec") is not None


def _uriel_families(languages: list[str]) -> dict[str, list[str]] | None:
    """Each language's URIEL family features (FAM: Glottolog's tree, where an ancestor's feature comes before its
    descendants'), from lang2vec's data file; None without lang2vec. Only the requested rows are kept."""
    if not _has_lang2vec():
        return None
    from importlib import resources

    data = resources.files("lang2vec") / "data"
    letter_codes = json.loads((data / "letter_codes.json").read_text())
    with resources.as_file(data / "family_features.npz") as path, np.load(path) as database:
        names = [str(name).removeprefix("F_") for name in database["feats"]]
        rows = {str(code): i for i, code in enumerate(database["langs"])}
        wanted = {lg: rows[code] for lg in languages if (code := letter_codes.get(lg, lg)) in rows}
        values = database["data"][list(wanted.values()), :, 0] if wanted else np.zeros((0, len(names)))
    return {lg: [names[j] for j in np.flatnonzero(values[k] > 0)] for k, lg in enumerate(wanted)}


def language_families(languages: Iterable[str]) -> dict[str, str]:
    """language -> its family: the micro-benchmark's languages are "synthetic (micro)" (English, among them:
    "English"); a real language's is URIEL's top family and first branch ("Indo-European / Germanic") where
    lang2vec is installed and knows the code; other languages are left out."""
    from xstilts.micro.languages import LANGUAGES as MICRO

    languages = list(dict.fromkeys(languages))
    out = {lg: "synthetic (micro)" for lg in languages if lg in MICRO and lg != ENGLISH}
    real = [lg for lg in languages if lg not in out]
    found = _uriel_families(real) if any(lg != ENGLISH for lg in real) else None
    if found is None:
        if ENGLISH in real and out:
            out[ENGLISH] = "English"
        return out
    for language, features in found.items():
        if features:
            out[language] = " / ".join(features[:2])
    return out
