"""Configuration for running twin3d in production: reverse proxies in front of ``twin3d serve --workers N``."""
