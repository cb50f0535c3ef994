"""Layers a GIS team adds to a twin: loaded from files, checked, stored as files beside the store, catalogued.

Modules: :mod:`~twin3d.layers.model` (the catalogue entry and the ``[[layers]]`` definition),
:mod:`~twin3d.layers.catalogue` (list, get, remove, stage and swap), :mod:`~twin3d.layers.load` (the loader).
Nothing is imported here, so that :mod:`twin3d.pipeline.config` can import the models without a cycle.
"""
