from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import CRS

from tests.conftest import REPO
from twin3d.errors import CRSError, InputError
from twin3d.io.crs import geoid_undulation
from twin3d.io.raster import footprint_ground, read_dem

DEM = REPO / "tests" / "data" / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif"
UTM32 = CRS.from_epsg(25832)


def test_dem_samples_the_real_rhine_bank_bilinearly() -> None:
    dem = read_dem(DEM)
    assert dem.values.shape == (50, 50)
    # Pixel centres hold the original DGM1 samples: 47.40 m at (357000, 5646999), 46.92 m 20 m east of it.
    assert dem.sample(np.array([357000.0]), np.array([5646999.0]))[0] == pytest.approx(47.40, abs=0.01)
    assert dem.sample(np.array([357010.0]), np.array([5646999.0]))[0] == pytest.approx((47.40 + 46.92) / 2, abs=0.01)
    assert np.isnan(dem.sample(np.array([360000.0]), np.array([5646500.0])))[0]
    assert 39.0 < np.nanmin(dem.values) < np.nanmax(dem.values) < 50.4


def test_buildings_stand_on_the_lowest_point_of_their_outline() -> None:
    dem = read_dem(DEM)
    on_the_slope = shapely.box(357100, 5646100, 357160, 5646160)
    outside = shapely.box(359000, 5646100, 359010, 5646110)
    ground = footprint_ground(dem, np.array([on_the_slope, outside]), UTM32)
    corners = shapely.get_coordinates(on_the_slope)
    assert ground[0] == pytest.approx(np.nanmin(dem.sample(corners[:, 0], corners[:, 1])))
    assert np.isnan(ground[1])


def test_only_the_window_around_the_twin_is_read() -> None:
    dem = read_dem(DEM, bounds=(357400.0, 5646400.0, 357500.0, 5646500.0), bounds_crs=UTM32)
    assert dem.values.shape[0] < 20
    assert dem.sample(np.array([357450.0]), np.array([5646450.0]))[0] == pytest.approx(
        read_dem(DEM).sample(np.array([357450.0]), np.array([5646450.0]))[0]
    )


def test_dem_without_crs_and_broken_files(tmp_path: Path) -> None:
    with rasterio.open(DEM) as src:
        profile = {**src.profile, "crs": None}
        data = src.read()
    bare = tmp_path / "bare.tif"
    with rasterio.open(bare, "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(CRSError, match="no CRS"):
        read_dem(bare)
    assert read_dem(bare, declared_crs="EPSG:25832").crs.to_epsg() == 25832
    broken = tmp_path / "broken.tif"
    broken.write_bytes(DEM.read_bytes()[:500])
    with pytest.raises(InputError, match=r"broken\.tif"):
        read_dem(broken)


def test_geoid_from_proj_or_the_grid_it_lacks() -> None:
    geoid = geoid_undulation(11.28, 49.51)
    if geoid.value is None:
        assert "de_bkg_gcg2016.tif" in geoid.missing_grids  # what a user must install
    else:
        assert 45 < geoid.value < 50  # GCG2016 near Nuremberg
