"""The processes of one run: a single process, or a group started by ``torchrun``/``accelerate launch``.

In a group every process runs the same plan; they train each stage together (DDP through accelerate),
while the main process alone takes the store lock, writes shared files (caches, checkpoints, results) and
evaluates. Barriers keep the others in step.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


class Processes:
    def __init__(self, use_cuda: bool = False):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self._state = None
        self._solo = False
        if self.world > 1:
            from accelerate import PartialState

            self._state = PartialState(cpu=not use_cuda)

    @property
    def is_main(self) -> bool:
        return self._state is None or self._state.is_main_process

    def barrier(self) -> None:
        if self._state is not None and not self._solo:  # in solo work the others are not there to meet
            self._state.wait_for_everyone()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """The main process runs the block first (and fills caches); the others then find them filled."""
        if self._state is None or self._solo:
            yield
            return
        with self._state.main_process_first():
            yield

    @contextlib.contextmanager
    def solo(self) -> Iterator[None]:
        """Work the main process does alone (evaluation): no barriers inside, the others are not there."""
        self._solo = True
        try:
            yield
        finally:
            self._solo = False
