"""Learning from decisions: per catalog and encoder, a model fitted on the catalog's active decisions.

Every aligner the core hands out for a catalog (``Application.aligner``) is the learned one when the
catalog has decisions, else the zero-shot one. A learned model carries a version (1, 2, ... per
catalog and encoder, kept across restarts) and the number of examples it learned from; answers
report both.

* **The service** refits in a background thread when decisions change: a change asks for a refit
  2 s later (later changes push it back, but never more than 30 s after the first), so a reviewer
  accepting row after row causes one refit, not one per row. Requests keep the model they started
  with; the new one replaces it by reference when it is ready (a swap, never a half-fitted model).
* **The command line** has no background: a command that finds the model older than the decisions
  fits it before answering (``planalign decisions import`` refits at its end, so this is rare).
* **On disk**: each fitted model is kept under ``<data dir>/models/`` (written to a temporary file,
  then renamed), with the decisions it was fitted on (their count and newest id) and the catalog's
  digest: a restart serves it at once, and refits only if decisions or the catalog changed since.
* **Measuring**: a model that learned from a text is never used to predict that text when quality is
  measured (``planalign eval``, a job with a label column): such a measurement gets a model fitted
  without those texts.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from planalign.decisions import examples
from planalign.errors import NotFound, Unavailable
from planalign.index.align import SCORING_VERSION, Aligner

if TYPE_CHECKING:
    from planalign.app import Application

log = logging.getLogger("planalign.learning")
Key = tuple[str, str]  # (catalog id, encoder name)
ANY = object()  # Learning._keep's ``replacing`` when the model served is replaced whatever it is
# 2: example models carry the review threshold their decisions set; 3: and the labels as decided (given); 4: text keys without
# line breaks (migration 0005); 5: learned at learning_level (a dimension model of mostly issue decisions was served on)
FORMAT = 5


@dataclass
class Learned:
    """A model learned from a catalog's decisions, and what it was learned from."""

    aligner: Aligner
    version: int
    examples: int
    fingerprint: tuple[int, int]  # (decisions, newest id) when it was fitted
    digest: str  # the catalog's
    fitted: float  # Unix time
    keys: set[str] = field(default_factory=set)  # text keys of its examples
    seconds: float = 0.0  # how long the fit took


class Learning:
    """Learned aligners per (catalog, encoder): load, fit, refit in the background, keep on disk."""

    DEBOUNCE_S = 2.0
    MAX_DELAY_S = 30.0
    CHECK_EVERY_S = 5.0  # how often a served model is compared with the decisions (another process may add some)

    def __init__(self, app: Application) -> None:
        self.app = app
        self.root = app.data_dir / "models"
        self._current: dict[Key, Learned | None] = {}
        self._checked: dict[Key, float] = {}
        self._seen: dict[Key, tuple[int, int, int] | None] = {}  # the model file's _stamp when this process last loaded or wrote it
        self._lock = threading.Lock()
        self._fit_locks: dict[Key, threading.Lock] = {}
        self._due: dict[str, tuple[float, float]] = {}  # catalog -> (when to refit, when first asked)
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self._refitting = False  # the background took a due catalog and has not finished its refits
        self.fits = 0

    # ----------------------------------------------------------------------------- serving
    @property
    def background(self) -> bool:
        return self._worker is not None

    def aligner(self, catalog_id: str, zero: Aligner, exclude: set[str] | None = None) -> Aligner:
        """The learned aligner of this catalog and encoder (``zero`` when it has no decisions).

        ``exclude``: text keys whose decisions must not be learned from (measuring on those texts).
        """
        learned = self.current(catalog_id, zero)
        if learned is None:
            return zero
        if exclude and learned.keys & exclude:
            return self._fit_without(catalog_id, zero, learned, exclude)
        return learned.aligner

    def current(self, catalog_id: str, zero: Aligner) -> Learned | None:
        """The model in use (loaded from disk, or fitted now on the command line); a stale one is refit."""
        key = (catalog_id, zero.encoder_label)
        digest = zero.catalog.digest
        with self._lock:
            have = read = self._current.get(key)
            recent = time.monotonic() - self._checked.get(key, -1e9) < self.CHECK_EVERY_S
        if key in self._current and recent and (have is None or have.digest == digest):
            return have
        fingerprint = self.app.decisions.fingerprint(catalog_id)
        if have is None or have.digest != digest or (have.fingerprint != fingerprint and self._written_since(key)):
            # once, or when another process wrote the file since (`decisions import` fits before it ends: the service
            # refit the same decisions itself, ~70 s later: an evaluation team at scale); megabytes to unpickle
            record = self._read(key, mark=True)
            if _learned_nothing(record, digest, fingerprint):  # every decision withdrawn, or none learnable: zero-shot
                return self._keep(key, None, replacing=read)
            stored = self._learned(record, zero, digest)
            if have is None or have.digest != digest or (stored is not None and stored.fingerprint == fingerprint):
                have = stored
        if (have is not None and have.fingerprint == fingerprint) or fingerprint[0] == 0:
            return self._keep(key, have if fingerprint[0] else None, replacing=read)
        if self.background:
            standing = self._keep(key, have, replacing=read)
            self._schedule(catalog_id, push=False)
            return standing
        return self.refit(catalog_id, zero)

    def _written_since(self, key: Key) -> bool:
        """Whether the model file changed since this process last loaded or wrote it (another process wrote it)."""
        return self._stamp(key) != self._seen.get(key)

    def _stamp(self, key: Key) -> tuple[int, int, int] | None:
        """The model file's identity: a rename gives a new inode, and two writes within a coarse mtime differ by it."""
        try:
            status = self._path(key).stat()
        except OSError:
            return None
        return status.st_mtime_ns, status.st_ino, status.st_size

    def _keep(self, key: Key, learned: Learned | None, replacing: object = ANY) -> Learned | None:
        """Serve ``learned`` from now on and return the model served. ``replacing``: only if that is still the one
        served; else the one served stays and is returned: a request that read the model just before the background
        swapped in a refit put the older one back, and the same decisions were fitted again (a blind review)."""
        with self._lock:
            if replacing is not ANY and self._current.get(key) is not replacing:
                return self._current.get(key)
            self._current[key] = learned
            self._checked[key] = time.monotonic()
            return learned

    def status(self, stored: bool = False) -> list[dict]:
        """The models in use: catalog, encoder, version, examples, when fitted, the review thresholds
        their decisions set. ``stored``: also the models kept on disk for the catalog as it is now and
        not looked at by this process (a command line process has loaded none)."""
        with self._lock:
            items = [(key, m.version, m.examples, m.fitted, m.seconds, m.aligner.example_models, True) for key, m in self._current.items() if m is not None]
            known = set(self._current)  # a key kept as None: this process found no decisions to learn from (a file may remain)
        if stored and self.root.is_dir():
            served = {self._path(key) for key in known}  # not unpickled again at every look at the stats (78 MB, a blind review)
            for path in sorted(self.root.glob("*.pkl")):
                if path in served:
                    continue
                record = self._read_file(path)
                if record is None or record.get("nothing") or (key := (record["catalog"], record["encoder"])) in known or path != self._path(key):
                    continue
                if record["digest"] == self._catalog_digest(key[0]):  # else learned on a catalog since replaced: it would be refit
                    items.append((key, record["version"], record["examples"], record["fitted"], record.get("seconds", 0.0), record["models"], False))
        found = []
        for (c, e), version, count, fitted, seconds, models, loaded in sorted(items, key=lambda item: item[0]):
            model = models[0]
            found.append({"catalog": c, "encoder": e, "version": version, "examples": count, "fitted": fitted, "fit_seconds": round(seconds, 2), "loaded": loaded,
                          "level": model.level if model else None,  # where its thresholds apply (the stats said which threshold, not where)
                          "review_below": model.review_below if model else None, "fused_review_below": model.fused_review_below if model else None})
        return found

    def _catalog_digest(self, catalog_id: str) -> str | None:
        """The digest of the catalog as it is now (None when it is gone)."""
        try:
            return self.app.catalog(catalog_id).digest
        except Exception:  # a catalog removed or unreadable: its model is not shown
            return None

    # ----------------------------------------------------------------------------- fitting
    def refit(self, catalog_id: str, zero: Aligner, progress: Callable[[int], None] | None = None) -> Learned | None:
        """Fit on the catalog's active decisions now (unless the model already has them all)."""
        key = (catalog_id, zero.encoder_label)
        digest = zero.catalog.digest
        with self._lock:
            lock = self._fit_locks.setdefault(key, threading.Lock())
        with lock, self._fitting(key):
            fingerprint = self.app.decisions.fingerprint(catalog_id)  # read before the decisions: never newer than them
            have = self._current.get(key) or self._load(key, zero, digest)
            if have is not None and have.fingerprint != fingerprint and self._written_since(key):  # another process fitted meanwhile
                stored = self._load(key, zero, digest)
                have = stored if stored is not None and stored.fingerprint == fingerprint else have
            if have is not None and have.fingerprint == fingerprint and have.digest == digest:
                self._keep(key, have)
                return have
            learned_from = examples(self.app.decisions.active(catalog_id), zero.catalog)
            if not learned_from.texts:
                # said on disk, in place of a model learned from what is gone now; and when there was none: a file-less
                # "nothing" was fitted again at every check, every 5 s while requests came (a blind review)
                if not _learned_nothing(self._read(key), digest, fingerprint):
                    self._save_nothing(key, fingerprint, digest)
                self._keep(key, None)
                return None
            started = time.perf_counter()
            version = max(have.version if have else 0, self._stored_version(key)) + 1
            aligner = zero.learned(learned_from.texts, learned_from.labels, version, progress)
            learned = Learned(aligner, version, aligner.examples, fingerprint, digest, time.time(), learned_from.keys,
                              time.perf_counter() - started)
            self._save(key, learned)
            self._keep(key, learned)
            self.fits += 1
            log.info("catalog %s (%s): model v%d from %d decisions in %.1f s", catalog_id, key[1], version, learned.examples, learned.seconds)
            return learned

    def _fit_without(self, catalog_id: str, zero: Aligner, learned: Learned, exclude: set[str]) -> Aligner:
        """A model of the same decisions less the excluded texts (for a measurement; not kept)."""
        kept = examples(self.app.decisions.active(catalog_id), zero.catalog, exclude)
        return zero.learned(kept.texts, kept.labels, learned.version) if kept.texts else zero

    # ------------------------------------------------------------------------- background
    def start(self) -> None:
        """Refit in a background thread from now on; models older than the decisions are refit soon."""
        with self._wake:
            if self._worker is not None:
                return
            self._worker = threading.Thread(target=self._run_forever, name="learning", daemon=True)
            self._worker.start()
        self._sweep_leftovers()
        for catalog_id in self.app.decisions.catalogs():
            self._schedule(catalog_id, push=False)

    LEFTOVER_AGE_S = 600.0  # a model file is written in about a second: a temporary one this old was left by a kill

    def _sweep_leftovers(self) -> None:
        """Remove the temporary files of model writes a kill -9 cut short: one of 29.9 MB stayed through every later
        refit, and into backups (an operator's year). Only old ones: another process may be writing one now."""
        if not self.root.is_dir():
            return
        for leftover in self.root.glob(".model-*"):
            with contextlib.suppress(OSError):
                if time.time() - leftover.stat().st_mtime > self.LEFTOVER_AGE_S:
                    leftover.unlink()
                    log.info("removed %s, a model file a stopped write left", leftover.name)

    def changed(self, catalog_id: str) -> None:
        """Decisions of this catalog changed: look again at the next request; in the background, refit after the debounce."""
        with self._lock:
            for key in [k for k in self._checked if k[0] == catalog_id]:
                del self._checked[key]
        self._schedule(catalog_id, push=True)

    def _schedule(self, catalog_id: str, push: bool) -> None:
        """Ask the background for a refit of this catalog (``push``: a new change moves a pending refit back)."""
        if not self.background:
            return
        now = time.monotonic()
        with self._wake:
            if catalog_id in self._due and not push:
                return
            _, first = self._due.get(catalog_id, (0.0, now))
            self._due[catalog_id] = (min(now + self.DEBOUNCE_S, first + self.MAX_DELAY_S), first)
            self._wake.notify()

    def _next_due(self) -> str:
        with self._wake:
            while True:
                now = time.monotonic()
                ready = [c for c, (when, _) in self._due.items() if when <= now]
                if ready:
                    del self._due[ready[0]]
                    self._refitting = True  # until its refits end: wait_idle saw none due and no fit lock held yet
                    return ready[0]
                self._wake.wait(min((when for when, _ in self._due.values()), default=now + 60.0) - now)

    def _run_forever(self) -> None:
        while True:
            catalog_id = self._next_due()
            with self._lock:
                encoders = {e for (c, e) in self._current if c == catalog_id} | {self.app.settings.encoder}
            for encoder in sorted(encoders):
                try:
                    self.refit(catalog_id, self.app.aligner(catalog_id, encoder, learn=False))
                except Unavailable:  # the model still loading at start-up: tried again soon (it was a traceback, and no retry)
                    log.info("refit of catalog %s (%s) waits for the model to load", catalog_id, encoder)
                    self._schedule(catalog_id, push=False)
                except NotFound:  # a removed catalog's decisions are kept on purpose: nothing to learn for (a traceback at every start)
                    log.info("catalog %s cannot be read here (removed, or a file only the command line reads): its decisions are kept, "
                             "and no model is fitted", catalog_id)
                except Exception:  # a bug or a catalog gone: logged; the model in use stays
                    log.exception("refit of catalog %s (%s) failed", catalog_id, encoder)
            with self._wake:
                self._refitting = False

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no refit is due or running (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._wake:
                due = bool(self._due) or self._refitting
            busy = any(lock.locked() for lock in list(self._fit_locks.values()))
            if not due and not busy:
                return True
            time.sleep(0.05)
        return False

    # ------------------------------------------------------------------------------ on disk
    @contextmanager
    def _fitting(self, key: Key) -> Iterator[None]:
        """One fit of a model at a time across the processes of this data directory: a `decisions import` and the
        service fitted the same decisions side by side (a blind review); the one that waits finds the other's file
        fitted on these decisions (refit) and takes it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self._path(key).with_suffix(".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _path(self, key: Key) -> Path:
        return self.root / (hashlib.sha1("\x00".join(key).encode("utf-8")).hexdigest()[:20] + ".pkl")

    def _save(self, key: Key, learned: Learned) -> None:
        self._write(key, {"format": FORMAT, "scoring": SCORING_VERSION, "catalog": key[0], "encoder": key[1], "version": learned.version,
                          "examples": learned.examples, "fingerprint": learned.fingerprint, "digest": learned.digest, "fitted": learned.fitted,
                          "keys": sorted(learned.keys), "seconds": learned.seconds, "models": learned.aligner.example_models})

    def _write(self, key: Key, record: dict) -> None:
        """A model file written whole or not at all (a temporary file, fsynced, renamed over the old one)."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".model-")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(record, out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
                os.fsync(out.fileno())
            # the version beside it, a few bytes, first: an unreadable model file made the next model v1 again (an
            # operator's year); written after the model, a crash between the two left the sidecar behind it (a blind review)
            _write_text(self._path(key).with_suffix(".version"), str(record["version"]))
            os.replace(temporary, self._path(key))
            self._seen[key] = self._stamp(key)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _save_nothing(self, key: Key, fingerprint: tuple[int, int], digest: str) -> None:
        """Keep on disk that these decisions teach nothing (all withdrawn, or none learnable), in place of the model
        learned before them: left there, it was loaded again a few seconds after the refit dropped it, and served
        the withdrawn label at 1.0 (a blind review). Its version stays the last model's, so the next one counts on."""
        self._write(key, {"format": FORMAT, "scoring": SCORING_VERSION, "catalog": key[0], "encoder": key[1], "version": self._stored_version(key),
                          "examples": 0, "fingerprint": fingerprint, "digest": digest, "nothing": True})

    def _read(self, key: Key, mark: bool = False) -> dict | None:
        """The model file of ``key``; ``mark``: it is the one this process now serves from (or weighed and left), so
        only another write makes :meth:`_written_since` true (a version lookup marking it hid another process's model)."""
        if mark:
            self._seen[key] = self._stamp(key)  # before reading: a file replaced meanwhile is read again at the next check
        record = self._read_file(self._path(key))
        return record if record is not None and (record["catalog"], record["encoder"]) == key else None

    def _read_file(self, path: Path) -> dict | None:
        """A model file of this format and scoring, or None (absent, unreadable, of another version: fit again)."""
        record = _unpickled(path)
        if record is None or record.get("format") != FORMAT:
            return None
        return record if record.get("scoring") == SCORING_VERSION else None  # learned under another scoring: fit again

    def _load(self, key: Key, zero: Aligner, digest: str) -> Learned | None:
        return self._learned(self._read(key, mark=True), zero, digest)

    @staticmethod
    def _learned(record: dict | None, zero: Aligner, digest: str) -> Learned | None:
        """The model a file holds, for the catalog as it is now (None: none, another version of it, or nothing learned)."""
        if record is None or record["digest"] != digest or record.get("nothing"):
            return None
        aligner = zero.with_example_models(record["models"], record["version"])
        return Learned(aligner, record["version"], record["examples"], (int(record["fingerprint"][0]), int(record["fingerprint"][1])), digest, record["fitted"],
                       set(record["keys"]), record.get("seconds", 0.0))

    def _stored_version(self, key: Key) -> int:
        """The version of the model on disk, of any format or scoring: versions count on across an upgrade (they began
        at 1 again, and a job's recorded model version named two models; a blind review)."""
        try:  # written before every model file since: never behind it, and a few bytes where the model is megabytes
            return int(self._path(key).with_suffix(".version").read_text(encoding="ascii").strip())
        except (OSError, ValueError):  # a store from before the sidecar: the model file says it
            record = _unpickled(self._path(key))
        try:
            return int(record["version"]) if record and (record["catalog"], record["encoder"]) == key else 0
        except (KeyError, TypeError, ValueError):  # a file of a format that had no version
            return 0


def _write_text(path: Path, text: str) -> None:
    """A small file written whole or not at all."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".model-")
    try:
        with os.fdopen(handle, "w", encoding="ascii") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _unpickled(path: Path) -> dict | None:
    """A model file's record (None: absent, or unreadable, as a file of an older program's classes may be)."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:  # written by this program into its own data directory
            record = pickle.load(handle)
    except Exception:  # an unreadable file (another version): fit again
        log.warning("ignoring unreadable model file %s", path)
        return None
    return record if isinstance(record, dict) else None


def _learned_nothing(record: dict | None, digest: str, fingerprint: tuple[int, int]) -> bool:
    """Whether a model file says these very decisions teach nothing (:meth:`Learning._save_nothing`)."""
    return record is not None and bool(record.get("nothing")) and record["digest"] == digest and tuple(record["fingerprint"]) == fingerprint
