"""The ``xstilts`` command: one module per command group (the top of the package graph: it may import every
layer, nothing imports it). Heavy imports (torch, transformers) happen inside the commands that train or
evaluate, so that ``--help``, ``ls``, ``validate``, ``plan`` and ``score`` stay fast."""

from xstilts.cli.app import _err, app, main

__all__ = ["_err", "app", "main"]
