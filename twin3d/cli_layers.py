"""``twin3d layers``: add, list, remove and sync the extra layers of a twin (thin: the work is in twin3d.layers)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from twin3d.cli_console import err, errors_to_exit, out
from twin3d.cli_executor import executor_options, executor_spec
from twin3d.executor import ExecutorKind, open_executor
from twin3d.settings import PathSettings


@click.group()
def layers() -> None:
    """Extra layers of a twin: GIS files loaded beside the store and listed in its catalogue."""


@layers.command("add")
@click.argument("twin")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--title", help="shown in the viewer; default the file name")
@click.option("--id", "layer_id", help="default a slug of the title")
@click.option("--visibility", type=click.Choice(["public", "council", "admin"]), default="public", show_default=True)
@click.option("--licence", default="", help='e.g. "dl-de/by-2-0"')
@click.option("--attribution", default="", help='e.g. "© Stadt Lauf a.d. Pegnitz"')
@click.option("--description", default="")
@click.option("--crs", help="CRS of a file that carries none (or a wrong one), e.g. EPSG:25832")
@click.option("--encoding", help="text encoding of the attributes if not UTF-8, e.g. cp1252")
@click.option("--source-layer", help="layer of a GeoPackage, or file inside a zip")
@click.option("--only", type=click.Choice(["points", "lines", "polygons"]), help="keep one geometry family")
@click.option(
    "--as", "role", type=click.Choice(["overlay", "terrain"]), default="overlay", show_default=True, help="GeoTIFF"
)
@click.option("--replace", is_flag=True, help="load anew over an existing layer of the same id")
@click.option("--skip-invalid", is_flag=True, help="3D city models: leave out broken buildings (counted)")
@executor_options("this process; on workers of several machines a layer's vector tiles are cut by ranges there")
def add(  # click passes options by name: keyword-only keeps the call sites honest
    *,
    twin: str,
    file: Path,
    title: str | None,
    layer_id: str | None,
    visibility: str,
    licence: str,
    attribution: str,
    description: str,
    crs: str | None,
    encoding: str | None,
    source_layer: str | None,
    only: str | None,
    role: str,
    replace: bool,
    skip_invalid: bool,
    executor: ExecutorKind | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Load FILE as a layer of TWIN: GeoJSON, GeoPackage, zipped Shapefile, CSV, GeoTIFF, CityJSON/CityGML,
    LAS/LAZ."""
    from twin3d.layers.context import LoadOptions  # noqa: PLC0415  (keeps `twin3d --help` fast)
    from twin3d.layers.load import load_layer  # noqa: PLC0415

    options = LoadOptions(
        title=title,
        layer_id=layer_id,
        description=description,
        visibility=visibility,  # type: ignore[arg-type]
        licence=licence,
        attribution=attribution,
        crs=crs,
        encoding=encoding,
        source_layer=source_layer,
        only=only,  # type: ignore[arg-type]
        role=role,  # type: ignore[arg-type]
        replace=replace,
        skip_invalid=skip_invalid,
    )
    with (
        errors_to_exit(),
        err.status(f"{twin}: loading {file.name}") as status,
        open_executor(executor_spec(executor, workers, scheduler)) as runner,
    ):
        entry, report = load_layer(
            PathSettings(), twin, file, options, progress=lambda step: status.update(f"{twin}: {step}"), executor=runner
        )
    for note in report.notes:
        err.print(f"[dim]note:[/] {note}", soft_wrap=True)
    out.print(f"[bold green]loaded[/] {report.one_line()}", soft_wrap=True)
    if entry.visibility == "public" and not entry.attribution:
        err.print("[yellow]warning:[/] a public layer without --attribution; add it if the licence asks for one")


@layers.command("add-service")
@click.argument("twin")
@click.argument("kind", type=click.Choice(["wms", "wmts", "wfs", "oapif"]))
@click.argument("url")
@click.argument("layer")
@click.option("--title", help="shown in the viewer; default the service's title of the layer")
@click.option("--id", "layer_id", help="default a slug of the title")
@click.option("--visibility", type=click.Choice(["public", "council", "admin"]), default="public", show_default=True)
@click.option("--style", default="", help="WMS/WMTS style; default the layer's default")
@click.option("--format", "image_format", help="image format (default image/png) or WFS output format")
@click.option("--time", "time_value", help="WMS/WMTS TIME value of a layer with a time dimension")
@click.option("--wms-version", type=click.Choice(["1.3.0", "1.1.1"]), help="default 1.3.0 (a 1.1.1 server says so)")
@click.option("--licence", default="", help='e.g. "dl-de/by-2-0"')
@click.option("--attribution", default="", help="default the service's attribution of the layer")
@click.option("--description", default="", help="default the service's abstract of the layer")
@click.option("--replace", is_flag=True, help="register anew over an existing layer of the same id")
def add_service(  # click passes options by name
    *,
    twin: str,
    kind: str,
    url: str,
    layer: str,
    title: str | None,
    layer_id: str | None,
    visibility: str,
    style: str,
    image_format: str | None,
    time_value: str | None,
    wms_version: str | None,
    licence: str,
    attribution: str,
    description: str,
    replace: bool,
) -> None:
    """Add LAYER of the web service at URL to TWIN: KIND wms or wmts (map tiles through the twin's server), wfs or
    oapif (OGC API Features; the features are imported as a vector layer). For oapif, URL is the API's landing
    page and LAYER the collection id."""
    from twin3d.layers.context import LoadOptions, twin_info  # noqa: PLC0415  (keeps `twin3d --help` fast)
    from twin3d.layers.services import ServiceRequest, register_service  # noqa: PLC0415

    request = ServiceRequest(kind, url, layer, style, image_format, time_value, wms_version)  # type: ignore[arg-type]
    options = LoadOptions(
        title=title,
        layer_id=layer_id,
        description=description,
        visibility=visibility,  # type: ignore[arg-type]
        licence=licence,
        attribution=attribution,
        replace=replace,
        origin="service",
    )
    paths = PathSettings()
    with errors_to_exit(), err.status(f"{twin}: asking the {kind.upper()} for {layer}"):
        _, report = register_service(paths, twin_info(paths, twin), request, options)
    for note in report.notes:
        err.print(f"[dim]note:[/] {note}", soft_wrap=True)
    out.print(f"[bold green]added[/] {report.one_line()}", soft_wrap=True)


@layers.command("refresh")
@click.argument("twin")
@click.argument("layer_id")
def refresh(twin: str, layer_id: str) -> None:
    """Ask the service of layer LAYER_ID of TWIN again: new capabilities (its cached tiles go), or the features
    imported anew."""
    from twin3d.layers.context import twin_info  # noqa: PLC0415
    from twin3d.layers.services import refresh_service  # noqa: PLC0415

    paths = PathSettings()
    with errors_to_exit(), err.status(f"{twin}: asking the service of {layer_id} again"):
        _, report = refresh_service(paths, twin_info(paths, twin), layer_id)
    out.print(f"[bold green]refreshed[/] {report.one_line()}", soft_wrap=True)


@layers.command("list")
@click.argument("twin")
@click.option("--json", "as_json", is_flag=True, help="the catalogue entries as JSON")
def list_command(twin: str, as_json: bool) -> None:
    """List the layers of TWIN."""
    from twin3d.layers.catalogue import list_layers  # noqa: PLC0415
    from twin3d.layers.service_http import shown_url  # noqa: PLC0415

    with errors_to_exit():
        entries = list_layers(PathSettings(), twin)
    if as_json:
        click.echo(json.dumps([e.model_dump(mode="json") for e in entries], indent=1, ensure_ascii=False))
        return
    if not entries:
        out.print(f"{twin}: no layers (add one: twin3d layers add {twin} FILE --title ...)")
    for e in entries:
        out.print(
            f"{e.id}: {e.title!r} {e.kind} ({e.geometry_type or e.format}), {e.feature_count:,} features, "
            f"{e.visibility}, from {f'{e.service.kind.upper()} {shown_url(e.service.url)}' if e.service else e.source} "
            f"({e.source_crs}), updated {e.updated_at:%Y-%m-%d %H:%M}",
            soft_wrap=True,
        )


@layers.command("remove")
@click.argument("twin")
@click.argument("layer_id")
def remove(twin: str, layer_id: str) -> None:
    """Remove layer LAYER_ID of TWIN and its files."""
    from twin3d.layers.catalogue import remove_layer  # noqa: PLC0415

    with errors_to_exit():
        entry = remove_layer(PathSettings(), twin, layer_id)
    out.print(f"removed {twin}/{entry.id} ({entry.title!r})")


@layers.command("sync")
@click.argument("twin")
def sync(twin: str) -> None:
    """Load the [[layers]] of pipelines/TWIN.toml that are new or changed; remove those no longer there."""
    from twin3d.layers.load import sync_layers  # noqa: PLC0415

    with errors_to_exit(), err.status(f"{twin}: syncing layers") as status:
        done = sync_layers(PathSettings(), twin, progress=lambda step: status.update(f"{twin}: {step}"))
    for action, layer_id, report in done:
        out.print(f"{action} {report.one_line() if report else f'{twin}/{layer_id}'}", soft_wrap=True)
    if not done:
        out.print(f"{twin}: no [[layers]] in its pipeline definition")
