"""Loading vendor exports into the warehouse's ``raw`` schema (``loader.py`` runs one file and one export; see its
docstring for the guarantees): ``sources.py`` is the export contract, ``landing.py`` finds the files,
``scan.py``, ``json_records.py`` and ``rules.py`` read and check them, ``ledger.py`` records every file and bad
row, ``profiles.py`` and ``conversion.py`` read a tool's own CSV through a mapping profile. ``common.py`` holds
the names and settings they share.
"""
