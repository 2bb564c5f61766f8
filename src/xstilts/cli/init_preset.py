"""``xstilts init PRESET DIR``: a preset copied into a folder of your own, to edit and run. Light: no torch.

The copy is the preset's YAML under a header that says where it came from and how to run it, plus every file
shipped beside the preset that the study reads by a relative path (the micro dictionaries of the
code-switching twins), so that the copy runs from anywhere. A twin named in ``variants`` (``--size tiny`` of a
real-data preset) stays a preset name: it resolves to the shipped twin.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from xstilts.errors import XstiltsError


def shipped_files(data: Any, presets: Path) -> list[Path]:
    """The files and folders beside the presets that a study's strings name by a relative path (a folder for
    each first path component: ``micro-dictionaries/en-qaa.txt`` brings ``micro-dictionaries/``)."""
    found: list[Path] = []

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, str) and value.strip() and "{" not in value and "\n" not in value:
            relative = Path(value)
            if not relative.parts or relative.is_absolute() or ".." in relative.parts:
                return
            if (presets / relative).exists():
                top = presets / relative.parts[0]
                if top not in found:
                    found.append(top)

    visit(data)
    return found


def init(
    preset: Annotated[str, typer.Argument(help="the preset to copy (see `xstilts ls presets`)")],
    folder: Annotated[Path, typer.Argument(help="folder to copy it into (made if missing)")],
    force: Annotated[bool, typer.Option("--force", help="overwrite files that are already there")] = False,
) -> None:
    """Copy a preset (its YAML, and the files shipped with it that it reads) into FOLDER to edit; then run
    the copy with `xstilts run FOLDER/<preset>.yaml`."""
    import yaml

    from xstilts import __version__
    from xstilts.config.load import load_study, preset_names, presets_dir
    from xstilts.registry import did_you_mean

    name = preset.removesuffix(".yaml").removesuffix(".yml")
    if name not in preset_names():
        raise XstiltsError(f"no preset {preset!r}: {did_you_mean(name, preset_names())} "
                           "(`xstilts ls presets` lists them)")
    if folder.exists() and not folder.is_dir():
        raise XstiltsError(f"{folder} is a file: give a folder to copy the preset into")
    source = presets_dir() / f"{name}.yaml"
    text = source.read_text(encoding="utf-8")
    extras = shipped_files(yaml.safe_load(text), presets_dir())
    target = folder / source.name
    clashes = [path for path in [target, *(folder / extra.name for extra in extras)] if path.exists()]
    if clashes and not force:
        raise XstiltsError(f"{', '.join(map(str, clashes))} already there: give --force to overwrite "
                           f"{'it' if len(clashes) == 1 else 'them'}, or another folder")
    command = f"xstilts run {shlex.quote(str(target))}"
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith(f"# xstilts run {name}"):  # the preset's own run line, for the copy
        lines[0] = lines[0].replace(f"xstilts run {name}", command, 1)
    else:
        lines.insert(0, f"# {command}\n")
    header = (f"# Copied from the xstilts preset {name!r} (xstilts {__version__}) by `xstilts init {shlex.quote(name)} "
              f"{shlex.quote(str(folder))}`;\n# edit it, then run it with the command below (`xstilts run {name}` "
              "still runs the shipped original).\n")
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(header + "".join(lines), encoding="utf-8")
    typer.echo(f"wrote {target} (from preset {name!r})")
    for extra in extras:
        destination = folder / extra.name
        if extra.is_dir():
            shutil.copytree(extra, destination, dirs_exist_ok=True)
            count = sum(1 for path in destination.rglob("*") if path.is_file())
            typer.echo(f"wrote {destination}/ ({count} files the study reads)")
        else:
            shutil.copyfile(extra, destination)
            typer.echo(f"wrote {destination} (a file the study reads)")
    load_study(target)  # the copy is valid where it is (its relative paths resolve beside it)
    typer.echo(f"run it: {command}")
