"""X-Forwarded-For is believed only from configured proxies: through the real server (uvicorn), and behind nginx."""

from __future__ import annotations

import http.client
import ipaddress
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, serving
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.server.proxies import forwarded_client
from twin3d.settings import ParticipationSettings, PathSettings, ServerSettings

API = "/api/twins/lauf"
# Three new participants per address, then 429 (and hardly any refill during a test).
STRICT = ParticipationSettings(participants_burst=3, participants_per_hour=1)
NGINX = shutil.which("nginx")


def _paths(root: Path, demo_paths: PathSettings) -> PathSettings:
    store_dir = root / "var"
    store_dir.mkdir(parents=True)
    (store_dir / "lauf.duckdb").symlink_to(demo_paths.store_file("lauf").resolve())
    return PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)


@contextmanager
def _server(tmp_path: Path, demo_paths: PathSettings, server: ServerSettings) -> Iterator[int]:
    """The real app under uvicorn (as ``twin3d serve`` starts it); yields its port."""
    port = free_port()
    paths = _paths(tmp_path / f"app-{port}", demo_paths)
    with serving(create_app(server.model_copy(update={"port": port}), paths, STRICT), port):
        yield port


def _post(port: int, path: str, headers: dict[str, str], *, host: str = "127.0.0.1", source: str | None = None) -> int:
    """One POST over a real TCP connection, optionally from a chosen loopback address; returns the status."""
    conn = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0) if source else None)
    try:
        conn.request("POST", path, body=b"", headers={"Content-Length": "0", **headers})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _statuses(port: int, n: int, **kwargs: Any) -> list[int]:
    return [_post(port, f"{API}/participants", {"X-Forwarded-For": f"198.51.100.{i}"}, **kwargs) for i in range(n)]


def test_the_rightmost_untrusted_address_is_the_client() -> None:
    proxy = (ipaddress.ip_network("10.0.0.0/8"),)
    assert forwarded_client("10.1.2.3", ["203.0.113.9"], proxy) == "203.0.113.9"
    # what the client wrote itself stands left of what the proxies appended
    assert forwarded_client("10.1.2.3", ["1.1.1.1, 2.2.2.2, 203.0.113.9, 10.0.0.7"], proxy) == "203.0.113.9"
    assert forwarded_client("10.1.2.3", ["1.1.1.1", "203.0.113.9"], proxy) == "203.0.113.9"  # two headers
    assert forwarded_client("203.0.113.9", ["1.1.1.1"], proxy) == "203.0.113.9"  # not from a proxy: ignored
    assert forwarded_client("10.1.2.3", [], proxy) == "10.1.2.3"
    assert forwarded_client("10.1.2.3", ["garbage, 10.0.0.9"], proxy) == "10.0.0.9"  # no address: stop there
    assert forwarded_client("10.1.2.3", ["[2001:db8::1]:443"], proxy) == "2001:db8::1"
    assert forwarded_client("127.0.0.1", ["203.0.113.9"], ()) == "127.0.0.1"  # default: no proxy is trusted


def test_trusted_proxies_setting_takes_ips_and_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN3D_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8 ,::1")
    assert [str(n) for n in ServerSettings().trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    monkeypatch.delenv("TWIN3D_TRUSTED_PROXIES")
    assert ServerSettings().trusted_proxies == ()
    with pytest.raises(ValueError, match="not an IP address or CIDR"):
        ServerSettings(trusted_proxies="localhost")


def test_forwarded_headers_from_an_unconfigured_sender_change_nothing(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    with _server(tmp_path, demo_paths, ServerSettings()) as port:
        statuses = _statuses(port, 8)
    assert statuses == [201, 201, 201] + [429] * 5


def test_a_trusted_proxy_names_each_client(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    with _server(tmp_path, demo_paths, ServerSettings(trusted_proxies="127.0.0.1")) as port:
        assert _statuses(port, 8) == [201] * 8  # eight clients behind the proxy, one token each
        same = {"X-Forwarded-For": "203.0.113.7"}
        assert [_post(port, f"{API}/participants", same) for _ in range(4)] == [201, 201, 201, 429]
        # a client that puts addresses of its own in front is still itself
        spoofed = [{"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.8"} for i in range(4)]
        assert [_post(port, f"{API}/participants", h) for h in spoofed] == [201, 201, 201, 429]
    # a proxy at another address is not believed
    with _server(tmp_path, demo_paths, ServerSettings(trusted_proxies="10.0.0.1")) as port:
        assert _statuses(port, 5) == [201, 201, 201, 429, 429]


# The location block of the README, with nginx's connections to the app from 127.0.0.2 (the trusted proxy), so that
# clients on other loopback addresses are told apart from it.
NGINX_CONF = """
worker_processes 1;  daemon off;  pid {tmp}/nginx.pid;  error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;  proxy_temp_path {tmp}/proxy;  fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi;  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{app};
      proxy_bind 127.0.0.2;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      client_max_body_size 2g;
    }}
  }}
}}
"""


@contextmanager
def _nginx(tmp: Path, app_port: int) -> Iterator[int]:
    assert NGINX is not None
    port = free_port()
    tmp.mkdir(parents=True)
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=port, app=app_port), encoding="utf-8")
    proc = subprocess.Popen([NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:  # ready when it answers through to the app
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/twins")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {(tmp / 'error.log').read_text()}") from None
                time.sleep(0.05)
            finally:
                conn.close()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (the README's test command installs Debian's nginx)")
def test_behind_nginx_each_client_counts_and_forged_headers_do_not(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    with (
        _server(tmp_path, demo_paths, ServerSettings(trusted_proxies="127.0.0.2")) as app_port,
        _nginx(tmp_path / "nginx", app_port) as port,
    ):
        # one client rotating the header: nginx appends its real address, which is what counts
        assert _statuses(port, 6, source="127.0.0.5") == [201, 201, 201, 429, 429, 429]
        # other clients (other loopback addresses) have their own allowance
        assert [_post(port, f"{API}/participants", {}, source=f"127.0.0.{i}") for i in range(10, 16)] == [201] * 6
        # the app itself, reached directly from an untrusted address, ignores the header
        assert _statuses(app_port, 4, source="127.0.0.9") == [201, 201, 201, 429]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/twins", headers={"X-Forwarded-For": "1.2.3.4"})
        assert json.loads(conn.getresponse().read())  # an ordinary request goes through as before
        conn.close()
