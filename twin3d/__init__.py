"""twin3d: a 3D digital twin of a city and of its society."""

__version__ = "0.1.0"
