"""Surveys of the administration, answered once per person: by a confirmed e-mail address (double opt-in) or by a
one-time invitation code; results through the privacy gate, exports, and self-descriptions for the lens.

- :mod:`.model`: what a survey and an answer may be;
- :mod:`.store`: the SQL over the live store's survey tables (``twin3d/sql/live/*_003.sql``);
- :mod:`.keys`: the keyed hashes that stand in for an address or a code, and the codes;
- :mod:`.mail`: the confirmation mail (SMTP);
- :mod:`.sheet`: printable sheets of codes (PDF, CSV);
- :mod:`.results`: counts through :func:`twin3d.population.privacy.suppress_choices`, and the CSV exports;
- :mod:`.service`: :class:`~.service.Surveys`, the rules in one place (the router calls only it).

Nothing here imports the service at package import, so :mod:`twin3d.participation.service` can read the
self-descriptions for the lens (:func:`.store.lens_table`) without a cycle.
"""
