"""The warehouse's upkeep outside the nightly models: its storage (``storage.py``)."""
