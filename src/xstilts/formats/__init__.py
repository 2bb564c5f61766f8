"""Readers for the official raw files of the benchmarks, one small module per format.

Each reader follows the task reader contract (``reader(path, split, language)`` yields ``(line_number,
example)``) and produces examples in the shape of its task's family (see each family's ``validate_example``).
The files are read as the official download leaves them: no converted copies are needed.

Every byte goes through :mod:`xstilts.formats.common` (``text_lines``; JSON documents and JSON lines are
parsed from those lines), so a byte order mark, CRLF or CR line ends, undecodable bytes and lone surrogates
are handled alike everywhere. Each reader checks what its format promises (column counts, offsets against
the text, gold ids against the candidates, labels against the label set, no empty files); bad input raises
:class:`~xstilts.errors.DataError` naming the file and line (or the JSON key path). ``tests/test_fuzz_readers.py``
holds every reader to this with seeded mutations of the real-format samples.
"""
