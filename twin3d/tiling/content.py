"""A building tile's GLB content, plain (:mod:`twin3d.tiling.gltf`) or meshopt-compressed
(:mod:`twin3d.tiling.meshopt`), as the twin's tiling options ask: the one place that picks the encoder, so that
neither encoder module imports the other."""

from __future__ import annotations

import numpy as np

from twin3d.tiling.gltf import Property, encode_glb
from twin3d.tiling.mesh import Mesh


def encode_content(
    mesh: Mesh,
    origin: np.ndarray,
    properties: list[Property],
    feature_count: int,
    *,
    compression: str = "none",
    double_sided: bool = False,
    copyright: str | None = None,
) -> bytes:
    """A tile's GLB: :func:`~twin3d.tiling.gltf.encode_glb`, or with ``compression="meshopt"`` quantized
    attributes compressed with ``EXT_meshopt_compression`` (:func:`~twin3d.tiling.meshopt.encode_glb_meshopt`)."""
    if compression == "meshopt":
        from twin3d.tiling.meshopt import encode_glb_meshopt  # noqa: PLC0415  (meshoptimizer only when asked for)

        return encode_glb_meshopt(
            mesh, origin, properties, feature_count, double_sided=double_sided, copyright=copyright
        )
    return encode_glb(mesh, origin, properties, feature_count, double_sided=double_sided, copyright=copyright)
