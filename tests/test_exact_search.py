"""The blocked exact search against its definition: the full similarity matrix, each row sorted by score
descending and then index ascending (a stable sort), its first k kept; in both directions, for any block sizes,
with ties everywhere, and in bf16 with float32 re-scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xstilts.scoring.exact_search import BF16_ERROR, blocked_search


def definition(similarities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, similarities.shape[1])
    columns = np.broadcast_to(np.arange(similarities.shape[1]), similarities.shape)
    order = np.lexsort((columns, -similarities), axis=1)[:, :k]  # the last key is the primary one
    return np.take_along_axis(similarities, order, axis=1), order


def draw(rng: np.random.Generator, trial: int) -> tuple[np.ndarray, np.ndarray]:
    n, m, dim = int(rng.integers(1, 50)), int(rng.integers(1, 50)), int(rng.integers(1, 9))
    if trial % 2:  # small integers: many equal scores, and -0.0 next to 0.0
        return (rng.integers(-2, 3, (n, dim)).astype(np.float32), rng.integers(-2, 3, (m, dim)).astype(np.float32))
    return rng.standard_normal((n, dim), dtype=np.float32), rng.standard_normal((m, dim), dtype=np.float32)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_equals_the_definition_in_both_directions(precision):
    rng = np.random.default_rng(7)
    for trial in range(150):
        queries, keys = draw(rng, trial)
        k, chunk, block = int(rng.integers(1, 7)), int(rng.integers(1, 20)), int(rng.integers(1, 20))
        similarities = (torch.from_numpy(queries) @ torch.from_numpy(keys).T).numpy()
        forward, backward = blocked_search(torch.from_numpy(queries), torch.from_numpy(keys), k, chunk_size=chunk,
                                           key_block=block, both=True, precision=precision)
        for found, (scores, indices) in ((forward, definition(similarities, k)),
                                         (backward, definition(similarities.T, k))):
            assert np.array_equal(found.indices.numpy(), indices), (trial, precision)
            np.testing.assert_allclose(found.scores.numpy(), scores, rtol=0, atol=1e-5)


def test_one_direction_leaves_the_other_out():
    queries, keys = torch.eye(3), torch.eye(3)
    forward, backward = blocked_search(queries, keys, 2, chunk_size=2, key_block=2, both=False)
    assert backward is None
    # Each unit vector's best is itself (1.0); the rest tie at 0.0 and come in index order.
    assert forward.indices.tolist() == [[0, 1], [1, 0], [2, 0]]
    assert forward.scores.tolist() == [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]


def test_bf16_keeps_neighbours_that_bf16_alone_would_swap():
    """Two keys whose scores differ by less than bf16 can resolve: the float32 re-score must order them."""
    query = torch.tensor([[1.0, 0.0]])
    keys = torch.tensor([[0.999, 0.0], [0.9991, 0.0], [0.5, 0.0]])
    assert (query.bfloat16() @ keys.bfloat16().T)[0, 0] == (query.bfloat16() @ keys.bfloat16().T)[0, 1]
    forward, _ = blocked_search(query, keys, 1, chunk_size=1, key_block=1, both=False, precision="bf16")
    assert forward.indices.tolist() == [[1]]
    assert forward.scores[0, 0].item() == pytest.approx(0.9991, abs=1e-7)


def test_the_bf16_error_bound_holds_for_unit_vectors():
    """The slack bf16 candidates get: BF16_ERROR |q| |k| covers the worst observed error with room."""
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.standard_normal((500, 384), dtype=np.float32))
    y = torch.from_numpy(rng.standard_normal((500, 384), dtype=np.float32))
    x, y = x / x.norm(dim=1, keepdim=True), y / y.norm(dim=1, keepdim=True)
    error = ((x.bfloat16() @ y.bfloat16().T).float() - x @ y.T).abs().max().item()
    assert error < BF16_ERROR / 2


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision 'fp16'"):
        blocked_search(torch.eye(2), torch.eye(2), 1, chunk_size=1, key_block=1, both=False, precision="fp16")


def test_embeddings_that_are_not_finite_are_refused_by_name():
    from xstilts.errors import XstiltsError
    from xstilts.scoring.retrieval import mutual_top_k

    good = np.eye(3, dtype=np.float32)
    bad = good.copy()
    bad[1, 0] = np.nan
    with pytest.raises(XstiltsError, match=r"1 key embedding\(s\) hold NaN or infinity \(first: row 1\)"):
        mutual_top_k(good, bad, 2)
