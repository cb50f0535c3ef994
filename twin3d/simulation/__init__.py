"""Scenarios and their indicators: walking accessibility per persona group and H3 cell."""
