"""Pin the catalogue to what Models CI tested: plan per template, then edit through libcst.

DOMAIN §4: per template, the first weight and then the first device that has last-good data
gives `tt_metal_commit`, `vllm_commit` (7 characters; a git-tag ref such as v0.62.0-rc33 is kept
whole) and `status` (from perf_status; `target` and unknown values leave it). A field the template
lacks is added. DESIGN §8: an explicit `{repo}:{version}-{commit}` docker_image becomes
`{repo}:{new version}-{pinned tt_metal_commit}`; other explicit images are left and reported.
Every edit goes through the syntax tree, so every other byte of the file stays as it was.
"""

from __future__ import annotations

import re
from typing import Any

import libcst as cst
from pydantic import BaseModel, ConfigDict

from release_ledger.workflows.spec.catalogue import CATALOGUE_PATH, KNOWN_DEVICES, Catalogue, ModelSpecTemplate, model_id_of
from release_ledger.workflows.spec.reader import parse_catalogue, parse_module, template_calls

# DOMAIN §2/§4: perf_status names the level reached; `target` has no catalogue status.
_STATUS_OF_PERF = {"experimental": "EXPERIMENTAL", "functional": "FUNCTIONAL",
                   "complete": "COMPLETE"}
_HEX = re.compile(r"[0-9a-f]{7,40}")
_VERSION_TAG = re.compile(r"(?P<version>\d+\.\d+\.\d+)-(?P<commit>.+)")


class TemplateUpdate(BaseModel):
    """What should be true of one template after the spec step (the plan, per template)."""

    model_config = ConfigDict(frozen=True)

    template_index: int
    line: int
    impl_id: str
    impl_name: str
    weights: list[str]
    devices: list[str]
    source_model_id: str | None = None  # the last-good entry the values come from
    ci_run_number: int | None = None
    ci_job_url: str | None = None
    tt_metal_commit: str  # the value after the update (unchanged without CI data)
    vllm_commit: str | None
    status: str | None  # None: the template has no status field and none is added
    docker_image: str | None  # the explicit image after the update, None when derived
    conflicts: list[str] = []
    notes: list[str] = []


class CatalogueUpdate(BaseModel):
    """The catalogue text after the update and the per-template plan that produced it."""

    model_config = ConfigDict(frozen=True)

    text: str
    updates: list[TemplateUpdate]

    @property
    def conflicts(self) -> list[str]:
        """Every conflict between the devices of one template, as sentences."""
        return [c for u in self.updates for c in u.conflicts]


def pin_commit(ref: str) -> str:
    """The catalogue form of a CI commit: 7 hex characters, or a git-tag ref kept whole."""
    return ref[:7] if _HEX.fullmatch(ref) else ref


def status_for(perf_status: Any) -> str | None:
    """The ModelStatusTypes member for a perf_status, or None to leave the status as it is."""
    return _STATUS_OF_PERF.get(str(perf_status).lower()) if perf_status else None


def _entries(template: ModelSpecTemplate, last_good: dict[str, Any]) -> list[tuple[str, dict]]:
    """The template's last-good entries with commits, weights outer and devices inner."""
    found = []
    for weight in template.weights:
        for dms in template.device_model_specs:
            model_id = model_id_of(template.impl.impl_name, weight, dms.device)
            entry = last_good.get(model_id) or {}
            if entry.get("tt_metal_commit"):
                found.append((model_id, entry))
    return found


def _conflicts(template: ModelSpecTemplate, entries: list[tuple[str, dict]]) -> list[str]:
    """Sentences naming each field whose CI values differ between the template's models."""
    out = []
    arch = template.weights[0].rsplit("/", 1)[-1]
    for field, norm in (("tt_metal_commit", pin_commit), ("vllm_commit", pin_commit),
                        ("perf_status", str)):
        by_value: dict[str, list[str]] = {}
        for model_id, entry in entries:
            if entry.get(field):
                by_value.setdefault(norm(entry[field]), []).append(model_id)
        if len(by_value) > 1:
            parts = "; ".join(f"{v} ({', '.join(ids)})" for v, ids in by_value.items())
            out.append(f"{template.impl.impl_id} {arch}: {field} differs between devices: {parts}")
    return out


def _rewrite_image(template: ModelSpecTemplate, tt_metal_commit: str,
                   new_version: str) -> tuple[str | None, list[str]]:
    """DESIGN §8: the explicit image with the new version and pinned commit, or it unchanged."""
    image = template.docker_image
    if image is None:
        return None, []
    repo, sep, tag = image.rpartition(":")
    match = _VERSION_TAG.fullmatch(tag) if sep and "/" not in tag else None
    if match and (_HEX.fullmatch(match["commit"]) or match["commit"] == template.tt_metal_commit):
        return f"{repo}:{new_version}-{tt_metal_commit}", []
    return image, [f"{template.impl.impl_id} {template.weights[0]}: explicit docker_image "
                   f"{image} is not of the form repo:version-commit and was left as is"]


def plan_template(template: ModelSpecTemplate, last_good: dict[str, Any],
                  new_version: str) -> TemplateUpdate:
    """The values one template should hold after the update (DOMAIN §4)."""
    entries = _entries(template, last_good)
    tt, vllm, status = template.tt_metal_commit, template.vllm_commit, template.status
    source = None
    entry: dict[str, Any] = {}
    if entries:
        source, entry = entries[0]
        tt = pin_commit(entry["tt_metal_commit"])
        if entry.get("vllm_commit"):  # media images carry no vllm commit: keep the field
            vllm = pin_commit(entry["vllm_commit"])
        status = status_for(entry.get("perf_status")) or status
    image, notes = _rewrite_image(template, tt, new_version)
    return TemplateUpdate(
        template_index=template.index, line=template.line, impl_id=template.impl.impl_id,
        impl_name=template.impl.impl_name, weights=template.weights,
        devices=[d.device for d in template.device_model_specs], source_model_id=source,
        ci_run_number=entry.get("ci_run_number"), ci_job_url=entry.get("ci_job_url"),
        tt_metal_commit=tt, vllm_commit=vllm, status=status, docker_image=image,
        conflicts=_conflicts(template, entries), notes=notes)


def plan_catalogue(catalogue: Catalogue, last_good: dict[str, Any],
                   new_version: str) -> list[TemplateUpdate]:
    """The plan for every template, in catalogue order."""
    return [plan_template(t, last_good, new_version) for t in catalogue.templates]


def update_catalogue(source: str, last_good: dict[str, Any], new_version: str,
                     path: str = CATALOGUE_PATH,
                     devices: frozenset[str] = KNOWN_DEVICES) -> CatalogueUpdate:
    """Pin a catalogue's source text to last-good data; the same input gives the same bytes."""
    updates = plan_catalogue(parse_catalogue(source, path, devices), last_good, new_version)
    return CatalogueUpdate(text=apply_updates(source, updates, path), updates=updates)


def apply_updates(source: str, updates: list[TemplateUpdate], path: str = CATALOGUE_PATH) -> str:
    """Write the planned values into the source; untouched templates keep every byte."""
    module = parse_module(source, path)
    calls = {id(call): i for i, call in enumerate(template_calls(module))}
    by_index = {u.template_index: u for u in updates}
    return module.visit(_Editor(calls, by_index)).code


class _Editor(cst.CSTTransformer):
    def __init__(self, calls: dict[int, int], updates: dict[int, TemplateUpdate]):
        self.calls = calls
        self.updates = updates

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        index = self.calls.get(id(original))
        if index is None or index not in self.updates:
            return updated
        u = self.updates[index]
        call = _set_string(updated, "tt_metal_commit", u.tt_metal_commit, after="impl")
        if u.vllm_commit is not None:
            call = _set_string(call, "vllm_commit", u.vllm_commit, after="tt_metal_commit")
        if u.status is not None:
            call = _set_kwarg(call, "status", _status_node(u.status), after="device_model_specs")
        if u.docker_image is not None:
            call = _set_string(call, "docker_image", u.docker_image, after="tt_metal_commit")
        return call


def _status_node(status: str) -> cst.Attribute:
    return cst.Attribute(value=cst.Name("ModelStatusTypes"), attr=cst.Name(status))


def _same(node: cst.BaseExpression, new: cst.BaseExpression) -> bool:
    return cst.Module(body=[]).code_for_node(node) == cst.Module(body=[]).code_for_node(new)


def _set_string(call: cst.Call, name: str, value: str, after: str) -> cst.Call:
    """Set a string keyword, keeping the quote style of the value it replaces."""
    current = next((a.value for a in call.args if a.keyword and a.keyword.value == name), None)
    if isinstance(current, cst.SimpleString) and current.evaluated_value == value:
        return call
    quote = current.quote if isinstance(current, cst.SimpleString) else '"'
    if quote in value or "\\" in value:
        quote = '"'  # never produced by CI values; keep the literal valid regardless
    return _set_kwarg(call, name, cst.SimpleString(f"{quote}{value}{quote}"), after)


def _set_kwarg(call: cst.Call, name: str, value: cst.BaseExpression, after: str) -> cst.Call:
    """Replace a keyword's value, or insert it after the `after` keyword (else at the end)."""
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            if _same(arg.value, value):
                return call
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    names = [a.keyword.value if a.keyword else None for a in args]
    pos = names.index(after) if after in names else len(args) - 1
    return call.with_changes(args=_insert_after(args, pos, name, value))


def _insert_after(args: list[cst.Arg], pos: int, name: str,
                  value: cst.BaseExpression) -> list[cst.Arg]:
    """Insert `name=value` after args[pos], copying the layout of its neighbours.

    The anchor's inline comment stays on the anchor; comment lines that precede the next
    argument stay before it; the new argument gets the anchor's indentation.
    """
    anchor = args[pos]
    new = anchor.with_changes(keyword=cst.Name(name), value=value)
    if pos < len(args) - 1:
        anchor_comma = _without_lines(anchor.comma)
        new = new.with_changes(comma=_without_comment(anchor.comma))
    else:
        prev = args[pos - 1].comma if pos > 0 else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        anchor_comma = _with_first_line(_without_lines(prev), anchor.comma)
        new = new.with_changes(comma=_without_comment(anchor.comma))
    return args[:pos] + [anchor.with_changes(comma=anchor_comma), new] + args[pos + 1:]


def _ws(comma: Any) -> Any:
    return comma.whitespace_after if isinstance(comma, cst.Comma) else None


def _without_lines(comma: Any) -> Any:
    ws = _ws(comma)
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return comma.with_changes(whitespace_after=ws.with_changes(empty_lines=()))
    return comma


def _without_comment(comma: Any) -> Any:
    ws = _ws(comma)
    if isinstance(ws, cst.ParenthesizedWhitespace) and ws.first_line.comment is not None:
        first = cst.TrailingWhitespace(newline=ws.first_line.newline)
        return comma.with_changes(whitespace_after=ws.with_changes(first_line=first))
    return comma


def _with_first_line(comma: Any, source: Any) -> Any:
    ws, src = _ws(comma), _ws(source)
    if isinstance(ws, cst.ParenthesizedWhitespace) and isinstance(src, cst.ParenthesizedWhitespace):
        return comma.with_changes(whitespace_after=ws.with_changes(first_line=src.first_line))
    return comma
