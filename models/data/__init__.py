"""The data: MNIST and Fashion-MNIST, found on disk or downloaded once, then split.

Read `datasets.py` (`load_dataset` → train / validation / test `Splits`), then `idx.py`
(the IDX file format) and `download.py` (the first mirror that works, within bounds).
"""
