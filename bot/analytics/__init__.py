"""Analytics over the durable store: monthly statistics (`payfix stats`, `/payfix stats`), the weekly digest
to operations, and the App Home figures. Queries load one window of cases; everything else is pure Python
on those facts, so the numbers are testable without a database and identical on SQLite and PostgreSQL."""
