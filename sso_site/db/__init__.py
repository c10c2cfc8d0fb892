"""PostgreSQL with a client-side deadline on every query (see ``base``)."""
