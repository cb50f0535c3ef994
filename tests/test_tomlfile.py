"""Every TOML file of twin3d is read one way: a file saved as Latin-1 (umlauts) stops with one line naming the file
and the fix, never a traceback of a decoding error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PIPELINES
from twin3d.errors import ConfigError
from twin3d.participation.service import read_section
from twin3d.pipeline.config import load_pipeline
from twin3d.population.personas import load_personas
from twin3d.population.priors import load_priors

READERS: dict[str, tuple[Path, Callable[[Path], Any]]] = {
    "pipeline": (PIPELINES / "lauf.toml", load_pipeline),
    "participation": (PIPELINES / "lauf.toml", read_section),
    "priors": (PIPELINES / "priors" / "germany.toml", load_priors),
    "personas": (PIPELINES / "personas.toml", load_personas),
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_latin1_file_names_itself_and_the_fix(kind: str, tmp_path: Path) -> None:
    source, read = READERS[kind]
    text = source.read_text(encoding="utf-8")
    assert read(source) is not None  # the file as shipped reads
    broken = tmp_path / source.name
    broken.write_bytes((text + "\n# Straße in Lauf a.d. Pegnitz: Größe\n").encode("latin-1", errors="replace"))
    with pytest.raises(ConfigError) as caught:
        read(broken)
    assert "not UTF-8 text" in caught.value.message
    assert caught.value.file == str(broken)
    assert caught.value.hint == "save the file as UTF-8 (TOML files are UTF-8)"
