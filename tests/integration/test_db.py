"""The driver connection for hot reads: autocommit while lent, as the pool expects it after."""

from __future__ import annotations

import psycopg
import pytest

from backend.db import driver_autocommit, get_engine, session_scope

pytestmark = pytest.mark.local_services


def test_a_lent_driver_connection_autocommits_and_goes_back_transactional(migrated_db):
    with driver_autocommit() as connection:
        assert connection.autocommit
        connection.execute("SELECT 1")
        assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        lent = connection
    assert not lent.autocommit
    with session_scope() as db:  # the pool's next user gets an ordinary transaction
        assert db.connection().connection.driver_connection.autocommit is False


def test_a_failed_statement_leaves_the_connection_usable(migrated_db):
    with pytest.raises(psycopg.errors.UndefinedTable), driver_autocommit() as connection:
        connection.execute("SELECT * FROM no_such_table")
    with driver_autocommit() as connection:
        assert connection.execute("SELECT 41 + 1").fetchone() == (42,)


def test_a_connection_that_died_while_lent_is_not_handed_out_again(migrated_db):
    engine = get_engine()
    with pytest.raises(psycopg.OperationalError), driver_autocommit() as connection:
        dead = connection
        backend_pid = connection.info.backend_pid
        with engine.connect() as other:  # the server ends it, as a restart would
            other.exec_driver_sql(f"SELECT pg_terminate_backend({backend_pid})")
        connection.execute("SELECT 1")
    assert dead.closed or dead.broken
    with driver_autocommit() as connection:
        assert connection is not dead
        assert connection.execute("SELECT 1").fetchone() == (1,)
