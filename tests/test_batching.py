import json
from collections import Counter

import numpy as np
import pytest

from xstilts.errors import XstiltsError
from xstilts.training.batching import (
    MixtureStream,
    length_grouped_batches,
    mixture_weights,
    steps_for_epochs,
)


def long_tailed_lengths(n: int, seed: int = 0) -> list[int]:
    # XNLI-like: log-normal around 35 tokens, clipped to [5, 128]
    rng = np.random.default_rng(seed)
    return np.clip(rng.lognormal(mean=np.log(35), sigma=0.5, size=n), 5, 128).astype(int).tolist()


def pad_fraction(batches: list[list[int]], lengths: list[int]) -> float:
    """Share of the padded token grid that is padding (each batch padded to its longest feature)."""
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    real = sum(lengths[i] for b in batches for i in b)
    return 1 - real / padded


# ----- length_grouped_batches -----


@pytest.mark.parametrize("group_factor", [0, 1, 4, 50])
def test_every_index_exactly_once_with_sizes(group_factor):
    lengths = long_tailed_lengths(1003)
    batches = length_grouped_batches(lengths, batch_size=16, seed=3, epoch=2, group_factor=group_factor)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1003))
    # 1003 = 62 * 16 + 11: 62 full batches and one of 11
    assert len(batches) == 63
    assert sorted(len(b) for b in batches) == [11] + [16] * 62


def test_empty_and_tiny_inputs():
    assert length_grouped_batches([], batch_size=4, seed=0, epoch=0) == []
    assert length_grouped_batches([7], batch_size=4, seed=0, epoch=0) == [[0]]


def test_deterministic_per_seed_and_epoch():
    lengths = long_tailed_lengths(500)
    a = length_grouped_batches(lengths, 8, seed=1, epoch=0)
    assert a == length_grouped_batches(lengths, 8, seed=1, epoch=0)
    assert a != length_grouped_batches(lengths, 8, seed=2, epoch=0)
    assert a != length_grouped_batches(lengths, 8, seed=1, epoch=1)
    assert all(isinstance(i, int) for b in a for i in b)  # plain ints: JSON-able and Arrow-friendly


def test_batches_hold_narrow_length_ranges():
    lengths = long_tailed_lengths(400)
    batch_size, group_factor = 8, 5
    grouped = length_grouped_batches(lengths, batch_size, seed=0, epoch=0, group_factor=group_factor)
    random = length_grouped_batches(lengths, batch_size, seed=0, epoch=0, group_factor=0)

    def mean_span(batches):
        return np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])

    # A batch is a slice of 8 out of a sorted group of 40, so its length range is about a fifth of the
    # group's; a random batch of 8 spans a good part of the whole distribution.
    assert mean_span(grouped) < mean_span(random) / 3


def test_each_batch_is_a_contiguous_slice_of_a_sorted_group():
    # Lengths 0..39 each once, one group covering everything (group_factor * batch_size >= n):
    # sorting the single group gives batches {0..3}, {4..7}, ... in some order.
    lengths = list(range(40))[::-1]  # index i has length 39 - i
    batches = length_grouped_batches(lengths, batch_size=4, seed=5, epoch=0, group_factor=10)
    expected = {frozenset(39 - v for v in range(k, k + 4)) for k in range(0, 40, 4)}
    assert {frozenset(b) for b in batches} == expected
    # ... and the batch order is shuffled, not short-to-long
    maxima = [max(lengths[i] for i in b) for b in batches]
    assert maxima != sorted(maxima)


def test_length_grouping_cuts_padding():
    lengths = long_tailed_lengths(5000, seed=1)
    grouped = pad_fraction(length_grouped_batches(lengths, 32, seed=0, epoch=0, group_factor=50), lengths)
    random = pad_fraction(length_grouped_batches(lengths, 32, seed=0, epoch=0, group_factor=0), lengths)
    # Random batches of 32 from a long tail pad to a max near the top of the distribution (~50% padding);
    # sorted groups of 1600 put near-equal lengths together (a few percent).
    assert random > 0.3
    assert grouped < 0.05
    assert grouped < random / 5


def test_bad_arguments():
    with pytest.raises(XstiltsError, match="batch size"):
        length_grouped_batches([1, 2], batch_size=0, seed=0, epoch=0)
    with pytest.raises(XstiltsError, match="group_factor"):
        length_grouped_batches([1, 2], batch_size=1, seed=0, epoch=0, group_factor=-1)


def test_negative_seed_is_accepted():
    batches = length_grouped_batches([3, 1, 2], batch_size=2, seed=-7, epoch=0)
    assert sorted(i for b in batches for i in b) == [0, 1, 2]


# ----- mixture_weights -----


def test_weights_by_hand():
    # proportional: [100, 400] -> [1/5, 4/5]
    assert mixture_weights([100, 400], "proportional") == pytest.approx([0.2, 0.8])
    # temperature T=2: sqrt(100) = 10, sqrt(400) = 20 -> [10, 20] / 30
    assert mixture_weights([100, 400], "temperature", temperature=2) == pytest.approx([1 / 3, 2 / 3])
    # T=1 is proportional
    assert mixture_weights([100, 400], "temperature", temperature=1) == pytest.approx([0.2, 0.8])
    assert mixture_weights([100, 400, 7], "uniform") == pytest.approx([1 / 3] * 3)
    # capped at 150: min -> [100, 150, 150] / 400
    assert mixture_weights([100, 400, 1000], "capped", cap=150) == pytest.approx([0.25, 0.375, 0.375])


def test_empty_sources_get_no_weight():
    assert mixture_weights([0, 10], "uniform") == pytest.approx([0.0, 1.0])
    assert mixture_weights([0, 10], "temperature", temperature=3) == pytest.approx([0.0, 1.0])


def test_weight_errors():
    with pytest.raises(XstiltsError, match="did you mean 'temperature'"):
        mixture_weights([1, 2], "temprature")
    with pytest.raises(XstiltsError, match="temperature must be > 0"):
        mixture_weights([1, 2], "temperature", temperature=0)
    with pytest.raises(XstiltsError, match="temperature must be > 0"):
        mixture_weights([1, 2], "temperature", temperature=-1)
    with pytest.raises(XstiltsError, match="needs a cap"):
        mixture_weights([1, 2], "capped")
    with pytest.raises(XstiltsError, match="cap must be a positive"):
        mixture_weights([1, 2], "capped", cap=0)
    with pytest.raises(XstiltsError, match="empty"):
        mixture_weights([0, 0], "proportional")
    with pytest.raises(XstiltsError, match="at least one source"):
        mixture_weights([], "proportional")
    with pytest.raises(XstiltsError, match="negative"):
        mixture_weights([3, -1], "proportional")


# ----- MixtureStream -----


@pytest.mark.parametrize(
    "kind, kwargs, expected",
    [
        # sizes [100, 400]: see test_weights_by_hand
        ("proportional", {}, [0.2, 0.8]),
        ("temperature", {"temperature": 2.0}, [1 / 3, 2 / 3]),
        ("uniform", {}, [0.5, 0.5]),
        ("capped", {"cap": 200}, [1 / 3, 2 / 3]),  # min -> [100, 200] / 300
    ],
)
def test_stream_draws_sources_in_proportion(kind, kwargs, expected):
    sizes = [100, 400]
    weights = mixture_weights(sizes, kind, **kwargs)
    stream = MixtureStream([[5] * n for n in sizes], batch_size=4, weights=weights, seed=11)
    counts = Counter(stream.next_batch()[0] for _ in range(20_000))
    for source, p in enumerate(expected):
        assert abs(counts[source] / 20_000 - p) < 0.015


def test_stream_walks_each_source_epoch_by_epoch():
    lengths = [long_tailed_lengths(50, seed=0), long_tailed_lengths(30, seed=1)]
    stream = MixtureStream(lengths, batch_size=8, weights=[0.5, 0.5], seed=0, group_factor=2)
    seen: dict[int, list[int]] = {0: [], 1: []}
    # source 0 has ceil(50/8) = 7 batches per epoch, source 1 has ceil(30/8) = 4
    while stream.epochs_completed(0) < 2 or stream.epochs_completed(1) < 2:
        source, batch = stream.next_batch()
        seen[source].append(batch)
    first = [i for b in seen[0][:7] for i in b]
    second = [i for b in seen[0][7:14] for i in b]
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != second  # reshuffled for the new epoch
    assert sorted(i for b in seen[1][:4] for i in b) == list(range(30))
    assert stream.steps == len(seen[0]) + len(seen[1])
    assert stream.epochs_completed(0) == pytest.approx(len(seen[0]) / 7)


def test_stream_sources_use_different_orders():
    same = [long_tailed_lengths(64)] * 2
    stream = MixtureStream(same, batch_size=8, weights=[0.5, 0.5], seed=0)
    first: dict[int, list[int]] = {}
    while len(first) < 2:
        source, batch = stream.next_batch()
        first.setdefault(source, batch)
    assert first[0] != first[1]


def test_stream_resume_is_exact():
    lengths = [long_tailed_lengths(120, seed=0), long_tailed_lengths(45, seed=1), long_tailed_lengths(9)]
    weights = mixture_weights([120, 45, 9], "temperature", temperature=2)

    def make():
        return MixtureStream(lengths, batch_size=4, weights=weights, seed=42, group_factor=3)

    original = make()
    for _ in range(37):
        original.next_batch()
    # A checkpoint stores the state as JSON: go through a real round trip.
    state = json.loads(json.dumps(original.state_dict()))
    expected = [original.next_batch() for _ in range(50)]

    resumed = make()
    resumed.load_state_dict(state)
    assert resumed.steps == 37
    assert [resumed.next_batch() for _ in range(50)] == expected
    assert resumed.state_dict() == original.state_dict()

    # a fresh stream does NOT continue there: the test can tell states apart
    assert [make().next_batch() for _ in range(50)] != expected


def test_stream_refuses_state_from_other_data():
    stream = MixtureStream([[1] * 10], batch_size=2, weights=[1.0], seed=0)
    state = stream.state_dict()
    other = MixtureStream([[1] * 11], batch_size=2, weights=[1.0], seed=0)
    with pytest.raises(XstiltsError, match="source sizes"):
        other.load_state_dict(state)


def test_stream_errors():
    with pytest.raises(XstiltsError, match="no features"):
        MixtureStream([[], [1]], batch_size=2, weights=[0.5, 0.5], seed=0)
    with pytest.raises(XstiltsError, match="2 mixture weights for 1 sources"):
        MixtureStream([[1]], batch_size=2, weights=[0.5, 0.5], seed=0)
    with pytest.raises(XstiltsError, match="positive sum"):
        MixtureStream([[1]], batch_size=2, weights=[0.0], seed=0)
    # an empty source with weight 0 is fine and is never drawn
    stream = MixtureStream([[], [1, 2]], batch_size=2, weights=[0.0, 1.0], seed=0)
    assert {stream.next_batch()[0] for _ in range(20)} == {1}


# ----- steps_for_epochs -----


def test_steps_for_epochs():
    # one pass over sizes [10, 33] with batch 4: ceil(10/4) + ceil(33/4) = 3 + 9 = 12 batches
    assert steps_for_epochs([10, 33], 4, 1) == 12
    assert steps_for_epochs([10, 33], 4, 2.5) == 30
    assert steps_for_epochs([10, 33], 4, 0.1) == 2  # ceil(1.2)
    assert steps_for_epochs([30], 1, 0.1) == 3  # 0.1 * 30 is 3.0000000000000004 in floats: still 3
    with pytest.raises(XstiltsError, match="epochs must be > 0"):
        steps_for_epochs([10], 4, 0)
