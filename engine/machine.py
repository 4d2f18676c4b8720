"""The release as a state machine, defined once as data and driven by `transitions` (DESIGN §3)."""

from __future__ import annotations

from functools import lru_cache

from release_ledger.engine.errors import TransitionRefused

#: The main line, in order; `aborted` is terminal and off the line.
STATES: tuple[str, ...] = ("started", "collected", "spec-updated", "dev-promoted", "pr-open",
                           "rc-promoted", "released")
TERMINAL: tuple[str, ...] = ("released", "aborted")
ALL_STATES: tuple[str, ...] = STATES + ("aborted",)

#: The one table: trigger, sources, destination, and what the step does (for `graph` and help).
TRANSITIONS: tuple[dict, ...] = (
    {"trigger": "collect", "source": ["started"], "dest": "collected",
     "doc": "read Models CI, write all-results and last-good JSON"},
    {"trigger": "update_spec", "source": ["collected"], "dest": "spec-updated",
     "doc": "write VERSION, pin the catalogue, regenerate outputs, write the diff"},
    {"trigger": "promote_dev", "source": ["spec-updated"], "dest": "dev-promoted",
     "doc": "copy each CI image to its -dev- name, verified by digest"},
    {"trigger": "open_pr", "source": ["dev-promoted"], "dest": "pr-open",
     "doc": "branch pre-release-vX.Y.Z, commit, push, open the PR to dev"},
    {"trigger": "promote_rc", "source": ["pr-open"], "dest": "rc-promoted",
     "doc": "after merge: copy dev images to -release- names, open the PR to main"},
    {"trigger": "publish", "source": ["rc-promoted"], "dest": "released",
     "doc": "after merge: tag vX.Y.Z, publish the release notes"},
    {"trigger": "rollback", "source": ["rc-promoted"], "dest": "pr-open",
     "doc": "undo the rc promotion"},
    {"trigger": "rollback", "source": ["dev-promoted", "pr-open"], "dest": "spec-updated",
     "doc": "undo the dev promotion"},
    {"trigger": "abort", "source": list(STATES[:-1]), "dest": "aborted",
     "doc": "abandon the release"},
)

#: Triggers that `advance` runs, in order; rollback and abort have commands of their own.
FORWARD: tuple[str, ...] = tuple(t["trigger"] for t in TRANSITIONS[:6])


class _Model:
    """The object whose `state` the transitions machine moves."""

    state: str


@lru_cache(maxsize=1)
def machine():
    """The transitions Machine built from TRANSITIONS (built once, on first use)."""
    from transitions import Machine

    return Machine(model=None, states=list(ALL_STATES), initial="started",
                   transitions=[{k: v for k, v in t.items() if k != "doc"} for t in TRANSITIONS],
                   auto_transitions=False, ignore_invalid_triggers=False)


def next_state(state: str, trigger: str) -> str:
    """Where `trigger` leads from `state`; TransitionRefused when the machine has no such edge."""
    found = machine().get_transitions(trigger=trigger, source=state)
    if not found:
        allowed = [s for t in TRANSITIONS if t["trigger"] == trigger for s in t["source"]]
        raise TransitionRefused(f"{trigger!r} is not allowed from state {state!r} (only from "
                                f"{', '.join(allowed) or 'no state'})")
    return found[0].dest


def next_trigger(state: str) -> str | None:
    """The forward trigger that `advance` runs from `state`, or None at the end."""
    for t in TRANSITIONS[:6]:
        if state in t["source"]:
            return t["trigger"]
    return None


def reached(current: str, target: str) -> bool:
    """True when `current` is `target` or past it on the main line."""
    if current == "aborted":
        return target == "aborted"
    return STATES.index(current) >= STATES.index(target)


def mermaid() -> str:
    """The machine as a Mermaid state diagram (deterministic text)."""
    lines = ["stateDiagram-v2", "    [*] --> started"]
    for t in TRANSITIONS:
        for source in t["source"]:
            lines.append(f"    {_id(source)} --> {_id(t['dest'])}: {t['trigger']}")
    lines += ["    released --> [*]", "    aborted --> [*]"]
    aliases = [f"    state \"{s}\" as {_id(s)}" for s in ALL_STATES if _id(s) != s]
    return "\n".join(lines[:1] + aliases + lines[1:]) + "\n"


def _id(state: str) -> str:
    return state.replace("-", "_")
