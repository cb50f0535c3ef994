"""The FastAPI application factory: ``create_app(settings)``; nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from twin3d import __version__
from twin3d.auth.users import UserRegistry
from twin3d.participation.guard import Guard
from twin3d.participation.service import Participation
from twin3d.participation.shared_limits import SharedRateLimiter
from twin3d.participation.surveys.mail import Mailer
from twin3d.participation.surveys.service import Surveys
from twin3d.participation.workshops import WorkshopRegistry
from twin3d.server.access import MATRIX, AccessControl, AccessMiddleware
from twin3d.server.conditional import nginx_etag, not_modified
from twin3d.server.errors import install_error_handlers
from twin3d.server.hardening import (
    HeadMiddleware,
    SecurityHeadersMiddleware,
    StrictJSONMiddleware,
    viewer_policy,
)
from twin3d.server.proxies import ForwardedMiddleware
from twin3d.server.routers import (
    analysis,
    buildings,
    features,
    for_me,
    geo,
    layers,
    models,
    parcels,
    places,
    population,
    proposals,
    scenarios,
    search,
    sun,
    surveys,
    tiles,
    twins,
    workshops,
)
from twin3d.server.state import close_twins, open_twins
from twin3d.settings import (
    LayerSettings,
    LiveSettings,
    MailSettings,
    ParticipationSettings,
    PathSettings,
    ScenarioSettings,
    ServerSettings,
)
from twin3d.store.live import LiveStores


def default_viewer_dir() -> Path:
    """The bundled viewer: ``viewer/`` of the source tree, or the copy packed into the wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "viewer", package / "viewer"):
        if (candidate / "index.html").is_file():
            return candidate
    return package.parent / "viewer"


def create_app(
    server: ServerSettings | None = None,
    paths: PathSettings | None = None,
    participation: ParticipationSettings | None = None,
    layer_limits: LayerSettings | None = None,
    scenario_limits: ScenarioSettings | None = None,
    *,
    live_settings: LiveSettings | None = None,
    mail: MailSettings | None = None,
) -> FastAPI:
    """Build the app that serves every twin built into ``paths.store_dir``.

    Args:
        server: listening and serving settings.
        paths: where the stores, tiles and the users file are.
        participation: body and rate limits of citizens' places.
        layer_limits: size limits of layer uploads.
        scenario_limits: body and rate limits of scenario submissions.
        live_settings: where the live store is (default: ``TWIN3D_LIVE_*`` from the environment).
        mail: how survey confirmation mails are sent (default: ``TWIN3D_SMTP_*`` from the environment).
    """
    server = server or ServerSettings()
    paths = paths or PathSettings()
    participation = participation or ParticipationSettings()

    live_settings = live_settings or LiveSettings()
    live = LiveStores(paths.store_dir, live_settings)
    # Every worker process of this server reaches the same buckets (twin3d.participation.shared_limits).
    limiter = SharedRateLimiter.for_server(paths.rate_limits_file, live_settings)
    guard = Guard(
        participation,
        scenario_limits or ScenarioSettings(),
        paths.participation_key_file,
        WorkshopRegistry(paths.workshops_file),
        limiter,
    )
    places_service = Participation(live, paths.pipelines_dir, guard)
    surveys_service = Surveys(live, guard, Mailer(mail or MailSettings()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Threads that run the routes at once: the work holds the GIL, and fewer threads than anyio's 40 answer
        # in order instead of all slowly at once (a shorter tail under load).
        anyio.to_thread.current_default_thread_limiter().total_tokens = server.threads
        app.state.twins = twins = open_twins(paths.store_dir, paths.tiles_dir)
        try:
            async with twins.watching():  # rebuilt, new and removed twins are served without a restart
                yield
        finally:
            close_twins(twins)
            live.close()
            limiter.close()

    app = FastAPI(title="twin3d", version=__version__, lifespan=lifespan)
    app.state.live = live  # for routers of other packages, e.g. twin3d.participation.export.public_places
    # The last added runs first: headers on every answer (refusals too), the client address, HEAD as the GET it
    # becomes before access is decided, and JSON bodies checked only for callers who may send them.
    app.add_middleware(StrictJSONMiddleware)
    app.add_middleware(AccessMiddleware, control=AccessControl(app, UserRegistry(paths.users_file), MATRIX))
    app.add_middleware(HeadMiddleware)
    app.add_middleware(ForwardedMiddleware, trusted=server.trusted_proxies)
    app.add_middleware(SecurityHeadersMiddleware, viewer_csp=viewer_policy(server.viewer_dir or default_viewer_dir()))
    install_error_handlers(app)
    app.include_router(twins.router())
    app.include_router(twins.me_router())
    app.include_router(geo.router())
    app.include_router(buildings.router(server.building_pick_tolerance_m))
    app.include_router(parcels.router())
    app.include_router(tiles.router(server.tile_cache_seconds))
    app.include_router(population.router(server.public_max_h3_resolution))
    catalog = features.FeatureCatalog(
        [features.layer_collections(paths), features.places_collection(live)],
        max_tile_features=server.vector_tile_max_features,
        facility_types=features.facility_types_of(paths.pipelines_dir),
    )
    app.include_router(features.router(catalog))
    app.include_router(features.vector_tiles_router(catalog))
    simulations = scenarios.Simulations(paths.pipelines_dir, paths.privacy_key_file)
    for simulation_routes in (
        scenarios.router(live, simulations, server.viewer_dir or default_viewer_dir(), guard=guard),
        for_me.router(live, simulations),
        analysis.router(simulations),
    ):
        app.include_router(simulation_routes)
    app.include_router(models.router(paths, guard))
    app.include_router(places.router(places_service))
    app.include_router(proposals.router(places_service, live, simulations))
    app.include_router(workshops.router(places_service))
    app.include_router(surveys.router(surveys_service))
    app.include_router(layers.router(paths, layer_limits or LayerSettings(), server.tile_cache_seconds))
    app.include_router(search.router(paths.pipelines_dir))
    app.include_router(sun.router())
    mount_viewer(app, server.viewer_dir or default_viewer_dir())
    return app


# What of viewer/ is public: the page, its code and the vendored bundles, never node_modules or scripts.
VIEWER_DIRS = ("js", "vendor")
VIEWER_FILES = {
    "index.html": "text/html",
    "style.css": "text/css",
    "print.css": "text/css",
    "favicon.svg": "image/svg+xml",
}


def mount_viewer(app: FastAPI, viewer: Path) -> None:
    """Serve the viewer's public files at ``/``."""
    if not viewer.is_dir():
        return
    for sub in VIEWER_DIRS:
        if (viewer / sub).is_dir():
            app.mount(f"/{sub}", StaticFiles(directory=viewer / sub), name=f"viewer-{sub}")

    def static_file(name: str, media_type: str) -> Callable[[Request], Response]:
        def serve(request: Request) -> Response:
            # nginx's ETag, so a client revalidates alike behind nginx (which serves these files itself) and without.
            headers = {"ETag": nginx_etag((viewer / name).stat()), "Cache-Control": "no-cache"}
            return not_modified(request, headers) or FileResponse(viewer / name, media_type=media_type, headers=headers)

        return serve

    for name, media_type in VIEWER_FILES.items():
        if (viewer / name).is_file():
            endpoint = static_file(name, media_type)
            app.add_api_route(f"/{name}", endpoint, methods=["GET"], include_in_schema=False)
            if name == "index.html":
                app.add_api_route("/", endpoint, methods=["GET"], include_in_schema=False)


def app_from_env() -> FastAPI:
    """The app as every ``TWIN3D_*`` environment variable configures it: the factory of uvicorn's worker processes.

    ``twin3d serve --workers N`` passes its host, port and paths to the workers through the environment, because
    uvicorn's supervisor starts each worker from an import string (``twin3d.server.app:app_from_env``), not from an
    app built in the parent process.
    """
    return create_app(ServerSettings(), PathSettings())
