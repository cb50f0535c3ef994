"""Users, roles and bearer tokens of the triple twin (public, council, administration)."""
