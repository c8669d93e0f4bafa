"""Built-in workflows (TOML, one per file); the format is documented in sources.workflows."""
