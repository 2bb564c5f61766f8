"""What `xstilts run` checks and says around the work: the output folder and model paths checked before anything
starts, a short header, and what Ctrl-C kept."""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path
from typing import Any

from xstilts.errors import XstiltsError


def check_writable(folder: Path) -> None:
    """The output folder can be made and written to: checked before anything runs, not after hours of training."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".xstilts-write-check-"):
            pass
    except OSError as error:
        raise XstiltsError(f"cannot write the results to {folder}: {error.strerror or error}. Choose another folder "
                           "with --out, or fix the folder's permissions") from None


def check_model_paths(study: Any) -> None:
    """A model given as a path must exist; a hub name is only reachable online (HF_HUB_OFFLINE says offline)."""
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    for name, model in study.model_configs().items():
        path = model.name_or_path
        if path is None:
            continue
        looks_like_path = path.startswith((".", "/", "~")) or os.sep in path and not _hub_like(path)
        if Path(path).expanduser().is_dir():
            continue
        where = f"models.{name}.name_or_path" if study.models is not None else "model.name_or_path"
        if looks_like_path:
            raise XstiltsError(f"{where}: no model folder {path!r}; give the folder of a saved model (config.json, "
                               "model.safetensors, the tokenizer) or a hub name")
        if offline:
            from huggingface_hub import try_to_load_from_cache

            if not isinstance(try_to_load_from_cache(path, "config.json"), str):
                raise XstiltsError(f"{where}: {path!r} is a hub name, the hub is offline (HF_HUB_OFFLINE) and it is "
                                   "not in the local cache; download it where the hub is reachable, or give a "
                                   "local folder (--model PATH)")


def _hub_like(path: str) -> bool:
    """``org/name``: one slash, no path syntax (a hub id, not a folder)."""
    return path.count("/") == 1 and not path.startswith((".", "/", "~"))


def run_header(study: Any, out: Path) -> list[str]:
    """Two or three lines: the study, its models and seeds, where results go; a smoke-test warning for tiny runs."""
    models = ", ".join(study.model_label(name) for name in study.model_configs())
    size = f" ({study.variant})" if study.variant else ""
    lines = [f"study {study.name}{size}: {models}; seeds {', '.join(map(str, study.seeds))}; results -> {out}"]
    if study.is_smoke_test():
        lines.append("a smoke test at toy size: its numbers show that every step runs, not what the method does"
                     + (" (run without --size for the real study)" if study.variant else ""))
    return lines


def interrupted_message(study: Any, argv: list[str]) -> str:
    """What Ctrl-C kept, and the command that goes on."""
    from xstilts.models.checkpoint import saved_step
    from xstilts.studies.context import make_context

    context = make_context(study)
    stages = context.plan.stages
    done = [node for node in stages if context.store.is_done(node.key)]
    lines = [f"interrupted: {len(done)} of {len(stages)} stages are done and kept in {context.store.root}"]
    for node in stages:
        if node in done:
            continue
        step = saved_step(context.store.run(node.key).state)
        if step is not None:
            lines.append(f"  stage {node.name!r} (seed {node.seed}) resumes from step {step} (its saved state)")
    lines.append("run the same command again to go on: " + shlex.join(["xstilts", *argv[1:]]))
    return "\n".join(lines)
