"""The production setup (deploy/serve.py: nginx buffering in front of
gunicorn's 2 sync workers) under slow clients: four slowloris connections
(headers sent a byte at a time, and a body shorter than its
Content-Length) do not delay /healthz beyond 2 s; oversized bodies are
refused by nginx.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.ops.servers import production_stack, server_env, wait_for

pytestmark = pytest.mark.slow


def _slow_headers(host: str, port: int, stop: threading.Event) -> None:
    with socket.create_connection((host, port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        while not stop.wait(0.5):
            try:
                sock.sendall(b"X-a: b\r\n")
            except OSError:
                return


def _short_body(host: str, port: int, stop: threading.Event) -> None:
    with socket.create_connection((host, port)) as sock:
        sock.sendall(
            b"POST /agent/login/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\nsite_id=1"
        )
        stop.wait(20)


def test_slowloris_does_not_delay_healthz(transactional_db: None, tmp_path: Path) -> None:
    with production_stack(server_env(), tmp_path, workers=2) as base:
        wait_for(f"{base}/healthz")
        host, port = base.removeprefix("http://").split(":")
        stop = threading.Event()
        attackers = [
            threading.Thread(target=fn, args=(host, int(port), stop), daemon=True)
            for fn in (_slow_headers, _slow_headers, _short_body, _short_body)
        ]
        for thread in attackers:
            thread.start()
        try:
            time.sleep(1.0)  # the four connections are open and trickling
            for _ in range(5):
                start = time.monotonic()
                response = requests.get(f"{base}/healthz", timeout=10)
                took = time.monotonic() - start
                assert response.status_code == 200
                assert took < 2.0, took
                time.sleep(0.5)
        finally:
            stop.set()
        # Bodies over the limit never reach a worker.
        too_big = requests.post(f"{base}/agent/login/", data=b"x" * 600_000, timeout=10)
        assert too_big.status_code == 413
