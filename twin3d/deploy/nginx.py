"""nginx in front of ``twin3d serve --workers N``: nginx serves the static files, the workers everything else.

What nginx serves itself it serves as the app would, with the same types and headers:

- the viewer's public files (the page, ``/js/``, ``/vendor/``: :data:`twin3d.server.app.VIEWER_FILES` and
  ``VIEWER_DIRS``, never ``node_modules``), revalidated on every use (``no-cache``);
- the files of one tiles build, ``/tiles/<twin>/<build_id>/<path>.(json|glb|pbf)``: a build folder never changes once
  written, so its files are immutable for a year; nginx's ETag (``"<mtime hex>-<size hex>"``) is the app's.

Everything else goes to the app: the API, OGC API Features, vector tiles, layers' tiles, ``/docs``, and the
unversioned ``/tiles/<twin>/<path>`` that names whichever build is current.

Nothing in the generated text comes unchecked from the command line: paths are resolved to absolute folders of plain
characters and addresses must parse, because nginx would read a ``;``, ``{`` or space in them as syntax.

Example:
    >>> folders = {"tiles_dir": Path("tiles"), "viewer_dir": Path("viewer")}  # of a checkout with built twins
    >>> site = nginx_site(**folders, upstreams=["127.0.0.1:8000"])  # doctest: +SKIP
    >>> print(server_config(site))  # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from twin3d.errors import ConfigError
from twin3d.layers.formats import MIB
from twin3d.layers.models import MAX_MODEL_BYTES
from twin3d.pipeline.staging import BUILD_ID
from twin3d.server.app import VIEWER_DIRS, VIEWER_FILES
from twin3d.server.hardening import NOSNIFF, REFERRER_POLICY, viewer_policy
from twin3d.server.routers.layers import FORM_SLACK
from twin3d.server.routers.tiles import IMMUTABLE, MEDIA_TYPES, READ_FROM_ANYWHERE, TILE_PATH
from twin3d.server.state import TWIN_NAME
from twin3d.settings import LayerSettings, ParticipationSettings, ScenarioSettings

TILE_TYPES = {suffix.removeprefix("."): media_type for suffix, media_type in MEDIA_TYPES.items()}
# The viewer's files as Starlette types them (``mimetypes``; unknown suffixes such as LICENSE are text/plain).
VIEWER_TYPES = {
    "html": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "mjs": "text/javascript",
    "svg": "image/svg+xml",
    "json": "application/json",
}
# What nginx could not read literally inside a quoted header value ($ starts a variable).
UNQUOTABLE = re.compile(r'["\\$\x00-\x1f]')
UPSTREAM = "twin3d"
# Characters nginx reads as themselves in an unquoted path: no space, quote, ';', '{', '}', '$', '#' or backslash.
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/+@=-]*$")
HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*$")
SERVER_NAME = re.compile(r"^(?:_|\*?\.?[A-Za-z0-9.-]{1,253})$")


@dataclass(frozen=True)
class NginxSite:
    """One validated site: where nginx listens, which workers it proxies to and which folders it serves.

    Build it with :func:`nginx_site`, which checks every value.
    """

    listen: str
    server_name: str
    upstreams: tuple[str, ...]
    tiles_dir: Path
    viewer_dir: Path
    api_body_bytes: int
    upload_body_bytes: int


def _inner(pattern: str) -> str:
    return pattern.removeprefix("^").removesuffix("$")


def _folder(path: Path, what: str) -> Path:
    """``path`` as an absolute folder without links, of characters nginx takes literally."""
    resolved = path.expanduser().resolve()
    if not resolved.is_dir():
        raise ConfigError(f"the {what} folder does not exist", file=resolved, hint="build a twin, or fix the path")
    if not SAFE_PATH.match(str(resolved)):
        raise ConfigError(
            f"the {what} folder's path has characters nginx would read as syntax",
            file=resolved,
            hint="use a path of letters, digits and . _ - / only",
        )
    return resolved


def address(text: str, what: str = "address") -> str:
    """``host:port`` checked: an IPv4 address, ``[IPv6]`` or a host name, and a port 1-65535.

    Raises:
        ConfigError: when it is not such an address.
    """
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what} {text!r} is not host:port", hint="for example 127.0.0.1:8000")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        if not HOST_NAME.match(host):
            raise ConfigError(f"{what} {text!r} has no valid host", hint="an IP address or a host name") from None
        return f"{host}:{int(port)}"
    return f"[{ip}]:{int(port)}" if ip.version == 6 else f"{ip}:{int(port)}"


def upstream_of(host: str, port: int) -> str:
    """Where nginx reaches a server that listens on ``host:port`` (an any-address means this machine)."""
    loopback = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return address(f"[{loopback}]:{port}" if ":" in loopback else f"{loopback}:{port}", "server address")


def body_limits(
    participation: ParticipationSettings, scenarios: ScenarioSettings, layers: LayerSettings
) -> dict[str, int]:
    """The app's body limits, for nginx to stop larger bodies before a worker reads them.

    Returns:
        ``api_body_bytes`` (places or scenarios, whichever is larger; a workshop's 4 KiB is below both) and
        ``upload_body_bytes`` (layer uploads), as :func:`nginx_site` takes them.
    """
    api = max(participation.max_body_bytes, scenarios.max_body_bytes)
    return {"api_body_bytes": api, "upload_body_bytes": int(layers.max_file_mb * MIB) + FORM_SLACK}


def nginx_site(
    *,
    tiles_dir: Path,
    viewer_dir: Path,
    upstreams: Iterable[str],
    listen: str = "127.0.0.1:8080",
    server_name: str = "_",
    api_body_bytes: int = 1 << 20,
    upload_body_bytes: int = 1 << 20,
) -> NginxSite:
    """A checked :class:`NginxSite`.

    Args:
        tiles_dir: the root of the twins' tiles (``TWIN3D_TILES_DIR``).
        viewer_dir: the viewer's folder.
        upstreams: the workers' ``host:port`` (one for ``twin3d serve --workers N``: they share the port).
        listen: ``port`` or ``host:port`` nginx listens on.
        server_name: nginx's ``server_name`` (``_``: any).
        api_body_bytes: the largest request body of the API (a scenario, a place).
        upload_body_bytes: the largest layer upload.

    Raises:
        ConfigError: a value that nginx would misread or that names no folder.
    """
    workers = tuple(address(u, "upstream") for u in upstreams)
    if not workers:
        raise ConfigError("name at least one upstream", hint="the address of `twin3d serve`, e.g. 127.0.0.1:8000")
    port_only = listen.strip()
    checked = f"{int(port_only)}" if port_only.isdigit() and 0 < int(port_only) < 65536 else address(listen, "listen")
    if not SERVER_NAME.match(server_name):
        raise ConfigError(f"server name {server_name!r} is not a host name", hint="e.g. twin.example.org, or _")
    return NginxSite(
        listen=checked,
        server_name=server_name,
        upstreams=workers,
        tiles_dir=_folder(tiles_dir, "tiles"),
        viewer_dir=_folder(viewer_dir, "viewer"),
        api_body_bytes=int(api_body_bytes),
        upload_body_bytes=int(upload_body_bytes),
    )


def _types(types: dict[str, str], indent: str) -> str:
    return f"{indent}types {{ " + " ".join(f"{t} {s};" for s, t in types.items()) + " }"


def _quoted(value: str) -> str:
    if UNQUOTABLE.search(value):
        raise ConfigError(f"header value {value!r} cannot be written into nginx's configuration")
    return f'"{value}"'


def _static(indent: str, cache_control: str, *, csp: str | None = None) -> list[str]:
    """The headers the app sends with a static file (twin3d.server.hardening adds the security headers)."""
    lines = [
        f"add_header Cache-Control {_quoted(cache_control)};",
        f"add_header X-Content-Type-Options {_quoted(NOSNIFF)};",
        f"add_header Referrer-Policy {_quoted(REFERRER_POLICY)};",
    ]
    if csp is not None:
        lines.append(f"add_header Content-Security-Policy {_quoted(csp)};")
    return [indent + line for line in lines]


def _read_from_anywhere(indent: str) -> list[str]:
    """The CORS header the app sends with every tile (``twin3d.server.routers.tiles.READ_FROM_ANYWHERE``)."""
    return [f"{indent}add_header {name} {_quoted(value)};" for name, value in READ_FROM_ANYWHERE.items()]


def _viewer_locations(site: NginxSite) -> list[str]:
    v = site.viewer_dir
    gzip = "gzip on; gzip_vary on; gzip_min_length 1024; gzip_types text/css text/javascript image/svg+xml;"
    common = [
        f"        root {v};",
        f"        disable_symlinks on from={v};",
        _types(VIEWER_TYPES, "        "),
        "        default_type text/plain;",
        "        charset utf-8; charset_types text/css text/javascript text/plain;",
        f"        {gzip}",
        "        etag on;",
    ]
    lines = ["    # The viewer's public files, as twin3d.server.app.mount_viewer serves them (never node_modules)."]
    lines += ["    location = / {", "        index index.html;", f"        root {v};", "    }"]
    for name in VIEWER_FILES:
        if (v / name).is_file():
            headers = _static("        ", "no-cache", csp=viewer_policy(v) if name.endswith(".html") else None)
            lines += [f"    location = /{name} {{", *common, *headers, "    }"]
    for sub in VIEWER_DIRS:
        if (v / sub).is_dir():
            lines += [f"    location ^~ /{sub}/ {{", *common, "        try_files $uri =404;"]
            lines += [*_static("        ", "no-cache"), "    }"]
    return lines


def _tiles_location(site: NginxSite) -> list[str]:
    t = site.tiles_dir
    twin, build, file = _inner(TWIN_NAME.pattern), _inner(BUILD_ID.pattern), _inner(TILE_PATH)
    pattern = f"^/tiles/(?<tile_twin>{twin})/(?<tile_build>{build})/(?<tile_file>{file})$"
    return [
        "    # A tiles build never changes once written (a new build gets a new folder): nginx serves it, immutable.",
        '    # Its ETag, "<mtime hex>-<size hex>", is the one the app sends for the same file.',
        f'    location ~ "{pattern}" {{',
        f"        alias {t}/$tile_twin/$tile_build/$tile_file;",
        f"        disable_symlinks on from={t};",
        _types(TILE_TYPES, "        "),
        "        etag on;",
        "        gzip on; gzip_vary on; gzip_min_length 1024; gzip_types application/json;",
        "        open_file_cache max=10000 inactive=60s; open_file_cache_valid 300s;",
        *_static("        ", IMMUTABLE),
        *_read_from_anywhere("        "),
        "    }",
    ]


def _basemap_location(site: NginxSite) -> list[str]:
    """Basemap vector tiles of a build: as the other tiles, but a tile the build left out (it holds no feature) is an
    empty 204, which MapLibre draws as an empty tile, where a 404 would be a console error in every browser. (The app
    answers 204 only within the basemap's zooms and bounds; nginx cannot read those, so any missing one is empty.)"""
    t = site.tiles_dir
    twin, build = _inner(TWIN_NAME.pattern), _inner(BUILD_ID.pattern)
    pattern = f"^/tiles/(?<map_twin>{twin})/(?<map_build>{build})/(?<map_file>basemap/[0-9]+/[0-9]+/[0-9]+[.]pbf)$"
    return [
        f'    location ~ "{pattern}" {{',
        f"        alias {t}/$map_twin/$map_build/$map_file;",
        f"        disable_symlinks on from={t};",
        _types({"pbf": TILE_TYPES["pbf"]}, "        "),
        "        etag on;",
        "        error_page 404 = @empty_tile;",
        *_static("        ", IMMUTABLE),
        *_read_from_anywhere("        "),
        "    }",
        "    location @empty_tile {",
        *_read_from_anywhere("        "),
        "        return 204;",
        "    }",
    ]


def server_config(site: NginxSite) -> str:
    """The ``upstream`` and ``server`` blocks, for a file that nginx's ``http {}`` includes (``conf.d/``)."""
    servers = [f"    server {u};" for u in site.upstreams]
    twin = _inner(TWIN_NAME.pattern)
    lines = [
        "# twin3d behind nginx, written by `twin3d deploy nginx`. Include it in nginx's http {} block.",
        "# The workers must trust this proxy's X-Forwarded-For, or every client looks like 127.0.0.1 to the rate",
        "# limits: start them with TWIN3D_TRUSTED_PROXIES=127.0.0.1 twin3d serve --workers N",
        "# (name nginx's address there when it runs on another machine).",
        f"upstream {UPSTREAM} {{",
        *servers,
        "    keepalive 32;",
        "    # Shorter than uvicorn's keep-alive (5 s), so that nginx never reuses a connection the worker closes.",
        "    keepalive_timeout 4s;",
        "}",
        "",
        "server {",
        f"    listen {site.listen};",
        f"    server_name {site.server_name};",
        "    server_tokens off;",
        "    # The app refuses larger bodies itself (413); nginx stops them before they reach a worker.",
        f"    client_max_body_size {site.api_body_bytes};",
        "",
        "    proxy_http_version 1.1;",
        '    proxy_set_header Connection "";',
        "    # $http_host keeps the port: the app builds absolute links (OGC API) from it.",
        "    proxy_set_header Host $http_host;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "    proxy_connect_timeout 5s;",
        "    proxy_send_timeout 60s;",
        "    # A scenario's simulation may take a while; longer than any request the app answers.",
        "    proxy_read_timeout 300s;",
        "",
        *_viewer_locations(site),
        "",
        *_basemap_location(site),  # before the other tiles: nginx takes the first regex location that matches
        *_tiles_location(site),
        "",
        "    # Layer uploads (admins) stream to the app instead of filling nginx's temporary files first.",
        f'    location ~ "^/api/twins/{twin}/layers$" {{',
        f"        client_max_body_size {site.upload_body_bytes};",
        "        proxy_request_buffering off;",
        "        proxy_read_timeout 3600s;",
        f"        proxy_pass http://{UPSTREAM};",
        "    }",
        "",
        "    # glTF models of planned buildings: larger than other API bodies (twin3d.layers.models).",
        f'    location ~ "^/api/twins/{twin}/models$" {{',
        f"        client_max_body_size {MAX_MODEL_BYTES + FORM_SLACK};",
        f"        proxy_pass http://{UPSTREAM};",
        "    }",
        "",
        "    # Everything else: the API, OGC API, vector tiles, layers' tiles, /docs, unversioned tile URLs.",
        "    location / {",
        f"        proxy_pass http://{UPSTREAM};",
        "    }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def standalone_config(site: NginxSite, run_dir: Path, *, processes: int | None = None, access_log: bool = False) -> str:
    """A whole ``nginx.conf`` that runs in the foreground with every file in ``run_dir`` (tests, benchmarks).

    Run it with ``nginx -c <run_dir>/nginx.conf -p <run_dir>``.

    Args:
        site: the site it serves.
        run_dir: the folder of the pid, the logs and the temporary files (created if missing).
        processes: nginx worker processes; None: one per core.
        access_log: log each request with the upstream that answered it (``-`` when nginx served it itself).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    run = _folder(run_dir, "run")
    log = f"access_log {run}/access.log twin3d;" if access_log else "access_log off;"
    temps = " ".join(f"{kind}_temp_path {run}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Started by root, nginx's workers would run as nobody, who cannot read a private folder (a test's temporary
    # one): they read as the user who started it. A production nginx keeps its own, unprivileged user.
    user = [f"user {pwd.getpwuid(os.geteuid()).pw_name};"] if os.geteuid() == 0 else []
    head = [
        *user,
        f"worker_processes {processes or 'auto'};",
        "daemon off;",
        f"pid {run}/nginx.pid;",
        f"error_log {run}/error.log warn;",
        "events { worker_connections 1024; }",
        "http {",
        "    log_format twin3d '$remote_addr \"$request\" $status $body_bytes_sent upstream=$upstream_addr';",
        f"    {log}",
        "    sendfile on; tcp_nopush on; tcp_nodelay on;",
        "    default_type application/octet-stream;",
        f"    {temps}",
    ]
    body = ["    " + line if line else "" for line in server_config(site).splitlines()]
    return "\n".join([*head, *body, "}"]) + "\n"
