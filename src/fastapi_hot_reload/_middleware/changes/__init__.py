"""Disk -> messages: watch folders, settle saves, classify, send. No HTTP in here."""
