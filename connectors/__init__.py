"""Platform connectors: one module per platform, each with one Connector subclass."""
