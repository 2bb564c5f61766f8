"""Readers for the official raw files of the benchmarks, one small module per format.

Each reader follows the task reader contract (``reader(path, split, language)`` yields ``(line_number,
example)``) and produces examples in the shape of its task's family (see each family's ``validate_example``).
Bad input raises :class:`~xstilts.errors.DataError` naming the file and line. The files are read as the
official download leaves them: no converted copies are needed.
"""
