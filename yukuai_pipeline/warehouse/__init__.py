"""The reporting warehouse: SQLAlchemy Core tables built from the output contracts, transactional partition replace.

Downstream BI users depend on these names; each column carries its Chinese comment (PostgreSQL stores it with
COMMENT ON; SQLite has no comments, the contracts in schemas/tables/ are the documentation there). The package:
`tables.py` builds the tables and writes them, `queries.py` reads them and holds every named query; import
`Warehouse` and `Replacement` from here.
"""

from yukuai_pipeline.warehouse.queries import Warehouse
from yukuai_pipeline.warehouse.tables import Replacement

__all__ = ["Replacement", "Warehouse"]
