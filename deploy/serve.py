"""Production serving in one command (``make serve``): nginx in front of N
gunicorn instances, each with its own workers, and the chat windows' push
stream server (uvicorn, ``chats.stream``), on one machine.

    python deploy/serve.py [--listen 127.0.0.1:8080] [--instances 2] [--workers 2]

It renders ``deploy/nginx.conf`` into ``var/serve/`` (or ``--run-dir``),
starts the instances on consecutive ports after ``--app-port``, the stream
server on ``--stream-port`` (``--no-stream``: none; the windows then poll),
then nginx, and stops them all on SIGINT/SIGTERM. The environment is passed on:
``DJANGO_SETTINGS_MODULE`` (production unless set), ``SECRET_KEY``,
``DATABASE_URL``, ``REDIS_URL``, ``ALLOWED_HOSTS``... On several machines run
the instances on each and list them all in one nginx's upstream (README).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def render(args: argparse.Namespace, run_dir: Path, ports: list[int]) -> Path:
    template = (ROOT / "deploy" / "nginx.conf").read_text()
    upstreams = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;" for port in ports
    )
    values = {
        "USER": "user root;" if os.geteuid() == 0 else "",
        "RUN": str(run_dir),
        "UPSTREAMS": upstreams,
        "LISTEN": args.listen,
        "STATIC": str(ROOT / "staticfiles"),
        "TEMPLATES": str(ROOT / "templates"),
        "PROTO": args.proto,
        "STREAM_PORT": str(args.stream_port),
    }
    for name, value in values.items():
        template = template.replace(f"@@{name}@@", value)
    conf = run_dir / "nginx.conf"
    conf.write_text(template)
    return conf


def stream_command(port: int) -> list[str]:
    """The push stream server (``chats.stream``): one uvicorn process holds
    the windows' idle streams; no access log (the chat token is in the URL)."""
    return [
        str(Path(sys.executable).with_name("uvicorn")),
        "chats.stream:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--backlog",
        "4096",
        "--timeout-graceful-shutdown",
        "5",
        "--proxy-headers",
        "--forwarded-allow-ips",
        "127.0.0.1",
    ]


def wait_healthy(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own server)
                return True
        except Exception:  # not up yet
            time.sleep(0.2)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default=os.environ.get("SERVE_LISTEN", "127.0.0.1:8080"))
    parser.add_argument(
        "--app-port", type=int, default=int(os.environ.get("SERVE_APP_PORT", "8100"))
    )
    parser.add_argument(
        "--instances", type=int, default=int(os.environ.get("SERVE_INSTANCES", "2"))
    )
    parser.add_argument("--workers", type=int, default=int(os.environ.get("SERVE_WORKERS", "2")))
    parser.add_argument(
        "--run-dir", default=os.environ.get("SERVE_RUN_DIR", str(ROOT / "var/serve"))
    )
    parser.add_argument(
        "--stream-port", type=int, default=int(os.environ.get("SERVE_STREAM_PORT", "8099"))
    )
    parser.add_argument("--no-stream", action="store_true", help="no push stream server")
    parser.add_argument("--proto", default="$scheme", help="X-Forwarded-Proto to send")
    parser.add_argument("--no-collectstatic", action="store_true")
    args = parser.parse_args()

    run_dir = Path(args.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SSO_CLIENT_IP_HEADER": "HTTP_X_REAL_IP"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "sso_site.settings.production")
    env.setdefault("CONN_MAX_AGE", "60")
    # nginx routes the windows' streams to the stream server: on our origin.
    env.setdefault("SSO_CHAT_STREAM", "off" if args.no_stream else "self")
    # A file per open window (its stream) in nginx and the stream server.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if not args.no_collectstatic:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    ports = [args.app_port + i for i in range(args.instances)]
    conf = render(args, run_dir, ports)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    children: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for port in ports:
            children.append(
                subprocess.Popen(
                    [
                        gunicorn,
                        "sso_site.wsgi:application",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        str(args.workers),
                        "--timeout",
                        "30",
                        "--graceful-timeout",
                        "10",
                        "--max-requests",
                        "5000",
                        "--max-requests-jitter",
                        "500",
                        "--no-control-socket",
                        "--forwarded-allow-ips",
                        "127.0.0.1",
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
        if not args.no_stream:
            children.append(subprocess.Popen(stream_command(args.stream_port), cwd=ROOT, env=env))
        for port in ports:
            if not wait_healthy(f"http://127.0.0.1:{port}/healthz", 30):
                print(f"serve: app instance on port {port} did not come up", file=sys.stderr)
        if not args.no_stream and not wait_healthy(
            f"http://127.0.0.1:{args.stream_port}/healthz", 30
        ):
            print("serve: the stream server did not come up", file=sys.stderr)
        nginx = shutil.which("nginx") or "nginx"
        children.append(
            subprocess.Popen(
                [
                    nginx,
                    "-p",
                    str(run_dir),
                    "-e",
                    str(run_dir / "nginx-error.log"),
                    "-c",
                    str(conf),
                    "-g",
                    "daemon off;",
                ],
            )
        )
        print(
            f"serve: nginx on http://{args.listen}/ -> {len(ports)} instance(s) {ports}", flush=True
        )
        parent = os.getppid()
        while all(child.poll() is None for child in children):
            if os.getppid() != parent:  # whoever started us is gone
                return 0
            time.sleep(0.5)
        print("serve: a process exited, stopping", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
