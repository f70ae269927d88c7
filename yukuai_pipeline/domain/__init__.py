"""Pure pandas domain logic: no Dagster import anywhere below this package."""
