"""The local contact store: SQLite through peewee, versioned migrations, repositories.

Repositories are the only way other layers touch tables.
"""
