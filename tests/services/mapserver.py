"""A real MapServer (Debian's ``cgi-mapserver``, MapServer 8) and MapCache (``mapcache-cgi``) for the tests of
layers from services: one small HTTP server on a free 127.0.0.1 port that runs ``mapserv`` (or ``mapcache``) per
request, as a web server runs a CGI program, and counts what it was asked.

What it serves, all from real data:

- ``zensus``: a raster of the Zensus 2021 population per 1 km cell around Lauf (the bundled
  ``geodata/lauf/census-grid`` CSV, written as a GeoTIFF in EPSG:3035, the grid's own CRS), classed yellow below
  500 residents and magenta from 500, offered in EPSG:3857 among others; WMS 1.3.0 and 1.1.1.
- ``dgm``: the bundled Köln DGM1 (``tests/data/dem``, EPSG:25832), offered in EPSG:3857.
- ``dgm_utm``: the same raster offered in EPSG:25832 only (a layer the twin cannot overlay).
- ``zellen``: the same Zensus cells as polygons (lon/lat), as WFS 2.0 (GML and GeoJSON) and as OGC API Features
  (``/twin3d/ogcapi``, with paging by ``next`` links).
- ``/mapcache/wmts``: MapCache's WMTS of ``zensus`` on the GoogleMapsCompatible grid, fed by the WMS above.

Example:
    >>> with mapserver(tmp_path) as ms:  # doctest: +SKIP
    ...     ms.wms_url
    'http://127.0.0.1:40123/wms?map=/tmp/.../twin3d.map'
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin

from tests.conftest import GEODATA, free_port

MAPSERV = "/usr/bin/mapserv"
MAPCACHE = "/usr/lib/cgi-bin/mapcache"
CENSUS = GEODATA / "lauf" / "census-grid" / "census2021_1km_lauf.csv"
DGM = Path(__file__).resolve().parent.parent / "data" / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif"
CELL_M = 1000
MAGENTA_FROM = 500  # residents per cell drawn magenta (255, 0, 255); fewer: yellow (255, 255, 0)


def census_cells() -> list[tuple[int, int, int]]:
    """The Zensus 2021 cells around Lauf: (north, east) of their south-west corner in EPSG:3035, residents."""
    cells = []
    with CENSUS.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            match = re.fullmatch(r"CRS3035RES1000mN(\d+)E(\d+)", row["GRD_ID"])
            assert match is not None
            cells.append((int(match[1]), int(match[2]), int(row["T"])))
    return cells


def write_census_raster(path: Path) -> Path:
    """The cells as an Int32 GeoTIFF in EPSG:3035 (1 km pixels; -1 where the census has no cell)."""
    cells = census_cells()
    north = max(n for n, _, _ in cells) + CELL_M
    west = min(e for _, e, _ in cells)
    width = (max(e for _, e, _ in cells) + CELL_M - west) // CELL_M
    height = (north - min(n for n, _, _ in cells)) // CELL_M
    data = np.full((height, width), -1, np.int32)
    for n, e, residents in cells:
        data[(north - CELL_M - n) // CELL_M, (e - west) // CELL_M] = residents
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "int32", "nodata": -1}
    with rasterio.open(path, "w", **profile, crs="EPSG:3035", transform=from_origin(west, north, CELL_M, CELL_M)) as ds:
        ds.write(data, 1)
    return path


def write_census_polygons(path: Path) -> Path:
    """The cells as lon/lat polygons with their id and residents (GeoJSON)."""
    to_lonlat = Transformer.from_crs(3035, 4326, always_xy=True)
    features = []
    for n, e, residents in census_cells():
        ring = [(e, n), (e + CELL_M, n), (e + CELL_M, n + CELL_M), (e, n + CELL_M), (e, n)]
        features.append({
            "type": "Feature",
            "properties": {"grd_id": f"CRS3035RES1000mN{n}E{e}", "einwohner": residents},
            "geometry": {"type": "Polygon", "coordinates": [[list(to_lonlat.transform(x, y)) for x, y in ring]]},
        })  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


MAPFILE = """MAP
  NAME "twin3d"
  EXTENT -20037508 -20037508 20037508 20037508
  SIZE 256 256
  UNITS METERS
  PROJECTION "init=epsg:3857" END
  OUTPUTFORMAT NAME "png" DRIVER AGG/PNG MIMETYPE "image/png" IMAGEMODE RGBA EXTENSION "png" TRANSPARENT ON END
  OUTPUTFORMAT
    NAME "geojson" DRIVER "OGR/GEOJSON" MIMETYPE "application/json; subtype=geojson"
    FORMATOPTION "STORAGE=stream" FORMATOPTION "FORM=SIMPLE"
  END
  WEB
    METADATA
      "ows_title" "twin3d test services"
      "ows_enable_request" "*"
      "ows_srs" "EPSG:25832 EPSG:4326"
      "ows_onlineresource" "{base}/wms?map={mapfile}"
      "wfs_getfeature_formatlist" "geojson"
      "oga_onlineresource" "{base}/twin3d/ogcapi"
    END
  END
  LAYER
    NAME "zensus"
    TYPE RASTER
    STATUS ON
    DATA "{census}"
    PROJECTION "init=epsg:3035" END
    METADATA
      "wms_title" "Zensus 2021: Einwohner je km²"
      "wms_abstract" "Zensus 2021, 1-km-Gitter um Lauf"
      "wms_attribution_title" "© Statistisches Bundesamt (Destatis)"
      "wms_srs" "EPSG:3035 EPSG:25832 EPSG:3857 EPSG:4326"
    END
    PROCESSING "NODATA=-1"
    CLASS NAME "unter 500" EXPRESSION ([pixel] < {magenta_from}) STYLE COLOR 255 255 0 END END
    CLASS NAME "ab 500" EXPRESSION ([pixel] >= {magenta_from}) STYLE COLOR 255 0 255 END END
  END
  LAYER
    NAME "dgm"
    TYPE RASTER
    STATUS ON
    DATA "{dgm}"
    PROJECTION "init=epsg:25832" END
    METADATA "wms_title" "DGM1 Köln" "wms_srs" "EPSG:25832 EPSG:3857 EPSG:4326" END
  END
  LAYER
    NAME "dgm_utm"
    TYPE RASTER
    STATUS ON
    DATA "{dgm}"
    PROJECTION "init=epsg:25832" END
    METADATA "wms_title" "DGM1 Köln (nur UTM)" "wms_srs" "EPSG:25832" END
  END
  LAYER
    NAME "zellen"
    TYPE POLYGON
    STATUS ON
    TEMPLATE "void"
    CONNECTIONTYPE OGR
    CONNECTION "{cells}"
    PROJECTION "init=epsg:4326" END
    METADATA
      "wfs_title" "Zensus-Zellen"
      "wfs_srs" "EPSG:25832 EPSG:3857 EPSG:4326"
      "gml_include_items" "all"
      "gml_types" "auto"
      "gml_featureid" "grd_id"
      "wms_enable_request" "!*"
    END
    CLASS STYLE COLOR 0 0 255 END END
  END
END
"""

MAPCACHE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<mapcache>
  <cache name="disk" type="disk"><base>{root}/mapcache</base></cache>
  <source name="wms" type="wms">
    <getmap><params><FORMAT>image/png</FORMAT><LAYERS>zensus</LAYERS><TRANSPARENT>true</TRANSPARENT></params></getmap>
    <http><url>{base}/wms?map={mapfile}</url></http>
  </source>
  <tileset name="zensus">
    <source>wms</source><cache>disk</cache><grid>GoogleMapsCompatible</grid><format>PNG</format>
    <metatile>1 1</metatile><metabuffer>0</metabuffer>
    <metadata><title>Zensus 2021 (WMTS)</title></metadata>
  </tileset>
  <service type="wmts" enabled="true"/>
  <service type="wms" enabled="false"/>
  <errors>report</errors>
  <log_level>warn</log_level>
</mapcache>
"""


@dataclass
class MapServer:
    """The running server: its base URL, its files, and every request it was asked (path and query)."""

    base: str
    root: Path
    mapfile: Path
    requests: list[str] = field(default_factory=list)

    @property
    def wms_url(self) -> str:
        """The WMS (and WFS) endpoint, a MapServer URL naming its mapfile as MapServer sites do."""
        return f"{self.base}/wms?map={self.mapfile}"

    @property
    def ogcapi_url(self) -> str:
        """The OGC API Features landing page."""
        return f"{self.base}/twin3d/ogcapi"

    @property
    def wmts_url(self) -> str:
        """MapCache's WMTS endpoint."""
        return f"{self.base}/mapcache/wmts"

    def count(self, text: str) -> int:
        """How many requests contained ``text`` (case-insensitive)."""
        return sum(text.lower() in r.lower() for r in list(self.requests))


def _cgi(program: str, env: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run a CGI program once: status, headers, body."""
    done = subprocess.run([program], env=env, capture_output=True, timeout=60, check=False)
    out = done.stdout
    split = out.find(b"\r\n\r\n")
    head, body = (out[:split], out[split + 4 :]) if split >= 0 else ([*out.split(b"\n\n", 1), b""])[:2]
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "status":
            status = int(value.strip().split()[0])
        elif name.strip():
            headers.append((name.strip(), value.strip()))
    return status, headers, body


def _handler(server: MapServer, config: Path, mapcache_config: Path) -> type[BaseHTTPRequestHandler]:
    base_port = str(urlsplit(server.base).port)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(self.path)
            parts = urlsplit(self.path)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "REQUEST_METHOD": "GET"}
            env |= {"QUERY_STRING": parts.query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": base_port}
            if parts.path.startswith("/mapcache/"):
                program = MAPCACHE
                env |= {"MAPCACHE_CONFIG_FILE": str(mapcache_config), "PATH_INFO": parts.path[len("/mapcache") :]}
                env["SCRIPT_NAME"] = "/mapcache"
            else:
                program = MAPSERV
                env["MAPSERVER_CONFIG_FILE"] = str(config)
                if parts.path.startswith("/twin3d/"):
                    env["PATH_INFO"] = parts.path
            status, headers, body = _cgi(program, env)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def mapserver(root: Path) -> Iterator[MapServer]:
    """MapServer and MapCache behind a small threaded HTTP server on a free port, with their data under ``root``.

    Raises:
        RuntimeError: ``mapserv`` or ``mapcache`` is missing (the README's test command installs
            ``cgi-mapserver`` and ``mapcache-cgi``).
    """
    for program, package in ((MAPSERV, "cgi-mapserver"), (MAPCACHE, "mapcache-cgi")):
        if not Path(program).is_file():
            raise RuntimeError(f"{program} is missing: apt-get install -y {package} (the README's test command)")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mapfile = root / "twin3d.map"
    census = write_census_raster(root / "zensus.tif")
    cells = write_census_polygons(root / "zellen.geojson")
    dgm = shutil.copy(DGM, root / DGM.name)
    mapfile.write_text(
        MAPFILE.format(base=base, mapfile=mapfile, census=census, cells=cells, dgm=dgm, magenta_from=MAGENTA_FROM),
        encoding="utf-8",
    )
    config = root / "mapserver.conf"
    config.write_text(
        f'CONFIG\n  ENV\n    MS_MAP_PATTERN "^{root}/"\n  END\n  MAPS\n    "twin3d" "{mapfile}"\n  END\nEND\n',
        encoding="utf-8",
    )
    mapcache_config = root / "mapcache.xml"
    mapcache_config.write_text(MAPCACHE_XML.format(root=root, base=base, mapfile=mapfile), encoding="utf-8")
    server = MapServer(base, root, mapfile)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(server, config, mapcache_config))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
