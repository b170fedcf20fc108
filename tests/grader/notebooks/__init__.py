"""Fixture notebooks of the grade tests (a package only so that its conftest has its own module name)."""
