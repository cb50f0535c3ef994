"""Load a file as a layer of a twin, all or nothing; and sync the layers a pipeline definition declares.

Everything is written into a hidden staging folder beside the layer's folder (a zip is unpacked there too) and
renamed into place only after the data and the catalogue entry are complete; on any error the staging folder is
removed, so the catalogue and the other layers stay byte for byte as they were.

Example:
    >>> opts = LoadOptions(title="Bäume")  # doctest: +SKIP
    >>> entry, report = load_layer(PathSettings(), "lauf", Path("baeume.gpkg"), opts)  # doctest: +SKIP
    >>> report.one_line()  # doctest: +SKIP
    'lauf/baeume (vector, baeume.gpkg): 1,234 in -> 1,230 out; repaired 2; dropped 4 (no geometry 4); 0.3 s'
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

import shapely

from twin3d.errors import ConfigError, CRSError, InputError, Twin3dError
from twin3d.executor import Executor
from twin3d.layers.catalogue import StagedLayer, check_layer_id, list_layers, remove_layer, slugify, write_entry
from twin3d.layers.context import LoadJob, LoadOptions, TwinInfo, twin_info
from twin3d.layers.formats import MIB, detect_format, extract_zip, human_size, is_zip, pick_member
from twin3d.layers.model import (
    FEATURES_FILE,
    LayerEntry,
    LayerKind,
    LayerStyle,
    LegendItem,
    RasterInfo,
    ServiceSource,
)
from twin3d.layers.report import LoadReport
from twin3d.layers.tiles import SEED_DIR, seed_layer_tiles
from twin3d.settings import LayerSettings, PathSettings

Progress = Callable[[str], None]
UNPACKED = ".unpacked"
_KIND_OF_FORMAT: dict[str, LayerKind] = {
    "cityjson": "tiles3d",
    "citygml": "tiles3d",
    "las": "pointcloud",
    "laz": "pointcloud",
}


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _named_for_user(source: Path, staging: Path) -> Iterator[None]:
    """Errors name what the user gave: ``archive.zip/member.shp`` instead of the staging path, and ``--crs``
    instead of the pipeline-definition wording of the io readers' hints."""
    try:
        yield
    except Twin3dError as exc:
        unpacked = (staging / UNPACKED).resolve()
        if exc.file is not None and Path(exc.file).resolve().is_relative_to(unpacked):
            exc.file = f"{source}/{Path(exc.file).resolve().relative_to(unpacked)}"
        if isinstance(exc, CRSError) and exc.hint and "pipeline definition" in exc.hint:
            exc.hint = 'declare the right CRS with --crs EPSG:.... (in a [[layers]] table: crs = "EPSG:....")'
        raise


def _check_file(path: Path, limits: LayerSettings) -> None:
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path")
    size = path.stat().st_size
    if size == 0:
        raise InputError("file is empty (0 bytes)", file=path, hint="export the data again")
    if size > limits.max_file_mb * MIB:
        raise InputError(
            f"the file has {human_size(size)}, more than the limit of {human_size(limits.max_file_mb * MIB)}",
            file=path,
            hint="cut it to the twin's area, or raise TWIN3D_LAYER_MAX_FILE_MB",
        )


def _check_terrain_free(paths: PathSettings, twin: str, layer_id: str) -> None:
    for other in list_layers(paths, twin):
        if other.kind == "terrain" and other.id != layer_id:
            raise ConfigError(
                f"twin {twin!r} has a terrain layer already: {other.id!r}",
                hint=f"remove it first (twin3d layers remove {twin} {other.id}), or --replace it with --id {other.id}",
            )


def load_layer(
    paths: PathSettings,
    twin: str,
    source: Path,
    options: LoadOptions,
    limits: LayerSettings | None = None,
    *,
    info: TwinInfo | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    service: ServiceSource | None = None,
) -> tuple[LayerEntry, LoadReport]:
    """Load ``source`` as a layer of ``twin``: check, convert, store, and add it to the catalogue at once.

    Args:
        paths: where the twin's layers live (``paths.layers_dir``) and its pipeline definition.
        twin: the twin's name.
        source: GeoJSON, GeoPackage, Shapefile (zipped, or the .shp beside its sidecar files), FlatGeobuf, CSV,
            GeoTIFF, CityJSON, CityGML, LAS or LAZ; any of them zipped.
        options: title, id, visibility, licence, declared CRS and encoding, and so on.
        limits: size limits; default from ``TWIN3D_LAYER_*``.
        info: the twin; default read by :func:`~twin3d.layers.context.twin_info` (a server passes its own).
        progress: called with a short description of each step.
        executor: where a large vector layer's tiles are cut, by ranges of tiles (default: this process).
        service: the web service the file was fetched from (:mod:`twin3d.layers.services`), kept in the entry.

    Returns:
        The new catalogue entry and the load report.

    Raises:
        InputError: the file is unusable (the message names the file, the record and the fix).
        CRSError: the file's CRS is unknown, missing and not declared, or wrong.
        ConfigError: the twin has no pipeline definition, the id is taken (without ``replace``), an option is
            wrong.
    """
    started = perf_counter()
    step: Progress = progress or (lambda _: None)
    limits = limits or LayerSettings()
    _check_file(source, limits)
    twin_data = info or twin_info(paths, twin)
    stem = source.name.split(".")[0]
    layer_id = check_layer_id(options.layer_id or slugify(options.title or stem))
    report = LoadReport(twin, layer_id, source=source.name)
    with StagedLayer(paths, twin, layer_id, replace=options.replace) as staged, _named_for_user(source, staged.path):
        data = source
        if is_zip(source):
            step("unpacking")
            work = staged.path / UNPACKED
            work.mkdir()
            data = pick_member(source, extract_zip(source, work, limits), options.source_layer)
            _check_file(data, limits)
        fmt = detect_format(data)
        kind: LayerKind = _KIND_OF_FORMAT.get(fmt, "vector")
        if fmt == "geotiff":
            kind = "raster" if options.role == "overlay" else "terrain"
        if kind == "terrain":
            _check_terrain_free(paths, twin, layer_id)
        report.kind = kind
        job = LoadJob(data, fmt, staged.path, options, twin_data, limits, report, executor)
        step(f"reading {data.name} ({fmt})")
        entry = _write_kind(job, kind, layer_id, options.title or stem, source)
        shutil.rmtree(staged.path / UNPACKED, ignore_errors=True)
        report.seconds = perf_counter() - started
        entry = entry.model_copy(update={"stats": report.stats(), "service": service})
        write_entry(staged.path, entry)
    report.seconds = perf_counter() - started
    return entry, report


def _write_kind(job: LoadJob, kind: LayerKind, layer_id: str, title: str, source: Path) -> LayerEntry:
    opts, twin = job.options, job.twin
    raster: RasterInfo | None = None
    geometry_type: str | None = None
    fields: dict[str, str] = {}
    field_sources: dict[str, str] = {}
    if kind == "vector":
        from twin3d.layers import vector, xplan  # noqa: PLC0415  (GDAL only for vector files)

        if job.format == "xplangml":  # a Bebauungsplan: its areas with building-density values, normalised
            table = xplan.read_plan(job.path, opts, job.limits, job.report)
        else:
            table = vector.read_source(job.path, job.format, opts, job.limits)
        features = vector.check_features(table, twin, opts, job.limits, job.report)
        fields, field_sources = vector.write_features(job.out_dir / FEATURES_FILE, table, features, twin.crs)
        style = opts.style or (xplan.STYLE if job.format == "xplangml" else vector.default_style(features.family))
        style = vector.check_extrusion(style, fields, field_sources, job.path)
        legend = list(opts.legend) if opts.legend is not None else vector.default_legend(title, features.family, style)
        w, s, e, n = (float(v) for v in shapely.total_bounds(features.geometry_wgs84))
        extent, count, geometry_type = (w, s, e, n), len(features.rows), features.family
        source_crs, crs, files = vector.crs_label(table.crs), vector.crs_label(twin.crs), {"features": FEATURES_FILE}
        if count <= job.limits.seed_max_features:
            seed_layer_tiles(layer_id, job.out_dir / FEATURES_FILE, fields, job.out_dir / SEED_DIR, job.executor)
            files["tiles"] = SEED_DIR
    elif kind in ("raster", "terrain"):
        from twin3d.layers import raster as rasters  # noqa: PLC0415  (rasterio only for rasters)

        result = rasters.write_raster(job)
        raster, extent, count = result.info, result.extent, 0
        source_crs, crs, files = result.source_crs, result.crs, {"raster": result.file}
        style = opts.style or rasters.default_style(result.info, opts.role)
        legend = list(opts.legend) if opts.legend is not None else rasters.default_legend(style)
    else:
        from twin3d.layers import threed  # noqa: PLC0415  (tiler or py3dtiles only for 3D layers)

        result3d = threed.write_city_model(job) if kind == "tiles3d" else threed.write_point_cloud(job)
        extent, count, files, fields = result3d.extent, result3d.count, result3d.files, result3d.fields
        source_crs, crs = result3d.source_crs, "EPSG:4978"
        geometry_type = "buildings" if kind == "tiles3d" else "points"
        style = opts.style or LayerStyle(fill_color="#d6d3d1", opacity=1.0)
        legend = list(opts.legend) if opts.legend is not None else [LegendItem(label=title, color=style.fill_color)]
    return LayerEntry(
        id=layer_id,
        twin=twin.name,
        title=title,
        description=opts.description,
        kind=kind,
        format=job.format,
        source=source.name,
        source_sha256=sha256_file(source),
        origin=opts.origin,
        licence=opts.licence,
        attribution=opts.attribution,
        source_crs=source_crs,
        crs=crs,
        feature_count=count,
        geometry_type=geometry_type,
        extent=extent,
        updated_at=datetime.now(UTC).replace(microsecond=0),
        visibility=opts.visibility,
        style=style,
        legend=legend,
        fields=fields,
        field_sources=field_sources,
        files=files,
        raster=raster,
        definition_sha256=opts.definition_sha256,
    )


def sync_layers(
    paths: PathSettings, twin: str, limits: LayerSettings | None = None, *, progress: Progress | None = None
) -> list[tuple[str, str, LoadReport | None]]:
    """Make the twin's pipeline layers match the ``[[layers]]`` tables of ``pipelines/<twin>.toml``.

    A layer is loaded when it is new, its file changed (SHA-256) or its table changed; unchanged ones are kept;
    pipeline layers no longer declared are removed. Layers added by hand (``twin3d layers add``) are left alone.
    Each layer is loaded all or nothing; the first error stops the sync (layers synced before it stay).

    Returns:
        ``(action, layer id, report)`` per layer, action ``loaded``, ``unchanged`` or ``removed``.

    Raises:
        ConfigError: repeated ids, or an id taken by a layer added by hand.
        InputError: as :func:`load_layer`.
    """
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415

    cfg = load_pipeline(paths.pipeline_file(twin))
    ids = [d.id for d in cfg.layers]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(f"layer ids must be unique, repeated: {', '.join(repeated)}", file=paths.pipeline_file(twin))
    info = twin_info(paths, twin)
    existing = {e.id: e for e in list_layers(paths, twin)}
    done: list[tuple[str, str, LoadReport | None]] = []
    for definition in cfg.layers:
        file = Path(os.path.normpath(cfg.base_dir / definition.path))
        digest = hashlib.sha256(definition.model_dump_json().encode()).hexdigest()
        old = existing.get(definition.id)
        if old is not None and old.origin != "pipeline":
            raise ConfigError(
                f"layer id {definition.id!r} is taken by a layer added by hand",
                file=paths.pipeline_file(twin),
                hint=f"rename the [[layers]] entry, or remove the other: twin3d layers remove {twin} {definition.id}",
            )
        if (
            old is not None
            and old.definition_sha256 == digest
            and file.is_file()
            and old.source_sha256 == sha256_file(file)
        ):
            done.append(("unchanged", definition.id, None))
            continue
        options = LoadOptions.from_definition(definition, replace=old is not None, definition_sha256=digest)
        _, report = load_layer(paths, twin, file, options, limits, info=info, progress=progress)
        done.append(("loaded", definition.id, report))
    for layer_id, entry in existing.items():
        if entry.origin == "pipeline" and layer_id not in ids:
            remove_layer(paths, twin, layer_id)
            done.append(("removed", layer_id, None))
    return done
