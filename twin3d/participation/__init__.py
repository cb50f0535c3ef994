"""Citizens' places: pins with votes, comments and reports, moderation, the representation lens, exports."""
