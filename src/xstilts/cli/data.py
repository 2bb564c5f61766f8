"""`xstilts data ...`: commands on the benchmark files: fetch the official files into the data root, and
write the processed files of XTREME's official preprocessing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

data_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Benchmark data: download the official files, export XTREME's processed files.")

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


@data_app.command()
def download(
    benchmark: Annotated[str, typer.Argument(help="xtreme, xtreme-r, xglue or intermediate")],
    tasks: Annotated[Optional[list[str]], typer.Option(
        "--tasks", help="task folders to fetch (repeat or comma-separate), default all")] = None,
    data_root: Annotated[Optional[Path], typer.Option("--data-root", help="default: $XSTILTS_DATA")] = None,
    mirror: Annotated[Optional[str], typer.Option(
        "--mirror", help="fetch <mirror>/<host>/<path> instead of each official URL (default: "
                         "$XSTILTS_DATA_MIRROR)")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait for a server")] = 20.0,
    ignore_known_checksums: Annotated[bool, typer.Option(
        "--ignore-known-checksums", help="accept files whose sha256 differs from the source table")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bars")] = False,
) -> None:
    """Download (or find complete) a benchmark's official files, verify their sha256 and extract archives
    into the shared layout (<data root>/<task folder>/). Re-running fetches only what is missing or damaged."""
    from xstilts.data.download import download as run_download
    from xstilts.studies.store import default_data_root

    root = data_root or default_data_root()
    names = [name.strip() for value in tasks or [] for name in value.split(",") if name.strip()]
    outcome = run_download(benchmark, root, names or None, mirror=mirror, timeout=timeout,
                           verify_known=not ignore_known_checksums, quiet=quiet,
                           log=lambda message: typer.echo(f"xstilts: {message}", err=True))
    typer.echo(f"{benchmark}: {len(outcome.fetched)} fetched, {len(outcome.cached)} already complete, "
               f"{len(outcome.extracted)} extracted -> {root}")
