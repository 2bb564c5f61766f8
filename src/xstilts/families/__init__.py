"""Family registry. Families import torch, so each is registered lazily by module name: listing families
(``xstilts ls families``) never imports torch."""

from __future__ import annotations

import importlib

from xstilts.families.base import Family
from xstilts.registry import Registry

# name -> (module, one-line description). A test checks this table against the modules on disk.
FAMILY_MODULES: dict[str, tuple[str, str]] = {
    "classification": ("xstilts.families.classification", "single text or text pair -> one label (XNLI, PAWS-X)"),
    "multiple_choice": ("xstilts.families.multiple_choice", "context + N choices, one forward pass (XCOPA)"),
    "span_qa": ("xstilts.families.span_qa", "extractive QA, SQuAD 1.1/2.0 style (XQuAD, MLQA, TyDiQA)"),
    "tagging": ("xstilts.families.tagging", "a tag per word, first-subword labelling (UD-POS, PAN-X)"),
    "retrieval": ("xstilts.families.retrieval", "embeddings + nearest neighbour, evaluation only (Tatoeba)"),
    "mlm": ("xstilts.families.mlm", "masked language modelling, head only at masked positions"),
}

FAMILIES: Registry[Family] = Registry("family")


def _loader(module: str):
    return lambda: importlib.import_module(module).FAMILY


for _name, (_module, _description) in FAMILY_MODULES.items():
    FAMILIES.register_lazy(_name, _loader(_module))


def get_family(name: str) -> Family:
    return FAMILIES.get(name)
