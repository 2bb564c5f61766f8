"""Family registry. Families import torch, so each is registered lazily by module name: listing families
(``xstilts ls families``) and validating a study never import torch. What a study may know of a family (its
settings, metrics, model kind, description) lives in its torch-free spec module, ``<module>_settings``."""

from __future__ import annotations

import importlib

from xstilts.families.base import Family
from xstilts.families.spec import FamilySpec
from xstilts.registry import Registry

# name -> the family's module. A test checks this table against the modules on disk.
FAMILY_MODULES: dict[str, str] = {
    name: f"xstilts.families.{name}"
    for name in ("classification", "multiple_choice", "span_qa", "tagging", "retrieval", "mlm", "denoising",
                 "generation", "t2t_classification", "t2t_span_qa", "t2t_multiple_choice")
}
SPEC_SUFFIX = "_settings"

FAMILIES: Registry[Family] = Registry("family")
SPECS: Registry[FamilySpec] = Registry("family")


def _loader(module: str, attribute: str):
    return lambda: getattr(importlib.import_module(module), attribute)


for _name, _module in FAMILY_MODULES.items():
    FAMILIES.register_lazy(_name, _loader(_module, "FAMILY"))
    SPECS.register_lazy(_name, _loader(_module + SPEC_SUFFIX, "SPEC"))


def get_family(name: str) -> Family:
    return FAMILIES.get(name)


def example_texts(family: str, example: dict) -> list[str]:
    """The raw texts of an example of ``family``'s schema (to train tokenizers on a task's data)."""
    return family_spec(family).texts(example)


def family_spec(name: str) -> FamilySpec:
    """The declarative part of a family, without torch (an unknown name: an error with "did you mean")."""
    return SPECS.get(name)
