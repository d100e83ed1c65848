"""Backup locations (SPEC §14): places a copy of every backup goes after it is written locally."""
