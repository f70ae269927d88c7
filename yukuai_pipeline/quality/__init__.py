"""Check outcomes, roster records and rules, header accounting."""
