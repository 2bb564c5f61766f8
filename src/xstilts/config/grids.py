"""Grids: pipelines as every combination of axis values, and stages derived from others by ``set``.

A grid cell substitutes its axis values into the grid's templates (pipeline name, stage names, evaluated tasks
and ``set`` entries). ``set`` maps ``"<stage or template>.<dotted.path>"`` to a value or a template, e.g.
``{"{inter}.sources[0].fraction": "{fraction}", "target.optimizer.lr": "{lr}"}``: the cell's pipeline uses a
copy of the named stage with those fields replaced, named after them (``squad[fraction=0.25]``). A template that
is exactly ``"{axis}"`` keeps the axis value's type (a number stays a number); other templates make strings.
A derived stage is an ordinary stage: its lineage key depends on its content only, so two cells (or two
studies) that derive the same stage share its run.
"""

from __future__ import annotations

import itertools
import re
import string
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from xstilts.registry import did_you_mean

if TYPE_CHECKING:
    from xstilts.config.schema import GridConfig, StageConfig, StudyConfig

Problem = tuple[tuple, str]  # (key path in the study file, message)

# What str.format raises on a template it cannot fill ("{", "{lr:d}" with a float, "{x.y}").
_FILL_ERRORS = (ValueError, KeyError, IndexError, AttributeError, TypeError)
_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


class GridError(Exception):
    """Problems found while expanding grids; the loader turns them into a ConfigError with file lines.
    (Not a ValueError: pydantic would fold it into one message without the grids' key paths.)"""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def template_fields(value: Any) -> set[str]:
    """The axis names a template (or a list or mapping of templates) refers to."""
    if isinstance(value, str):
        try:
            return {field.split(".")[0].split("[")[0]
                    for _, field, _, _ in string.Formatter().parse(value) if field}
        except ValueError:
            return set()
    if isinstance(value, list):
        return set().union(*(template_fields(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(template_fields(v) for v in value.values())) if value else set()
    return set()


def shown(value: Any) -> str:
    """An axis value as it appears in names: null as ``none``, flags in YAML spelling."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fill(value: Any, chosen: dict[str, Any]) -> Any:
    """Substitute axis values into a template; ``"{axis}"`` alone gives the value itself, not its text."""
    if isinstance(value, str):
        exact = re.fullmatch(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", value)
        if exact and exact.group(1) in chosen:
            return chosen[exact.group(1)]
        return value.format(**{k: shown(v) if v is None or isinstance(v, bool) else v for k, v in chosen.items()})
    if isinstance(value, list):
        return [fill(v, chosen) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, chosen) for k, v in value.items()}
    return value


def parse_field_path(text: str) -> list[str | int]:
    """``sources[0].fraction`` -> ``["sources", 0, "fraction"]``; ValueError when malformed."""
    parts: list[str | int] = []
    for piece in text.split("."):
        match = _PATH_PART.match(piece)
        if match is None:
            raise ValueError(f"{text!r} is not a field path; write it like optimizer.lr or sources[0].fraction")
        parts.append(match.group(1))
        parts += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return parts


def split_stage_key(key: str, stage_names: list[str]) -> tuple[str, str]:
    """``"squad.sources[0].fraction"`` -> ``("squad", "sources[0].fraction")``; the longest stage name that
    prefixes the key wins (stage names may hold dots). ValueError naming the closest stage when none does."""
    matches = [name for name in stage_names if key.startswith(name + ".")]
    if not matches:
        head = key.split(".")[0]
        raise ValueError(f"no stage {head!r} to set fields of; {did_you_mean(head, stage_names)}")
    name = max(matches, key=len)
    return name, key[len(name) + 1:]


def set_field(data: dict, parts: list[str | int], value: Any) -> None:
    """Replace one field of a dumped stage; ValueError naming the first part that does not exist."""
    container: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(str(p) for p in parts[:depth]) or "the stage"
        if isinstance(part, int):
            if not isinstance(container, list):
                raise ValueError(f"{where} is not a list, so [{part}] does not apply")
            if part >= len(container):
                raise ValueError(f"{where} has {len(container)} entries; [{part}] is out of range")
        elif not isinstance(container, dict) or part not in container:
            fields = list(container) if isinstance(container, dict) else []
            hint = did_you_mean(part, fields) if fields else f"{where} has no fields"
            raise ValueError(f"no field {part!r} in {where}; {hint}")
        if last:
            container[part] = value
        else:
            container = container[part]


def expand_grids(study: StudyConfig) -> None:
    """Add every grid's pipelines (and the stages its ``set`` derives) to ``study``; GridError lists every
    problem of every grid."""
    problems: list[Problem] = []
    for index, grid in enumerate(study.grids):
        problems += _expand_grid(study, index, grid)
    if problems:
        raise GridError(list(dict.fromkeys(problems)))


def _expand_grid(study: StudyConfig, index: int, grid: GridConfig) -> list[Problem]:
    base, label = ("grids", index), f"grid {grid.name!r}"
    problems = _static_problems(study, base, label, grid)
    if problems:
        return problems
    names = list(grid.axes)
    stage_names = list(study.stages)
    made: dict[str, Any] = {}
    applied: set[str] = set()
    for values in itertools.product(*(grid.axes[n] for n in names)):
        chosen = dict(zip(names, values, strict=True))
        dropped = {k for k, v in chosen.items() if v is None}
        try:
            stages = [fill(t, chosen) for t in grid.stages if not template_fields(t) & dropped]
            name = shown(fill(grid.name, chosen))
            evaluate = None if grid.evaluate is None else [
                shown(fill(t, chosen)) for t in grid.evaluate if not template_fields(t) & dropped]
        except _FILL_ERRORS as error:
            problems.append((base, f"{label}: cannot fill its templates with {chosen}: {error}"))
            continue
        overrides: dict[str, list[tuple[str, str, list[str | int], Any]]] = {}
        for key, value in grid.set.items():
            if template_fields(key) & dropped:
                continue  # the stage it names is not in this cell
            try:
                stage, field_text = split_stage_key(fill(key, chosen), stage_names)
                parts = parse_field_path(field_text)
                filled = fill(value, chosen)
            except _FILL_ERRORS as error:
                problems.append((base + ("set", key), f"{label}: set {key!r}: {error}"))
                continue
            overrides.setdefault(stage, []).append((key, field_text, parts, filled))
        for stage, changes in overrides.items():
            if stage not in stages:
                continue  # named for the other cells of the grid
            applied.update(key for key, *_ in changes)
            derived, failed = _derive(study, stage, changes, base, label)
            if failed:
                problems += failed
                continue
            stages = [derived if s == stage else s for s in stages]
        if name in study.pipelines or name in made:
            problems.append((base + ("name",), f"{label} makes pipeline {name!r}, which already exists; make the "
                             "grid's name template unique (name every axis in it)"))
            continue
        made[name] = dict(stages=[shown(s) for s in stages], evaluate=evaluate, model=chosen.get("model"), axes=chosen)
    if problems:
        return problems
    from xstilts.config.schema import PipelineConfig

    for name, fields in made.items():
        study.pipelines[name] = PipelineConfig(**fields)
    return [(base + ("set", key), f"{label}: set {key!r} names a stage that none of the grid's pipelines uses")
            for key in grid.set if key not in applied]


def _static_problems(study: StudyConfig, base: tuple, label: str, grid: GridConfig) -> list[Problem]:
    problems: list[Problem] = []
    templates = [grid.name, *grid.stages, *(grid.evaluate or []), *grid.set, *grid.set.values()]
    unknown = set().union(*(template_fields(t) for t in templates)) - set(grid.axes)
    if unknown:
        problems.append((base, f"{label}: templates name {sorted(unknown)} but the axes are {sorted(grid.axes)}"))
    for axis, values in grid.axes.items():
        if not values:
            problems.append((base + ("axes", axis), f"{label}: axis {axis!r} has no values"))
    models = list(study.model_configs())
    for i, value in enumerate(grid.axes.get("model", [])):
        if study.models is None:
            problems.append((base + ("axes", "model"), f"{label}: axis 'model' picks one of the study's `models`, "
                             "but the study has a single `model`; write `models: {name: {...}, ...}`"))
            break
        if value not in models:
            hint = did_you_mean(str(value), models)
            problems.append((base + ("axes", "model", i), f"{label}: axis 'model' value {value!r} is not a key of "
                             f"`models`; {hint}"))
    return problems


def _derive(study: StudyConfig, stage: str, changes: list, base: tuple, label: str) -> tuple[str, list[Problem]]:
    """The name of ``stage`` with ``changes`` applied, added to the study's stages if new."""
    from xstilts.config.load import format_key_path
    from xstilts.config.schema import StageConfig

    data = study.stages[stage].model_dump()
    problems = []
    for key, _, parts, value in changes:
        try:
            set_field(data, parts, value)
        except ValueError as error:
            problems.append((base + ("set", key), f"{label}: set {key!r}: {error}"))
    if problems:
        return "", problems
    try:
        derived = StageConfig.model_validate(data)
    except ValidationError as error:
        failed = []
        for item in error.errors():
            loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p))
            # the entry that set this field (or one inside it), else every entry of the stage
            culprits = [key for key, _, parts, _ in changes if tuple(parts) == loc[:len(parts)]] or \
                [key for key, *_ in changes]
            where = format_key_path(loc) or "the stage"
            message = item["msg"].removeprefix("Value error, ")
            failed.append((base + ("set", culprits[0]), f"{label}: set {', '.join(map(repr, culprits))}: stage "
                           f"{stage!r} becomes invalid: {where}: {message}"))
        return "", failed
    keys = tuple(key for key, *_ in changes)
    origin = (base, label, [(key, tuple(parts)) for key, _, parts, _ in changes])
    for name in _candidate_names(stage, changes):
        existing = study.stages.get(name)
        if existing is None:
            study.stages[name] = derived
            study._derived[name] = origin
            return name, []
        if _same(existing, derived):
            study._derived.setdefault(name, origin)
            return name, []
    return "", [(base + ("set", keys[0]), f"{label}: set {', '.join(map(repr, keys))}: the derived stage's name "
                 f"{name!r} is taken by another stage; rename that stage")]


def _candidate_names(stage: str, changes: list) -> list[str]:
    """``squad[fraction=0.25]``, by each field's last name; by the full paths when those clash."""
    def name(labels: list[str]) -> str:
        pairs = sorted(zip(labels, changes, strict=True), key=lambda pair: pair[0])
        return f"{stage}[{','.join(f'{label}={shown(change[3])}' for label, change in pairs)}]"

    short = [next(p for p in reversed(change[2]) if isinstance(p, str)) for change in changes]
    full = [change[1] for change in changes]
    return list(dict.fromkeys([name(short), name(full)] if len(set(short)) == len(short) else [name(full)]))


def _same(a: StageConfig, b: StageConfig) -> bool:
    return a.model_dump() == b.model_dump()
