"""Importers: turn checkpoints published in other formats into Hugging Face model folders that
:func:`xstilts.models.encoder.load_encoder` loads like any other (``model: {name_or_path: DIR}``)."""
