"""handlers/: one function per command; the table is in handlers.registry."""
