"""A real nginx in front of a real server, for the tests of what a reverse proxy forwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from . import lanes

#: Debian's ``/etc/nginx/proxy_params``, which its examples include: the usual headers.
PROXY_PARAMS = """
proxy_set_header Host $http_host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
"""

_CONFIG = """
user root;
worker_processes 1;
error_log {folder}/error.log;
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            {headers}
        }}
    }}
}}
"""


def find_nginx() -> str | None:
    """nginx on ``PATH``, or in ``/usr/sbin`` (not on a plain user's ``PATH``)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


class Nginx:
    """nginx on a free port of 127.0.0.1, passing everything (websockets too) to ``upstream``,
    with ``headers`` (``proxy_set_header`` lines; none: nginx's defaults)."""

    def __init__(self, folder: Path, upstream: int, headers: str = "") -> None:
        lanes.check("server")
        executable = find_nginx()
        if executable is None:  # skipped on a developer's machine, a failure on CI
            missing = "no nginx found; install it with: apt-get install nginx-light"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{missing} (CI must install it)")
            pytest.skip(missing)
        folder.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:  # a free port, as the kernel picks it
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = folder / "nginx.conf"
        config.write_text(
            _CONFIG.format(folder=folder, port=self.port, upstream=upstream, headers=headers)
        )
        self.folder = folder
        self.process = subprocess.Popen(
            [executable, "-p", str(folder), "-c", str(config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        log = folder / "error.log"
        raise AssertionError(f"nginx did not start: {log.read_text() if log.exists() else ''}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)
