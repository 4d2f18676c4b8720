"""Errors of the release process itself: config, catalogue, collection, promotion."""

from __future__ import annotations

from release_ledger.engine.errors import EngineError


class WorkflowError(EngineError):
    """Base of every workflow error."""


class ConfigError(WorkflowError):
    """release.toml (or [tool.release]) is not valid; the message names the key."""


class CatalogueError(WorkflowError):
    """The target's workflows/model_spec.py cannot be read or edited; names file:line."""


class CollectError(WorkflowError):
    """Models CI could not be read as a whole (bad token, missing repo or workflow)."""


class PromotionError(WorkflowError):
    """An image promotion cannot go on (a destination holds another digest, ...)."""


class CheckoutError(WorkflowError):
    """The product checkout cannot be used: no folder, no git work tree, no VERSION, no remote."""
