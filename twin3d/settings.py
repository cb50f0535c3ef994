"""Settings, one class per concern, read from ``TWIN3D_*`` environment variables.

Nothing here is built at import time: the CLI and the tests construct the settings they need and pass them on.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class PathSettings(BaseSettings):
    """Where pipeline definitions are read and where the store and the tiles are written.

    Relative paths are taken relative to the working directory, which is the repository root for the README
    commands.
    """

    model_config = SettingsConfigDict(env_prefix="TWIN3D_", extra="ignore")

    pipelines_dir: Path = Field(default=Path("pipelines"), description="folder of <twin>.toml definitions")
    store_dir: Path = Field(default=Path("var"), description="folder of the DuckDB stores, one <twin>.duckdb each")
    tiles_dir: Path = Field(default=Path("tiles"), description="root of the generated 3D Tiles, tiles/<twin>/")

    def pipeline_file(self, twin: str) -> Path:
        """The pipeline definition of ``twin``."""
        return self.pipelines_dir / f"{twin}.toml"

    def store_file(self, twin: str) -> Path:
        """The DuckDB file of ``twin``."""
        return self.store_dir / f"{twin}.duckdb"

    def privacy_key_file(self, twin: str) -> Path:
        """The secret that keys the privacy gate's noise for ``twin`` (created on the first build, kept after)."""
        return self.store_dir / f"{twin}.privacy-key"

    def tileset_dir(self, twin: str) -> Path:
        """The tileset folder of ``twin``."""
        return self.tiles_dir / twin

    @property
    def layers_dir(self) -> Path:
        """Root of the loaded layers: ``<store_dir>/layers/<twin>/<layer>/``.

        Files beside the store rather than tables in it, so that layers can be added while a server holds the
        store open (DuckDB lets only one process open a file for writing).
        """
        return self.store_dir / "layers"

    @property
    def users_file(self) -> Path:
        """The users with their roles and hashed bearer tokens (``twin3d users add``); no raw token is kept."""
        return self.store_dir / "users.json"

    @property
    def workshops_file(self) -> Path:
        """The workshop codes (``twin3d workshops add``), hashed; a file so the CLI can add one while a server runs."""
        return self.store_dir / "workshops.json"

    @property
    def rate_limits_file(self) -> Path:
        """The rate limits' token buckets, shared by the server's worker processes (keyed hashes only)."""
        return self.store_dir / "ratelimits.sqlite"

    def participation_key_file(self, twin: str) -> Path:
        """The secret that keys the hashes of client addresses for ``twin`` (created on first use, kept after)."""
        return self.store_dir / f"{twin}.participation-key"


class ServerSettings(BaseSettings):
    """How the HTTP server listens and what it serves."""

    model_config = SettingsConfigDict(env_prefix="TWIN3D_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    viewer_dir: Path | None = Field(default=None, description="folder of the web viewer; default: the bundled one")
    tile_cache_seconds: int = Field(default=0, ge=0, description="max-age for tiles; 0 means revalidate by ETag")
    public_max_h3_resolution: int = Field(
        default=10, ge=7, le=10, description="finest H3 resolution of the population for the public (council: 10)"
    )
    threads: int = Field(
        default=40, ge=1, le=512, description="requests one worker process runs at once (the rest wait in turn)"
    )
    building_pick_tolerance_m: float = Field(
        default=1.5, gt=0, le=50, description="how far a clicked point may lie outside a footprint"
    )
    vector_tile_max_features: int = Field(
        default=20_000,  # twin3d.store.features.MAX_TILE_FEATURES (settings import nothing of the library)
        ge=100,
        description="most features in one vector tile cut on demand; above it a tile keeps the largest and says so "
        "in X-Tile-Thinned (a 200 MB layer made a 97 MB tile and 40 s of work)",
    )
    trusted_proxies: Annotated[tuple[IPNetwork, ...], NoDecode] = Field(
        default=(),
        description="reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client; "
        "default none: the socket peer is the client",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        """``"127.0.0.1, 10.0.0.0/8"`` -> networks; a bad entry is refused with its text."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            try:
                return tuple(ipaddress.ip_network(str(v).strip(), strict=False) for v in value)
            except ValueError as exc:
                raise ValueError(f"not an IP address or CIDR: {exc}") from exc
        return value


class ParticipationSettings(BaseSettings):
    """Abuse protection of citizens' places: body size and rate limits (``TWIN3D_PARTICIPATION_*``).

    Rates are token buckets: ``*_per_minute`` refills, ``burst`` is how many may come at once. Limits per address
    count the keyed hash of the client address (the raw address is never kept); limits per participant count the
    anonymous participant token.
    """

    model_config = SettingsConfigDict(env_prefix="TWIN3D_PARTICIPATION_", extra="ignore")

    max_body_bytes: int = Field(default=16_384, ge=1024, le=1_048_576, description="larger bodies get 413")
    posts_per_minute: float = Field(default=6, gt=0, description="places, comments and reports per address")
    posts_burst: int = Field(default=10, ge=1)
    votes_per_minute: float = Field(default=30, gt=0, description="votes per address")
    votes_burst: int = Field(default=30, ge=1)
    participants_per_hour: float = Field(default=20, gt=0, description="new participant tokens per address")
    participants_burst: int = Field(default=5, ge=1)
    participant_posts_per_minute: float = Field(default=3, gt=0, description="places, comments, reports per token")
    participant_posts_burst: int = Field(default=5, ge=1)
    votes_per_place_per_address: int = Field(
        default=5, ge=1, description="votes on one place from one address per day, whatever the tokens"
    )
    cluster_above: int = Field(default=400, ge=1, le=5000, description="a view with more pins gets H3 clusters")
    workshop_code_attempts_per_hour: float = Field(
        default=30, gt=0, description="wrong workshop codes per address (against guessing); then every code waits"
    )
    workshop_code_attempts_burst: int = Field(default=10, ge=1)
    workshop_max_quota: int = Field(default=500, ge=1, le=100_000, description="most participants of one workshop")


class ScenarioSettings(BaseSettings):
    """Abuse protection of scenario submissions (``TWIN3D_SCENARIO_*``): body size and rate limits.

    The public is limited per keyed hash of the client address and, when it sends one, per participant token; the
    council and the administration per user, with a much larger allowance. Only new scenarios count: posting one
    that is stored already finds it and costs nothing.
    """

    model_config = SettingsConfigDict(env_prefix="TWIN3D_SCENARIO_", extra="ignore")

    max_body_bytes: int = Field(
        default=524_288, ge=16_384, le=16_777_216, description="larger scenario bodies get 413 (drawn polygons fit)"
    )
    per_hour: float = Field(default=10, gt=0, description="new public scenarios per address and per token")
    burst: int = Field(default=10, ge=1)
    council_per_hour: float = Field(default=600, gt=0, description="new scenarios per council or admin user")
    council_burst: int = Field(default=200, ge=1)


class LayerSettings(BaseSettings):
    """Limits for loading layers (``twin3d layers add``), read from ``TWIN3D_LAYER_*``."""

    model_config = SettingsConfigDict(env_prefix="TWIN3D_LAYER_", extra="ignore")

    max_file_mb: float = Field(default=2048, gt=0, description="largest input file (or zip) accepted")
    max_features: int = Field(default=5_000_000, ge=1, description="most features in a vector layer")
    max_points: int = Field(default=200_000_000, ge=1, description="most points in a point cloud")
    max_raster_pixels: int = Field(default=1_000_000_000, ge=1, description="most pixels x bands in a raster")
    seed_max_features: int = Field(
        default=1_000_000, ge=0, description="vector layers up to this size get tiles of zoom 12-16 cut on loading"
    )
    max_zip_entries: int = Field(default=1000, ge=1)
    max_unzipped_mb: float = Field(default=4096, gt=0, description="most bytes a zip may unpack to")
    max_zip_ratio: float = Field(default=200, gt=1, description="highest compression ratio of a zip entry")
    max_distance_km: float = Field(
        default=50, ge=0, description="how far outside a built twin's extent a layer's features may lie"
    )


class ServiceSettings(BaseSettings):
    """Layers read from web map services (WMS, WMTS, WFS, OGC API Features), ``TWIN3D_SERVICE_*``.

    The server asks only the URL an administrator registered (http or https, redirects only within its host), and
    with ``TWIN3D_SERVICE_ALLOWED_HOSTS`` only those hosts; every answer is limited in time and size.
    """

    model_config = SettingsConfigDict(env_prefix="TWIN3D_SERVICE_", extra="ignore")

    timeout_s: float = Field(default=10, gt=0, le=120, description="how long one request to a service may take")
    max_response_mb: float = Field(
        default=64, gt=0, description="largest answer read from a service (capabilities, features, a page of them)"
    )
    max_tile_kb: float = Field(default=2048, gt=0, description="largest map tile or legend image accepted")
    cache_mb: float = Field(default=256, ge=0, description="disk cache of a map layer's tiles (oldest go first)")
    cache_max_age_s: int = Field(
        default=86_400, ge=0, description="age after which a cached tile is asked for again (0: never cached)"
    )
    max_features: int = Field(default=200_000, ge=1, description="most features imported from a WFS or OGC API")
    page_size: int = Field(default=1000, ge=1, le=10_000, description="features asked for per OGC API page")
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="hosts (comma-separated, e.g. geoservices.bayern.de) that may be registered; default any host",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> object:
        """``"a.example, B.example"`` -> ``("a.example", "b.example")``."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return tuple(str(v).strip().lower() for v in value if str(v).strip())
        return value


class MailSettings(BaseSettings):
    """How the server sends e-mail: the confirmation links of survey answers (double opt-in), ``TWIN3D_SMTP_*``.

    Without ``TWIN3D_SMTP_HOST`` or ``TWIN3D_PUBLIC_URL`` no mail is sent and surveys take invitation codes only.
    The link in a mail is built from ``TWIN3D_PUBLIC_URL``, never from the request's Host header (which a caller
    could set, and so have the server mail a link to a page of their own). The password is read from a file (a
    secret of the deployment, never an environment value that ``ps`` or a crash report shows).
    """

    model_config = SettingsConfigDict(env_prefix="TWIN3D_SMTP_", extra="ignore", populate_by_name=True)

    host: str | None = Field(default=None, description="SMTP server; default: no mail, surveys take codes only")
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(
        default="twin3d@localhost",
        validation_alias=AliasChoices("TWIN3D_SMTP_FROM", "sender"),
        max_length=254,
        description="the From address of the mails",
    )
    starttls: bool = Field(default=False, description="upgrade the connection with STARTTLS before logging in")
    ssl: bool = Field(default=False, description="implicit TLS (SMTPS, usually port 465)")
    user: str | None = Field(default=None, description="SMTP login; default: none")
    password_file: Path | None = Field(default=None, description="file holding the SMTP password")
    timeout_s: float = Field(default=15, gt=0, le=120, description="how long one delivery may take")
    public_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TWIN3D_PUBLIC_URL", "public_url"),
        description="the server's public base URL (https://twin.example.org), for the links in mails",
    )
    confirm_hours: float = Field(
        default=48, gt=0, le=24 * 30, description="how long a survey answer waits for its confirmation"
    )

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        """An http(s) base URL without a trailing slash; empty means none."""
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("TWIN3D_PUBLIC_URL must start with https:// (or http:// for a local test)")
        return value

    @property
    def enabled(self) -> bool:
        """Whether mails can be sent (a server and a public URL for the links)."""
        return bool(self.host) and self.public_url is not None


class LiveSettings(BaseSettings):
    """Where the live store (places, votes, comments, scenarios, moderation) is kept (``TWIN3D_LIVE_*``).

    Without a URL each twin's live store is an SQLite file beside its build store (``<store_dir>/<twin>.live.sqlite``),
    which several worker processes of one machine share. With ``TWIN3D_LIVE_DATABASE_URL`` it is a PostgreSQL
    database, one schema per twin (``pip install 'twin3d[postgres]'``).
    """

    model_config = SettingsConfigDict(env_prefix="TWIN3D_LIVE_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="postgresql://user@host:port/database; default: SQLite files in the store folder"
    )
    pool_size: int = Field(default=8, ge=1, le=256, description="most PostgreSQL connections per twin and process")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        """Only PostgreSQL URLs; an empty value means the embedded default."""
        if value is None or not value.strip():
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("TWIN3D_LIVE_DATABASE_URL must start with postgresql://")
        return value.strip()
