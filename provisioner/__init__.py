"""EdTech processor register and minimal-data pupil account provisioner."""

__version__ = "0.1.0"
