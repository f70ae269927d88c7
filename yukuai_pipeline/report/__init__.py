"""The officer's workbook and its chart."""
