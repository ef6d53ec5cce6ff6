"""Alembic migrations for the hedgebot store. Run them with ``hedgebot db upgrade`` (which calls
``bot.store.migrate.upgrade``); no alembic command line is needed."""
