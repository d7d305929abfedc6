"""The service's one background index writer: store and index brought into agreement off the request path.

A service process never indexes inside a request. Writes (``POST /v1/projects``, ``/file``,
``DELETE``) commit to the store and hand the ids they changed to :class:`Indexer`, whose single
thread embeds them and writes the index delta (or a new generation). The same thread:

* loads the index at start-up (falling back to the previous generation when the newest is damaged)
  and reconciles it with the store by content hash, so projects a crash left in the store only
  (a ``kill -9`` between the store's commit and the index write, in the service or in a CLI
  ``ingest``) are indexed, and a damaged generation is rebuilt;
* repeats that reconciliation every ``reconcile_interval_s`` (another process may write the store);
* follows index writes made by other processes (a CLI ``ingest`` beside the service), loading the
  new version itself, so no request thread ever reads index files.

While requests are being answered the thread pauses after each chunk of work (a few dozen
projects) for as long as the chunk took, at most :data:`PACE_MAX_S`: tokenizing and embedding are
Python holding the GIL, and without the pauses a request waiting for the GIL behind a rebuild of
~14k projects took up to 6 s (``make reliability``, damaged generation and kill -9 sections). When
no request is in flight it runs at full speed. Idle, it returns freed memory to the system every
:data:`~planalign.memory.TRIM_EVERY_S` (planalign/memory.py).

Readiness follows it: ``/readyz`` says "indexing n of m" (503) while store and index disagree.
A failed pass (e.g. the disk is full) is logged, kept as the health problem, and retried with a
growing pause; the ids it held stay queued.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planalign import memory
from planalign.index.project_index import IndexDamaged, ProjectIndex, index_root, load_latest, read_pointer

if TYPE_CHECKING:
    from planalign.app import Application

log = logging.getLogger("planalign.indexer")
FOLLOW_EVERY_S = 1.0  # how often CURRENT is read for another process's writes (a 30-byte file)
MAX_BACKOFF_S = 60.0
WARM_UP_WAIT_S = 120.0
# Pause after a chunk = the CPU time this thread spent on it (the thread takes at most about half of
# the GIL while requests wait), capped. CPU time, not wall time: a chunk that mostly waited on e5's
# native inference (GIL released, other threads) needs no pause. With wall time, a restart that
# embeds every word anew (make reliability, K2) took 156 s against the 120 s target.
PACE_MAX_S = 0.25


@dataclass
class IndexerState:
    """What /readyz and /healthz report about the index."""

    loaded: bool = False  # the first load finished (a version, or nothing to load)
    reconciled: bool = False  # a full comparison with the store succeeded at least once
    running: bool = False  # a pass is embedding or writing
    done: int = 0  # projects embedded in the running pass
    total: int = 0  # projects the running pass embeds
    queued: int = 0  # ids waiting for the next pass
    problems: list[str] = field(default_factory=list)  # damage found at load, or the last pass's failure

    @property
    def agreed(self) -> bool:
        return self.loaded and self.reconciled and not self.running and not self.queued and not self.problems

    def describe(self) -> str:
        if not self.loaded:
            return "loading the index"
        if self.running and self.total:
            return f"indexing {self.done} of {self.total}"
        if self.queued or self.running:
            return f"indexing {self.queued} queued change(s)" if self.queued else "indexing"
        if self.problems:
            return "; ".join(self.problems)
        return "index agrees with the store" if self.reconciled else "comparing the index with the store"


class Indexer:
    def __init__(self, app: Application, reconcile_interval: float) -> None:
        self.app = app
        self.reconcile_interval = reconcile_interval
        self.state = IndexerState()
        self._changed = threading.Condition(threading.Lock())
        self._pending: set[str] = set()
        self._reconcile = True  # a full comparison is due (start-up)
        self._next_reconcile = 0.0
        self._tickets = 0  # handed to writers
        self._waiters = 0  # write requests blocked in :meth:`wait`
        self._finished = 0  # every ticket up to this one is indexed
        self._stop = False
        self._thread: threading.Thread | None = None
        self._chunk_started = 0.0
        self._next_trim = 0.0

    # ---------------------------------------------------------------------------- writers
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="indexer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._changed:
            self._stop = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def enqueue(self, ids: list[str]) -> int:
        """Queue ids whose rows may have changed; returns a ticket to :meth:`wait` on."""
        with self._changed:
            self._pending.update(ids)
            self._tickets += 1
            self.state.queued = len(self._pending)
            self._changed.notify_all()
            return self._tickets

    def wait(self, ticket: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a ticket's ids to be indexed; True when they are."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiters += 1  # a request waiting for this thread: no reason to pause for it
            try:
                while self._finished < ticket:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._stop:
                        return False
                    self._changed.wait(left)
                return True
            finally:
                self._waiters -= 1

    def wait_loaded(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the first load (small indexes load in milliseconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self.state.loaded:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def reconcile_soon(self) -> None:
        with self._changed:
            self._reconcile = True
            self._changed.notify_all()

    # ------------------------------------------------------------------------------ thread
    def _run(self) -> None:
        # Not niced: a background thread that holds the GIL while the OS starves it would stall every
        # request thread waiting for the GIL (measured: restarts 10x slower, requests waiting seconds).
        self._load()
        # The first comparison waits for the models (a few seconds): both at once on 2 cores slow both.
        self.app.warmed.wait(WARM_UP_WAIT_S)
        failures = 0
        while True:
            with self._changed:
                if not self._pending and not self._reconcile and time.monotonic() < self._next_reconcile:
                    self._changed.wait(FOLLOW_EVERY_S)  # woken by a write or stop; else follow other processes
                if self._stop:
                    return
                if time.monotonic() >= self._next_reconcile:
                    self._reconcile = True
                full, ids, ticket = self._reconcile, set(self._pending), self._tickets
                self._pending.clear()
                self._reconcile = False
                self.state.queued = 0
                self.state.running = full or bool(ids)
            if not full and not ids:
                self._follow()
                self._trim()
                continue
            try:
                self._pass(None if full else sorted(ids))
            except Exception as exc:  # logged, reported, retried: never kills the thread
                failures += 1
                log.exception("index pass failed (attempt %d)", failures)
                with self._changed:
                    self._pending.update(ids)
                    self._reconcile = self._reconcile or full
                    self.state.queued = len(self._pending)
                    self.state.problems = [f"indexing failed ({type(exc).__name__}); retrying"]
                    self.state.running = False
                    self.state.total = self.state.done = 0
                    self._changed.wait(min(MAX_BACKOFF_S, 0.5 * 2**failures))
                continue
            failures = 0
            with self._changed:
                self._finished = max(self._finished, ticket)
                self.state.running = False
                self.state.total = self.state.done = 0
                self.state.problems = []
                first = full and not self.state.reconciled
                if full:
                    self.state.reconciled = True
                    self._next_reconcile = time.monotonic() + self.reconcile_interval
                self._changed.notify_all()
            if first:
                self._declare_stored()

    def _declare_stored(self) -> None:
        """What the stored projects' forms declare, recorded once after the first comparison with the store: an upload
        killed after its projects' commit and before their declarations left 832 of them unrecorded, and no restart
        repaired it (an operator's year). Declarations recorded before, or withdrawn, are left as they are."""
        try:
            recorded, _ = self.app.declare(list(self.app.store.iter_all()))
        except Exception:  # logged: the service serves all the same, and the next ingest of the file declares them
            log.exception("recording the stored projects' declared alignments failed")
            return
        if recorded.stored:
            log.info("recorded %d declared alignments the stored projects' forms had and the store lacked", len(recorded.stored))

    def _load(self) -> None:
        """The first load, off the request path; damage falls back and is reported until repaired."""
        index: ProjectIndex | None = None
        try:
            loaded = load_latest(self.app.data_dir)
            index, problems = loaded.index, loaded.problems
        except Exception as exc:
            log.exception("index load failed")
            problems = [f"the index could not be loaded ({type(exc).__name__}); it will be rebuilt from the store"]
        for problem in problems:
            log.warning("%s", problem)
        self.app._set_index(index)
        with self._changed:
            self.state.problems = problems
            self.state.loaded = True
            self._changed.notify_all()

    def _pass(self, only: list[str] | None) -> None:
        def planned(total: int) -> None:
            self.state.total, self.state.done = total, 0

        def progress(n: int) -> None:
            self.state.done = min(self.state.total, self.state.done + n)
            self._yield_to_requests()

        self._chunk_started = time.thread_time()
        self.app.sync(only=only, progress=progress, planned=planned)

    def _yield_to_requests(self) -> None:
        """After a chunk of work: while requests are in flight, pause as long as this thread computed (capped)."""
        worked = time.thread_time() - self._chunk_started
        if self.app.requests.active > self._waiters:  # requests other than writes waiting for this very work
            time.sleep(min(PACE_MAX_S, worked))
        self._chunk_started = time.thread_time()

    def _trim(self) -> None:
        if time.monotonic() >= self._next_trim:
            memory.trim()
            self._next_trim = time.monotonic() + memory.TRIM_EVERY_S

    def _follow(self) -> None:
        """Load a version another process wrote (our own writes are already swapped in memory)."""
        have = self.app._index
        try:
            pointer = read_pointer(index_root(self.app.data_dir))
        except IndexDamaged:
            self.reconcile_soon()
            return
        if pointer is None or (have is not None and (have.generation, have.deltas) == pointer):
            return
        try:
            loaded = load_latest(self.app.data_dir, have)
        except Exception:
            log.exception("following the index failed")
            self.reconcile_soon()
            return
        if loaded.exact:
            self.app._set_index(loaded.index)
        else:  # damaged by someone else: the next pass repairs it
            self.state.problems = loaded.problems
            self.reconcile_soon()
