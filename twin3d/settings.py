"""Settings, one class per concern, read from ``TWIN3D_*`` environment variables.

Nothing here is built at import time: the CLI and the tests construct the settings they need and pass them on.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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


class ServerSettings(BaseSettings):
    """How the HTTP server listens and what it serves."""

    model_config = SettingsConfigDict(env_prefix="TWIN3D_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    viewer_dir: Path | None = Field(default=None, description="folder of the web viewer; default: the bundled one")
    tile_cache_seconds: int = Field(default=0, ge=0, description="max-age for tiles; 0 means revalidate by ETag")
    building_pick_tolerance_m: float = Field(
        default=1.5, gt=0, le=50, description="how far a clicked point may lie outside a footprint"
    )
