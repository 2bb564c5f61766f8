"""Registries against the files on disk, and every registry entry and preset exercised (style: one
parametrized test over every entry, so a forgotten import or a broken declaration is caught)."""

from __future__ import annotations

from pathlib import Path

import pytest

import xstilts
from xstilts.config.load import load_study, preset_names, presets_dir
from xstilts.errors import XstiltsError
from xstilts.families import FAMILY_MODULES, SPEC_SUFFIX, family_spec, get_family
from xstilts.families.base import Family
from xstilts.families.spec import MODEL_KINDS, FamilySpec
from xstilts.languages import check_language
from xstilts.registry import Registry, did_you_mean
from xstilts.scoring.registry import METRICS
from xstilts.tasks import TASK_MODULES, check_task, get_task, task_names

PACKAGE = Path(xstilts.__file__).parent
FAMILY_HELPERS = {"__init__", "base", "common", "heads", "spec", "first_token", "text_to_text", "t2t_common",
                  "language_codes"}
TASK_HELPERS = {"__init__", "base", "readers", "custom", "generated", "labels", "benchmarks", "published_sizes"}


def test_family_registry_matches_modules_on_disk():
    on_disk = {p.stem for p in (PACKAGE / "families").glob("*.py")} - FAMILY_HELPERS
    # each family: its module (torch) and its declarative part (no torch)
    modules = {module.rsplit(".", 1)[1] for module in FAMILY_MODULES.values()}
    assert on_disk == modules | {module + SPEC_SUFFIX for module in modules}


def test_task_modules_match_files_on_disk():
    on_disk = {p.stem for p in (PACKAGE / "tasks").glob("*.py")} - TASK_HELPERS
    assert on_disk == {m.rsplit(".", 1)[1] for m in TASK_MODULES}


@pytest.mark.parametrize("name", list(FAMILY_MODULES))
def test_every_family_loads_and_fulfils_the_contract(name):
    family = get_family(name)
    assert isinstance(family, Family) and family.name == name
    # the family reads its name, description and trainability from its spec: one declaration
    spec = family_spec(name)
    assert isinstance(spec, FamilySpec) and family.spec is spec and spec.name == name
    assert (family.description, family.trainable) == (spec.description, spec.trainable)
    assert spec.model_kind in MODEL_KINDS and spec.description and "\n" not in spec.description
    assert spec.metrics and all(metric in METRICS for metric in spec.metrics)
    spec.defaults()  # every setting has a default


@pytest.mark.parametrize("name", task_names())
def test_every_task_declaration_fits_its_family_spec(name):
    task = get_task(name)
    assert family_spec(task.family).problems(task.settings, task.metrics) == []


@pytest.mark.parametrize("name", task_names())
def test_every_task_declaration_is_consistent(name):
    task = get_task(name)
    assert task.family in FAMILY_MODULES
    assert task.metrics and all(m in METRICS for m in task.metrics)
    for split, languages in task.splits.items():
        assert languages, f"{name}: split {split} has no languages"
        assert all(check_language(lang) is None for lang in languages)
    if family_spec(task.family).needs_labels:
        if task.labels_from is not None:  # labels come from the data (ccg): none may be declared beside them
            assert task.labels == () and task.labels_from.describe()
        else:
            assert len(task.labels) >= 2 and len(set(task.labels)) == len(task.labels)


def test_tasks_sharing_a_head_share_its_family_and_label_order():
    # A head's output i is one label for every task that uses it (XNLI is evaluated through MNLI's head).
    by_head: dict[str, list] = {}
    for name in task_names():
        task = get_task(name)
        by_head.setdefault(task.head_name, []).append(task)
    for head, tasks in by_head.items():
        assert len({(t.family, t.labels) for t in tasks}) == 1, (head, [t.name for t in tasks])
    assert {t.name for t in by_head["nli"]} == {"anli-r1", "anli-r2", "anli-r3", "mnli", "snli", "xnli"}


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_validates_and_starts_with_its_command(name):
    first_line = (presets_dir() / f"{name}.yaml").read_text().splitlines()[0]
    assert first_line.startswith("# xstilts run "), first_line
    assert load_study(name).name


def test_presets_folder_at_repo_root_is_the_package_one():
    root = Path(__file__).resolve().parents[1] / "presets"
    assert root.resolve() == presets_dir().resolve()


def test_did_you_mean():
    assert did_you_mean("mock-nil", ["mock-nli", "xnli"]) == "did you mean 'mock-nli'?"
    assert did_you_mean("zzz", ["a", "b"]).startswith("choose one of a, b")


def test_unknown_names_suggest():
    with pytest.raises(XstiltsError, match="did you mean 'mock-nli'"):
        get_task("mock-nl")
    with pytest.raises(XstiltsError, match="did you mean 'tagging'"):
        get_family("taging")
    registry: Registry[int] = Registry("thing")
    registry.register("one", 1)
    with pytest.raises(ValueError):
        registry.register("one", 2)


@pytest.mark.skipif("generation" in FAMILY_MODULES, reason="the generation family exists: the tasks are registered")
@pytest.mark.parametrize("name", ["xglue-qg", "xglue-ntg"])
def test_generation_tasks_say_why_they_cannot_be_used(name):
    # Without the generation family, XGLUE's generation tasks are known by name: the error explains instead of
    # suggesting other tasks
    with pytest.raises(XstiltsError, match="needs the 'generation' family") as caught:
        get_task(name)
    assert "did you mean" not in str(caught.value)
    assert check_task(name) == str(caught.value)
