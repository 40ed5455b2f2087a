"""Long computations of the explorer (compress an image, fit every K): one per client at a time.

Each runs on a small thread pool, reports its stage and progress, and stops at its next
checkpoint when cancelled. A library call already running (one ``quantize``, one ``KMeans``
fit) finishes first: lloyd's functions take no cancel hook, so the checkpoints sit between
them. The client's slot stays taken until the work has really stopped, so starting and
cancelling in a loop cannot pile up threads.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

__all__ = ["Busy", "Cancelled", "Job", "JobManager"]

_log = logging.getLogger("lloyd.explore")


class Cancelled(Exception):
    """Raised at a checkpoint of a job whose client cancelled it."""


class Busy(Exception):
    """This client already has a computation running, or the server has too many."""


@dataclass
class Job:
    """One long computation: its state as the page polls it."""

    kind: str
    client: str
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    state: str = "queued"  # queued -> running -> done | failed | cancelled
    stage: str = "waiting for a free worker"
    progress: float = 0.0
    result: object = None
    error: str | None = None
    seconds: float | None = None  # time the work itself took (server time)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _finished: threading.Event = field(default_factory=threading.Event)

    def checkpoint(self, stage: str, progress: float) -> None:
        """Report progress; raise :class:`Cancelled` if the client asked to stop."""
        if self._cancel.is_set():
            raise Cancelled
        self.stage, self.progress = stage, progress

    def cancel(self) -> None:
        self._cancel.set()
        if self.state == "queued":
            self.state, self.stage = "cancelled", "cancelled"

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state, "stage": self.stage,
                "progress": round(self.progress, 3), "error": self.error,
                "seconds": self.seconds}


class JobManager:
    """Runs jobs on ``workers`` threads; at most one unfinished job per client and
    ``max_jobs`` in all (queued or running); keeps each client's latest job for polling."""

    def __init__(self, workers: int = 2, max_jobs: int = 64):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lloyd-job")
        self._lock = threading.Lock()
        self._latest: dict[str, Job] = {}  # client -> its latest job
        self._max_jobs = max_jobs

    def start(self, client: str, kind: str, work) -> Job:
        """Queue ``work(job)``; its return value becomes ``job.result``. Raises Busy."""
        with self._lock:
            previous = self._latest.get(client)
            if previous is not None and not previous.finished:
                what = "is stopping" if previous._cancel.is_set() else "is running"
                raise Busy(f"your previous computation ({previous.kind}) {what}; cancel it "
                           "or wait for it to finish")
            if sum(not job.finished for job in self._latest.values()) >= self._max_jobs:
                raise Busy(f"the server is running {self._max_jobs} computations; try again "
                           "in a moment")
            if len(self._latest) > 4 * self._max_jobs:  # forget finished clients' results
                for key in [k for k, job in self._latest.items() if job.finished][:self._max_jobs]:
                    del self._latest[key]
            job = Job(kind=kind, client=client)
            self._latest[client] = job
        self._pool.submit(self._run, job, work)
        return job

    def get(self, client: str, job_id: str) -> Job | None:
        job = self._latest.get(client)
        return job if job is not None and job.id == job_id else None

    def _run(self, job: Job, work) -> None:
        try:
            if job._cancel.is_set():
                raise Cancelled
            job.state, job.stage = "running", "starting"
            start = time.perf_counter()
            job.result = work(job)
            job.seconds = time.perf_counter() - start
            job.state, job.stage, job.progress = "done", "done", 1.0
        except Cancelled:
            job.state, job.stage = "cancelled", "cancelled"
        except (ValueError, OSError) as exc:  # the library's word on bad input, for the user
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # a bug: logged, and reported to the page without a traceback
            _log.exception("explorer job %s (%s) failed", job.id, job.kind)
            job.state, job.error = "failed", f"internal error ({type(exc).__name__}); the " \
                "server's log has the details"
        finally:
            job._finished.set()

    def shutdown(self) -> None:
        for job in list(self._latest.values()):
            job.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
