"""Test-only fault injection: the one seam through which tests crash a run at a chosen place.

Production code calls :func:`point` at a few named places; it does nothing (one comparison) unless a fault
was armed. Tests arm one of two ways, both with the same spec, ``<point>@<count>:<action>``:

- in the test process: ``with faults.armed("train.step@17:raise"): ...`` (it also sets the environment
  variable for the duration, so processes started inside the block inherit the fault);
- in a child process (``xstilts run`` in a subprocess): ``XSTILTS_FAULT=train.step@17:kill`` in its
  environment, read once when this module is first imported there (a line on stderr says it is armed).

The fault fires when ``point(name, count)`` is called with that name and count, once per process, and then:

- ``raise``: raises :class:`InjectedFault` (an ordinary exception: the run ends as if the code had crashed);
- ``kill``:  sends SIGKILL to its own process (``kill -9``: no cleanup, no flushing, no ``finally``).

It cannot fire by accident: only the exact variable name arms it, and a spec with an unknown point, a count
that is not a positive integer or an unknown action is an error when read, never silently ignored.

Named points (listed in :data:`POINTS`; add one there, with the line that calls it, when a test needs
another place):

- ``train.step`` (training/loop.py): after each optimizer step and the state saved at that step, if any;
  the count is the step just done, 1-based, as in ``log.jsonl``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass

ENV = "XSTILTS_FAULT"

#: Each named point: where it is called and what its count is.
POINTS = {
    "train.step": "training/loop.py, after each optimizer step (and the state saved at that step, if any); "
                  "count = the step just done, 1-based, as in log.jsonl",
}
ACTIONS = ("raise", "kill")

_SPEC = re.compile(r"(?P<point>[a-z_.]+)@(?P<count>[0-9]+):(?P<action>[a-z]+)")


class InjectedFault(Exception):
    """Raised by an armed ``raise`` fault."""


@dataclass(frozen=True)
class Fault:
    point: str
    count: int
    action: str

    def __str__(self) -> str:
        return f"{self.point}@{self.count}:{self.action}"


def parse(spec: str) -> Fault:
    """``"train.step@17:kill"`` -> Fault; ValueError naming what is allowed for anything else."""
    match = _SPEC.fullmatch(spec.strip())
    if not match:
        raise ValueError(f"{ENV}={spec!r}: expected <point>@<count>:<action>, e.g. 'train.step@17:raise'")
    fault = Fault(match["point"], int(match["count"]), match["action"])
    if fault.point not in POINTS:
        raise ValueError(f"{ENV}={spec!r}: unknown point {fault.point!r}; known: {sorted(POINTS)}")
    if fault.count < 1:
        raise ValueError(f"{ENV}={spec!r}: the count must be a positive integer")
    if fault.action not in ACTIONS:
        raise ValueError(f"{ENV}={spec!r}: unknown action {fault.action!r}; known: {list(ACTIONS)}")
    return fault


def _from_environment() -> Fault | None:
    spec = os.environ.get(ENV)
    if not spec:
        return None
    fault = parse(spec)
    sys.stderr.write(f"xstilts: test-only fault injection armed ({ENV}={fault}) in process {os.getpid()}\n")
    sys.stderr.flush()
    return fault


_armed: Fault | None = _from_environment()


def point(name: str, count: int) -> None:
    """A named place in production code; a no-op unless a test armed a fault here at ``count``."""
    if _armed is None:
        return
    _fire(name, count)


def _fire(name: str, count: int) -> None:
    global _armed
    fault = _armed
    if fault is None or fault.point != name or fault.count != count:
        return
    _armed = None  # once per process
    if fault.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFault(f"injected fault {fault}")


@contextlib.contextmanager
def armed(spec: str) -> Iterator[Fault]:
    """Arm ``spec`` in this process (and, through the environment, in processes started meanwhile);
    disarm and restore the environment on exit, whether or not it fired."""
    global _armed
    fault = parse(spec)
    previous_env, previous = os.environ.get(ENV), _armed
    os.environ[ENV] = str(fault)
    _armed = fault
    try:
        yield fault
    finally:
        _armed = previous
        if previous_env is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous_env
