"""planalign: Thai NLP alignment and search for strategy catalogs and projects.

The layers live in top-level folders (nlp/, corpora/, index/, service/, eval/) and install as
``planalign.<layer>``. Importing any of them imports this module first, which pins the runtime to
offline operation: the service must never try to reach a model hub or download data at run time.
"""
from __future__ import annotations

import os

__version__ = "0.1.0"

for _var, _value in {
    "PYTHAINLP_OFFLINE": "1",  # pythainlp must not try to download corpora
    "HF_HUB_OFFLINE": "1",  # sentence-transformers must only read local directories
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_var, _value)

# Two cores is the target machine; oversubscribing BLAS threads makes numpy encoders far slower.
os.environ.setdefault("OMP_NUM_THREADS", str(min(4, os.cpu_count() or 1)))
