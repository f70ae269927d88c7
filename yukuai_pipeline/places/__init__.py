"""Township and village names, aliases and codes, and the registry's standard form."""
