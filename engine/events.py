"""Immutable events with stable type names; the ledger stores their payloads verbatim.

Events are named in the past tense (STYLE §4). A subclass with its own `type` registers itself,
so workflows define their outcome events next to the step that records them. Unknown types parse
as `UnknownEvent`: an old ledger always replays, whatever this version of the code knows.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from release_ledger.ledger import NewEvent, StoredEvent

REGISTRY: dict[str, type["Event"]] = {}
E = TypeVar("E", bound="Event")


class Event(BaseModel):
    """Base of every event: a frozen pydantic model whose class var `type` names it."""

    model_config = ConfigDict(frozen=True, extra="allow")
    type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type")
        if name:
            if name in REGISTRY and REGISTRY[name].__qualname__ != cls.__qualname__:
                raise TypeError(f"event type {name!r} is defined twice")
            REGISTRY[name] = cls

    def payload(self) -> dict[str, Any]:
        """The JSON payload stored in the ledger."""
        return self.model_dump(mode="json")

    def to_new(self, idempotency_key: str | None = None) -> NewEvent:
        """The ledger row this event becomes."""
        return NewEvent(self.type, self.payload(), idempotency_key)


class UnknownEvent(Event):
    """An event whose type this version does not know; kept so that replay never fails."""

    event_type: str = ""


def register(cls: type[E]) -> type[E]:
    """Decorator form of registration (subclassing already registers); returns the class."""
    REGISTRY[cls.type] = cls
    return cls


def parse_event(stored: StoredEvent) -> Event:
    """The typed event of a ledger row."""
    cls = REGISTRY.get(stored.type)
    if cls is None:
        return UnknownEvent(event_type=stored.type, **stored.payload)
    return cls.model_validate(stored.payload)


class ReleaseStarted(Event):
    """A release was started with a fixed target version (never bumped again on a re-run)."""

    type: ClassVar[str] = "ReleaseStarted"
    version: str
    previous_version: str | None = None
    increment: str | None = None
    options: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    attempt: int = 1    # 2, 3, ... when the version was aborted before (recorded only then)

    def payload(self) -> dict[str, Any]:
        """The payload; a first attempt's carries no `attempt` (as every ledger before attempts)."""
        data = super().payload()
        if data.get("attempt") == 1:
            del data["attempt"]
        return data


class StepStarted(Event):
    """An effect is about to be attempted (intent recorded before acting)."""

    type: ClassVar[str] = "StepStarted"
    key: str
    step: str
    intent: dict[str, Any] = {}


class StepSucceeded(Event):
    """An effect happened; the `outcomes` events just before this one describe it."""

    type: ClassVar[str] = "StepSucceeded"
    key: str
    step: str
    outcomes: int = 0
    reconciled: bool = False


class StepFailed(Event):
    """An effect failed; failures never move the state."""

    type: ClassVar[str] = "StepFailed"
    key: str
    step: str
    error: str


class StepWaiting(Event):
    """A step waits on a person (a PR to merge, an image to build); the state is unchanged."""

    type: ClassVar[str] = "StepWaiting"
    step: str
    reason: str


class StateChanged(Event):
    """The release moved along one transition of the machine."""

    type: ClassVar[str] = "StateChanged"
    trigger: str
    source: str
    dest: str


class ReleaseAborted(Event):
    """The release was abandoned (terminal)."""

    type: ClassVar[str] = "ReleaseAborted"
    reason: str
    source: str = ""
