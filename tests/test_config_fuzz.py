"""Config fuzzing: seeded mutations of the presets must each be either still valid (a mutation the mutator knows
is harmless) or a ConfigError whose message names the mutated key path (or its line); never a traceback, never
silently accepted.

The mutator works on the YAML node tree of a preset and knows the schema at every node (a block with fixed keys,
a mapping of names, a number with its range, a choice, ...), so it knows which mutations must be refused:
typos of keys at every nesting level (variants included), values of the wrong type, booleans, inf and nan and
out-of-range numbers in numeric fields, typos of choices and of the tasks and stages a study names, duplicated
keys, removed required keys, bytes that are not UTF-8, nesting too deep, bad path and grid templates, a top level
that is not a mapping, `evaluate.languages` that leave nothing to evaluate, a seed listed twice. The harmless ones
(another description, a block's keys in another order, quoted text) must stay valid. Two kinds are "either"
(valid or an error, never a traceback): renamed stages and pipelines, removed optional keys.

The default suite runs 60 mutations; `pytest -m slow tests/test_config_fuzz.py` a slice of about a minute (CI);
`-m heavy` ten minutes. Each prints its counts by kind and outcome.
"""

from __future__ import annotations

import copy
import random
import sys
import time
import types
import typing
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import annotated_types
import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from xstilts.config.load import _declared_tasks_set_aside, format_key_path, load_study, presets_dir
from xstilts.config.schema import StudyConfig
from xstilts.errors import ConfigError
from xstilts.tasks import task_names

STR, INT, FLOAT, BOOL, NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
MERGE = "tag:yaml.org,2002:merge"
PRESETS = sorted(presets_dir().glob("*.yaml"))


# --- the schema at a node -----------------------------------------------------------------------------------

@dataclass
class Spec:
    """What the schema expects at one place of a study."""

    kind: str  # model, dict, list, tuple, int, float, bool, str, literal, union, any
    model: type[BaseModel] | None = None
    item: Any = None  # dict value / list item annotation; tuple: the items' annotations
    args: tuple = ()  # literal choices; union members (annotations)
    bounds: dict[str, float] = field(default_factory=dict)  # gt, ge, lt, le
    optional: bool = False


def _bounds(metadata: list | tuple) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            out.update(_bounds(item.metadata))
        for name, cls in (("gt", annotated_types.Gt), ("ge", annotated_types.Ge), ("lt", annotated_types.Lt),
                          ("le", annotated_types.Le)):
            if isinstance(item, cls):
                out[name] = getattr(item, name)
    return out


def spec_of(annotation: Any, metadata: list | tuple = ()) -> Spec:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        inner = spec_of(args[0], tuple(metadata) + tuple(annotation.__metadata__))
        return inner
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1:
            inner = spec_of(members[0], metadata)
            inner.optional = True
            return inner
        return Spec("union", args=tuple(members), optional=type(None) in args, bounds=_bounds(metadata))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return Spec("model", model=annotation)
    if origin is dict:
        return Spec("dict", item=args[1])
    if origin is list:
        return Spec("list", item=args[0])
    if origin is tuple:
        return Spec("tuple", item=args)
    if origin is Literal:
        return Spec("literal", args=args)
    if annotation in (int, float, bool, str):
        return Spec(annotation.__name__, bounds=_bounds(metadata))
    return Spec("any")


def field_spec(model: type[BaseModel], name: str) -> Spec:
    info = model.model_fields[name]
    return spec_of(info.annotation, info.metadata)


def child_spec(spec: Spec | None, key: Any, node: yaml.Node) -> Spec | None:
    """The spec of the value under ``key`` (a mapping key or a list index) of a node with ``spec``."""
    if spec is None:
        return None
    if spec.kind == "union":  # pick the member that fits the node
        for member in spec.args:
            candidate = spec_of(member)
            if (isinstance(node, yaml.MappingNode) and candidate.kind in ("model", "dict")) or \
                    (isinstance(node, yaml.SequenceNode) and candidate.kind in ("list", "tuple")):
                return child_spec(candidate, key, node)
        return None
    if spec.kind == "model":
        return field_spec(spec.model, key) if isinstance(key, str) and key in spec.model.model_fields else None
    if spec.kind == "dict":
        return spec_of(spec.item)
    if spec.kind == "list" and isinstance(key, int):
        return spec_of(spec.item)
    if spec.kind == "tuple" and isinstance(key, int) and key < len(spec.item):
        return spec_of(spec.item[key])
    return None


# --- walking a preset's nodes --------------------------------------------------------------------------------

@dataclass
class Place:
    node: yaml.Node
    path: tuple
    spec: Spec | None
    parent: yaml.MappingNode | yaml.SequenceNode | None = None
    index: int = -1  # the pair's index in a mapping, the item's in a sequence
    in_variant: str | None = None  # the variant this place is in (its content is merged, not a whole study)


def places(root: yaml.MappingNode) -> list[Place]:
    """Every node of the study with its key path and spec, in document order (an aliased node once)."""
    out: list[Place] = []
    seen: set[int] = set()

    def visit(place: Place) -> None:
        node = place.node
        if id(node) in seen:
            return
        seen.add(id(node))
        out.append(place)
        if isinstance(node, yaml.MappingNode):
            for i, (key, value) in enumerate(node.value):
                if key.tag == MERGE or not isinstance(key, yaml.ScalarNode):
                    continue
                name = key.value
                spec = child_spec(place.spec, name, node)
                variant = place.in_variant
                if place.path == ("variants",):
                    twin = any(k.value == "twin" for k, _ in getattr(value, "value", []) if isinstance(k, yaml.Node))
                    spec, variant = (None if twin else Spec("model", model=StudyConfig)), name
                elif variant is not None and place.path == ("variants", variant) and name == "rename_tasks":
                    spec = None
                visit(Place(value, place.path + (name,), spec, node, i, variant))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                visit(Place(item, place.path + (i,), child_spec(place.spec, i, node), node, i, place.in_variant))

    visit(Place(root, (), Spec("model", model=StudyConfig)))
    return out


# --- mutations -----------------------------------------------------------------------------------------------

@dataclass
class Mutation:
    kind: str
    preset: str
    expect: str  # "error", "valid" or "either"
    needles: list[str]  # an error must contain one of them (a key path, a ":line:")
    text: bytes = b""
    path: tuple = ()
    note: str = ""


def scalar(tag: str, value: str, style: str | None = None) -> yaml.ScalarNode:
    return yaml.ScalarNode(tag, value, style=style)


def typo(rng: random.Random, word: str) -> str:
    """A near miss of ``word``: a letter dropped, doubled, swapped or changed."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = rng.randrange(len(word))
    edits = [word[:i] + word[i + 1:], word[:i] + word[i] + word[i:], word[:i] + rng.choice(letters) + word[i + 1:]]
    if len(word) > 1 and i < len(word) - 1:
        edits.append(word[:i] + word[i + 1] + word[i] + word[i + 2:])
    candidates = [e for e in edits if e and e != word]
    return rng.choice(candidates) if candidates else word + "x"


def dump(root: yaml.Node) -> bytes:
    return yaml.serialize(root, Dumper=yaml.SafeDumper, width=100).encode("utf-8")


def line_of(text: bytes, path: tuple) -> int | None:
    """Line of the deepest key of ``path`` in the mutated text (what an error may name instead of the path)."""
    try:
        node = yaml.compose(text.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None
    line = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in reversed(node.value) if isinstance(k, yaml.ScalarNode)
                          and k.tag != MERGE and k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def needles(text: bytes, path: tuple) -> list[str]:
    out = [format_key_path(path)] if path else []
    line = line_of(text, path)
    if line is not None:
        out.append(f":{line}:")
    return out


def violates(value: float, bounds: dict[str, float]) -> bool:
    return (("gt" in bounds and not value > bounds["gt"]) or ("ge" in bounds and not value >= bounds["ge"])
            or ("lt" in bounds and not value < bounds["lt"]) or ("le" in bounds and not value <= bounds["le"]))


class Mutator:
    def __init__(self, preset: Path, rng: random.Random):
        self.preset = preset
        self.name = preset.stem
        self.rng = rng
        self.source = preset.read_text(encoding="utf-8")
        self.root = yaml.compose(self.source, Loader=yaml.SafeLoader)

    def fresh(self) -> tuple[yaml.Node, list[Place]]:
        root = copy.deepcopy(self.root)
        return root, places(root)

    def make(self) -> Mutation | None:
        kind = self.rng.choice(KINDS)
        return getattr(self, kind)()

    def done(self, kind: str, root: yaml.Node, path: tuple, expect: str, extra: list[str] | None = None,
             note: str = "") -> Mutation:
        text = dump(root)
        return Mutation(kind, self.name, expect, (extra or []) + needles(text, path), text, path, note)

    # keys
    def key_typo(self) -> Mutation | None:
        root, found = self.fresh()
        fixed = [p for p in found if isinstance(p.node, yaml.MappingNode) and p.spec is not None
                 and p.spec.kind == "model" and any(k.tag != MERGE for k, _ in p.node.value)]
        if not fixed:
            return None
        place = self.rng.choice(fixed)
        pairs = [i for i, (k, _) in enumerate(place.node.value) if k.tag != MERGE]
        i = self.rng.choice(pairs)
        key = place.node.value[i][0]
        new = typo(self.rng, key.value)
        if new in place.spec.model.model_fields or any(k.value == new for k, _ in place.node.value):
            return None
        key.value = new
        path = place.path + (new,)
        return self.done("key_typo", root, path, "error", [f"{format_key_path(path)}: unknown key"])

    def name_typo(self) -> Mutation | None:
        """A stage or pipeline renamed: valid or an error (a stage some pipeline names), never a traceback."""
        root, found = self.fresh()
        named = [p for p in found if p.path in (("stages",), ("pipelines",)) and isinstance(p.node, yaml.MappingNode)]
        if not named:
            return None
        place = self.rng.choice(named)
        key = self.rng.choice(place.node.value)[0]
        old = key.value
        key.value = typo(self.rng, old)
        return self.done("name_typo", root, place.path + (key.value,), "either", note=old)

    def duplicate_key(self) -> Mutation | None:
        root, found = self.fresh()
        mappings = [p for p in found if isinstance(p.node, yaml.MappingNode)
                    and any(k.tag != MERGE for k, _ in p.node.value)]
        place = self.rng.choice(mappings)
        i = self.rng.choice([i for i, (k, _) in enumerate(place.node.value) if k.tag != MERGE])
        key, value = place.node.value[i]
        place.node.value.insert(i + 1 if self.rng.random() < 0.5 else len(place.node.value),
                                (copy.deepcopy(key), copy.deepcopy(value)))
        path = place.path + (key.value,)
        return self.done("duplicate_key", root, path, "error", [f"{format_key_path(path)}: duplicate key"])

    def remove_key(self) -> Mutation | None:
        root, found = self.fresh()
        blocks = [p for p in found if isinstance(p.node, yaml.MappingNode) and p.spec is not None
                  and p.spec.kind == "model" and any(k.tag != MERGE for k, _ in p.node.value)]
        place = self.rng.choice(blocks)
        i = self.rng.choice([i for i, (k, _) in enumerate(place.node.value) if k.tag != MERGE])
        key = place.node.value[i][0].value
        del place.node.value[i]
        info = place.spec.model.model_fields.get(key)
        merged = any(k.tag == MERGE for k, _ in place.node.value)  # the merged block may give the key
        required = info is not None and info.is_required() and place.in_variant is None and not merged
        path = place.path + (key,)
        if required:
            return self.done("remove_required", root, path, "error",
                             [f"{format_key_path(path)}: required key is missing"])
        return self.done("remove_optional", root, path, "either")

    # values
    def _values(self, found: list[Place], kinds: tuple[str, ...]) -> list[Place]:
        return [p for p in found if p.spec is not None and p.spec.kind in kinds and p.parent is not None]

    def _replace(self, place: Place, node: yaml.Node) -> None:
        if isinstance(place.parent, yaml.MappingNode):
            key, _ = place.parent.value[place.index]
            place.parent.value[place.index] = (key, node)
        else:
            place.parent.value[place.index] = node

    def bad_number(self) -> Mutation | None:
        """A boolean, inf, nan, text or a value out of its range in a numeric field."""
        root, found = self.fresh()
        numbers = self._values(found, ("int", "float"))
        numbers += [p for p in self._values(found, ("union",))
                    if {int, float} & {typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a
                                       for a in p.spec.args} and str not in p.spec.args and bool not in p.spec.args]
        numbers += [p for p in self._values(found, ("union",))
                    if p.path[-1:] == ("layer",)]
        if not numbers:
            return None
        place = self.rng.choice(numbers)
        choices = [scalar(BOOL, "true"), scalar(BOOL, "false"), scalar(BOOL, "yes"), scalar(FLOAT, ".inf"),
                   scalar(FLOAT, "-.inf"), scalar(FLOAT, ".nan"), scalar(STR, "lots"), scalar(FLOAT, "1e400")]
        if place.spec.kind == "int":
            choices += [scalar(FLOAT, "2.5"), scalar(INT, str(2**70))]
        bounds = place.spec.bounds
        for value in (-1, 0, 0.5, 1, 1.5, 10**9):
            if bounds and violates(value, bounds) and not (place.spec.kind == "int" and value != int(value)):
                choices.append(scalar(INT if isinstance(value, int) else FLOAT, str(value)))
        node = self.rng.choice(choices)
        self._replace(place, node)
        return self.done("bad_number", root, place.path, "error", note=node.value)

    def bad_flag(self) -> Mutation | None:
        root, found = self.fresh()
        flags = self._values(found, ("bool",))
        if not flags:
            return None
        place = self.rng.choice(flags)
        node = self.rng.choice([scalar(INT, "1"), scalar(INT, "0"), scalar(STR, "maybe"), scalar(STR, "true", "'"),
                                scalar(FLOAT, "0.5")])
        self._replace(place, node)
        return self.done("bad_flag", root, place.path, "error", note=node.value)

    def choice_typo(self) -> Mutation | None:
        root, found = self.fresh()
        choices = [p for p in self._values(found, ("literal",)) if isinstance(p.node, yaml.ScalarNode)]
        if not choices:
            return None
        place = self.rng.choice(choices)
        new = typo(self.rng, place.node.value)
        if new in place.spec.args:
            return None
        self._replace(place, scalar(STR, new))
        return self.done("choice_typo", root, place.path, "error", note=new)

    def wrong_type(self) -> Mutation | None:
        """A value of another shape: a scalar for a block or list, a list or mapping for a scalar."""
        root, found = self.fresh()
        candidates = self._values(found, ("model", "dict", "list", "tuple", "str", "int", "float", "literal"))
        if not candidates:
            return None
        place = self.rng.choice(candidates)
        kind = place.spec.kind
        options: list[yaml.Node] = [yaml.SequenceNode("tag:yaml.org,2002:seq", [scalar(STR, "x")], flow_style=True),
                                    yaml.MappingNode("tag:yaml.org,2002:map",
                                                     [(scalar(STR, "x"), scalar(INT, "1"))], flow_style=True)]
        if kind in ("model", "dict", "list", "tuple"):
            options = [scalar(INT, "5"), scalar(STR, "text"), scalar(BOOL, "true")]
            options.append(yaml.SequenceNode("tag:yaml.org,2002:seq", [scalar(STR, "x")], flow_style=True)
                           if kind in ("model", "dict") else
                           yaml.MappingNode("tag:yaml.org,2002:map", [(scalar(STR, "x"), scalar(INT, "1"))],
                                            flow_style=True))
        elif kind == "str":
            options += [scalar(INT, "7"), scalar(BOOL, "no")]
        if place.spec.optional:
            options = [o for o in options if o.tag != NULL]
        node = self.rng.choice(options)
        self._replace(place, node)
        return self.done("wrong_type", root, place.path, "error", note=f"{kind} <- {node.tag.split(':')[-1]}")

    def harmless(self) -> Mutation | None:
        """Changes that keep the study as it is: a description, the order of a block's keys, a quoted text."""
        root, found = self.fresh()
        what = self.rng.choice(["description", "order", "quote"])
        if what == "description":
            texts = [p for p in found if p.path[-1:] == ("description",) and p.spec is not None]
            if not texts:
                return None
            place = self.rng.choice(texts)
            self._replace(place, scalar(STR, "Changed: ünïcode, quotes ' \", braces {x} and [y]."))
        elif what == "order":
            blocks = [p for p in found if isinstance(p.node, yaml.MappingNode) and p.spec is not None
                      and p.spec.kind == "model"]
            place = self.rng.choice(blocks)
            place.node.value.reverse()
        else:
            texts = [p for p in found if isinstance(p.node, yaml.ScalarNode) and p.node.tag == STR
                     and p.spec is not None and p.spec.kind in ("str", "literal")]
            if not texts:
                return None
            place = self.rng.choice(texts)
            place.node.style = self.rng.choice(["'", '"'])
        return self.done(f"harmless_{what}", root, place.path, "valid")

    # the file
    def bad_utf8(self) -> Mutation | None:
        root, _ = self.fresh()
        text = dump(root)
        at = self.rng.randrange(len(text))
        bad = self.rng.choice([b"\xff", b"\xc3\x28", b"\x80", b"\xe2\x82", b"\xf0\x28\x8c\x28"])
        mutated = text[:at] + bad + text[at:]
        line = text.count(b"\n", 0, at) + 1
        column = at - (text.rfind(b"\n", 0, at) + 1) + 1
        return Mutation("bad_utf8", self.name, "error", [f":{line}:{column}: not UTF-8"], mutated)

    def deep_nesting(self) -> Mutation | None:
        root, found = self.fresh()
        place = self.rng.choice([p for p in found if p.parent is not None])
        self._replace(place, scalar(STR, "DEEP-NESTING-HERE"))
        depth = self.rng.choice([70, 500, 5000, 50000])
        nested = self.rng.choice(["[" * depth + "]" * depth, "{a: " * depth + "1" + "}" * depth])
        text = dump(root).replace(b"DEEP-NESTING-HERE", nested.encode())
        return Mutation("deep_nesting", self.name, "error", ["nested more than"], text, place.path)

    def not_a_mapping(self) -> Mutation | None:
        root, _ = self.fresh()
        text = self.rng.choice([b"- " + dump(root).replace(b"\n", b"\n  "), b"just text\n", b"", b"42\n", b"~\n"])
        return Mutation("not_a_mapping", self.name, "error", ["(top level)"], text)

    def bad_template(self) -> Mutation | None:
        """A declared task's `files` or a grid's template with a field that cannot be filled."""
        root, found = self.fresh()
        field_ = self.rng.choice(["{data_root.x}", "{0}", "{}", "{split", "split}", "{language!r}", "{split:>9}",
                                  "{data_root[0]}", "{nope}"])
        grids = [p for p in found if len(p.path) == 3 and p.path[0] == "grids" and p.path[2] in ("name", "stages")]
        if grids and self.rng.random() < 0.5:
            place = self.rng.choice(grids)
            target = place.node if isinstance(place.node, yaml.ScalarNode) else self.rng.choice(place.node.value)
            target.value = target.value + field_
            target.style = '"'
            return self.done("bad_grid_template", root, place.path[:2], "error")
        # a task declared by the study, with a broken template
        tasks = next((v for k, v in root.value if k.value == "tasks"), None)
        declaration = yaml.compose('family: classification\nfiles: "{data_root}/fuzz/{split}-{language}' + field_ +
                                   '.jsonl"\nsplits: {train: [en], test: [en, de]}\nlabels: [a, b]\n',
                                   Loader=yaml.SafeLoader)
        if tasks is None:
            tasks = yaml.MappingNode("tag:yaml.org,2002:map", [])
            root.value.append((scalar(STR, "tasks"), tasks))
        tasks.value.append((scalar(STR, "fuzz-task"), declaration))
        return self.done("bad_files_template", root, ("tasks", "fuzz-task", "files"), "error")

    def evaluate_nothing(self) -> Mutation | None:
        """`evaluate.languages` that keeps no language of any evaluated task (real codes no task has), or none."""
        root, _ = self.fresh()
        languages = self.rng.choice([["kl"], ["kl", "ii"], []])
        evaluate = _evaluate_languages(root)
        evaluate.value.append((scalar(STR, "languages"), yaml.SequenceNode(
            "tag:yaml.org,2002:seq", [scalar(STR, code) for code in languages], flow_style=True)))
        return self.done("evaluate_nothing", root, ("evaluate", "languages"), "error")

    def reference_typo(self) -> Mutation | None:
        """A task or stage named with a typo where it is used."""
        root, found = self.fresh()
        uses = [p for p in found if isinstance(p.node, yaml.ScalarNode) and p.node.tag == STR and p.spec is not None
                and (p.path[-1:] == ("task",) or (len(p.path) >= 3 and p.path[0] == "pipelines"
                                                   and isinstance(p.path[-1], int) and "{" not in p.node.value))]
        if not uses:
            return None
        place = self.rng.choice(uses)
        old = place.node.value
        new = typo(self.rng, old)
        stages = next((v for k, v in root.value if k.value == "stages"), None)
        names = set(task_names()) | {k.value for k, _ in getattr(stages, "value", [])}
        if new in names:  # another task or stage that exists: not a typo the study could catch
            return None
        place.node.value = new
        return self.done("reference_typo", root, place.path, "error", note=f"{old} -> {new}")

    def repeated_seed(self) -> Mutation | None:
        root, _ = self.fresh()
        root.value = [(k, v) for k, v in root.value if k.value != "seeds"]
        root.value.append((scalar(STR, "seeds"), yaml.SequenceNode(
            "tag:yaml.org,2002:seq", [scalar(INT, "0"), scalar(INT, "1"), scalar(INT, "0")], flow_style=True)))
        return self.done("repeated_seed", root, ("seeds",), "error")


def _evaluate_languages(root: yaml.MappingNode) -> yaml.MappingNode:
    """The study's `evaluate` block (made if absent)."""
    evaluate = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "evaluate"), None)
    if evaluate is None:
        evaluate = yaml.MappingNode("tag:yaml.org,2002:map", [])
        root.value.append((scalar(STR, "evaluate"), evaluate))
    evaluate.value = [(k, v) for k, v in evaluate.value if k.value != "languages"]
    return evaluate


KINDS = ["key_typo", "key_typo", "key_typo", "name_typo", "duplicate_key", "duplicate_key", "remove_key",
         "remove_key", "bad_number", "bad_number", "bad_number", "bad_flag", "choice_typo", "wrong_type",
         "wrong_type", "wrong_type", "harmless", "harmless", "bad_utf8", "deep_nesting", "not_a_mapping",
         "bad_template", "evaluate_nothing", "reference_typo", "reference_typo", "repeated_seed"]


# --- running -------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    mutation: Mutation
    result: str  # valid, error, crash
    detail: str = ""

    @property
    def failure(self) -> str | None:
        m = self.mutation
        if self.result == "crash":
            return f"traceback: {self.detail}"
        if m.expect == "error" and self.result == "valid":
            return "silently accepted"
        if m.expect == "valid" and self.result == "error":
            return f"a harmless change refused: {self.detail}"
        if m.expect == "error" and m.needles and not any(n in self.detail for n in m.needles):
            return f"the error does not name {m.needles}: {self.detail}"
        return None


def run_one(mutation: Mutation, folder: Path) -> Outcome:
    path = folder / f"{mutation.preset}.yaml"
    path.write_bytes(mutation.text)
    try:
        with _declared_tasks_set_aside():  # a mutated declaration must not meet the last one in the registry
            load_study(path)
    except ConfigError as error:
        return Outcome(mutation, "error", str(error))
    except Exception as error:  # noqa: BLE001 - any other exception is what the fuzzer looks for
        import traceback

        return Outcome(mutation, "crash", "".join(traceback.format_exception(error))[-3000:])
    return Outcome(mutation, "valid")


def study_folder(tmp_path: Path) -> Path:
    """A folder for the mutated studies, with what the presets read next to them (the micro dictionaries)."""
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "micro-dictionaries").symlink_to(presets_dir() / "micro-dictionaries")
    return folder


def fuzz(tmp_path: Path, seed: int, count: int, budget_s: float) -> tuple[Counter, list[Outcome]]:
    rng = random.Random(seed)
    folder = study_folder(tmp_path)
    mutators = [Mutator(preset, rng) for preset in PRESETS]
    counts: Counter = Counter()
    failures: list[Outcome] = []
    start = time.monotonic()
    made = 0
    while made < count and time.monotonic() - start < budget_s:
        mutation = rng.choice(mutators).make()
        if mutation is None:
            continue
        made += 1
        outcome = run_one(mutation, folder)
        counts[(mutation.kind, mutation.expect, outcome.result)] += 1
        if outcome.failure is not None:
            failures.append(outcome)
    return counts, failures


def report(counts: Counter, failures: list[Outcome], seconds: float) -> str:
    total = sum(counts.values())
    by_result = Counter()
    for (_, _, result), n in counts.items():
        by_result[result] += n
    lines = [f"config fuzz: {total} mutations in {seconds:.0f} s: {dict(by_result)}; {len(failures)} failures"]
    by_kind: dict[str, Counter] = {}
    for (kind, _, result), n in sorted(counts.items()):
        by_kind.setdefault(kind, Counter())[result] += n
    lines += [f"  {kind:22} {dict(c)}" for kind, c in sorted(by_kind.items())]
    for outcome in failures[:8]:
        m = outcome.mutation
        lines.append(f"- {m.kind} of {m.preset} at {format_key_path(m.path)} ({m.note}): {outcome.failure}")
    return "\n".join(lines)


def check(tmp_path: Path, capsys, seed: int, count: int, budget_s: float) -> None:
    start = time.monotonic()
    counts, failures = fuzz(tmp_path, seed, count, budget_s)
    summary = report(counts, failures, time.monotonic() - start)
    with capsys.disabled():
        sys.stderr.write("\n" + summary + "\n")
    assert not failures, summary
    assert sum(counts.values()) >= min(count, 50), summary


def test_config_fuzz_sample(tmp_path, capsys):
    """A few dozen mutations in the default suite, so that the mutator itself keeps working."""
    check(tmp_path, capsys, seed=1, count=60, budget_s=30)


@pytest.mark.slow
def test_config_fuzz_slice(tmp_path, capsys):
    check(tmp_path, capsys, seed=12, count=2000, budget_s=60)


@pytest.mark.heavy
def test_config_fuzz_heavy(tmp_path, capsys):
    check(tmp_path, capsys, seed=1212, count=30000, budget_s=600)
