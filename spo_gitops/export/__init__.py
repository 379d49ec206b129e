"""Exports of the catalog into the formats of other tools (Backstage)."""
