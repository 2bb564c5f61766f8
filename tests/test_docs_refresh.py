"""The documentation cannot go stale: every measured number in README.md and docs/ sits in a block that
docs/refresh.py regenerates from a real run, and these tests fail when a block drifts from what the command
prints now (the cheap blocks here, the quickstart in the slow slice, the long studies under -m heavy), or when
a timing is written by hand outside a block."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_refresh():
    spec = importlib.util.spec_from_file_location("docs_refresh", ROOT / "docs" / "refresh.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


refresh = load_refresh()


def assert_current(name: str) -> None:
    """The block in every file that holds it equals what its producer makes now, the stamp line aside."""
    now = refresh.without_stamp(refresh.PRODUCERS[name].make())
    places = refresh.where()[name]
    for path in places:
        written = refresh.without_stamp(refresh.read_block(path, name))
        assert written == now, (f"{path.name}: block '{name}' drifted from what the command prints now; run "
                                f"`python docs/refresh.py {name}` and commit the result")


def test_every_block_has_a_producer_and_every_measurement_a_stamp():
    places = refresh.where()
    assert set(places) == set(refresh.PRODUCERS), "a block without a producer, or a producer without a block"
    for name, paths in places.items():
        for path in paths:
            block = refresh.read_block(path, name)
            stamps = [line for line in block.splitlines() if line.startswith(refresh.STAMP_PREFIX)]
            if refresh.PRODUCERS[name].cost == "code":
                assert not stamps, (path, name)  # made from code, not measured: nothing to date
            else:
                assert len(stamps) == 1, f"{path.name}: block '{name}' has no stamp: run docs/refresh.py {name}"
                assert re.search(r"Measured \d{4}-\d\d-\d\d on .+, commit \w+", stamps[0]), stamps[0]


def test_the_stamp_is_the_only_part_that_may_differ():
    block = "| a |\n|---|\n| 1.0 |\n\n" + refresh.stamp("x", "it took 3 s") + "\n"
    assert refresh.without_stamp(block) == "| a |\n|---|\n| 1.0 |\n"
    assert refresh.without_stamp(block.replace("1.0", "1.1")) != refresh.without_stamp(block)


def test_blocks_are_replaced_in_place(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("before\n<!-- refresh: micro-languages -->\nold\n<!-- /refresh: micro-languages -->\nafter\n"
                    "quoted in prose: `<!-- refresh: NAME -->` is no block\n")
    monkeypatch.setattr(refresh, "documents", lambda: [page])
    assert refresh.main(["micro-languages", "--check"]) == 1 and "old" in page.read_text()  # --check writes nothing
    assert refresh.main(["micro-languages"]) == 0
    text = page.read_text()
    assert text.startswith("before\n<!-- refresh: micro-languages -->\n| code |") and "old" not in text
    assert text.endswith("<!-- /refresh: micro-languages -->\nafter\nquoted in prose: `<!-- refresh: NAME -->` is "
                         "no block\n")
    assert refresh.main(["micro-languages", "--check"]) == 0


def test_the_micro_languages_table_is_current():
    assert_current("micro-languages")


def test_the_micro_copy_baseline_is_current():
    assert_current("micro-copy-baseline")


# A duration written by hand goes stale: the measured ones live in blocks. These are budgets, not measurements.
BUDGETS = {"15 minutes"}
DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|sec|seconds?|min|minutes?|h|hours?)\b")


def prose(text: str) -> str:
    """The text a reader reads as prose: generated blocks, fenced code and inline code left out."""
    text = re.sub(r"^<!-- refresh: ([\w-]+) -->$.*?^<!-- /refresh: \1 -->$", "", text, flags=re.S | re.M)
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`]*`", "", text)


def test_no_timing_is_written_by_hand():
    found = []
    for path in refresh.documents():
        if not path.exists():
            continue
        for line in prose(path.read_text()).splitlines():
            found += [f"{path.name}: {match.group(0)!r} in {line.strip()!r}" for match in DURATION.finditer(line)
                      if match.group(0) not in BUDGETS]
    assert not found, "timings outside generated blocks (measure them in docs/refresh.py):\n" + "\n".join(found)


def test_the_timing_check_finds_what_it_should():
    assert DURATION.findall(prose("takes 35 s, then 7 min and 2.5 seconds")) == ["35 s", "7 min", "2.5 seconds"]
    assert not DURATION.findall(prose("`time_min: 10 s` and\n```\n12 s\n```\n, 3 seeds, 200 steps, qa+s"))


@pytest.mark.slow
def test_the_quickstart_output_is_current():
    """README's first run, `xstilts run tiny` from an empty cache, prints what the README shows."""
    assert_current("quickstart")


@pytest.mark.slow
def test_the_evaluation_reuse_counts_are_current():
    """speed.md's count of the inputs the micro study's retrieval evaluations share (a run of about 15 s)."""
    assert_current("evaluation-reuse")


def test_only_timings_escape_the_drift_check():
    timings = {name for name, producer in refresh.PRODUCERS.items() if producer.timing}
    assert timings == {"micro-time", "throughput", "e5-commands", "speed-ratios", "evaluation-speed"}


@pytest.mark.heavy
@pytest.mark.parametrize("name", ["micro-baseline", "micro-gains", "micro-findings"])
def test_the_default_study_numbers_are_current(name):
    assert_current(name)


@pytest.mark.heavy
@pytest.mark.parametrize("name", ["e5-tatoeba", "e5-questions"])
def test_the_real_encoder_numbers_are_current(name):
    missing = refresh.e5_missing()
    if missing:
        pytest.skip(missing)
    assert_current(name)


def test_the_memory_plan_is_current():
    assert_current("memory-plan")


def test_the_phang2020_evaluation_time_is_current():
    assert_current("phang2020-evaluation-time")
