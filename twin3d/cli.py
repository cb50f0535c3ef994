"""The ``twin3d`` command: thin; it parses, calls library functions, shows progress, maps errors to exit codes."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import duckdb
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from twin3d import __version__
from twin3d.cli_console import err, errors_to_exit, out
from twin3d.cli_executor import executor_options, executor_spec
from twin3d.cli_layers import layers
from twin3d.cli_users import users
from twin3d.cli_workshops import workshops
from twin3d.errors import ConfigError, NotFoundError, Twin3dError
from twin3d.executor import ExecutorKind, ExecutorSpec
from twin3d.pipeline.report import BuildReport
from twin3d.settings import LiveSettings, PathSettings, ServerSettings

DEMO_TWINS = ("rostock", "lauf", "monzel")


def _summary(report: BuildReport) -> str:
    c = report.counts
    parts = []
    if c.get("buildings"):
        heights = ", ".join(f"{n:,} {src}" for src, n in report.height_sources.items())
        size = f"{report.tile_bytes / 1e6:.1f} MB"
        parts.append(f"{c['buildings']:,} buildings in {report.tiles} tile(s) ({size}; heights: {heights})")
    for key, label in (
        ("districts", "districts"),
        ("district_stats", "district statistics"),
        ("grid_cells", "grid cells"),
        ("facilities", "facilities"),
        ("paths", "paths"),
        ("streets", "street axes"),
        ("roads", "roads"),
        ("parcels", "parcels"),
        ("land_use", "land-use polygons"),
    ):
        if c.get(key):
            parts.append(f"{c[key]:,} {label}")
    records_in = sum(s.records_in for s in report.sources)
    return (
        f"{report.twin}: {records_in:,} records in -> "
        + "; ".join(parts)
        + f"; dropped {len(report.drops):,}; {report.seconds:.1f} s"
    )


def _print_report(report: BuildReport) -> None:
    for reason, n in sorted(report.drop_reasons().items()):
        examples = ", ".join(d.record for d in report.drops if d.reason == reason)[:120]
        err.print(f"[yellow]dropped[/] {n:,} record(s): {reason} (e.g. {examples})", soft_wrap=True)
    for note in report.notes:
        err.print(f"[dim]note:[/] {note}", soft_wrap=True)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    out.print(f"[bold green]built[/] {_summary(report)}", soft_wrap=True)


def build_one(
    twin: str,
    paths: PathSettings,
    *,
    quiet: bool = False,
    skip_invalid: bool = False,
    executor: ExecutorSpec | None = None,
) -> BuildReport:
    """Build one twin with a progress bar; the caller handles errors."""
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415  (keeps `twin3d --help` fast)
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415

    cfg = load_pipeline(paths.pipeline_file(twin))
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True, disable=quiet) as bar:
        task = bar.add_task(f"{twin}: reading", total=None)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{twin}: {step}", completed=done, total=total or None)

        report = build_twin(cfg, paths, progress, skip_invalid=skip_invalid, executor=executor)
    _print_report(report)
    return report


def _is_twin(path: Path) -> bool:
    """A pipeline definition has a [twin] table; personas.toml and other shared tables do not."""
    try:
        return "twin" in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True  # broken definitions are listed, so that building them says what is wrong


def _available(paths: PathSettings) -> list[str]:
    return sorted(p.stem for p in paths.pipelines_dir.glob("*.toml") if not p.stem.startswith("_") and _is_twin(p))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="twin3d")
def main() -> None:
    """twin3d: a 3D digital twin of a city and of its society."""


@main.command()
@click.argument("twins", nargs=-1)
@click.option("--all", "build_all", is_flag=True, help="build every twin in the pipelines folder")
@click.option(
    "--skip-invalid", is_flag=True, help="leave out broken objects of 3D city models (counted) instead of stopping"
)
@executor_options("processes if the pipeline's tiles.workers > 1, else local")
def build(
    twins: tuple[str, ...],
    build_all: bool,
    skip_invalid: bool,
    *,
    executor: ExecutorKind | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Build TWINS from pipelines/<twin>.toml into the store (var/) and 3D Tiles (tiles/).

    Partitioned steps (tiles per partition, city-model files) run where --executor says; the outputs are the same
    byte for byte whichever runs them. With --scheduler every worker must see the same paths (shared storage).
    """
    paths = PathSettings()
    with errors_to_exit():
        names = _available(paths) if build_all else list(twins)
        if not names:
            raise ConfigError("name a twin to build, or use --all", hint=f"available: {', '.join(_available(paths))}")
        spec = executor_spec(executor, workers, scheduler)
        for name in names:
            build_one(name, paths, skip_invalid=skip_invalid, executor=spec)


@main.command()
@click.argument("name")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="folder to write NAME.toml into  [default: TWIN3D_PIPELINES_DIR, else pipelines]",
)
@click.option("--force", is_flag=True, help="overwrite an existing NAME.toml")
@click.option("-i", "--interactive", is_flag=True, help="ask what cannot be inferred instead of writing a TODO default")
def init(name: str, files: tuple[Path, ...], output: Path | None, force: bool, interactive: bool) -> None:
    """Write NAME.toml for FILES: a commented pipeline definition that `twin3d build NAME` builds as it is.

    FILES: GeoPackage, Shapefile, GeoJSON, FlatGeobuf, CSV (census grid, district statistics, code list), CityGML,
    CityJSON, ALKIS NAS XML, OpenStreetMap extract, GeoTIFF DEM. Every layer's kind and fields are inferred; what
    cannot be (the title, the ground height without a DEM ...) is written as a default with a TODO and listed.
    """
    from twin3d.pipeline.init import compose_pipeline, inspect_files, target_file  # noqa: PLC0415

    paths = PathSettings()
    with errors_to_exit():
        folder = output or paths.pipelines_dir
        target = target_file(folder, name, force=force)
        layers = inspect_files(files)
        # The population's priors and personas: beside the new file, in the pipelines folder, or in the checkout's.
        shared = [paths.pipelines_dir, Path(__file__).resolve().parent.parent / "pipelines"]
        result = compose_pipeline(name, layers, folder, shared_dirs=shared)
        if interactive and result.questions:
            answers = {q.key: str(click.prompt(q.text, default=q.default)) for q in result.questions}
            result = compose_pipeline(name, layers, folder, answers=answers, shared_dirs=shared)
        folder.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.tmp")
        staged.write_text(result.text, encoding="utf-8")
        staged.replace(target)
        _print_init(result, target)


def _print_init(result: Any, target: Path) -> None:
    from rich.table import Table  # noqa: PLC0415

    from twin3d.pipeline.init import crs_text  # noqa: PLC0415

    table = Table(title=f"twin3d init {result.name}: the files")
    for column in ("file", "format", "geometry", "count", "CRS", "becomes"):
        table.add_column(column, overflow="fold")
    for layer, role in result.roles:
        count = f"{layer.count:,}" if layer.count is not None else "?"
        table.add_row(layer.label, layer.driver, layer.geometry, count, crs_text(layer.crs) if layer.crs else "-", role)
    out.print(table)
    for note in result.notes:
        err.print(f"[dim]note:[/] {note}", soft_wrap=True)
    if result.questions:
        out.print(f"[yellow]{len(result.questions)} question(s)[/] answered with a default (a TODO in the file):")
        for q in result.questions:
            out.print(f"  {q.text}: {q.default or '(left empty)'}", soft_wrap=True)
    out.print(f"[bold green]wrote[/] {target}; next: twin3d build {result.name}", soft_wrap=True)


APP_FACTORY = "twin3d.server.app:app_from_env"
WORKERS = click.IntRange(1, 64)


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def _settings(cls: type[SettingsT], **values: Any) -> SettingsT:
    """Settings from the environment, a bad value named by its variable (one line, not a traceback)."""
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        prefix = str(cls.model_config.get("env_prefix", "TWIN3D_"))
        name = prefix + "_".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"invalid setting {name}: {first['msg']}", hint="see the README's settings") from exc


def _serve(host: str, port: int, on_ready: Callable[[str], None] | None = None, *, workers: int = 1) -> None:
    import uvicorn  # noqa: PLC0415

    server_settings = _settings(ServerSettings, host=host, port=port)
    live_settings = _settings(LiveSettings)  # checked here once: the workers read the same environment
    paths = PathSettings()
    # The client address is the socket peer unless TWIN3D_TRUSTED_PROXIES names the peer (twin3d.server.proxies);
    # uvicorn's own proxy handling would believe X-Forwarded-For from 127.0.0.1.
    common: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "proxy_headers": False}
    if workers == 1:
        from twin3d.server.app import create_app  # noqa: PLC0415

        config = uvicorn.Config(create_app(server_settings, paths, live_settings=live_settings), **common)
    else:
        # uvicorn's supervisor starts each worker from an import string, so the settings travel in the environment
        # (the workers inherit it), with absolute paths in case a worker's working directory differs.
        os.environ.update(
            TWIN3D_HOST=host,
            TWIN3D_PORT=str(port),
            TWIN3D_PIPELINES_DIR=str(paths.pipelines_dir.resolve()),
            TWIN3D_STORE_DIR=str(paths.store_dir.resolve()),
            TWIN3D_TILES_DIR=str(paths.tiles_dir.resolve()),
        )
        config = uvicorn.Config(APP_FACTORY, factory=True, workers=workers, **common)
    if on_ready is not None:
        on_ready(f"http://{host}:{port}/")
    if workers == 1:
        uvicorn.Server(config).run()
    else:
        from uvicorn.supervisors import Multiprocess  # noqa: PLC0415

        # The parent binds the port once; the workers share the socket and the supervisor restarts a dead one.
        Multiprocess(config, sockets=[config.bind_socket()]).run()


def _ready_message(prefix: str, workers: int, suffix: str = "") -> Callable[[str], None]:
    processes = f" with {workers} worker processes" if workers > 1 else ""
    return lambda url: out.print(f"{prefix} [bold]{url}[/]{suffix}{processes} (Ctrl+C stops)")


@main.command()
@click.option("--host", default=lambda: ServerSettings().host, show_default="127.0.0.1")
@click.option("--port", default=lambda: ServerSettings().port, type=int, show_default="8000")
@click.option(
    "--workers",
    type=WORKERS,
    default=1,
    show_default=True,
    envvar="TWIN3D_WORKERS",
    help="server processes sharing the port (more than 1: put nginx in front, see `twin3d deploy nginx`)",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve every built twin, the API and the viewer."""
    with errors_to_exit():
        _serve(host, port, _ready_message("twin3d serving on", workers), workers=workers)


def _needs_build(twin: str, paths: PathSettings) -> bool:
    from twin3d.pipeline.staging import latest_build  # noqa: PLC0415

    store, pipeline = paths.store_file(twin), paths.pipeline_file(twin)
    if not store.is_file() or latest_build(paths.tileset_dir(twin)) is None:
        return True
    inputs = [pipeline, *paths.pipelines_dir.glob("personas.toml"), *paths.pipelines_dir.glob("priors/*.toml")]
    if store.stat().st_mtime < max(p.stat().st_mtime for p in inputs):
        return True
    from twin3d.store.connection import connect  # noqa: PLC0415

    # A store written by an older twin3d lacks the newer tables: build it again.
    try:
        con = connect(store, read_only=True)
    except Twin3dError:
        return True
    try:
        return population_report(con) is None and "[population]" in pipeline.read_text(encoding="utf-8")
    finally:
        con.close()


@main.command()
@click.option("--host", default=lambda: ServerSettings().host, show_default="127.0.0.1")
@click.option("--port", default=lambda: ServerSettings().port, type=int, show_default="8000")
@click.option("--rebuild", is_flag=True, help="build the demo twins even if they exist")
@click.option("--workers", type=WORKERS, default=1, show_default=True, envvar="TWIN3D_WORKERS", help="server processes")
def demo(host: str, port: int, rebuild: bool, workers: int) -> None:
    """Build the demo twins (Rostock, Lauf) if missing, then serve them and print the URL."""
    paths = PathSettings()
    with errors_to_exit():
        for twin in DEMO_TWINS:
            if rebuild or _needs_build(twin, paths):
                build_one(twin, paths)
            else:
                out.print(f"{twin}: already built ({paths.store_file(twin)}); --rebuild builds it again")

        ready = _ready_message("\n[bold green]twin3d demo:[/] open", workers, " in a browser")
        _serve(host, port, ready, workers=workers)


@main.group()
def population() -> None:
    """The synthetic population of a built twin."""


def population_report(con: Any) -> dict[str, Any] | None:
    """The stored validation report, or None for a twin without a population (or an older store)."""
    from twin3d.store.queries import meta  # noqa: PLC0415

    try:
        report: dict[str, Any] | None = meta(con.cursor(), "population_report")
    except duckdb.CatalogException:
        return None
    return report


@population.command("report")
@click.argument("twin")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="write the report as JSON")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), help="write a readable page")
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True, help="language of the page")
def population_report_command(twin: str, json_file: Path | None, html_file: Path | None, lang: str) -> None:
    """Show how well TWIN's synthetic population reproduces its statistics (SRMSE per control and level)."""
    from twin3d.population.report_page import report_html  # noqa: PLC0415
    from twin3d.store.connection import connect  # noqa: PLC0415

    paths = PathSettings()
    with errors_to_exit():
        store = paths.store_file(twin)
        if not store.is_file():
            raise NotFoundError(f"twin {twin!r} is not built", file=store, hint=f"run: twin3d build {twin}")
        con = connect(store, read_only=True)
        try:
            report = population_report(con)
        finally:
            con.close()
        if report is None:
            raise NotFoundError(
                f"twin {twin!r} has no synthetic population",
                file=paths.pipeline_file(twin),
                hint="add a [population] table to its pipeline definition and build it again",
            )
        if json_file is not None:
            json_file.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        if html_file is not None:
            html_file.write_text(report_html(report, "en" if lang == "en" else "de"), encoding="utf-8")
        _print_population(report)


def _print_population(report: dict[str, Any]) -> None:
    out.print(
        f"[bold]{report['twin']}[/]: {report['persons']:,} persons in {report['households']:,} households "
        f"({report['zones']:,} zones, seed {report['seed']}); hold-out: {', '.join(report['holdout']) or 'none'}"
    )
    for name, exact in report.get("exact_totals", {}).items():
        out.print(f"  {name}: {'exact' if exact else '[red]NOT exact[/]'}")
    for level in report["levels"]:
        verdict = "[green]met[/]" if level["met"] else "[red]not met[/]"
        out.print(
            f"  [bold]{level['level']}[/] ({level['units']:,} units): max SRMSE {level['max_srmse_fitted']} "
            f"(target <= {level['target_srmse']}: {verdict})"
        )
        for c in level["controls"]:
            flag = " [italic](hold-out)[/]" if c["holdout"] else ""
            out.print(
                f"    {c['control']:<18} SRMSE {c['srmse']:.4f}  within 10 %: {100 * c['within_10pct']:5.1f} %{flag}"
            )


@main.group()
def deploy() -> None:
    """Configuration for production: nginx in front of `twin3d serve --workers N`."""


@deploy.command("nginx")
@click.option("--listen", default="127.0.0.1:8080", show_default=True, help="port or host:port nginx listens on")
@click.option("--server-name", default="_", show_default=True, help="nginx's server_name (_: any)")
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    help="a twin3d server's host:port (repeatable); default: TWIN3D_HOST:TWIN3D_PORT",
)
@click.option(
    "--standalone",
    "run_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="write a whole nginx.conf that runs in the foreground, keeping pid, logs and temporary files in this folder",
)
@click.option("--access-log", is_flag=True, help="with --standalone: log each request and which upstream answered")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="write here, not to stdout")
def deploy_nginx(
    *,
    listen: str,
    server_name: str,
    upstreams: tuple[str, ...],
    run_dir: Path | None,
    access_log: bool,
    output: Path | None,
) -> None:
    """Write an nginx config: static files (viewer, tile builds) from nginx, the rest proxied to the workers.

    Start the workers with TWIN3D_TRUSTED_PROXIES=127.0.0.1 (nginx's address), so that the rate limits see each
    client's address rather than nginx's.
    """
    from twin3d.deploy import nginx  # noqa: PLC0415
    from twin3d.server.app import default_viewer_dir  # noqa: PLC0415
    from twin3d.settings import LayerSettings, ParticipationSettings, ScenarioSettings  # noqa: PLC0415

    with errors_to_exit():
        server, paths = _settings(ServerSettings), PathSettings()
        site = nginx.nginx_site(
            tiles_dir=paths.tiles_dir,
            viewer_dir=server.viewer_dir or default_viewer_dir(),
            upstreams=upstreams or [nginx.upstream_of(server.host, server.port)],
            listen=listen,
            server_name=server_name,
            **nginx.body_limits(ParticipationSettings(), ScenarioSettings(), LayerSettings()),
        )
        text = nginx.standalone_config(site, run_dir, access_log=access_log) if run_dir else nginx.server_config(site)
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            err.print(f"wrote {output}: nginx on {site.listen} -> {', '.join(site.upstreams)}", soft_wrap=True)


@main.command(name="list")
def list_twins() -> None:
    """List the twins that have a pipeline definition and whether they are built."""
    paths = PathSettings()
    for twin in _available(paths):
        store = paths.store_file(twin)
        state: Any = f"built {store}" if store.is_file() else "not built"
        out.print(f"{twin}: {state}")


main.add_command(layers)
main.add_command(users)
main.add_command(workshops)

if __name__ == "__main__":
    main()
