"""Repositories: every query the handlers and the bus make, one class per table group, reached
through the unit of work (`uow.customers`, `uow.receptions` …). They return ORM rows as the callers
use them; a caller never builds a statement itself."""
