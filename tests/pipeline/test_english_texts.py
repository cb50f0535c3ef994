"""The English texts of a twin definition (``title_en``, ``description_en``, ``level_title_en``, the choropleth's
``label_en``): optional, validated with an error that names the field, and written by ``twin3d init`` as a TODO."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin3d.errors import ConfigError
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.init import init_pipeline

TWIN = """
[twin]
name = "dorf"
title = "Dorf"
crs = "EPSG:25832"
ground_height = 300.0
geoid_undulation = 47.0
{extra}

[[sources]]
name = "gebaeude"
kind = "buildings"
path = "gebaeude.geojson"
"""


def _write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "dorf.toml"
    path.write_text(TWIN.format(extra=extra), encoding="utf-8")
    return path


def test_english_texts_are_optional_and_read(tmp_path: Path) -> None:
    assert load_pipeline(_write(tmp_path, "")).twin.english() == {}
    cfg = load_pipeline(_write(tmp_path, 'description = "Ein Dorf."\ndescription_en = "A village."'))
    assert cfg.twin.english() == {"description": "A village."}


def test_an_empty_english_title_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="title_en"):
        load_pipeline(_write(tmp_path, 'title_en = ""'))


def test_an_english_description_without_the_german_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="description_en is given but description is not"):
        load_pipeline(_write(tmp_path, 'description_en = "A village."'))


def test_an_unknown_english_field_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="titel_en"):
        load_pipeline(_write(tmp_path, 'titel_en = "Village"'))


@pytest.mark.parametrize("name", ["rostock", "lauf", "monzel"])
def test_the_demo_twins_have_english_descriptions(name: str) -> None:
    cfg = load_pipeline(Path(__file__).resolve().parents[2] / "pipelines" / f"{name}.toml")
    assert cfg.twin.english()["description"]


def test_english_attribution_lines_match_the_german_ones(tmp_path: Path) -> None:
    two = 'attribution = ["Gebäude: © Stadt", "Zensus: © Destatis"]\n'
    cfg = load_pipeline(_write(tmp_path, two + 'attribution_en = ["Buildings: © Stadt", "Census: © Destatis"]'))
    assert cfg.twin.english() == {"attribution": ["Buildings: © Stadt", "Census: © Destatis"]}
    with pytest.raises(ConfigError, match="attribution_en has 1 line"):
        load_pipeline(_write(tmp_path, two + 'attribution_en = ["Buildings: © Stadt"]'))


def test_init_writes_the_english_texts_as_a_todo(tmp_path: Path) -> None:
    monzel = Path(__file__).resolve().parents[2] / "geodata" / "monzel" / "monzel_alkis.gpkg"
    text = init_pipeline("monzel", [monzel], tmp_path / "pipelines").text
    twin = text[text.index("[twin]") : text.index("crs =")]
    assert "# TODO: title_en" in twin
    assert "description_en" in twin
    assert "attribution_en" in twin
