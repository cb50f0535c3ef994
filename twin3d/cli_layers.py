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


@layers.command("list")
@click.argument("twin")
@click.option("--json", "as_json", is_flag=True, help="the catalogue entries as JSON")
def list_command(twin: str, as_json: bool) -> None:
    """List the layers of TWIN."""
    from twin3d.layers.catalogue import list_layers  # noqa: PLC0415

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
            f"{e.visibility}, from {e.source} ({e.source_crs}), updated {e.updated_at:%Y-%m-%d %H:%M}",
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
