"""The society twin: synthetic households and persons from aggregate statistics, personas, H3 aggregates."""
