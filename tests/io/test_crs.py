"""CRS names as German survey offices and other sources write them; datum and geoid grids PROJ lacks."""

from __future__ import annotations

import warnings

import pytest
from pyproj import CRS
from pyproj.transformer import TransformerGroup

from twin3d.errors import CRSError
from twin3d.io.crs import datum_fallback, geoid_undulation, parse_crs, transformation_fallback


@pytest.mark.parametrize(
    ("text", "epsg"),
    [
        ("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH", 25832),
        ("urn:adv:crs:ETRS89_UTM33", 25833),
        ("urn:adv:crs:DE_DHDN_3GK4*DE_DHHN92_NH", 31468),
        ("urn:adv:crs:DE_DHDN_3GK3_NW177*DE_DHHN92_NH", 31467),
        ("urn:adv:crs:DE_DHDN_3GK4_BY120", 31468),
        ("urn:adv:crs:DE_DHDN_3GK2", 31466),
        ("EPSG:31469", 31469),
        ("urn:ogc:def:crs:EPSG::28992", 28992),
    ],
)
def test_adv_and_epsg_names_are_recognised(text: str, epsg: int) -> None:
    assert parse_crs(text).to_epsg() == epsg


def test_an_unknown_adv_name_lists_the_forms_that_are_known() -> None:
    with pytest.raises(CRSError) as caught:
        parse_crs("urn:adv:crs:DE_KRASS_6GK9", file="gebaeude.gml")
    assert "DE_DHDN_3GK4" in str(caught.value.hint)
    assert caught.value.file is not None


def _missing(grid: str) -> bool:
    """True where this machine's PROJ lacks ``grid`` (the fallback tests need it missing; CI installs none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ops = TransformerGroup("EPSG:31468", "EPSG:4326", always_xy=True).unavailable_operations
        ops += TransformerGroup("EPSG:28992", "EPSG:4258", always_xy=True).unavailable_operations
    return any(g.short_name == grid for op in ops for g in op.grids)


LAUF, LEIPZIG, BOSCH = (11.28, 49.51), (12.4, 51.34), (5.37, 51.72)


@pytest.mark.skipif(not _missing("de_adv_BETA2007.tif"), reason="BETA2007 is installed here")
def test_gauss_krueger_without_beta2007_names_the_accuracy_the_grid_and_the_fix() -> None:
    found = transformation_fallback(CRS.from_epsg(31468), CRS.from_epsg(4326), LAUF)
    assert found is not None
    assert (found.used, found.used_accuracy) == ("DHDN to WGS 84 (2)", 3.0)
    assert (found.best, found.best_accuracy) == ("DHDN to WGS 84 (4)", 1.0)
    assert found.missing_grids == ("de_adv_BETA2007.tif",)
    message = found.message()
    assert message.startswith("EPSG:31468 (DHDN / 3-degree Gauss-Kruger zone 4) to EPSG:4326 (WGS 84)")
    assert "pyproj sync --file de_adv_BETA2007.tif" in message
    assert "PROJ_NETWORK=ON" in message
    # PROJ picks by place: in the former East Germany it uses another, better set of parameters.
    east = transformation_fallback(CRS.from_epsg(31468), CRS.from_epsg(4326), LEIPZIG)
    assert east is not None
    assert (east.used, east.used_accuracy) == ("DHDN to WGS 84 (3)", 2.0)


@pytest.mark.skipif(not _missing("nl_nsgi_rdtrans2018.tif"), reason="RDNAPTRANS 2018 is installed here")
def test_rd_without_rdnaptrans_names_its_grid() -> None:
    found = datum_fallback(CRS.from_epsg(28992), BOSCH)
    assert found is not None
    assert found.target == "EPSG:4258 (ETRS89)"
    assert found.used_accuracy == 0.25
    assert found.best_accuracy == 0.0
    assert found.missing_grids == ("nl_nsgi_rdtrans2018.tif",)


def test_crs_on_etrs89_need_no_grid() -> None:
    assert datum_fallback(CRS.from_epsg(25832), LAUF) is None
    assert transformation_fallback(CRS.from_epsg(25833), CRS.from_epsg(25832)) is None
    assert transformation_fallback(CRS.from_epsg(31468), CRS.from_epsg(31468)) is None


@pytest.mark.parametrize(
    ("height_system", "place", "grid", "label"),
    [
        ("EPSG:5709", BOSCH, "nl_nsgi_nlgeo2018.tif", "EPSG:5709 (NAP height)"),
        ("EPSG:7415", BOSCH, "nl_nsgi_nlgeo2018.tif", "EPSG:5709 (NAP height)"),  # RD New + NAP: its heights
        ("EPSG:7837", LAUF, "de_bkg_gcg2016.tif", "EPSG:7837 (DHHN2016 height)"),
    ],
)
def test_the_geoid_of_a_height_system_comes_from_its_own_grid(
    height_system: str, place: tuple[float, float], grid: str, label: str
) -> None:
    geoid = geoid_undulation(*place, height_system)
    assert geoid.height_system == label
    if geoid.value is None:
        assert geoid.missing_grids == (grid,)  # a Dutch twin is never told to install the German grid
    else:
        assert 40 < geoid.value < 50


def test_a_height_system_far_from_its_country_names_no_grid() -> None:
    # Vienna with the default DHHN2016: no German grid to install would help; the build asks for the height system.
    geoid = geoid_undulation(16.37, 48.2)
    assert geoid.value is None
    assert geoid.missing_grids == ()


def test_a_height_system_must_be_vertical() -> None:
    with pytest.raises(CRSError, match="not a vertical CRS") as caught:
        geoid_undulation(*LAUF, "EPSG:25832")
    assert "EPSG:5709" in str(caught.value.hint)
