"""Celery loses nothing: a worker killed with -9 in the middle of a task
(the whole process group, as when its machine dies) has that task run
again by the next worker, because tasks are acknowledged only once done
(``acks_late``) and Redis delivers unacknowledged ones again after the
visibility timeout (6 s here, ``CELERY_VISIBILITY_TIMEOUT``; longer than the
2-s task, or a live worker would take its own task back). The second worker
sweeps for such tasks every 2 s (a third of the timeout), so the
task runs again within a few seconds of that worker starting, whenever it
starts: kombu's default sweep (every tenth 10-s tick) could miss it for 100 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.cache import cache

from sso_site.celery import app
from tests.ops.celery_probe import probe_slow
from tests.ops.servers import ROOT, server_env

pytestmark = pytest.mark.slow


@contextmanager
def worker(queue: str) -> Iterator[subprocess.Popen[bytes]]:
    env = server_env(CELERY_VISIBILITY_TIMEOUT="6")
    command = [
        str(os.path.join(os.path.dirname(sys.executable), "celery")),
        "-A",
        "sso_site",
        "worker",
        "--include",
        "tests.ops.celery_probe",
        "-Q",
        queue,
        "-c",
        "1",
        "-l",
        "WARNING",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_the_task_of_a_killed_worker_runs_again(transactional_db: None) -> None:
    assert app.conf.task_acks_late
    assert app.conf.task_reject_on_worker_lost
    assert app.conf.broker_transport_options["unacked_restore_throttle"] == 1
    key = uuid.uuid4().hex
    queue = f"probe-{key}"
    attempts = f"probe:{key}:attempts"
    done = f"probe:{key}:done"
    probe_slow.apply_async((key, 2.0), queue=queue)

    with worker(queue) as first:
        assert wait_until(lambda: cache.get(attempts) == 1, 30), "the task never started"
        os.killpg(first.pid, signal.SIGKILL)  # mid-task
        first.wait(timeout=10)
    assert cache.get(done) is None

    with worker(queue):
        # boot (a few s) + visibility (6 s) + a sweep (2 s) + the task (2 s)
        assert wait_until(lambda: cache.get(done) == 1, 60), "the task was lost"
    assert cache.get(attempts) == 2
