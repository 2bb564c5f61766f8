"""Where a report's numbers come from: the toolkit (version, git commit when it runs from a checkout), the date
and machine the report was written on, the run's files, the resolved hyperparameters of every stage its
pipelines train (``study.yaml``, which ``xstilts run`` writes beside ``results.csv``) and its recipe card
(``recipe.md``, the same folder). Nothing here fails: a missing file or git gives a line that says so.

``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) fixes the date, so a report can be rebuilt
byte-for-byte.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("numpy", "scipy", "torch", "transformers", "matplotlib")
STAGE_HEADER = ["stage", "training data", "length", "batch", "max length", "learning rate", "weight decay",
                "schedule (warmup)", "sampler", "dev selection", "heads"]


@dataclass
class Provenance:
    toolkit: list[tuple[str, str]]  # (what, value): version, commit, date
    machine: list[tuple[str, str]]
    run: list[tuple[str, str]]  # the results folder and its files, models, seeds, evaluation settings
    stages: list[list[str]] = field(default_factory=list)  # rows under STAGE_HEADER
    recipe: str = ""  # recipe.md, as the run wrote it
    notes: list[str] = field(default_factory=list)


def _run_git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"})
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def toolkit_commit(package: Path | None = None) -> str:
    """The commit of the xstilts checkout this code runs from, ``+ local changes`` when tracked files differ;
    a sentence saying why not (no git, not a checkout, a checkout of something else) otherwise."""
    package = package or Path(__file__).resolve().parents[1]
    top = _run_git(package, "rev-parse", "--show-toplevel")
    if top is None:
        return "unknown (not run from a git checkout, or git is not installed)"
    project = Path(top) / "pyproject.toml"
    try:
        ours = 'name = "xstilts"' in project.read_text(encoding="utf-8")
    except OSError:
        ours = False
    if not ours:
        return "unknown (installed inside another git repository)"
    commit = _run_git(package, "rev-parse", "HEAD")
    if commit is None:
        return "unknown (a git checkout without commits)"
    dirty = _run_git(package, "status", "--porcelain", "--untracked-files=no")
    return commit + (" + local changes" if dirty else "")


def report_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch and epoch.isdigit() else datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> list[tuple[str, str]]:
    """The machine the report was written on (the run's may differ: results.csv does not record it). Library
    versions come from the installed metadata: nothing heavy is imported."""
    libraries = ", ".join(f"{name} {v}" for name in LIBRARIES if (v := _version(name)))
    return [("host", platform.node() or "unknown"), ("system", platform.platform()),
            ("processor", f"{platform.machine() or 'unknown'}, {os.cpu_count() or '?'} logical CPUs"),
            ("Python", platform.python_version()), ("libraries", libraries or "n/a")]


def collect(folder: Path | None) -> Provenance:
    """The provenance of a report on the results in ``folder`` (None: rows handed over in memory)."""
    from xstilts import __version__

    toolkit = [("xstilts", __version__), ("git commit", toolkit_commit()), ("report written", report_date())]
    out = Provenance(toolkit, machine(), [])
    if folder is None:
        out.notes.append("No results folder: no study.yaml or recipe card to show.")
        return out
    folder = Path(folder)
    out.run.append(("results folder", str(folder)))
    csv_path = folder / "results.csv"
    if csv_path.is_file():
        written = datetime.fromtimestamp(csv_path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        out.run.append(("results.csv written", written))
    study = _read_study(folder / "study.yaml", out.notes)
    if study is not None:
        out.run += study_lines(study)
        out.stages = stage_rows(study)
    recipe = folder / "recipe.md"
    if recipe.is_file():
        out.recipe = recipe.read_text(encoding="utf-8")
    else:
        out.notes.append(f"No recipe card (recipe.md) in {folder}: runs of older versions did not write it; "
                         "`xstilts plan STUDY --recipe` prints it.")
    return out


def _read_study(path: Path, notes: list[str]) -> dict[str, Any] | None:
    import yaml

    if not path.is_file():
        notes.append(f"No study.yaml in {path.parent}: the hyperparameters are not known to the report.")
        return None
    try:
        study = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        notes.append(f"{path} could not be read ({type(error).__name__}): the hyperparameters are not shown.")
        return None
    if not isinstance(study, dict):
        notes.append(f"{path} is not a study: the hyperparameters are not shown.")
        return None
    return study


def _model_text(label: str, model: dict[str, Any]) -> str:
    if model.get("name_or_path"):
        revision = f" @ {model['revision']}" if model.get("revision") else ""
        return f"{label}: {model['name_or_path']}{revision}"
    build = model.get("build") or {}
    shape = ", ".join(f"{k.replace('_', ' ')} {build[k]}" for k in ("architecture", "num_layers", "hidden_size",
                                                                     "num_heads", "intermediate_size") if k in build)
    return f"{label}: built from scratch ({shape})"


def study_lines(study: dict[str, Any]) -> list[tuple[str, str]]:
    models = study.get("models") or ({"model": study["model"]} if study.get("model") else {})
    lines = [("study", str(study.get("name", "")) + (f" (variant {study['variant']})" if study.get("variant") else ""))]
    lines += [("model", _model_text(m.get("label") or name, m)) for name, m in models.items() if isinstance(m, dict)]
    lines.append(("seeds", ", ".join(map(str, study.get("seeds") or []))))
    evaluate = study.get("evaluate") or {}
    if evaluate:
        shown = {k: evaluate.get(k) for k in ("split", "languages", "max_examples", "batch_size", "max_length")}
        lines.append(("evaluation", ", ".join(f"{k.replace('_', ' ')} {_text(v)}" for k, v in shown.items())))
    for key in ("benchmark", "reference"):
        if study.get(key):
            lines.append((key, str(study[key])))
    return lines


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _source_text(source: dict[str, Any]) -> str:
    text = str(source.get("task", "?"))
    if source.get("split") not in (None, "train"):
        text += f"@{source['split']}"
    if source.get("code_switch"):
        text += f"~cs (ratio {_text(source['code_switch'].get('ratio'))})"
    languages = source.get("languages")
    if languages and languages != ["en"]:
        text += f" [{', '.join(languages)}]"
    for key in ("fraction", "max_examples"):
        if source.get(key) is not None:
            text += f" {key.replace('_', ' ')} {_text(source[key])}"
    return text


def stage_rows(study: dict[str, Any]) -> list[list[str]]:
    """One row per stage that some pipeline trains, in the order the pipelines first train them."""
    stages = study.get("stages") or {}
    used = [name for pipeline in (study.get("pipelines") or {}).values()
            for name in (pipeline.get("stages") or [] if isinstance(pipeline, dict) else pipeline or [])]
    names = [n for n in dict.fromkeys(used) if n in stages] or list(stages)
    rows = []
    for name in names:
        stage = stages[name] or {}
        optimizer, schedule = stage.get("optimizer") or {}, stage.get("schedule") or {}
        sampler, selection = stage.get("sampler") or {}, stage.get("selection") or {}
        length = (f"{stage['steps']} steps" if stage.get("steps") is not None
                  else f"{_text(stage.get('epochs'))} epochs")
        batch = str(stage.get("batch_size", "?"))
        if (stage.get("grad_accumulation") or 1) > 1:
            batch += f" x {stage['grad_accumulation']} accumulated"
        kind = sampler.get("kind", "-")
        if kind == "temperature" or sampler.get("temperature") not in (None, 1.0):
            kind += f" (T={_text(sampler.get('temperature'))})"
        dev = "final checkpoint" if not selection.get("enabled", True) else (
            f"{selection.get('split', 'dev')} {_text(selection.get('languages'))}, "
            f"{_text(selection.get('max_examples'))} examples"
            + (f", patience {selection['patience']}" if selection.get("patience") else ""))
        rows.append([name, "; ".join(_source_text(s) for s in stage.get("sources") or []), length, batch,
                     _text(stage.get("max_length")), _text(optimizer.get("lr")), _text(optimizer.get("weight_decay")),
                     f"{schedule.get('kind', '-')} ({_text(schedule.get('warmup'))})", kind, dev,
                     "kept" if stage.get("keep_heads") else "new"])
    return rows
