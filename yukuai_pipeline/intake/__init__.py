"""File -> accepted rows and issues: landing folder, readers, limits, headers, column mapping, parsing, privacy."""
