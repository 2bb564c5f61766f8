"""`xstilts data ...`: commands on the benchmark files (one command per function; more join this app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

data_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Benchmark data: export, and more.")

EXPORT_TASKS = ("udpos", "panx", "pawsx", "xnli")


@data_app.command("export-xtreme")
def export_xtreme(
    tasks: Annotated[Optional[list[str]], typer.Argument(help=f"tasks to export (default: all of {', '.join(EXPORT_TASKS)})")] = None,
    out: Annotated[Path, typer.Option("--out", help="output folder; files go to <out>/<task>/<split>-<lang>.tsv")] = Path("xtreme-processed"),
    data_root: Annotated[Optional[Path], typer.Option("--data-root", help="raw data root (default: $XSTILTS_DATA)")] = None,
    source: Annotated[Optional[Path], typer.Option("--input", help="the raw folder of ONE task, instead of <data-root>/<task>")] = None,
) -> None:
    """Write the processed files of XTREME's official preprocessing (utils_preprocess.py), byte for byte,
    from the raw official files: UD-POS, PAN-X, PAWS-X and XNLI."""
    from xstilts.data.xtreme_export import export
    from xstilts.errors import XstiltsError
    from xstilts.studies.store import default_data_root

    chosen = list(tasks or EXPORT_TASKS)
    if source is not None and len(chosen) != 1:
        raise XstiltsError("--input names the raw folder of one task: give exactly one task with it")
    root = data_root or default_data_root()
    for task in chosen:
        folder = source if source is not None else root / task
        written = export(task, folder, out / task)
        typer.echo(f"{task}: {len(written)} files from {folder} -> {out / task}")
