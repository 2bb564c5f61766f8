"""The JSON operations of the reader fuzz suite's mutator (reader_mutations.Mutator): JSON re-serialised,
unknown keys added (both meaning-preserving), required keys dropped or given a wrong type, labels outside the
label set, offsets outside the text, lone surrogate escapes, deep nesting (breaking), whole records (SQuAD
questions) swapped, dropped, duplicated or repeated many times."""

from __future__ import annotations

import copy
import json

from reader_mutator import Declined, Mutation, deep, dumps, get_path, json_paths, set_path, wrong_value


class JsonMutations:
    """Mixed into reader_mutations.Mutator (which gives ``rng``, ``spec``, ``data``, ``records``, ``name``,
    ``note`` and the result helpers ``same``, ``breaking`` and ``edited``)."""

    def huge_json(self) -> Mutation:
        """A SQuAD-style file whose articles are repeated (question ids made unique): the same questions, many
        times over."""
        if not self.spec.record_path or not self.spec.droppable:
            raise Declined("no repeatable records")
        value = json.loads(self.data.decode("utf-8"))
        questions = len(json_paths(value, self.spec.record_path + "[*]"))
        copies = max(2, 3000 // max(questions, 1))
        articles = []
        for k in range(copies):
            for article in copy.deepcopy(value["data"]):
                for path in json_paths({"data": [article]}, self.spec.record_path + "[*].id"):
                    qa = get_path({"data": [article]}, path[:-1])
                    qa["id"] = f"{qa['id']}~{k}"
                articles.append(article)
        value["data"] = articles
        return self.edited("huge", json.dumps(value).encode(), copies=copies)

    def _json_records(self) -> list[tuple[int | None, object, bytes]]:
        """(line, value, raw line) of each JSON value: every non-blank line of jsonl, or the one document."""
        if self.spec.kind == "json":
            return [(None, json.loads(self.data.decode("utf-8")), self.data)]
        out = []
        for record in self.records:
            raw = self.data[record.start:record.end]
            out.append((record.first, json.loads(raw.decode("utf-8")), raw))
        return out

    def _json_mutation(self, op: str, change, kind: str = "breaking", ascii_only: bool = False) -> Mutation:
        """Apply ``change(value)`` to one JSON value (a random jsonl line, or the document) and write it back.
        ``change`` raises Declined when the value has nothing to change."""
        values = self._json_records()
        self.rng.shuffle(values)
        for line, value, raw in values:
            try:
                changed = copy.deepcopy(value)
                change(changed)
            except Declined:
                continue
            text = json.dumps(changed, ensure_ascii=ascii_only)
            if self.spec.kind == "json":
                data = text.encode("utf-8")
            else:
                start = self.data.index(raw)
                data = self.data[:start] + text.encode("utf-8") + self.data[start + len(raw):]
            mutation = self.same(op, data) if kind == "same" else \
                self.breaking(op, data, line if self.spec.kind == "jsonl" else None)
            mutation.note = getattr(self, "note", "")
            return mutation
        raise Declined(f"no JSON value for {op}")

    def _pick(self, value, patterns):
        paths = [(path, allowed) for pattern, allowed in patterns for path in json_paths(value, pattern)]
        if not paths:
            raise Declined("no such key")
        path, allowed = self.rng.choice(paths)
        self.note = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
        return path, allowed

    def reformat(self) -> Mutation:
        if self.spec.kind == "json":
            value = json.loads(self.data.decode("utf-8"))
            return self.same("reformat", dumps(value, self.rng).encode("utf-8"))
        if self.spec.kind != "jsonl":
            raise Declined("not JSON")
        out = self.data
        for record in reversed(self.records):
            raw = self.data[record.start:record.end]
            text = dumps(json.loads(raw.decode("utf-8")), self.rng)
            if "\n" in text:
                text = json.dumps(json.loads(text), ensure_ascii=self.rng.random() < 0.5)
            out = out[:record.start] + text.encode("utf-8") + out[record.end:]
        return self.same("reformat", out)

    def extra_key(self) -> Mutation:
        def change(value):
            objects = [path for pattern, _ in self.spec.required for path in json_paths(value, pattern)
                       if isinstance(get_path(value, path), dict)] + ([()] if isinstance(value, dict) else [])
            target = get_path(value, self.rng.choice(objects))
            target["zz_unknown_key"] = self.rng.choice([1, "x", [], {"a": None}])

        return self._json_mutation("extra-key", change, kind="same")

    def drop_key(self) -> Mutation:
        def change(value):
            path, _ = self._pick(value, self.spec.required)
            del get_path(value, path[:-1])[path[-1]]

        return self._json_mutation("drop-key", change)

    def wrong_type(self) -> Mutation:
        def change(value):
            path, allowed = self._pick(value, self.spec.required + self.spec.optional)
            set_path(value, path, wrong_value(allowed, self.rng))

        return self._json_mutation("wrong-type", change)

    def bad_json_label(self) -> Mutation:
        def change(value):
            path, allowed = self._pick(value, self.spec.labels)
            set_path(value, path, self.rng.choice([v for v in ("BOGUS", 7, -1, "²", "Z") if v not in allowed]))

        return self._json_mutation("bad-label", change)

    def bad_offset(self) -> Mutation:
        def change(value):
            path, _ = self._pick(value, [(pattern, ()) for pattern in self.spec.offsets])
            old = get_path(value, path)
            new = self.rng.choice([10**6, -1, -10**6])
            set_path(value, path, [new, new + 1] if isinstance(old, list) else new)

        return self._json_mutation("bad-offset", change)

    def lone_surrogate(self) -> Mutation:
        def change(value):
            strings = [path for pattern, _ in self.spec.required for path in json_paths(value, pattern)
                       if isinstance(get_path(value, path), str)]
            if not strings:
                raise Declined("no string")
            path = self.rng.choice(strings)
            old = get_path(value, path)
            cut = self.rng.randint(0, len(old))
            set_path(value, path, old[:cut] + self.rng.choice(["\ud83d", "\ude00", "\udfff"]) + old[cut:])

        mutation = self._json_mutation("lone-surrogate-escape", change, ascii_only=True)
        if self.spec.kind == "json":
            mutation.lines = (1,)  # written on one line
        return mutation

    def deep_nesting(self) -> Mutation:
        marker = "zz_deep_marker"

        def change(value):
            path, _ = self._pick(value, self.spec.required)
            set_path(value, path, marker)

        mutation = self._json_mutation("deep-nesting", change)
        text = mutation.files[self.name].decode("utf-8")
        mutation.files[self.name] = text.replace(json.dumps(marker), deep(100_000), 1).encode("utf-8")
        return mutation

    def json_record_op(self) -> Mutation:
        if self.spec.kind != "json" or not self.spec.record_path:
            raise Declined("no JSON records")
        value = json.loads(self.data.decode("utf-8"))
        lists = [p for p in json_paths(value, self.spec.record_path) if len(get_path(value, p)) >= 1]
        path = self.rng.choice(lists)
        items = get_path(value, path)
        op = self.rng.choice(["swap", "duplicate", "drop"] if self.spec.droppable else ["swap", "duplicate"])
        if op == "swap":
            if len(items) < 2:
                raise Declined("one record")
            a, b = self.rng.sample(range(len(items)), 2)
            items[a], items[b] = items[b], items[a]
            return self.edited("json-swap-records", dumps(value).encode(), swap_ids=(items[b]["id"], items[a]["id"]))
        index = self.rng.randrange(len(items))
        if op == "duplicate":
            items.insert(index, copy.deepcopy(items[index]))
            return self.breaking("json-duplicate-record", dumps(value).encode())
        dropped = items.pop(index)
        return self.edited("json-drop-record", dumps(value).encode(), drop_ids=(dropped["id"],))
