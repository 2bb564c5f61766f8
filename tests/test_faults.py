"""The test-only fault seam (xstilts/faults.py): inert unless armed, armed only by an exact spec, firing once
at the named point and count, in this process or (through XSTILTS_FAULT) in a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from xstilts import faults

SRC = str(Path(__file__).resolve().parents[1] / "src")

# A child process that passes the training-step point 1..5 and says how far it got.
CHILD = (
    "from xstilts import faults\n"
    "for step in range(1, 6):\n"
    "    faults.point('train.step', step)\n"
    "    print(step, flush=True)\n"
)


def _child(spec: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop(faults.ENV, None)
    if spec is not None:
        env[faults.ENV] = spec
    return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)


def test_unarmed_points_do_nothing():
    assert os.environ.get(faults.ENV) is None and faults._armed is None
    for step in range(1, 100):
        faults.point("train.step", step)


def test_armed_raises_at_its_point_and_count_once_and_disarms_after_the_block():
    with faults.armed("train.step@3:raise") as fault:
        assert os.environ[faults.ENV] == str(fault) == "train.step@3:raise"
        faults.point("train.step", 2)
        faults.point("other.point", 3)  # another point with the same count: not this fault
        with pytest.raises(faults.InjectedFault, match="train.step@3:raise"):
            faults.point("train.step", 3)
        faults.point("train.step", 3)  # once per process
    assert faults.ENV not in os.environ and faults._armed is None
    faults.point("train.step", 3)


def test_disarmed_even_when_it_never_fired():
    with faults.armed("train.step@1000:raise"):
        faults.point("train.step", 1)
    assert faults.ENV not in os.environ and faults._armed is None


@pytest.mark.parametrize("spec, problem", [
    ("train.step:3", "expected <point>@<count>:<action>"),
    ("train.step@3", "expected <point>@<count>:<action>"),
    ("train.step@-1:raise", "expected <point>@<count>:<action>"),
    ("train.step@three:raise", "expected <point>@<count>:<action>"),
    ("train.step@0:raise", "positive integer"),
    ("train.stpe@3:raise", "unknown point 'train.stpe'"),
    ("train.step@3:explode", "unknown action 'explode'"),
    ("1", "expected <point>@<count>:<action>"),
])
def test_anything_but_an_exact_spec_is_an_error(spec, problem):
    with pytest.raises(ValueError, match=problem):
        faults.parse(spec)
    with pytest.raises(ValueError, match=problem):
        with faults.armed(spec):
            pass  # pragma: no cover - never reached
    assert faults.ENV not in os.environ


def test_a_child_process_without_the_variable_runs_through():
    result = _child(None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "2", "3", "4", "5"] and "fault injection" not in result.stderr


def test_a_child_process_armed_through_the_environment_kills_itself_at_the_count():
    result = _child("train.step@3:kill")
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.split() == ["1", "2"]  # killed after the third point, before it printed
    assert "test-only fault injection armed (XSTILTS_FAULT=train.step@3:kill)" in result.stderr


def test_a_child_process_started_inside_armed_inherits_the_fault():
    with faults.armed("train.step@2:raise"):
        env = {**os.environ, "PYTHONPATH": SRC}
        result = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "InjectedFault: injected fault train.step@2:raise" in result.stderr
    assert result.stdout.split() == ["1"]


def test_a_malformed_variable_stops_the_child_at_import():
    result = _child("train.step@3")
    assert result.returncode == 1 and "expected <point>@<count>:<action>" in result.stderr
    assert result.stdout == ""
