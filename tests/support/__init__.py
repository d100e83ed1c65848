"""Helpers several test folders share: a fake clock, a live server, real backups dated at will."""
