"""pydeck maps of a twin that work offline: 3D Tiles buildings, H3 cells, a scenario's change map, any GeoDataFrame.

:func:`twin_deck` (``twin.deck(...)``) returns an :class:`OfflineDeck`, a :class:`pydeck.Deck` whose HTML
(``to_html``, ``_repr_html_`` in Jupyter) loads nothing from a CDN. pydeck's own page links mapbox-gl, bootstrap,
font-awesome and maplibre CSS from CDNs even with ``offline=True``; this page instead inlines the
``@deck.gl/jupyter-widget`` bundle that pydeck ships (``pydeck/nbextension/static/index.js``: the JSON converter,
``createDeck`` and every layer), sets no ``mapProvider`` (no basemap library, no map style from the web) and turns
loaders.gl's workers off (they would come from unpkg). The only host the page talks to is the twin's server, for
the tileset and its tiles. No basemap: the bundle's vector tile loader parses in a worker only (from unpkg), and the
twin's server does not serve that worker; the buildings, cells and frames stand on a plain ground.

Flat layers (cells, frames) are lifted to the twin's ground: the tiles carry heights above the ellipsoid
(``twin.info["origin"]["height"]`` at the twin's origin), as in the viewer (``viewer/js/layers.js``). Colours are
the viewer's: YlGnBu quantile classes for counts, RdBu classes around zero for changes (blue: better or more
people), so a notebook's map reads like the viewer's and the scenario report's.

Frames are drawn from data in the page; the buildings' tiles are fetched from the server (which lets pages of any
origin, a file or a notebook's output, read its public tiles: CORS), or put into the page (``embed_tiles=True``), so
that it fetches nothing at all.

Example:
    >>> import twin3d.client as t3
    >>> lauf = t3.connect("http://127.0.0.1:8000").twin("lauf")  # doctest: +SKIP
    >>> kita = lauf.create_scenario("Kita", [t3.measures.add_facility("kita", (11.2795, 49.5105))])  # doctest: +SKIP
    >>> lauf.deck(population=True, change=kita.run()).to_html("kita.html")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from twin3d.client.errors import TwinClientError
from twin3d.client.frames import WGS84, to_crs
from twin3d.simulation.report_maps import DIVERGING, NO_VALUE
from twin3d.simulation.report_texts import facility_label

if TYPE_CHECKING:
    from twin3d.client.scenarios import ScenarioResults
    from twin3d.client.twin import Twin

BUNDLE = Path(pdk.__file__).parent / "nbextension" / "static" / "index.js"
PAGE_SCRIPT = Path(__file__).with_name("deck_page.js")
PAGE_TEMPLATE = Path(__file__).with_name("deck_page.html")  # str.format fields: title, lang, bundle, deck_json, ...
# ColorBrewer YlGnBu, 5 classes: the viewer's sequential palette (viewer/js/classify.js).
SEQUENTIAL = np.array([(255, 255, 204), (161, 218, 180), (65, 182, 196), (44, 127, 184), (37, 52, 148)])
LAYER_COLORS = ((230, 120, 20), (120, 60, 160), (20, 140, 90), (200, 40, 80), (60, 100, 200))
# Flat layers on one plane are drawn in their order, not depth-tested against each other (no z-fighting of
# overlapping cells); the buildings, drawn last, are still tested against them.
FLAT: dict[str, Any] = {"depthCompare": "always"}
TILE_LOAD_OPTIONS: dict[str, Any] = {"worker": False, "tileset": {"throttleRequests": True}}
TooltipSpec = dict[str, Any]  # {"title": str, "fields": [(label, field), ...]}: one layer's tooltip
Lang = Literal["de", "en"]


# ----------------------------------------------------------------------------------------------------------------
# Colours (vectorised: one numpy pass per layer)


def sequential_colors(values: Any, alpha: int = 200, classes: int = len(SEQUENTIAL)) -> np.ndarray:
    """RGBA (uint8, one row per value) in quantile classes of the finite values, as the viewer's population map.

    Example:
        >>> sequential_colors([1, 2, 3, 4, 5, np.nan])[:, :3].tolist()
        [[255, 255, 204], [161, 218, 180], [65, 182, 196], [44, 127, 184], [37, 52, 148], [200, 200, 200]]
    """
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    ordered = np.sort(v[finite])
    breaks = np.unique(ordered[np.minimum(len(ordered) - 1, np.arange(1, classes) * len(ordered) // classes)])
    if not len(ordered):
        breaks = np.empty(0)
    k = np.searchsorted(breaks, np.where(finite, v, 0.0), side="right")
    n = len(breaks) + 1  # fewer classes are spread over the whole palette, as the viewer does
    index = np.full(len(v), len(SEQUENTIAL) - 1) if n == 1 else np.rint(k * (len(SEQUENTIAL) - 1) / (n - 1))
    rgb = np.where(finite[:, None], SEQUENTIAL[index.astype(int)], np.array(NO_VALUE))
    return _rgba(rgb, alpha)


def diverging_colors(values: Any, *, lower_is_better: bool = False, alpha: int = 210) -> np.ndarray:
    """RGBA in the viewer's five classes around zero, against the largest change (blue: better or more).

    Example:
        >>> diverging_colors([-10, -2, 0, 8, None], lower_is_better=True)[:, :3].tolist()
        [[5, 113, 176], [146, 197, 222], [247, 247, 247], [202, 0, 32], [200, 200, 200]]
    """
    v = np.asarray(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), dtype=float)
    finite = np.isfinite(v)
    limit = float(np.abs(v[finite]).max()) if finite.any() else 0.0
    better = v < 0 if lower_is_better else v > 0
    strong = np.abs(v) >= 0.5 * limit
    index = np.where(better, np.where(strong, 0, 1), np.where(strong, 4, 3))
    index = np.where((limit <= 0) | (np.abs(v) < 0.05 * limit), 2, index)
    rgb = np.where(finite[:, None], np.array(DIVERGING)[index], np.array(NO_VALUE))
    return _rgba(rgb, alpha)


def _rgba(rgb: np.ndarray, alpha: int) -> np.ndarray:
    out = np.empty((len(rgb), 4), dtype=np.uint8)
    out[:, :3] = rgb.reshape(-1, 3)
    out[:, 3] = alpha
    return out


# ----------------------------------------------------------------------------------------------------------------
# Layers


def lift_matrix(height: float) -> list[float]:
    """A column-major 4x4 translation by ``height`` metres up (deck.gl's ``modelMatrix``): flat layers on the
    twin's ground, whose tiles carry heights above the ellipsoid."""
    return [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, float(height), 1]


def ground_height(twin: Twin) -> float:
    """The ellipsoidal height of the twin's ground at its origin (0 when the twin does not say)."""
    return float((twin.info.get("origin") or {}).get("height") or 0.0)


def buildings_layer(twin: Twin, layer_id: str = "buildings") -> pdk.Layer:
    """The twin's 3D Tiles buildings (``Tile3DLayer`` on ``twin.info["tileset"]``, from the twin's server)."""
    tileset = twin.info.get("tileset")
    if not tileset:
        raise TwinClientError(f"the twin {twin.name!r} has no 3D tiles")
    return pdk.Layer("Tile3DLayer", twin.session.absolute(str(tileset)), id=layer_id, load_options=TILE_LOAD_OPTIONS)


def cells_layer(
    frame: pd.DataFrame,
    column: str = "persons",
    *,
    layer_id: str | None = None,
    colors: np.ndarray | None = None,
    lift: float = 0.0,
    keep: Sequence[str] | None = None,
) -> pdk.Layer:
    """An ``H3HexagonLayer`` of any frame with an ``h3`` column (hex ids), coloured by ``column`` (quantile
    classes) or by ``colors`` (RGBA rows). Cells merged into coarser ones (``cell_resolution`` below the finest)
    are drawn first and pale, so the finer cells they overlap stay readable. ``keep``: the columns the page
    gets (for its tooltip; None: all but the geometry)."""
    if "h3" not in frame.columns:
        raise TwinClientError("a cell layer needs an 'h3' column of H3 cell ids")
    wanted = frame.columns if keep is None else ["h3", "cell_resolution", column, *keep]
    found = frame[[c for c in dict.fromkeys(wanted) if c in frame.columns and c != "geometry"]]
    values = pd.to_numeric(found[column], errors="coerce") if column in found.columns else pd.Series(np.nan)
    rgba = sequential_colors(values.to_numpy(dtype=float)) if colors is None else np.asarray(colors, np.uint8)
    if "cell_resolution" in found.columns:
        coarse = found["cell_resolution"].to_numpy() < found["cell_resolution"].max()
        rgba = rgba.copy()
        rgba[coarse, 3] = 40
        order = np.argsort(found["cell_resolution"].to_numpy(), kind="stable")
        found, rgba = found.iloc[order], rgba[order]
    return pdk.Layer(
        "H3HexagonLayer",
        _records(found, rgba),
        id=layer_id or f"cells-{column}",
        get_hexagon="h3",
        get_fill_color="color",
        get_line_color=[255, 255, 255, 160],
        line_width_min_pixels=1,
        extruded=False,
        filled=True,
        stroked=True,
        pickable=True,
        auto_highlight=True,
        model_matrix=lift_matrix(lift),
        parameters=FLAT,
    )


def change_layer(
    cells: pd.DataFrame,
    column: str = "persons_delta",
    *,
    layer_id: str | None = None,
    lift: float = 0.0,
    keep: Sequence[str] | None = None,
) -> pdk.Layer:
    """A scenario's change per cell (``ScenarioResults.cells``): ``persons_delta`` or a walk's delta
    (``kita_mean_m_delta``: shorter is better) in diverging classes around zero; unchanged cells faint."""
    if column not in cells.columns:
        deltas = [c for c in cells.columns if c.endswith("_delta")]
        raise TwinClientError(f"the cells have no column {column!r}; changes: {', '.join(deltas)}")
    colors = diverging_colors(cells[column].to_numpy(), lower_is_better=column != "persons_delta")
    # Unchanged cells (and those without a value) stay faint, so the map under them (population) still reads.
    unchanged = (colors[:, :3] == DIVERGING[2]).all(axis=1) | (colors[:, :3] == NO_VALUE).all(axis=1)
    colors[unchanged, 3] = 30
    return cells_layer(cells, column, layer_id=layer_id or f"change-{column}", colors=colors, lift=lift, keep=keep)


def frame_layer(
    frame: gpd.GeoDataFrame,
    *,
    layer_id: str = "frame",
    color: Sequence[int] = LAYER_COLORS[0],
    column: str | None = None,
    lift: float = 0.0,
) -> pdk.Layer:
    """Any GeoDataFrame as a ``GeoJsonLayer`` (converted to WGS 84): in one ``color``, or coloured by ``column``
    in quantile classes. Points are drawn as dots of a few pixels, lines at least a pixel wide."""
    if frame.crs is None:
        raise TwinClientError(f"the frame of layer {layer_id!r} has no CRS: set one (frame.set_crs(...))")
    shown = to_crs(frame, WGS84)
    if not isinstance(shown.index, pd.RangeIndex) and shown.index.name not in shown.columns:
        shown = shown.reset_index()  # the id a frame is indexed by belongs in the tooltip
    rgba = sequential_colors(pd.to_numeric(shown[column], errors="coerce")) if column else None
    if rgba is None:
        rgba = np.tile(np.array([*list(color)[:3], 210], dtype=np.uint8), (len(shown), 1))
    shown = shown.assign(_color=list(rgba.tolist()))
    data = json.loads(shown.to_json(na="null", drop_id=False, to_wgs84=False))
    return pdk.Layer(
        "GeoJsonLayer",
        data,
        id=layer_id,
        get_fill_color="properties._color",
        get_line_color="properties._color",
        filled=True,
        stroked=True,
        line_width_min_pixels=1.5,
        point_radius_min_pixels=4,
        get_point_radius=3,
        pickable=True,
        auto_highlight=True,
        model_matrix=lift_matrix(lift),
        parameters=FLAT,
    )


def _records(frame: pd.DataFrame, rgba: np.ndarray) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN as null, numpy scalars as Python's) with their colour."""
    plain = frame.reset_index(drop=True).astype(object)
    plain = plain.where(plain.notna(), None).assign(color=list(rgba.tolist()))
    records: list[dict[str, Any]] = plain.to_dict(orient="records")
    return records


def home_view(
    bbox: Sequence[float], *, lift: float = 0.0, pitch: float = 45.0, width: int = 960, height: int = 600
) -> pdk.ViewState:
    """A view state that shows ``bbox`` (west, south, east, north) in a ``width`` x ``height`` map, pitched for
    the buildings and centred at the twin's ground height (``lift``)."""
    west, south, east, north = (float(v) for v in bbox)

    def mercator_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)

    zoom_x = math.log2(width * 360.0 / (512.0 * max(east - west, 1e-9)))
    zoom_y = math.log2(height / (512.0 * max(mercator_y(north) - mercator_y(south), 1e-12)))
    return pdk.ViewState(
        longitude=(west + east) / 2,
        latitude=(south + north) / 2,
        zoom=round(min(zoom_x, zoom_y), 2),
        pitch=pitch,
        bearing=0,
        max_pitch=85,
        position=[0, 0, lift],
    )


# ----------------------------------------------------------------------------------------------------------------
# The deck and its page


@dataclass(frozen=True)
class _PageSettings:
    """What the page needs beside deck.gl's JSON."""

    tooltips: dict[str, TooltipSpec]
    token: str | None
    server: str
    title: str
    height: int
    embed_tiles: bool
    fetch: Callable[[str], bytes] | None
    lang: Lang


class OfflineDeck(pdk.Deck):  # type: ignore[misc]  # pydeck has no type hints
    """A :class:`pydeck.Deck` whose page loads nothing from a CDN (see the module's docstring).

    Args:
        layers: pydeck layers, drawn in this order.
        view: the initial view state.
        tooltips: per layer id, its tooltip: a title and its lines as (label, field) pairs.
        token: the caller's bearer token, written into the page only when asked (``include_token``).
        server: the server's base URL (the only host the page may fetch from).
        title: the page's title.
        height: the map's height in pixels (in a notebook; a page of its own fills the window).
        embed_tiles: put the 3D tiles into the page by default (see :meth:`page`).
        fetch: reads a URL of the server as the caller (the twin's session); needed to embed tiles.
        lang: the page's language (``de``, ``en``).
    """

    def __init__(
        self,
        layers: list[pdk.Layer],
        view: pdk.ViewState,
        *,
        tooltips: Mapping[str, TooltipSpec] | None = None,
        token: str | None = None,
        server: str = "",
        title: str = "twin3d",
        height: int = 600,
        embed_tiles: bool = False,
        fetch: Callable[[str], bytes] | None = None,
        lang: Lang = "de",
    ) -> None:
        super().__init__(
            layers=layers, initial_view_state=view, map_provider=None, map_style=None, tooltip=False, height=height
        )
        # One attribute for everything that is not deck.gl's, dropped from the JSON (pydeck serialises all of them).
        self._offline = _PageSettings(dict(tooltips or {}), token, server, title, height, embed_tiles, fetch, lang)

    def __repr__(self) -> str:  # pydeck's would print the whole JSON, data included (hundreds of kB)
        ids = ", ".join(str(layer.id) for layer in self.layers)
        return f"<OfflineDeck {self._offline.title!r}: {ids}>"

    def to_json(self) -> str:
        """The deck as deck.gl's JSON (what ``createDeck`` converts), compact and without the token."""
        return json.dumps(self._deck_dict(include_token=False), separators=(",", ":"), allow_nan=False)

    def _deck_dict(self, *, include_token: bool) -> dict[str, Any]:
        state = dict(default_serialize(self))
        state.pop("_offline", None)
        found: dict[str, Any] = json.loads(json.dumps(state, default=default_serialize))
        token = self._offline.token
        if include_token and token:
            # Only the layers that fetch from the twin's server get the header: tiles of the twin are public, a
            # council 3D layer is not.
            for layer in found.get("layers", []):
                if str(layer.get("data", "")).startswith(self._offline.server) and "loadOptions" in layer:
                    fetch = {"headers": {"Authorization": f"Bearer {token}"}}
                    layer["loadOptions"] = {**layer["loadOptions"], "fetch": fetch}
        return found

    def page(self, *, include_token: bool = False, embed_tiles: bool | None = None) -> str:
        """The HTML page (about 4.3 MB, nearly all of it deck.gl), which fetches only the twin's tiles.

        Args:
            include_token: write the caller's bearer token into the page, so that tiles of layers only a role may
                see load. Off by default: an HTML file or a notebook's output is easily shared, and whoever holds
                the file would hold the token (the twin's own tiles are public and need none).
            embed_tiles: put the tileset and all its tiles into the page (Lauf: about 10 MB more), so it fetches
                nothing at all: a file to pass on to someone who cannot reach the server. None: as the deck was
                made (``twin.deck(embed_tiles=...)``).
        """
        found = self._deck_dict(include_token=include_token)
        embed = self._offline.embed_tiles if embed_tiles is None else embed_tiles
        files = self._tile_files(found) if embed else {}
        return _page_template().format(
            title=html.escape(self._offline.title),
            lang=self._offline.lang,
            bundle=_bundle(),
            deck_json=_script_safe(json.dumps(found, separators=(",", ":"), allow_nan=False)),
            tooltips=_script_safe(json.dumps(self._offline.tooltips, separators=(",", ":"))),
            files=json.dumps({url: base64.b64encode(body).decode("ascii") for url, body in files.items()}),
            script=_page_script(),
        )

    def _tile_files(self, deck_dict: dict[str, Any]) -> dict[str, bytes]:
        fetch = self._offline.fetch
        if fetch is None:
            raise TwinClientError("this deck cannot embed tiles: it was not made from a twin (twin.deck(...))")
        files: dict[str, bytes] = {}
        for layer in deck_dict.get("layers", []):
            if layer.get("@@type") == "Tile3DLayer" and str(layer.get("data", "")).startswith(self._offline.server):
                files.update(tileset_files(fetch, str(layer["data"])))
        return files

    def to_html(  # noqa: PLR0917  (pydeck's signature, plus include_token)
        self,
        filename: str | Path | None = None,
        open_browser: bool = False,
        notebook_display: bool | None = None,
        iframe_width: str | int = "100%",
        iframe_height: int | None = None,
        as_string: bool = False,
        include_token: bool = False,
        embed_tiles: bool | None = None,
        **_ignored: Any,
    ) -> Any:
        """Write the page to ``filename`` (returns its path), or return it (``as_string``), or show it in a
        notebook (``notebook_display``, an iframe). pydeck's ``offline`` and CSS options are ignored: the page is
        always offline. ``include_token`` and ``embed_tiles``: see :meth:`page` (by default the file can be shared
        safely)."""
        text = self.page(include_token=include_token, embed_tiles=embed_tiles)
        if filename is not None:
            path = Path(filename).resolve()
            path.write_text(text, encoding="utf-8")
            if open_browser:
                import webbrowser  # noqa: PLC0415  (only when asked)

                webbrowser.open(path.as_uri())
            return str(path)
        if as_string:
            return text
        if notebook_display:
            from IPython.display import HTML  # noqa: PLC0415  (Jupyter is optional)

            return HTML(self._iframe(text, iframe_width, iframe_height))  # type: ignore[no-untyped-call]
        return text

    def _iframe(self, text: str, width: str | int = "100%", height: int | None = None) -> str:
        high = height or self._offline.height
        wide = f"{width}px" if isinstance(width, int) else width
        return (
            f'<iframe srcdoc="{html.escape(text)}" style="width:{wide};height:{high}px;border:0" '
            f'title="{html.escape(self._offline.title)}"></iframe>'
        )

    def _repr_html_(self) -> str:
        return self._iframe(self.page())

    def show(self) -> Any:
        """The map in a notebook cell."""
        return self.to_html(notebook_display=True)


def tileset_files(fetch: Callable[[str], bytes], url: str) -> dict[str, bytes]:
    """A 3D Tiles tileset's files by absolute URL: the tileset, its external tilesets and every tile's content."""
    files: dict[str, bytes] = {}
    pending = [url]
    while pending:
        current = pending.pop()
        if current in files:
            continue
        files[current] = body = fetch(current)
        if not urlsplit(current).path.endswith(".json"):
            continue
        nodes = [json.loads(body)["root"]]
        while nodes:  # one entry per tile of the tree, not per feature
            node = nodes.pop()
            nodes.extend(node.get("children", []))
            contents = [node["content"]] if "content" in node else []
            for content in [*contents, *node.get("contents", [])]:
                pending.append(urljoin(current, content.get("uri") or content["url"]))
    return files


@cache
def _page_template() -> str:
    """The page around deck.gl (``deck_page.html``, a ``str.format`` template)."""
    return PAGE_TEMPLATE.read_text(encoding="utf-8")


@cache
def _page_script() -> str:
    """The page's own code (``deck_page.js``: tooltips, embedded tiles, the ``window.twinDeck`` handle)."""
    return PAGE_SCRIPT.read_text(encoding="utf-8")


@cache
def _bundle() -> str:
    """pydeck's @deck.gl/jupyter-widget bundle, read once."""
    if not BUNDLE.exists():
        raise TwinClientError(f"pydeck's deck.gl bundle is missing ({BUNDLE}): reinstall pydeck")
    return BUNDLE.read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """JSON to put inside ``<script>``: a ``</script>`` or ``<!--`` in a value must not end or bend the script."""
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# ----------------------------------------------------------------------------------------------------------------
# A twin's deck


def twin_deck(
    twin: Twin,
    *,
    buildings: bool = True,
    population: bool | pd.DataFrame = False,
    column: str = "persons",
    persona: str = "*",
    resolution: int = 9,
    change: ScenarioResults | pd.DataFrame | None = None,
    change_column: str = "persons_delta",
    frames: Mapping[str, gpd.GeoDataFrame] | None = None,
    pitch: float = 45.0,
    height: int = 600,
    embed_tiles: bool = False,
    lang: Lang = "de",
) -> OfflineDeck:
    """A map of the twin: its buildings and whatever results are asked for, offline (see :class:`OfflineDeck`).

    Args:
        twin: the twin.
        buildings: draw the 3D Tiles buildings.
        population: True: published persons per H3 cell (``persona``, ``resolution``); or any frame with an
            ``h3`` column, coloured by ``column``.
        column: the column that colours ``population`` (``persons``, ``households``, ...).
        persona, resolution: which population ``population=True`` fetches.
        change: a scenario's results (``scenario.run()``) or its ``cells`` frame: the change map.
        change_column: the change drawn: ``persons_delta`` or a walk's (``kita_mean_m_delta``, shorter: blue).
        frames: GeoDataFrames to draw, by name (facilities, your own layer, ...), each in its own colour.
        pitch: the view's tilt in degrees (0: straight down).
        height: the map's height in a notebook, in pixels.
        embed_tiles: put the buildings' tiles into the page (see :meth:`OfflineDeck.page`): a file then shows them
            without the server.
        lang: the language of the tooltips and the page: ``de`` or ``en``.

    Example:
        >>> kitas = lauf.facilities(category="amenity=kindergarten")  # doctest: +SKIP
        >>> deck = lauf.deck(population=True, frames={"Kitas": kitas})  # doctest: +SKIP
        >>> deck.to_html("lauf.html")  # doctest: +SKIP
    """
    lift = ground_height(twin)
    layers: list[pdk.Layer] = []
    tooltips: dict[str, TooltipSpec] = {}
    if population is not False:
        cells = twin.population(persona=persona, resolution=resolution) if population is True else population
        fields = [(_label(c, lang), c) for c in dict.fromkeys(["h3", column, "households"]) if c in cells.columns]
        layer = cells_layer(cells, column, layer_id="population", lift=lift + 0.3, keep=[f[1] for f in fields])
        layers.append(layer)
        title = WORDS[lang]["population"] if population is True else _label(column, lang)
        tooltips[layer.id] = {"title": title, "fields": fields}
    if change is not None:
        cells = change if isinstance(change, pd.DataFrame) else change.cells
        stem = change_column.removesuffix("_delta")
        words = WORDS[lang]
        fields = [(words["h3"], "h3"), (words["before"], f"{stem}_baseline"), (words["after"], f"{stem}_scenario")]
        fields = [f for f in fields if f[1] in cells.columns] + [(words["change"], change_column)]
        layer = change_layer(cells, change_column, layer_id="change", lift=lift + 0.6, keep=[f[1] for f in fields])
        layers.append(layer)
        tooltips[layer.id] = {"title": f"{words['scenario']}: {_label(stem, lang)}", "fields": fields}
    for k, (name, frame) in enumerate((frames or {}).items()):
        layer_id = f"frame-{k}"
        layers.append(frame_layer(frame, layer_id=layer_id, color=LAYER_COLORS[k % len(LAYER_COLORS)], lift=lift + 1))
        named = [frame.index.name] if frame.index.name and frame.index.name not in frame.columns else []
        shown = [*named, *[c for c in frame.columns if c != frame.geometry.name]][:6]
        tooltips[layer_id] = {"title": str(name), "fields": [(_label(c, lang), c) for c in shown]}
    if buildings:
        layers.append(buildings_layer(twin))
    view = home_view(twin.info.get("home_bbox") or twin.bbox, lift=lift, pitch=pitch, height=height)
    return OfflineDeck(
        layers,
        view,
        tooltips=tooltips,
        token=twin.session.token,
        server=twin.session.url,
        title=twin.title,
        height=height,
        embed_tiles=embed_tiles,
        lang=lang,
        fetch=lambda url: twin.session.get(url).content,
    )


WORDS: dict[Lang, dict[str, str]] = {
    "de": {"h3": "H3-Zelle", "persons": "Personen", "households": "Haushalte", "name": "Name", "category": "Art",
           "population": "Bevölkerung", "scenario": "Szenario", "before": "vorher", "after": "nachher",
           "change": "Änderung", "walk": "Weg", "mean": "m, Mittel"},
    "en": {"h3": "H3 cell", "persons": "Persons", "households": "Households", "name": "Name", "category": "Kind",
           "population": "Population", "scenario": "Scenario", "before": "before", "after": "after",
           "change": "Change", "walk": "Walk", "mean": "m, mean"},
}  # fmt: skip
"""The tooltips' words, in the viewer's two languages."""


def _label(column: str, lang: Lang) -> str:
    """A tooltip's label for a column: the twin's usual ones in ``lang``, a walk's mean as its facility."""
    words = WORDS[lang]
    if column.endswith("_mean_m"):
        return f"{words['walk']}: {facility_label(column.removesuffix('_mean_m'), lang)} ({words['mean']})"
    return words.get(column, column)
