"""The team database's own tests (PostgreSQL only): the lock across machines, the shared
schedule, the outbox from several processes, the move, losing the server. They use the
session's throwaway server (`pg_url`, tests/conftest.py)."""
