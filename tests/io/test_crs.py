"""CRS names as German survey offices and other sources write them."""

from __future__ import annotations

import pytest

from twin3d.errors import CRSError
from twin3d.io.crs import parse_crs


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
