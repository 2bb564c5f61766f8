"""The micro-benchmark: a generated, deterministic, offline stand-in for XTREME.

A small world (people, places, companies, animals with a taxonomy, objects, events with causes and effects)
is described by an English grammar with real English words and by five synthetic languages that differ from
English in controlled typological parameters (lexicon, word order, adjective and adposition order, case and
agreement, script). From it come monolingual non-parallel corpora for MLM pretraining and tasks of every
family, mirroring the real intermediate and target tasks.

Modules: ``world`` (vocabulary, entities, facts and their logic), ``languages`` (the languages, their
lexicons and typology), ``grammar`` (clause structures and annotated rendering), ``phrasing`` (facts and
events as clauses), ``pairs``/``qa``/``choice`` (items per task kind), ``corpora`` and ``tasks`` (the
builders). ``xstilts.tasks.micro`` registers the tasks.
"""

from xstilts.micro.corpora import corpus
from xstilts.micro.languages import (
    LANGUAGE_CODES,
    SYNTHETIC_CODES,
    get_language,
    typological_distance,
    typology,
)
from xstilts.micro.tasks import SIZES, TASKS, Size, build

__all__ = [
    "LANGUAGE_CODES",
    "SIZES",
    "SYNTHETIC_CODES",
    "TASKS",
    "Size",
    "build",
    "corpus",
    "get_language",
    "typological_distance",
    "typology",
]
