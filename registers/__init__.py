"""Processor register entries, one TOML file per processor, shipped as package data."""
