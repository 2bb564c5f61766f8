"""Load a study YAML, validate it, and report every problem at once with its key path, line and a fix.

Validation has three layers: the YAML itself (UTF-8, syntax, no key given twice, bounded nesting, a mapping at
the top), the typed schema (pydantic: types, ranges, unknown keys) and the semantic checks (tasks, families,
languages, stage references, heads, evaluations) that need the registries. Each of the study's ``variants`` is
merged into it and checked the same way. Everything is collected into one :class:`ConfigError`; nothing here
imports torch.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from xstilts.config.schema import StudyConfig
from xstilts.errors import ConfigError, XstiltsError
from xstilts.registry import did_you_mean

Path_ = tuple[str | int, ...]
# A problem before it is placed in the file: (key path, the key as shown, or "" when the message names it, message).
Problem = tuple[Path_, str, str]

# Nesting levels a study file may have (the presets use 8). PyYAML composes recursively: a deeper document
# would end in a RecursionError.
MAX_DEPTH = 64
MERGE_TAG = "tag:yaml.org,2002:merge"
# Values a study may hold once its aliases are expanded: aliases of aliases grow exponentially ("billion laughs"),
# and the data would be walked (variants merged, job specs dumped) as if written out.
MAX_VALUES = 1_000_000


class _StudyLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than :data:`MAX_DEPTH` at the line where it happens."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep (a study is a few levels of mappings "
                    "and lists)", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_study_text(path: Path) -> str:
    """The file's text; a byte that is not UTF-8 is an error naming its line and column."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise XstiltsError(f"{path}: no such study file (give a YAML file or a preset name)") from None
    except OSError as error:  # a folder, no permission
        raise XstiltsError(f"{path}: cannot read the study file: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        column = len(raw[line_start:error.start].decode("utf-8", "replace")) + 1
        raise ConfigError([f"{path}:{line}:{column}: not UTF-8 text: byte 0x{raw[error.start]:02x} "
                           f"({error.reason}); save the file as UTF-8"]) from None


def load_yaml(path: Path) -> tuple[dict, yaml.Node]:
    """The study file as data and its YAML node tree (for lines). Anything that is not a readable YAML mapping
    without a key given twice raises ConfigError (or XstiltsError: no such file), every duplicate key at once."""
    text = read_study_text(path)
    loader = None
    try:
        loader = _StudyLoader(text)  # reads the text: a control character is a ReaderError here
        node = loader.get_single_node()
        if node is not None:  # before constructing: that flattens `<<` merges into the mappings' own keys
            _check_nodes(node, path)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        context = f" ({error.context})" if error.context and error.problem else ""
        raise ConfigError([f"{where}: not valid YAML: {error.problem or error.context}{context}"]) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (a control character)
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        raise ConfigError([f"{path}:{line}:{column}: not valid YAML: the character {chr(error.character)!r} is "
                           "not allowed in a YAML file; remove it"]) from None
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: not valid YAML: {error}"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a single {_kind(data)}"
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        raise ConfigError([f"{path}{line}: (top level): the study file is {kind}; a study is a YAML mapping "
                           "(key: value lines: name, model, stages, pipelines, ...)"])
    return data, node


def _check_nodes(node: yaml.Node, path: Path) -> None:
    """ConfigError for keys given twice (all of them: which one was meant is unknown, so checking the study
    would report made-up problems), an alias inside the value it names, or aliases that expand beyond reason."""
    duplicates = duplicate_keys(node, str(path))
    if duplicates:
        raise ConfigError(duplicates)
    try:
        size = _expanded_size(node, {})
    except _RecursiveAlias as error:
        raise ConfigError([f"{path}:{error.node.start_mark.line + 1}: not valid YAML for a study: an alias (*name) "
                           "inside the value it names makes it contain itself"]) from None
    if size > MAX_VALUES:
        raise ConfigError([f"{path}: not valid YAML for a study: its aliases (*name) expand to {size:,} values, "
                           f"more than {MAX_VALUES:,}; a study has a few thousand"])


class _RecursiveAlias(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` holds with every alias written out (each node counted once per use); raises
    _RecursiveAlias for a node that contains itself (`a: &a [*a]`)."""
    if sizes.get(id(node)) == -1:
        raise _RecursiveAlias(node)
    if id(node) not in sizes:
        sizes[id(node)] = -1  # being counted
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
        elif isinstance(node, yaml.SequenceNode):
            sizes[id(node)] = 1 + sum(_expanded_size(item, sizes) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            sizes[id(node)] = 1 + sum(_expanded_size(key, sizes) + _expanded_size(value, sizes)
                                      for key, value in node.value)
    return sizes[id(node)]


def _kind(value: Any) -> str:
    return {list: "list", str: "text", bool: "boolean", int: "number", float: "number"}.get(type(value), "value")


def duplicate_keys(root: yaml.Node, source: str) -> list[str]:
    """Keys given twice in one mapping, at any level (YAML would silently keep the last). Keys merged in with
    ``<<: *anchor`` may be replaced: that is what a merge is for."""
    constructor = yaml.constructor.SafeConstructor()
    problems: list[tuple[int, str]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:  # an alias: checked where its anchor is
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack += [(item, path + (i,)) for i, item in enumerate(node.value)]
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[Any, yaml.Node] = {}
        for key, value in node.value:
            if key.tag == MERGE_TAG:
                continue
            try:
                name = constructor.construct_object(key, deep=True) if isinstance(key, yaml.ScalarNode) else None
                hash(name)
            except (yaml.YAMLError, TypeError, ValueError):
                name = None
            if name is not None and name in first:
                line = key.start_mark.line + 1
                shown = format_key_path(path + (str(name),))
                problems.append((line, f"{source}:{line}: {shown}: duplicate key: {name!r} is given on line "
                                 f"{first[name].start_mark.line + 1} and again on line {line} of the same mapping "
                                 "(YAML would keep only the last); give it once"))
            elif name is not None:
                first[name] = key
            stack.append((value, path + (name if isinstance(name, str) else str(name),)))
    return [message for _, message in sorted(problems)]


def _line_of(node: yaml.Node | None, path: Path_) -> int | None:
    """1-based line of the deepest node along ``path`` that exists."""
    line = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            # the last match: constructing the data put the keys a `<<` merge brings before the mapping's own
            match = next(((k, v) for k, v in reversed(node.value) if _is_key(k, part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _is_key(node: yaml.Node, key: str | int) -> bool:
    """Whether a mapping's key node is ``key`` (text as written; any other key as YAML reads it: `1:`, `yes:`)."""
    if node.tag == MERGE_TAG or not isinstance(node, yaml.ScalarNode):
        return False
    if isinstance(key, str):
        return node.value == key
    try:
        value = yaml.constructor.SafeConstructor().construct_object(node)
    except yaml.YAMLError:
        return False
    return type(value) is type(key) and value == key


def non_text_keys(data: Any, path: Path_ = ()) -> list[Problem]:
    """Mapping keys that YAML did not read as text (`1:`, `yes:`, `null:`): every key of a study is a name."""
    problems: list[Problem] = []
    stack = [(data, path)]
    seen: set[int] = set()
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict | list):
            if id(value) in seen:  # an alias: checked where its anchor is
                continue
            seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    read = {bool: "a boolean", int: "a number", float: "a number", type(None): "null"}.get(
                        type(key), f"a {type(key).__name__}")
                    problems.append((where + (key,), format_key_path(where) or "(top level)",
                                     f"the key {key!r} is not text (YAML reads it as {read}); keys are names: "
                                     "quote it if it is one"))
                else:
                    stack.append((item, where + (key,)))
        elif isinstance(value, list):
            stack += [(item, where + (i,)) for i, item in enumerate(value)]
    return problems


def _model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    """The schema class that owns the last key of ``path`` (for "did you mean" on unknown keys)."""
    annotation: Any = root
    for part in path:
        annotation = _unwrap(annotation, part)
        if annotation is None:
            return None
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # an optional block: `X | None`
        annotation = next((arg for arg in typing.get_args(annotation)
                           if isinstance(arg, type) and issubclass(arg, BaseModel)), None)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any, part: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            found = _unwrap(arg, part)
            if found is not None:
                return found
        return None
    if origin is dict:
        return args[1]
    if origin in (list, tuple):
        return args[0] if isinstance(part, int) else None
    return None


def format_key_path(loc: Path_) -> str:
    """('stages', 'x', 'sources', 0) -> 'stages.x.sources[0]'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# YAML 1.1 reads these unquoted words as booleans; a language code `no` (Norwegian) or a split `on` must be quoted.
_YAML_BOOLEANS = "unquoted true/false, yes/no and on/off are booleans in YAML: quote the text ('no')"


_BOUNDS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of")


# What pydantic puts in an error's location besides keys: the member of a union it tried (`PipelineConfig`,
# `list[str]`, `literal['all']`, `str`) and validator markers (`function-after[...]`).
_SCALAR_TAGS = {"str", "int", "float", "bool", "none", "bytes"}


def _model_names(model: type[BaseModel], seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if model.__name__ in seen:
        return seen
    seen.add(model.__name__)
    for info in model.model_fields.values():
        for arg in _annotations_in(info.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _model_names(arg, seen)
    return seen


def _annotations_in(annotation: Any) -> list[Any]:
    out, stack = [], [annotation]
    while stack:
        current = stack.pop()
        out.append(current)
        stack += list(typing.get_args(current))
    return out


_UNION_TAGS = _model_names(StudyConfig) | _SCALAR_TAGS


def _data_loc(data: Any, loc: tuple) -> Path_:
    """An error's location as a key path of the data: union members and validator markers left out (a part is
    kept when it is a key of the data there, or, after the data ends, when it cannot be such a marker)."""
    out: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list | tuple) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        elif isinstance(part, str) and ("[" in part or part.startswith("function-") or part in _UNION_TAGS):
            continue
        else:
            current = None
        out.append(part)
    return tuple(out)


def _schema_problems(error: ValidationError, data: Any) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors():
        raw = item["loc"]
        loc = _data_loc(data, raw)
        key = format_key_path(loc) or "(top level)"
        kind, given = item["type"], item.get("input")
        if "[key]" in raw or item["msg"] == "Keys should be strings":
            continue  # a key that is not text: said by non_text_keys, with the key as YAML read it
        if kind == "extra_forbidden":
            owner = _model_at(StudyConfig, loc[:-1])
            hint = did_you_mean(str(loc[-1]), list(owner.model_fields)) if owner else ""
            problems.append((loc, key, f"unknown key; {hint}"))
        elif kind == "missing":
            problems.append((loc, key, "required key is missing"))
        elif kind == "literal_error":
            expected = [e.strip(" '") for e in str(item.get("ctx", {}).get("expected", "")).replace(" or ", ",").split(",")]
            problems.append((loc, key, f"{str(given)!r} is not allowed; {did_you_mean(str(given), [e for e in expected if e])}"))
        elif kind == "finite_number":
            problems.append((loc, key, f"{given!r} is not allowed: give a finite number (no .inf or .nan)"))
        elif kind == "bool_type":
            problems.append((loc, key, f"expected true or false, not {given!r}"))
        elif kind == "string_type" and isinstance(given, bool):
            problems.append((loc, key, f"expected text, not the boolean {str(given).lower()} ({_YAML_BOOLEANS})"))
        else:
            message = item["msg"].removeprefix("Value error, ")
            if isinstance(given, str | int | float) and not isinstance(given, bool) and (
                    kind.endswith(("_type", "_parsing")) or kind in _BOUNDS):
                message += f", not {given!r}"
            problems.append((loc, key, message))
    return _one_per_union(problems)


def _one_per_union(problems: list[Problem]) -> list[Problem]:
    """A value that fits no member of a union gets an error from each member. One that has the shape of a member
    (a mapping for `PipelineConfig | list[str]`) is said by that member's errors, deeper in the value: the other
    members' complaints about its shape go. Errors left at the same key are joined into one."""
    paths = [path for path, _, _ in problems]
    deeper = [problem for problem in problems
              if not any(len(other) > len(problem[0]) and other[:len(problem[0])] == problem[0] for other in paths)]
    joined: dict[tuple, list[str]] = {}
    for path, key, message in deeper:
        joined.setdefault((path, key), [])
        if message not in joined[(path, key)]:
            joined[(path, key)].append(message)
    return [(path, key, messages[0] if len(messages) == 1 else "fits none of the forms allowed: "
             + "; or ".join(messages)) for (path, key), messages in joined.items()]


def check_study(data: dict, base: Path | None = None) -> tuple[StudyConfig | None, list[Problem]]:
    """The study (None if the schema refuses it) and every problem of it, unplaced."""
    from xstilts.config.checks import declaration_problems_of, semantic_problems, study_warnings
    from xstilts.config.grids import GridError

    keys = non_text_keys(data)
    try:
        config = StudyConfig.model_validate(data)
    except ValidationError as error:
        return None, keys + _schema_problems(error, data) + declaration_problems_of(data)
    except GridError as error:
        return None, keys + [(path, "", message) for path, message in error.problems] + declaration_problems_of(data)
    if keys:  # in a mapping the schema leaves free (grid axes, `set`, family settings)
        return None, keys + declaration_problems_of(data)
    problems = semantic_problems(config, base)
    config._warnings = [f"{key}: {message}" if key else message for _, key, message in study_warnings(config)]
    return config, problems


def placed(problems: list[Problem], node: yaml.Node | None, source: str) -> list[str]:
    """``file:line: key: message`` for each problem (the line of the deepest key of its path in the file)."""
    out = []
    for path, key, message in problems:
        line = _line_of(node, path)
        where = f"{source}:{line}" if line else source
        out.append(f"{where}: {key}: {message}" if key else f"{where}: {message}")
    return list(dict.fromkeys(out))


def parse_study(data: dict, node: yaml.Node | None = None, source: str = "<config>",
                base: Path | None = None) -> StudyConfig:
    """Schema + semantic validation; raises ConfigError listing every problem. ``base`` is the folder
    relative paths in the study (task files) are read from: the study file's folder."""
    config, problems = check_study(data, base)
    if problems or config is None:
        raise ConfigError(placed(problems, node, source))
    return config


def load_study(path: str | Path, size: str | None = None, model: str | None = None, *,
               _twins: tuple[Path, ...] = ()) -> StudyConfig:
    """Load and validate a study file or preset; ``size`` applies one of its ``variants`` first; ``model``
    (a folder or hub name) replaces the study's encoder (see :func:`override_model`). Without ``size`` (and
    ``model``), every variant is checked too: a variant that does not validate is a problem of the study."""
    path = resolve_study_path(path)
    source, base = str(path), path.resolve().parent
    data, node = load_yaml(path)
    if size is not None:
        twin = variant_twin(data, size, source, node)
        if twin is not None:  # the variant is another study (a real-data preset's offline micro twin)
            twin_path = resolve_study_path(twin)
            chain = (*_twins, path.resolve())
            if twin_path.resolve() in chain:
                where = ("variants", size, "twin")
                raise ConfigError(placed([(where, format_key_path(where), f"{twin!r} leads back to a study of the "
                                           f"chain ({' -> '.join(map(str, [*chain, twin_path.resolve()]))}); a "
                                           "twin is another study")], node, source))
            twin_data, _ = load_yaml(twin_path)
            has_size = isinstance(twin_data.get("variants"), dict) and size in twin_data["variants"]
            return load_study(twin, size=size if has_size else None, model=model, _twins=chain)
    if size is not None and size not in _variants_of(data, source) and is_of_size(data, size):
        size = None  # the study already is that size (micro --size micro): it runs as written
    if size is not None:
        if size not in _variants_of(data, source):
            apply_variant(data, size, source)  # raises: no such variant, with the closest names
        shape = variant_shape_problems(data, size)
        if shape:
            raise ConfigError(placed(shape, node, source))
        variant = data["variants"][size]
        data = apply_variant(data, size, source)
        if model is not None:
            data = override_model(data, model)
        config, problems = check_study(data, base)
        problems = [_in_variant(problem, size, variant, merged=False) for problem in problems]
        if problems or config is None:
            raise ConfigError(placed(problems, node, source))
        return config
    if model is not None:
        data = override_model(data, model)
    config, problems = check_study(data, base)
    messages = placed(problems, node, source)
    if model is None:
        messages += placed(_variant_problems(data, base, problems, path), node, source)
    if messages or config is None:
        raise ConfigError(list(dict.fromkeys(messages)))
    return config


def _variant_problems(data: dict, base: Path, study_problems: list[Problem], path: Path) -> list[Problem]:
    """Each variant merged into the study and validated; its problems that the study itself does not have,
    under ``variants.<name>``. A twin variant is checked by the semantic checks (the study it names exists)
    and here for a chain of twins that leads back to this study."""
    variants = data.get("variants")
    if not isinstance(variants, dict):
        return []  # the schema says what is wrong with it
    known = set(study_problems)
    problems: list[Problem] = []
    for name, variant in variants.items():
        if not isinstance(name, str) or not isinstance(variant, dict):
            continue  # the schema says so
        if "twin" in variant:
            problems += _twin_chain_problems(path, str(name))
            continue
        shape = variant_shape_problems(data, name)
        if shape:
            problems += shape
            continue
        with _declared_tasks_set_aside():
            _, merged_problems = check_study(apply_variant(data, name, str(path)), base)
        problems += [_in_variant(problem, name, variant) for problem in merged_problems if problem not in known]
    return problems


def _in_variant(problem: Problem, name: str, variant: dict, merged: bool = True) -> Problem:
    """A problem of the study with variant ``name`` merged in, placed in the variant where the variant sets that
    key (``variants.tiny.stages.mlm.steps``), else at the variant, naming the merged study's key (or, not
    ``merged``, as a problem of the study: --size NAME shows the study's own problems where they are)."""
    path, key, message = problem
    inside, value = 0, variant
    for part in path:
        if isinstance(value, dict) and part in value:
            inside, value = inside + 1, value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            inside, value = inside + 1, value[part]
        else:
            break
    prefix = ("variants", name)
    if inside == len(path) and path and key == format_key_path(path):
        return prefix + path, format_key_path(prefix + path), message
    if not merged and inside == 0:
        return problem
    shown = f"variants.{name} (merged into the study)"
    return prefix + path[:inside], f"{shown}: {key}" if key else shown, message


def _twin_chain_problems(path: Path, name: str) -> list[Problem]:
    """The twins of variant ``name``, followed from study to study, must not come back to a study of the chain."""
    chain = [path.resolve()]
    current = path
    for _ in range(32):
        try:
            data, _ = load_yaml(current)
            twin = variant_twin(data, name, str(current))
            if twin is None:
                return []
            current = resolve_study_path(twin)
        except XstiltsError:
            return []  # a twin that does not exist or does not load: said by its own checks
        if current.resolve() in chain:
            shown = " -> ".join(str(p) for p in [*chain, current.resolve()])
            return [(("variants", name, "twin"), f"variants.{name}.twin",
                     f"the twins lead back to a study of the chain ({shown}); a twin is another study")]
        chain.append(current.resolve())
    return []


@contextmanager
def _declared_tasks_set_aside() -> Iterator[None]:
    """Each variant registers its study's declared tasks as it is checked, and may declare them otherwise than
    the study: the declarations already registered (the study's own) are set aside meanwhile and put back after.
    (The registry is per process; Registry has no public way to take entries out, hence its fields here.)"""
    from xstilts.tasks import TASKS, task_names

    task_names()  # load every built-in task first: they stay as they are
    entries, lazy = dict(TASKS._entries), dict(TASKS._lazy)
    for name, task in entries.items():
        if getattr(task, "benchmark", None) == "study":
            del TASKS._entries[name]
    try:
        yield
    finally:
        TASKS._entries.clear()
        TASKS._entries.update(entries)
        TASKS._lazy.clear()
        TASKS._lazy.update(lazy)


def override_model(data: dict, name_or_path: str) -> dict:
    """The study with ``model.name_or_path`` set to ``name_or_path`` (``xstilts run --model``). The keys that
    described the study's own encoder go: ``build`` and ``tokenizer`` (a built encoder's tokenizer is made for
    it; a pretrained folder brings its own), ``revision`` and ``label`` (they name the other model)."""
    if not name_or_path.strip():
        raise XstiltsError("--model is empty: give a model folder (e.g. one written by `xstilts models import`)")
    if data.get("models"):
        names = ", ".join(map(str, data["models"]))
        raise XstiltsError(f"--model replaces a study's single `model`, but this study has several `models` "
                           f"({names}): set `models.<name>.name_or_path` in the study file instead")
    model = data.get("model")
    model = dict(model) if isinstance(model, dict) else {}
    if "build" in model:
        model.pop("tokenizer", None)
    for key in ("build", "revision", "label"):
        model.pop(key, None)
    model["name_or_path"] = name_or_path
    return {**data, "model": model}


def _variants_of(data: dict, source: str) -> dict:
    variants = data.get("variants")
    if variants is None:
        return {}
    if not isinstance(variants, dict):
        raise ConfigError([f"{source}: variants: expected a mapping of variant names to partial studies, not "
                           f"a {_kind(variants)}"])
    return variants


def variant_twin(data: dict, name: str, source: str, node: yaml.Node | None = None) -> str | None:
    """The study a variant stands for, if it is ``{twin: <preset or file>}``: ``xstilts run rq1-model-scale
    --size tiny`` runs ``micro-rq1-model-scale`` with its own ``tiny`` variant (or as it is, if it has none)."""
    variant = _variants_of(data, source).get(name)
    if not isinstance(variant, dict) or "twin" not in variant:
        return None
    if set(variant) != {"twin"} or not isinstance(variant["twin"], str) or not variant["twin"].strip():
        where = ("variants", name)
        raise ConfigError(placed([(where, format_key_path(where), "a twin variant is only `twin: <preset name or "
                                   "study file>`")], node, source))
    return variant["twin"]


def is_of_size(data: dict, size: str) -> bool:
    """Whether a study is already the size ``--size`` asks for, without a variant of that name: its name is the
    size or starts with it (``micro``, ``micro-phang2020`` for ``--size micro``), so it runs as it is."""
    name = data.get("name")
    return isinstance(name, str) and (name == size or name.startswith(f"{size}-"))


# Keys a variant cannot set: the variants themselves, and the name of the variant applied (set by --size).
VARIANT_FORBIDDEN = ("variants", "variant")


def variant_shape_problems(data: dict, name: str) -> list[Problem]:
    """What makes variant ``name`` impossible to merge: not a mapping, a key it cannot set, a bad
    ``rename_tasks``. (An unknown variant raises: it is a command-line mistake, not one of the file.)"""
    variants = _variants_of(data, "<study>")
    if name not in variants:
        return []
    variant, path = variants[name], ("variants", name)
    if not isinstance(variant, dict):
        return [(path, format_key_path(path), f"expected a mapping (a partial study merged into it by --size "
                 f"{name}), not a {_kind(variant)}")]
    problems: list[Problem] = [(path + (key,), format_key_path(path + (key,)), "a variant cannot set it "
                                "(variants are merged into the study one at a time, by --size)")
                               for key in VARIANT_FORBIDDEN if key in variant]
    renames = variant.get("rename_tasks")
    if renames is not None and not (isinstance(renames, dict) and all(
            isinstance(old, str) and old and isinstance(new, str) for old, new in renames.items())):
        where = path + ("rename_tasks",)
        problems.append((where, format_key_path(where), "expected a mapping of task-name prefixes to their "
                         "replacements, e.g. {\"micro-\": \"micro-tiny-\"}"))
    return problems


def apply_variant(data: dict, name: str, source: str) -> dict:
    """Deep-merge ``variants.<name>`` into the study. Its optional ``rename_tasks: {old-prefix: new-prefix}``
    renames task references (sources, evaluate lists, tokenizer corpus) whose new name is a registered task,
    e.g. ``{micro-: micro-tiny-}`` switches a micro study to the tiny data."""
    variants = _variants_of(data, source)
    if name not in variants:
        study = data.get("name") or source
        if variants:
            listed = f"study {study!r} has the variants {', '.join(map(str, variants))}"
            hint = did_you_mean(name, list(variants))
            raise XstiltsError(f"{source}: no variant {name!r} for --size: "
                               + (f"{hint} ({listed}; " if hint.startswith("did you mean") else f"{listed} (")
                               + "without --size it runs as written)")
        raise XstiltsError(f"{source}: no variant {name!r} for --size: this study defines no `variants`; run "
                           f"study {study!r} without --size (as written)")
    if problems := variant_shape_problems(data, name):
        raise ConfigError([f"{source}: {key}: {message}" for _, key, message in problems])
    variant = dict(variants[name])
    renames = variant.pop("rename_tasks", {}) or {}
    merged = _deep_merge(data, variant)
    if renames:
        from xstilts.tasks import TASKS, task_names

        task_names()  # load the registry

        def rename(value: Any) -> Any:
            if isinstance(value, str):
                for old, new in renames.items():
                    if value.startswith(old) and (candidate := new + value[len(old):]) in TASKS:
                        return candidate
                return value
            if isinstance(value, list):
                return [rename(v) for v in value]
            if isinstance(value, dict):
                return {k: (v if k in ("name", "description", "label") else rename(v)) for k, v in value.items()}
            return value

        merged = rename(merged)
    merged["variant"] = name
    return merged


def _deep_merge(base: Any, update: Any) -> Any:
    if isinstance(base, dict) and isinstance(update, dict):
        out = dict(base)
        for key, value in update.items():
            out[key] = _deep_merge(base.get(key), value) if key in base else value
        return out
    return update


def presets_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.yaml"))


def resolve_study_path(name: str | Path) -> Path:
    """A YAML path, or the name of a preset shipped with the package."""
    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    candidate = presets_dir() / f"{name}.yaml"
    if candidate.exists():
        return candidate
    raise XstiltsError(f"{name!r} is neither a study file nor a preset: {did_you_mean(str(name), preset_names())}")
