"""How the service process gives freed memory back to the system (glibc's allocator).

Under load the service's resident memory grew by 230-270 MB in a few minutes while the Python and
numpy objects alive grew by about 20 MB (tracemalloc, 20 threads of align/search/duplicate checks
with an upsert every 10 s, 90-180 s). The rest was memory already freed but kept by glibc: every
request thread allocates its numpy temporaries (rows of the 14k-row index) from its own *arena*
(up to 8 per core), and freed blocks inside an arena are not returned until a trim. Measured
in-process on 2 cores (90 s, same load, noisy machine): RSS growth 231 MB by default, 112 MB with at
most 2 arenas, 55 MB with 2 arenas and a trim at the end. So the service limits the arenas at start
and the indexer thread trims every :data:`TRIM_EVERY_S` seconds while idle.

Elsewhere than glibc (musl, macOS) both are no-ops.
"""
from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("planalign.memory")
M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h
ARENAS = 2  # one per core of the target machine; more arenas only held more freed memory (above)
TRIM_EVERY_S = 10.0  # a trim takes a few milliseconds at ~700 MB; every 10 s it is invisible to requests


def _libc() -> ctypes.CDLL | None:
    """The C library the process already runs on (the symbols of the running program, no search of
    the file system): glibc's when it has ``mallopt`` and ``malloc_trim``, else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most ``arenas`` malloc arenas for threads started from now on; True when glibc took it.

    Call before the server starts its threads (arenas are bound to threads when they first allocate).
    """
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Return the free memory of every arena to the system; True when some was returned."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))
