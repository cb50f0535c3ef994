"""The layer catalogue of a twin: one folder per layer under ``<store_dir>/layers/<twin>/``, each with its
``layer.json`` entry and data files, written into a hidden staging folder and renamed into place.

A rename within one file system is atomic, so a reader (the server) sees either the old layer or the new one,
never half of one; hidden folders (``.staging-*``, ``.old-*``) are not layers and are skipped when listing.

Example:
    >>> [e.id for e in list_layers(PathSettings(), "lauf")]  # doctest: +SKIP
    ['baeume', 'laermkarte']
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import unicodedata
import uuid
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from twin3d.errors import ConfigError, NotFoundError, StoreError
from twin3d.layers.model import ENTRY_FILE, LAYER_ID_PATTERN, LayerEntry, visible_to
from twin3d.settings import PathSettings

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def slugify(text: str) -> str:
    """A layer id from a title or file name: lower case ASCII, German umlauts spelt out, ``-`` between words."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64].strip("-")
    return slug or "layer"


def check_layer_id(layer_id: str) -> str:
    """The id itself, or a ConfigError that says what an id may contain."""
    if not re.fullmatch(LAYER_ID_PATTERN, layer_id):
        raise ConfigError(
            f"invalid layer id {layer_id!r}",
            hint="use 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit",
        )
    return layer_id


def layers_root(paths: PathSettings, twin: str) -> Path:
    """The folder of all layers of ``twin``."""
    return paths.layers_dir / twin


def layer_dir(paths: PathSettings, twin: str, layer_id: str) -> Path:
    """The folder of one layer."""
    return layers_root(paths, twin) / check_layer_id(layer_id)


def read_entry(folder: Path) -> LayerEntry:
    """The entry in ``folder/layer.json``.

    Raises:
        StoreError: the file is not a valid entry (written by hand, or by a newer twin3d).
    """
    path = folder / ENTRY_FILE
    try:
        return LayerEntry.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise StoreError(
            f"broken layer catalogue entry: {exc}".splitlines()[0],
            file=path,
            hint="remove the layer (twin3d layers remove) and add it again",
        ) from exc


def write_entry(folder: Path, entry: LayerEntry) -> Path:
    """Write ``entry`` as ``folder/layer.json`` (into a staging folder: the swap makes it visible)."""
    path = folder / ENTRY_FILE
    path.write_text(json.dumps(entry.model_dump(mode="json"), indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def list_layers(paths: PathSettings, twin: str, *, role: str | None = None) -> list[LayerEntry]:
    """The catalogue of ``twin``, ordered by id; with ``role``, only the layers that role may see.

    Args:
        paths: where the layers are.
        twin: the twin's name.
        role: ``public``, ``council`` or ``admin``; None lists every layer.
    """
    root = layers_root(paths, twin)
    if not root.is_dir():
        return []
    entries = [
        read_entry(d)
        for d in sorted(root.iterdir())
        if d.is_dir() and not d.name.startswith(".") and (d / ENTRY_FILE).is_file()
    ]
    return [e for e in entries if role is None or visible_to(e.visibility, role)]


def get_layer(paths: PathSettings, twin: str, layer_id: str) -> LayerEntry:
    """One catalogue entry.

    Raises:
        NotFoundError: the twin has no layer ``layer_id``.
    """
    folder = layer_dir(paths, twin, layer_id)
    if not (folder / ENTRY_FILE).is_file():
        raise NotFoundError(
            f"twin {twin!r} has no layer {layer_id!r}", hint=f"list its layers: twin3d layers list {twin}"
        )
    return read_entry(folder)


def layer_file(paths: PathSettings, entry: LayerEntry, role: str) -> Path:
    """The data file of ``entry`` for ``role`` (``features``, ``raster``, ``tileset``).

    Raises:
        NotFoundError: the layer has no file of that role.
    """
    relative = entry.files.get(role)
    if relative is None:
        raise NotFoundError(f"layer {entry.id!r} ({entry.kind}) has no {role} data")
    return layer_dir(paths, entry.twin, entry.id) / relative


def remove_layer(paths: PathSettings, twin: str, layer_id: str) -> LayerEntry:
    """Remove a layer and its files; returns the entry it had.

    The folder is first renamed to a hidden name, so the layer disappears from the catalogue at once even if
    deleting its files takes a while.

    Raises:
        NotFoundError: the twin has no layer ``layer_id``.
    """
    entry = get_layer(paths, twin, layer_id)
    folder = layer_dir(paths, twin, layer_id)
    trash = folder.with_name(f".removed-{layer_id}-{uuid.uuid4().hex[:8]}")
    folder.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)
    return entry


class StagedLayer:
    """A hidden folder beside a layer's folder, renamed into its place when the load succeeded.

    On an exception the staging folder is removed and the catalogue is as it was. ``replace`` allows an existing
    layer of the same id to be swapped out (moved aside, the new one moved in, the old one deleted).

    Raises:
        ConfigError: the layer exists and ``replace`` is false (checked on entry and again at the swap).
    """

    def __init__(self, paths: PathSettings, twin: str, layer_id: str, *, replace: bool = False) -> None:
        self.target = layer_dir(paths, twin, layer_id)
        self.replace = replace
        self.path = self.target.with_name(f".staging-{layer_id}-{uuid.uuid4().hex[:8]}")
        self._made: list[Path] = []

    def _check_free(self) -> None:
        if self.target.exists() and not self.replace:
            raise ConfigError(
                f"layer {self.target.name!r} exists already",
                file=self.target,
                hint="choose another --id, or pass --replace to load it anew",
            )

    def __enter__(self) -> StagedLayer:
        self._check_free()
        # Folders made here for a first layer go again if it fails: a failed load leaves no trace.
        self._made = [p for p in self.target.parents if not p.exists()]
        self.path.mkdir(parents=True)
        return self

    def _discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        for folder in self._made:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self._discard()
            return
        old = self.target.with_name(f".old-{self.target.name}-{uuid.uuid4().hex[:8]}")
        moved_aside = False
        try:
            self._check_free()
            if self.target.exists():
                self.target.rename(old)
                moved_aside = True
            self.path.rename(self.target)
        except BaseException:
            if moved_aside and not self.target.exists():
                old.rename(self.target)
            self._discard()
            raise
        shutil.rmtree(old, ignore_errors=True)
