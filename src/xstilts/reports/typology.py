"""Typological distance of each evaluated language from English (the language every model was trained in).

- Micro-benchmark languages: the generator's own typology vectors
  (:func:`xstilts.micro.languages.typological_distance`: mean absolute difference of ten binary features).
- Real languages: URIEL's syntax features as lang2vec predicts them (``syntax_knn``, 103 features, no gaps),
  compared by cosine distance, the "syntactic distance" of Littell et al. (2017). lang2vec is the optional
  extra ``typology``; without it (or for a code URIEL does not know) the language is left out with a note.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Iterable

import numpy as np

ENGLISH = "en"
URIEL_FEATURES = "syntax_knn"


def _import_lang2vec():
    """lang2vec 1.1 imports ``pkg_resources`` (gone from setuptools >= 81) for one call, resource_filename;
    a stand-in for the import alone, removed again, keeps it working without pinning setuptools."""
    try:
        return importlib.import_module("lang2vec.lang2vec")
    except ModuleNotFoundError as error:
        if error.name != "pkg_resources":
            raise
    shim = types.ModuleType("pkg_resources")

    def resource_filename(package: str, resource: str) -> str:
        return os.path.join(os.path.dirname(sys.modules[package].__file__), resource)

    shim.resource_filename = resource_filename
    sys.modules["pkg_resources"] = shim
    try:
        return importlib.import_module("lang2vec.lang2vec")
    finally:
        sys.modules.pop("pkg_resources", None)


def uriel_distances(languages: Iterable[str]) -> tuple[dict[str, float], list[str]]:
    """Cosine distance of URIEL syntax vectors from English; the second value lists the codes left out."""
    try:
        l2v = _import_lang2vec()
    except ModuleNotFoundError:
        return {}, list(languages)
    out, missing = {}, []
    english = np.asarray(l2v.get_features(ENGLISH, URIEL_FEATURES)[ENGLISH], dtype=float)
    for language in languages:
        try:
            vector = np.asarray(l2v.get_features(language, URIEL_FEATURES)[language], dtype=float)
        except Exception:  # lang2vec raises a bare Exception for a code URIEL does not know
            missing.append(language)
            continue
        cosine = float(vector @ english / (np.linalg.norm(vector) * np.linalg.norm(english)))
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
