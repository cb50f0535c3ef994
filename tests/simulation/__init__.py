"""Tests of twin3d.simulation."""
