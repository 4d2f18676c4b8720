"""Registers every step of the release process with the engine (one place, in order)."""

from __future__ import annotations

import importlib

from release_ledger.engine.registry import register_step
from release_ledger.engine.step import StepContext

#: trigger -> (module, class). A module not built into this version leaves its step unregistered,
#: and `advance` then stops there with a sentence that says so.
STEPS = {
    "collect": ("release_ledger.workflows.collect.step", "CollectStep"),
    "update_spec": ("release_ledger.workflows.spec.step", "SpecStep"),
    "promote_dev": ("release_ledger.workflows.promote.step", "PromoteDevStep"),
    "open_pr": ("release_ledger.workflows.pulls.step", "OpenPrStep"),
    "promote_rc": ("release_ledger.workflows.promote.rc", "PromoteRcStep"),
    "publish": ("release_ledger.workflows.publish.step", "PublishStep"),
}


def register_all() -> None:
    """Register each step whose module exists."""
    for trigger, (module_name, class_name) in STEPS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        cls = getattr(module, class_name, None)
        if cls is not None:
            register_step(cls())


def before_step(ctx: StepContext) -> None:
    """Before each step: a hand edit of the catalogue after the spec step is recorded and the
    derived files (README table, model_specs_output.json, diff) are regenerated from it."""
    from release_ledger.workflows.spec.step import notice_manual_edit

    if ctx.step == "publish":
        # By publish the release's files are committed and merged, and publish's tidy-up puts
        # the checkout's own catalogue back (docs/PULL_REQUESTS.md): after a kill there, that
        # older catalogue is no hand edit, and regenerating from it would undo the tidy-up.
        return
    notice_manual_edit(ctx)
