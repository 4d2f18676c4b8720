"""The step registry: `workflows/` registers one Step per forward trigger; the runner looks them up."""

from __future__ import annotations

from release_ledger.engine.errors import EngineError

_STEPS: dict[str, object] = {}


def register_step(step: object) -> object:
    """Register a step instance under its `trigger` (a later registration replaces it)."""
    _STEPS[step.trigger] = step  # type: ignore[attr-defined]
    return step


def get_step(trigger: str):
    """The step registered for `trigger`; an EngineError when none is."""
    try:
        return _STEPS[trigger]
    except KeyError:
        raise EngineError(f"no step is registered for {trigger!r}",
                          hint="this build of release does not implement that step yet") from None


def registered() -> dict[str, object]:
    """Every registered step by trigger."""
    return dict(_STEPS)
