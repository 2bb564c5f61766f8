"""Load a study YAML, validate it, and report every problem at once with its key path, line and a fix.

Validation has two layers: the typed schema (pydantic: types, ranges, unknown keys) and the semantic checks
(tasks, families, languages, stage references, heads) that need the registries. Both are collected into one
:class:`ConfigError`; nothing here imports torch.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from xstilts.config.schema import StudyConfig
from xstilts.errors import ConfigError, XstiltsError
from xstilts.registry import did_you_mean

Path_ = tuple[str | int, ...]


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise XstiltsError(f"{path}: no such study file (give a YAML file or a preset name)") from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise XstiltsError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise XstiltsError(f"{path}: a study file must be a YAML mapping (key: value lines)")
    return data, node


def _line_of(node: yaml.Node | None, path: Path_) -> int | None:
    """1-based line of the deepest node along ``path`` that exists."""
    line = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


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


def _schema_problems(error: ValidationError, node: yaml.Node | None, source: str) -> list[str]:
    problems = []
    for item in error.errors():
        # pydantic adds union-branch names and validator markers to the location; drop them.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        line = _line_of(node, loc)
        where = f"{source}:{line}: " if line else f"{source}: "
        key = format_key_path(loc) or "(top level)"
        kind = item["type"]
        if kind == "extra_forbidden":
            owner = _model_at(StudyConfig, loc[:-1])
            hint = did_you_mean(str(loc[-1]), list(owner.model_fields)) if owner else ""
            problems.append(f"{where}{key}: unknown key; {hint}")
        elif kind == "missing":
            problems.append(f"{where}{key}: required key is missing")
        elif kind == "literal_error":
            expected = [e.strip(" '") for e in str(item.get("ctx", {}).get("expected", "")).replace(" or ", ",").split(",")]
            given = str(item.get("input"))
            problems.append(f"{where}{key}: {given!r} is not allowed; {did_you_mean(given, [e for e in expected if e])}")
        else:
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{where}{key}: {message}")
    return problems


def parse_study(data: dict, node: yaml.Node | None = None, source: str = "<config>",
                base: Path | None = None) -> StudyConfig:
    """Schema + semantic validation; raises ConfigError listing every problem. ``base`` is the folder
    relative paths in the study (task files) are read from: the study file's folder."""
    from xstilts.config.grids import GridError

    try:
        config = StudyConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_schema_problems(error, node, source)) from None
    except GridError as error:
        raise ConfigError([f"{source}:{line}: {message}" if (line := _line_of(node, path)) else f"{source}: {message}"
                           for path, message in error.problems]) from None
    from xstilts.config.checks import semantic_problems

    problems = [
        f"{source}:{line}: {key}: {message}" if (line := _line_of(node, path)) else f"{source}: {key}: {message}"
        for path, key, message in semantic_problems(config, base)
    ]
    if problems:
        raise ConfigError(problems)
    return config


def load_study(path: str | Path, size: str | None = None, model: str | None = None) -> StudyConfig:
    """Load and validate a study file or preset; ``size`` applies one of its ``variants`` first; ``model``
    (a folder or hub name) replaces the study's encoder (see :func:`override_model`)."""
    path = resolve_study_path(path)
    data, node = load_yaml(path)
    if size is not None:
        twin = variant_twin(data, size, str(path))
        if twin is not None:  # the variant is another study (a real-data preset's offline micro twin)
            twin_data, _ = load_yaml(resolve_study_path(twin))
            has_size = isinstance(twin_data.get("variants"), dict) and size in twin_data["variants"]
            return load_study(twin, size=size if has_size else None, model=model)
        variants = data.get("variants")
        if (isinstance(variants, dict) and size in variants) or not is_of_size(data, size):
            data = apply_variant(data, size, str(path))
            node = None  # line numbers refer to the file, not to the merged config
    if model is not None:
        data = override_model(data, model)
    return parse_study(data, node, str(path), base=path.resolve().parent)


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


def variant_twin(data: dict, name: str, source: str) -> str | None:
    """The study a variant stands for, if it is ``{twin: <preset or file>}``: ``xstilts run rq1-model-scale
    --size tiny`` runs ``micro-rq1-model-scale`` with its own ``tiny`` variant (or as it is, if it has none)."""
    variant = (data.get("variants") or {}).get(name)
    if not isinstance(variant, dict) or "twin" not in variant:
        return None
    if set(variant) != {"twin"} or not isinstance(variant["twin"], str):
        raise XstiltsError(f"{source}: variants.{name}: a twin variant is only `twin: <preset name or study file>`")
    return variant["twin"]


def is_of_size(data: dict, size: str) -> bool:
    """Whether a study is already the size ``--size`` asks for, without a variant of that name: its name is the
    size or starts with it (``micro``, ``micro-phang2020`` for ``--size micro``), so it runs as it is."""
    name = data.get("name")
    return isinstance(name, str) and (name == size or name.startswith(f"{size}-"))


def apply_variant(data: dict, name: str, source: str) -> dict:
    """Deep-merge ``variants.<name>`` into the study. Its optional ``rename_tasks: {old-prefix: new-prefix}``
    renames task references (sources, evaluate lists, tokenizer corpus) whose new name is a registered task,
    e.g. ``{micro-: micro-tiny-}`` switches a micro study to the tiny data."""
    variants = data.get("variants") or {}
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
