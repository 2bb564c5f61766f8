"""The mutation operations of the reader fuzz suite, each classified when it is made (see reader_mutator.py):
encoding and line-end variants (BOM, CRLF, CR), invalid UTF-8, raw surrogates and NUL bytes, truncation (at a
random byte, at a line end, inside a multi-byte character), lines and records removed, added, duplicated and
swapped, columns dropped, added and swapped, labels outside the label set, empty, blank and huge files, deep
CCG trees. The JSON operations are in reader_json_mutations.py; ``OPERATIONS`` lists them all."""

from __future__ import annotations

import csv
import io
import random

from reader_json_mutations import JsonMutations
from reader_mutator import (
    BOM,
    GARBAGE,
    KEY,
    LABEL,
    TEXT,
    UNUSED,
    Context,
    Declined,
    Edit,
    FileSpec,
    Mutation,
    Record,
    decoded,
    ends_with_break,
    is_blank,
    line_of,
    line_spans,
    to_cr,
    to_crlf,
    utf8_boundaries,
)

LINE_KINDS = ("rows", "lines", "blocks", "conllu", "ccg", "jsonl", "csv")
COLUMN_KINDS = ("rows", "blocks", "conllu", "csv")
JSON_KINDS = ("json", "jsonl")


def trailing_blanks(data: bytes) -> int:
    lines = decoded(data)
    count = 0
    while count < len(lines) and is_blank(lines[-1 - count]):
        count += 1
    return count


class Mutator(JsonMutations):
    """Mutations of one file ``name`` of a subject; every choice comes from ``rng``."""

    def __init__(self, context: Context, name: str, rng: random.Random):
        self.ctx, self.name, self.rng = context, name, rng
        self.data = context.files[name]
        self.spec: FileSpec = context.specs[name]
        self.records: list[Record] = context.records.get(name, [])
        self.nl = b"\r\n" if b"\r\n" in self.data else b"\n"
        self.note = ""

    # ------------------------------------------------------------------ results

    def same(self, op: str, data: bytes) -> Mutation:
        return Mutation(op, "same", {self.name: data})

    def breaking(self, op: str, data: bytes, *lines: int | None, anywhere: bool = False) -> Mutation:
        return Mutation(op, "breaking", {self.name: data}, "" if anywhere else self.name, lines or None)

    def edited(self, op: str, data: bytes, **edit) -> Mutation:
        return Mutation(op, "edit", {self.name: data}, edit=Edit(self.name, **edit))

    def last_line(self, data: bytes) -> int:
        return max(len(line_spans(data)), 1)

    # ------------------------------------------------------------------ encodings and line ends

    def bom(self) -> Mutation:
        return self.same("bom", BOM + self.data)

    def crlf(self) -> Mutation:
        if not line_spans(self.data)[:-1] and not ends_with_break(self.data):
            raise Declined("one line without a line end")
        return self.same("crlf", to_crlf(self.data))

    def cr(self) -> Mutation:
        if not line_spans(self.data)[:-1] and not ends_with_break(self.data):
            raise Declined("one line without a line end")
        return self.same("cr", to_cr(self.data))

    def invalid_bytes(self) -> Mutation:
        bad = self.rng.choice([b"\xff", b"\xc3(", b"\x80", b"\xed\xa0\xbd", b"\xf4\x90\x80\x80", b"\xc0\xaf",
                               b"\xe2\x82"])
        position = self._text_position()
        data = self.data[:position] + bad + self.data[position:]
        return self.breaking("invalid-utf8", data, line_of(data, position))

    def raw_surrogate(self) -> Mutation:
        position = self._text_position()
        data = self.data[:position] + "\ud83d".encode("utf-8", "surrogatepass") + self.data[position:]
        return self.breaking("raw-surrogate", data, line_of(data, position))

    def nul(self) -> Mutation:
        position = self._text_position()
        data = self.data[:position] + b"\x00" + self.data[position:]
        return self.breaking("nul", data, line_of(data, position))

    def _text_position(self) -> int:
        """A position inside a line's text (not between CR and LF, not inside a character)."""
        spans = [span for span in line_spans(self.data) if span[1] > span[0]]
        start, end, _ = self.rng.choice(spans)
        inside = set(utf8_boundaries(self.data))
        choices = [i for i in range(start, end + 1) if i not in inside]
        return self.rng.choice(choices)

    # ------------------------------------------------------------------ empty, blank and huge files

    def empty(self) -> Mutation:
        return self.breaking("empty", b"")

    def blank_only(self) -> Mutation:
        # Line-aligned files: the mismatch may be told on the partner file (the shorter one).
        return self.breaking("blank-only", self.rng.choice([b"\n", b"\n\n \n", BOM, b"  \t\n"]),
                             anywhere=self.spec.kind == "lines")

    def trailing_blank(self) -> Mutation:
        count = self.rng.randint(1, 4)
        added = b"\n" * count if ends_with_break(self.data) else b"\n" * (count + 1)
        data = self.data + added
        return self._trailing(data, "trailing-blank", count)

    def huge_blank(self) -> Mutation:
        data = self.data + (b"" if ends_with_break(self.data) else b"\n") + b"\n" * 20000
        return self._trailing(data, "huge-blank", 20000)

    def _trailing(self, data: bytes, op: str, count: int) -> Mutation:
        rule = self.spec.trailing_blank
        if self.spec.kind == "json" or rule == "ignored":
            return self.same(op, data)
        if rule == "breaking":
            return self.breaking(op, data, anywhere=True)
        if rule == "empty-sentences":
            # PAN-X: the last blank line is dropped, the first after a sentence ends it, each further one is an
            # empty sentence.
            extra = max(trailing_blanks(data) - 2, 0) - max(trailing_blanks(self.data) - 2, 0)
            return self.edited(op, data, extra_empty=extra)
        raise Declined(f"trailing blank lines under rule {rule}")

    def final_newline(self) -> Mutation:
        if not ends_with_break(self.data):
            return self.same("final-newline", self.data + self.nl)
        data = self.data[: -len(self.nl)] if self.data.endswith(self.nl) else self.data[:-1]
        if decoded(data) == decoded(self.data):
            return self.same("final-newline", data)
        # The last line was blank and is gone.
        if self.spec.kind == "conllu" and not is_blank(decoded(data)[-1]):
            return self.breaking("final-newline", data, self.last_line(data))
        if self.spec.trailing_blank in ("ignored", "empty-sentences") or self.spec.kind == "json":
            return self.same("final-newline", data)
        raise Declined("a blank last line removed from a file whose every line counts")

    def huge(self) -> Mutation:
        if self.spec.kind == "json":
            return self.huge_json()
        if not self.records:
            raise Declined("no line records")
        copies = max(2, 5000 // max(len(self.records), 1))
        order = list(range(len(self.records))) * copies
        data, offsets = self.rebuild(order)
        if self.spec.unique:
            return self.breaking("huge", data, line_of(data, offsets[len(self.records)]))
        return self.edited("huge", data, order=order)

    # ------------------------------------------------------------------ records

    def rebuild(self, order: list[int]) -> tuple[bytes, list[int]]:
        """The file with its records in ``order`` (header and trailing lines kept), and each placed record's
        offset. Records keep their separators; the last one ends as the original's last one did."""
        records, data = self.records, self.data
        term = self.nl * 2 if self.spec.kind in ("blocks", "conllu") else self.nl
        head, tail = data[: records[0].start], data[records[-1].stop:]
        pieces, offsets, position = [], [], len(head)
        for index in order:
            piece = data[records[index].start : records[index].end] + term
            offsets.append(position)
            pieces.append(piece)
            position += len(piece)
        body = b"".join(pieces)
        if body:
            body = body[: len(body) - len(term)] + data[records[-1].end : records[-1].stop]
        return head + body + tail, offsets

    def _two(self) -> tuple[int, int]:
        if len(self.records) < 2:
            raise Declined("fewer than two records")
        first, second = sorted(self.rng.sample(range(len(self.records)), 2))
        return first, second

    def drop_record(self) -> Mutation:
        if not self.records or not self.spec.droppable:
            raise Declined("no droppable record")
        drop = self.rng.randrange(len(self.records))
        order = [i for i in range(len(self.records)) if i != drop]
        data, _ = self.rebuild(order)
        return self.edited("drop-record", data, order=order)

    def duplicate_record(self) -> Mutation:
        if not self.records:
            raise Declined("no record")
        copy_of = self.rng.randrange(len(self.records))
        order = sorted([*range(len(self.records)), copy_of])
        data, offsets = self.rebuild(order)
        if self.spec.unique:
            return self.breaking("duplicate-record", data, line_of(data, offsets[copy_of + 1]))
        return self.edited("duplicate-record", data, order=order)

    def swap_records(self) -> Mutation:
        if not self.spec.swappable:
            raise Declined("record order is meaning")
        first, second = self._two()
        order = list(range(len(self.records)))
        order[first], order[second] = second, first
        data, _ = self.rebuild(order)
        return self.edited("swap-records", data, order=order)

    # ------------------------------------------------------------------ lines

    def remove_line(self) -> Mutation:
        spans = line_spans(self.data)
        number = self.rng.randrange(1, len(spans) + 1)
        start, _, stop = spans[number - 1]
        data = self.data[:start] + self.data[stop:]
        if self.spec.header and number == 1:
            return self.breaking("remove-line", data, 1)
        text = decoded(self.data)[number - 1]
        kind = self.spec.kind
        if is_blank(text):
            if number > max((r.last for r in self.records), default=0):
                return self._trailing_removed(data, "remove-line")
            if kind == "conllu":
                return self.breaking("remove-line", data, number)  # the next sentence runs into this one
            raise Declined("a blank separator line removed")
        record = self._record_at(number)
        if kind in ("rows", "lines", "jsonl") or (kind == "csv" and record.first == record.last):
            order = [i for i in range(len(self.records)) if self.records[i] is not record]
            return self.edited("remove-line", data, order=order)
        if kind == "blocks":
            index = self.records.index(record)
            if record.first == record.last:
                raise Declined("a one-token sentence removed")
            kept = [(index, n - record.first) for n in range(record.first, record.last + 1) if n != number]
            return self.edited("remove-line", data, tokens={index: kept})
        if kind == "conllu":
            return self._conllu_line_removed(data, number, text, record)
        if kind == "ccg":
            if number == record.last and record is self.records[-1]:
                return self.breaking("remove-line", data, number - 1)
            return self.breaking("remove-line", data, number)
        raise Declined(f"line removal in {kind}")

    def _trailing_removed(self, data: bytes, op: str) -> Mutation:
        if self.spec.kind == "conllu" and not is_blank(decoded(data)[-1]):
            return self.breaking(op, data, self.last_line(data))
        if self.spec.kind == "json" or self.spec.trailing_blank in ("ignored", "empty-sentences"):
            return self.same(op, data)
        raise Declined("blank line removed from a file whose every line counts")

    def _conllu_line_removed(self, data: bytes, number: int, text: str, record: Record) -> Mutation:
        if text.startswith("#"):
            return self.edited("remove-line", data, same_examples=True)
        ident = text.split("\t")[0]
        lines = decoded(self.data)
        next_word = next((lines[n - 1] for n in range(number + 1, record.last + 1)), None)
        if "-" in ident or "." in ident or next_word is None:
            raise Declined("a range, an empty node or a sentence's last line removed")
        return self.breaking("remove-line", data, number)

    def _record_at(self, number: int) -> Record:
        for record in self.records:
            if record.first <= number <= record.last:
                return record
        raise Declined(f"line {number} is in no record")

    def add_line(self) -> Mutation:
        spans = line_spans(self.data)
        kind = self.spec.kind
        if kind == "csv":
            boundaries = [r.stop for r in self.records]
        else:
            boundaries = [s for s, _, _ in spans] + [len(self.data)]
        position = self.rng.choice(boundaries)
        prefix = self.data[:position]
        joiner = b"" if not prefix or ends_with_break(prefix) else self.nl
        data = prefix + joiner + GARBAGE.encode() + self.nl + self.data[position:]
        number = line_of(data, len(prefix) + len(joiner))
        if kind == "lines":
            return self.breaking("add-line", data, anywhere=True)
        if kind == "rows":
            gap = self._blank_run_before(decoded(data), number)
            return self.breaking("add-line", data, gap or number)
        return self.breaking("add-line", data, number)

    def _blank_run_before(self, lines: list[str], number: int) -> int | None:
        first = None
        n = number - 1
        while n >= 1 and is_blank(lines[n - 1]) and not (self.spec.header and n == 1):
            first, n = n, n - 1
        return first

    def swap_lines(self) -> Mutation:
        spans = line_spans(self.data)
        if len(spans) < 2:
            raise Declined("one line")
        a, b = sorted(self.rng.sample(range(1, len(spans) + 1), 2))
        lines = decoded(self.data)
        if lines[a - 1] == lines[b - 1]:
            raise Declined("equal lines")
        data = self._with_lines_swapped(spans, a, b)
        kind = self.spec.kind
        if is_blank(lines[a - 1]) or is_blank(lines[b - 1]):
            raise Declined("a blank line moved")
        if self.spec.header and a == 1:
            return self.breaking("swap-lines", data, 1)
        ra, rb = self._record_at(a), self._record_at(b)
        ia, ib = self.records.index(ra), self.records.index(rb)
        if kind in ("rows", "lines", "jsonl") or (kind == "csv" and ra.first == ra.last and rb.first == rb.last):
            order = list(range(len(self.records)))
            order[ia], order[ib] = ib, ia
            return self.edited("swap-lines", data, order=order)
        if kind == "blocks":
            moved = {ia: [(ia, n - ra.first) for n in range(ra.first, ra.last + 1)]}
            moved.setdefault(ib, [(ib, n - rb.first) for n in range(rb.first, rb.last + 1)])
            moved[ia][a - ra.first] = (ib, b - rb.first)
            moved[ib][b - rb.first] = (ia, a - ra.first)
            return self.edited("swap-lines", data, tokens=moved)
        if kind == "ccg":
            header_a, header_b = a == ra.first, b == rb.first
            if header_a != header_b:
                return self.breaking("swap-lines", data, a)
            fields = ("id",) if header_a else ("tokens", "tags")
            take = {ia: {f: (ib, f) for f in fields}, ib: {f: (ia, f) for f in fields}}
            return self.edited("swap-lines", data, take=take)
        if kind == "conllu":
            return self._conllu_swap(data, lines, a, b)
        raise Declined(f"line swap in {kind}")

    def _with_lines_swapped(self, spans: list[tuple[int, int, int]], a: int, b: int) -> bytes:
        parts = [self.data[s:e] for s, e, _ in spans]
        breaks = [self.data[e:stop] for _, e, stop in spans]
        parts[a - 1], parts[b - 1] = parts[b - 1], parts[a - 1]
        return b"".join(p + t for p, t in zip(parts, breaks, strict=True))

    def _conllu_swap(self, data: bytes, lines: list[str], a: int, b: int) -> Mutation:
        first, second = lines[a - 1], lines[b - 1]
        if first.startswith("#") and second.startswith("#"):
            return self.same("swap-lines", data)
        if first.startswith("#") or second.startswith("#"):
            raise Declined("a comment swapped with a token line")
        ids = first.split("\t")[0], second.split("\t")[0]
        if ids[0] == ids[1] or any(not i.isascii() or not i.isdigit() for i in ids):
            raise Declined("equal IDs, ranges or empty nodes")
        return self.breaking("swap-lines", data, a)

    # ------------------------------------------------------------------ truncation

    def truncate(self) -> Mutation:
        if len(self.data) < 2:
            raise Declined("too short")
        return self.cut(self.rng.randrange(1, len(self.data)), "truncate")

    def truncate_multibyte(self) -> Mutation:
        inside = utf8_boundaries(self.data)
        if not inside:
            raise Declined("no multi-byte character")
        data = self.data[: self.rng.choice(inside)]
        return self.breaking("truncate-multibyte", data, self.last_line(data))

    def truncate_line_end(self) -> Mutation:
        """A cut exactly at a line end (with or without its line break): a record boundary in most formats."""
        spans = line_spans(self.data)
        start, end, stop = self.rng.choice(spans[:-1] or spans)
        return self.cut(self.rng.choice([end, stop]), "truncate-line-end")

    def cut(self, position: int, op: str) -> Mutation:
        """The file cut at byte ``position``, classified by what is left: a cut inside a character or a
        record breaks the file (at the cut line); a cut between records leaves the records before it; a cut
        inside a free-text last column leaves a shorter text; a cut in an unused column changes nothing."""
        data, removed = self.data[:position], self.data[position:]
        if position in set(utf8_boundaries(self.data)):
            return self.breaking(op, data, self.last_line(data))
        if not removed.strip():
            old, new = decoded(self.data), decoded(data)
            if new == old:
                return self.same(op, data)
            if new == old[: len(new)] and all(is_blank(line) for line in old[len(new):]):
                return self._trailing_removed(data, op)
            raise Declined("spaces cut from the end of a line")
        if self.spec.kind == "json":
            return self.breaking(op, data, self.last_line(data) if data.strip() else None)
        spans = line_spans(self.data)
        partial = next((n for n, (s, e, _) in enumerate(spans, 1) if s < position < e), None)
        # Lines left whole; an empty line only with its line break (without it, the cut file has no such line).
        complete = max((n for n, (s, e, stop) in enumerate(spans, 1) if e <= position and (s < e or stop <= position)),
                       default=0)
        if self.spec.header and (partial == 1 or complete == 0):
            return self.breaking(op, data)  # the header cut: named by the file (at line 1, or 2 for XNLI)
        if partial is not None:
            return self._cut_inside(op, data, partial, position)
        return self._cut_between(op, data, complete)

    def _cut_between(self, op: str, data: bytes, last: int) -> Mutation:
        """A cut at a line end: ``last`` is the last whole line left."""
        kind = self.spec.kind
        lines = decoded(self.data)
        order = [i for i, r in enumerate(self.records) if r.first <= last]
        open_record = next((r for r in self.records if r.first <= last < r.last), None)
        if open_record is None:
            if kind == "conllu" and last and not is_blank(lines[last - 1]):
                return self.breaking(op, data, last)  # the last sentence lost its closing blank line
            return self.edited(op, data, order=order)
        if kind in ("conllu", "ccg"):
            return self.breaking(op, data, last)  # a sentence without its end / a header without its tree
        if kind == "csv":
            return self.breaking(op, data, *range(open_record.first, last + 1))
        if kind == "blocks":
            index = self.records.index(open_record)
            return self.edited(op, data, order=order,
                               tokens={index: [(index, k) for k in range(last - open_record.first + 1)]})
        raise Declined(f"a cut inside a {kind} record")

    def _cut_inside(self, op: str, data: bytes, number: int, position: int) -> Mutation:
        """A cut inside the text of line ``number``."""
        kind = self.spec.kind
        end = line_spans(self.data)[number - 1][1]
        if kind == "ccg" and not self.data[position:end].strip() and self._record_at(number).last == number:
            return self._cut_between(op, data, number)  # only the derivation's trailing space cut: it is whole
        if kind in ("jsonl", "ccg", "conllu"):
            return self.breaking(op, data, number)
        record = self._record_at(number)
        if kind == "csv":
            return self.breaking(op, data, *range(record.first, number + 1))
        start = line_spans(self.data)[number - 1][0]
        text = self.data[start:position].decode("utf-8")
        if kind == "blocks":
            fields = (text.strip() if self.spec.strip_line else text).split(self.spec.sep)
            if len(fields) == 2 and fields[1].strip() in self.spec.columns[1].allowed:
                raise Declined("a tag cut to another tag")
            return self.breaking(op, data, number)
        return self._cut_row(op, data, record, text, number)

    def _cut_row(self, op: str, data: bytes, record: Record, line: str, number: int) -> Mutation:
        text = line.strip() if self.spec.strip_line else line
        columns = self.spec.columns
        fields = text.split(self.spec.sep) if self.spec.kind == "rows" else [text]
        if len(fields) < len(columns):
            return self.breaking(op, data, number)
        column, value = columns[len(fields) - 1], fields[-1]
        if column.role == LABEL:
            if value.strip() in column.allowed:
                raise Declined("a label cut to another label")
            return self.breaking(op, data, number)
        if column.role == UNUSED:
            return self.same(op, data)
        if column.role == TEXT:
            kept = value.strip() if column.strip else value
            if not kept.strip():
                raise Declined("a text cut to nothing")
            index = self.records.index(record)
            return self.edited(op, data, order=list(range(index + 1)), set={index: {column.field: kept}})
        raise Declined(f"a {column.role} column cut")

    # ------------------------------------------------------------------ columns

    def _row(self, words_only: bool = False) -> tuple[Record, list[str]]:
        """A record (a line, for token files) and its fields; ``words_only``: a CoNLL-U word line (no range,
        empty node or comment)."""
        if not self.records:
            raise Declined("no records")
        record = self.rng.choice(self.records)
        if self.spec.kind == "csv":
            return record, next(csv.reader(io.StringIO(self._text(record) + "\n"), strict=True))
        if self.spec.kind == "blocks" or self.spec.kind == "conllu":
            lines = decoded(self.data)
            choices = [n for n in range(record.first, record.last + 1) if not lines[n - 1].startswith("#")
                       and not (words_only and self.spec.kind == "conllu"
                                and not lines[n - 1].split("\t")[0].isdigit())]
            if not choices:
                raise Declined("no token line")
            number = self.rng.choice(choices)
            sub = Record(number, number, *line_spans(self.data)[number - 1])
            return sub, self._text(sub).split(self.spec.sep)
        text = self._text(record)
        return record, (text.strip() if self.spec.strip_line else text).split(self.spec.sep)

    def _text(self, record: Record) -> str:
        return self.data[record.start:record.end].decode("utf-8")

    def _replace_row(self, record: Record, fields: list[str]) -> bytes:
        if self.spec.kind == "csv":
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(fields)
            text = out.getvalue()
        else:
            text = self.spec.sep.join(fields)
        return self.data[:record.start] + text.encode() + self.data[record.end:]

    def _leaf_edit(self, op: str, change) -> Mutation:
        """A CCGbank leaf ``(<L cat POS POS word cat>)`` with its fields changed: the tree breaks at its line."""
        record = self.rng.choice(self.records)
        tree = decoded(self.data)[record.last - 1]
        leaves = [i for i in range(len(tree)) if tree.startswith("(<L ", i)]
        start = self.rng.choice(leaves) + len("(<L ")
        end = tree.index(">)", start)
        fields = tree[start:end].split(" ")
        change(fields)
        new_tree = tree[:start] + " ".join(fields) + tree[end:]
        span = line_spans(self.data)[record.last - 1]
        data = self.data[:span[0]] + new_tree.encode() + self.data[span[1]:]
        return self.breaking(op, data, record.last)

    def deep_tree(self) -> Mutation:
        """A derivation wrapped in 20,000 unary nodes: the same leaves, so the same sentence."""
        if self.spec.kind != "ccg":
            raise Declined("not CCGbank")
        record = self.rng.choice(self.records)
        tree = decoded(self.data)[record.last - 1].rstrip()
        depth = 20_000
        new_tree = "(<T S 0 1> " * depth + tree + " )" * depth + " "
        span = line_spans(self.data)[record.last - 1]
        return self.same("deep-tree", self.data[:span[0]] + new_tree.encode() + self.data[span[1]:])

    def drop_column(self) -> Mutation:
        if self.spec.kind == "ccg":
            return self._leaf_edit("drop-column", lambda fields: fields.pop(self.rng.randrange(len(fields))))
        if self.spec.kind not in COLUMN_KINDS:
            raise Declined("no columns")
        header = self.spec.header and self.rng.random() < 0.2
        if header:
            record = Record(1, 1, *line_spans(self.data)[0])
            fields = self._text(record).split(self.spec.sep) if self.spec.kind != "csv" else \
                next(csv.reader([self._text(record)]))
        else:
            record, fields = self._row()
        if len(fields) < 2:
            raise Declined("one column")
        del fields[self.rng.randrange(len(fields))]
        data = self._replace_row(record, fields)
        return self.breaking("drop-column", data, *((1, 2) if header else (record.first,)))

    def add_column(self) -> Mutation:
        if self.spec.kind == "ccg":
            return self._leaf_edit("add-column", lambda fields: fields.insert(self.rng.randrange(6), "zz"))
        if self.spec.kind not in COLUMN_KINDS:
            raise Declined("no columns")
        header = self.spec.header and self.rng.random() < 0.2
        if header:
            record = Record(1, 1, *line_spans(self.data)[0])
            fields = self._text(record).split(self.spec.sep) if self.spec.kind != "csv" else \
                next(csv.reader([self._text(record)]))
        else:
            record, fields = self._row()
        fields.insert(self.rng.randrange(len(fields) + 1), "zz")
        data = self._replace_row(record, fields)
        return self.breaking("add-column", data, *((1, 2) if header else (record.first,)))

    def swap_columns(self) -> Mutation:
        if self.spec.kind not in COLUMN_KINDS or len(self.spec.columns) < 2:
            raise Declined("no swappable columns")
        record, fields = self._row(words_only=True)
        if len(fields) != len(self.spec.columns):
            raise Declined("a row of another shape")
        a, b = sorted(self.rng.sample(range(len(fields)), 2))
        ca, cb = self.spec.columns[a], self.spec.columns[b]
        if fields[a] == fields[b]:
            raise Declined("equal values")
        fields[a], fields[b] = fields[b], fields[a]
        data = self._replace_row(record, fields)
        roles = {ca.role, cb.role}
        if LABEL in roles:
            for column, value in ((ca, fields[a]), (cb, fields[b])):
                if column.role == LABEL and value.strip() not in column.allowed:
                    return self.breaking("swap-columns", data, record.first)
            raise Declined("labels that stay valid")
        if KEY in roles:
            raise Declined("a key column moved")
        if roles == {UNUSED}:
            return self.same("swap-columns", data)
        if self.spec.kind not in ("rows", "csv"):
            raise Declined("a token's text moved")
        index = self.records.index(record)
        if roles == {TEXT}:
            return self.edited("swap-columns", data, take={index: {ca.field: (index, cb.field),
                                                                     cb.field: (index, ca.field)}})
        text_column, position = (ca, a) if ca.role == TEXT else (cb, b)
        value = fields[position].strip() if text_column.strip else fields[position]
        if not value.strip():
            raise Declined("a text replaced by nothing")
        return self.edited("swap-columns", data, set={index: {text_column.field: value}})

    def bad_label(self) -> Mutation:
        if self.spec.kind == "jsonl" or self.spec.kind == "json":
            return self.bad_json_label()
        labelled = [i for i, c in enumerate(self.spec.columns) if c.role == LABEL]
        if not labelled:
            raise Declined("no label column")
        record, fields = self._row(words_only=True)
        if len(fields) != len(self.spec.columns):
            raise Declined("a row of another shape")
        column = self.rng.choice(labelled)
        fields[column] = self.rng.choice(["BOGUS", "B-XYZ", "label", "9", "²"])
        return self.breaking("bad-label", self._replace_row(record, fields), record.first)


# Which operations apply to which kinds of file.
OPERATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bom": ("bom", LINE_KINDS + ("json",)),
    "crlf": ("crlf", LINE_KINDS + ("json",)),
    "cr": ("cr", LINE_KINDS + ("json",)),
    "trailing-blank": ("trailing_blank", LINE_KINDS + ("json",)),
    "final-newline": ("final_newline", LINE_KINDS + ("json",)),
    "invalid-utf8": ("invalid_bytes", LINE_KINDS + ("json",)),
    "raw-surrogate": ("raw_surrogate", LINE_KINDS + ("json",)),
    "nul": ("nul", LINE_KINDS + ("json",)),
    "empty": ("empty", LINE_KINDS + ("json",)),
    "blank-only": ("blank_only", LINE_KINDS + ("json",)),
    "huge-blank": ("huge_blank", LINE_KINDS + ("json",)),
    "huge": ("huge", LINE_KINDS + ("json",)),
    "truncate": ("truncate", LINE_KINDS + ("json",)),
    "truncate-multibyte": ("truncate_multibyte", LINE_KINDS + ("json",)),
    "truncate-line-end": ("truncate_line_end", LINE_KINDS),
    "drop-record": ("drop_record", LINE_KINDS),
    "duplicate-record": ("duplicate_record", LINE_KINDS),
    "swap-records": ("swap_records", LINE_KINDS),
    "remove-line": ("remove_line", LINE_KINDS),
    "add-line": ("add_line", LINE_KINDS + ("json",)),
    "swap-lines": ("swap_lines", LINE_KINDS),
    "drop-column": ("drop_column", COLUMN_KINDS + ("ccg",)),
    "add-column": ("add_column", COLUMN_KINDS + ("ccg",)),
    "swap-columns": ("swap_columns", COLUMN_KINDS),
    "deep-tree": ("deep_tree", ("ccg",)),
    "bad-label": ("bad_label", COLUMN_KINDS + ("lines",) + JSON_KINDS),
    "reformat": ("reformat", JSON_KINDS),
    "extra-key": ("extra_key", JSON_KINDS),
    "drop-key": ("drop_key", JSON_KINDS),
    "wrong-type": ("wrong_type", JSON_KINDS),
    "bad-offset": ("bad_offset", JSON_KINDS),
    "lone-surrogate-escape": ("lone_surrogate", JSON_KINDS),
    "deep-nesting": ("deep_nesting", JSON_KINDS),
    "json-records": ("json_record_op", ("json",)),
}


def mutate(context: Context, name: str, op: str, rng: random.Random) -> Mutation:
    method, kinds = OPERATIONS[op]
    if context.specs[name].kind not in kinds:
        raise Declined(f"{op} does not apply to {context.specs[name].kind}")
    return getattr(Mutator(context, name, rng), method)()
