"""The rules of huibao, free of Telegram and of the database.

Nothing here imports `telegram`, SQLAlchemy/SQLModel, `handlers` or `storage`; the
import-linter contract in pyproject.toml enforces it (`make test` runs it).
"""
