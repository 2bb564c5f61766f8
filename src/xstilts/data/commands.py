"""`xstilts data ...`: fetch the official benchmark files into the data root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

data_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Benchmark data: fetch the official files.")


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
