"""User-facing errors.

Anything the user can fix (a config key, a data file, a missing folder) raises :class:`XstiltsError` with a
message that says what was wrong, what is allowed and how to fix it. The CLI prints it without a traceback
and exits with code 2. Bugs in xstilts itself stay ordinary exceptions with tracebacks.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class XstiltsError(Exception):
    """An error the user can fix; its message is shown as is."""

    exit_code = 2


class DataError(XstiltsError):
    """Bad data in a file: the message names the file and, where known, the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.problem = message

    def __reduce__(self):  # picklable (a Ray task's error travels to the driver): rebuilt from the same fields
        return (type(self), (self.path, self.problem, self.line))


class ConfigError(XstiltsError):
    """One or more problems in a config; all of them are collected before raising."""

    def __init__(self, problems: Iterable[str], source: str | None = None):
        self.problems = list(problems)
        head = f"{source}: " if source else ""
        count = len(self.problems)
        lines = [f"{head}{count} problem{'s' if count != 1 else ''} in the config:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
        self.source = source

    def __reduce__(self):
        return (type(self), (self.problems, self.source))


class TrainingDiverged(XstiltsError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class Interrupted(XstiltsError):
    """The user stopped a run (Ctrl-C): the message says what was kept and how to resume."""

    exit_code = 130
