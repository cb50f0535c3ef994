"""Declarative TOML files (pipelines, priors, personas, projection rates and town histories, facility types, the
participation table) read into pydantic models.

One reader so that every such file fails the same way: a missing file names the file and where it is configured,
bad TOML gives the parser's line, an invalid value names its field (``types.kita.default_capacity: ...``).

Example:
    >>> priors = load_toml_model(Path("pipelines/priors/germany.toml"), Priors, what="priors file")  # doctest: +SKIP
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from twin3d.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def read_toml(path: Path, what: str, missing_hint: str | None = None) -> dict[str, Any]:
    """The file's TOML as a dict.

    Raises:
        ConfigError: "<what> not found" (with ``missing_hint``), the file is not UTF-8, or not valid TOML.
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} not found", file=path, hint=missing_hint) from exc
    except UnicodeDecodeError as exc:  # TOML is UTF-8; a file saved as Latin-1 (umlauts) would be a traceback
        raise ConfigError(
            f"not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r})",
            file=path,
            hint="save the file as UTF-8 (TOML files are UTF-8)",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=path) from exc


def load_toml_model(
    path: Path, model: type[Model], *, what: str, missing_hint: str | None = None, hint: str | None = None
) -> Model:
    """The file validated as ``model``.

    Raises:
        ConfigError: missing file, bad TOML, or an invalid value: the message names the first invalid field, the
            hint says where to look (``hint``).
    """
    data = read_toml(path, what, missing_hint)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {first['msg']}", file=path, hint=hint) from exc
