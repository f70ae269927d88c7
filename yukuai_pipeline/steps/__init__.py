"""One module per asset family: read inputs, call the domain, write one partition, return outcomes."""
