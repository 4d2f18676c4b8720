"""`release_models_diff.md`: what this release changed in the catalogue (DOMAIN §4).

Computed from the catalogue as it was at `release start` (recorded in the ledger) and the
catalogue now, so a re-run writes the same file instead of "no updates" (DOMAIN §7.4). Pure:
`diff_rows` compares two parsed catalogues, `render_models_diff` formats rows as upstream did.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict

from release_ledger.workflows.spec.edit import TemplateUpdate
from release_ledger.workflows.spec.catalogue import Catalogue, ModelSpecTemplate, model_name_of

DIFF_FILE = "release_models_diff.md"
TITLE = "# Model Spec Release Updates"
HEADER = "| Impl | Model Arch | Weights | Devices | TT-Metal Commit Change | Status Change | CI Job Link |"
SEPARATOR = "|------|------------|---------|---------|------------------------|---------------|-------------|"
# What a person changes; an explicit media image only follows the version and tt-metal commit.
_FIELDS = ("tt_metal_commit", "vllm_commit", "status")


class DiffRow(BaseModel):
    """One template that differs from the baseline."""

    model_config = ConfigDict(frozen=True)

    impl_id: str
    model_arch: str
    weights: list[str]
    devices: list[str]
    tt_metal_before: str | None
    tt_metal_after: str
    status_before: str | None
    status_after: str | None
    ci_run_number: int | None = None
    ci_job_url: str | None = None


def _key(t: ModelSpecTemplate) -> tuple:
    return (t.impl.impl_id, tuple(t.weights), tuple(d.device for d in t.device_model_specs))


def _baseline_match(baseline: Catalogue) -> dict[tuple, list[ModelSpecTemplate]]:
    by_key: dict[tuple, list[ModelSpecTemplate]] = defaultdict(list)
    for t in baseline.templates:
        by_key[_key(t)].append(t)
    return by_key


def diff_rows(baseline: Catalogue | None, current: Catalogue,
              updates: list[TemplateUpdate] | None = None) -> list[DiffRow]:
    """A row per current template whose commits or status differ from the baseline.

    Templates are matched by (impl, weights, devices), the n-th duplicate to the n-th; a template
    absent from the baseline counts as new. CI links come from the update plan, when given.
    """
    by_key = _baseline_match(baseline) if baseline else {}
    seen: dict[tuple, int] = defaultdict(int)
    ci = {u.template_index: u for u in updates or []}
    rows = []
    for t in current.templates:
        key = _key(t)
        olds = by_key.get(key, [])
        old = olds[seen[key]] if seen[key] < len(olds) else None
        seen[key] += 1
        if old is not None and all(getattr(old, f) == getattr(t, f) for f in _FIELDS):
            continue
        u = ci.get(t.index)
        rows.append(DiffRow(
            impl_id=t.impl.impl_id, model_arch=model_name_of(t.weights[0]), weights=t.weights,
            devices=list(key[2]), tt_metal_before=old.tt_metal_commit if old else None,
            tt_metal_after=t.tt_metal_commit, status_before=old.status if old else None,
            status_after=t.status,
            ci_run_number=u.ci_run_number if u and u.source_model_id else None,
            ci_job_url=u.ci_job_url if u and u.source_model_id else None))
    return rows


def _change(before: str | None, after: str | None, code: bool) -> str:
    fmt = (lambda v: f"`{v}`") if code else (lambda v: v)
    if before is None and after is None:
        return "same"
    if before is None:
        return f"New: {fmt(after)}"
    if after is None or before == after:
        return "same"
    return f"{fmt(before)} → {fmt(after)}"


def _link(row: DiffRow) -> str:
    if row.ci_job_url and row.ci_run_number is not None:
        return f"[Run {row.ci_run_number}]({row.ci_job_url})"
    return f"[View Job]({row.ci_job_url})" if row.ci_job_url else "N/A"


def render_row(row: DiffRow) -> str:
    """One table row, upstream's columns."""
    weights = "<br>".join(f"`{w}`" for w in row.weights)
    return (f"| `{row.impl_id}` | `{row.model_arch}` | {weights} | {', '.join(row.devices)} | "
            f"{_change(row.tt_metal_before, row.tt_metal_after, code=True)} | "
            f"{_change(row.status_before, row.status_after, code=False)} | {_link(row)} |")


def render_models_diff(rows: list[DiffRow], conflicts: list[str] | None = None,
                       notes: list[str] | None = None) -> str:
    """The text of release_models_diff.md: title, table (or "No updates were made."), reports."""
    lines = [TITLE, ""]
    if rows:
        lines += [HEADER, SEPARATOR, *(render_row(r) for r in rows), ""]
    else:
        lines += ["No updates were made.", ""]
    # DOMAIN §4: conflicts between devices of one template are reported, never dropped.
    for title, items in (("Conflicts", conflicts), ("Notes", notes)):
        if items:
            lines += [f"## {title}", "", *(f"- {i}" for i in items), ""]
    return "\n".join(lines)
