"""The README "Model Support" table (DOMAIN §4): rendered from the catalogue, replaced in place.

One row per template that has a `default_impl` device, as upstream's generate_markdown_table, with
the NEW version in every image tag (DOMAIN §7.5: docs once showed tags that never existed).
The table is found by its header line and ends at the first line that is not a table row; every
byte before and after it is kept.
"""

from __future__ import annotations

from release_ledger.workflows.errors import CatalogueError
from release_ledger.workflows.spec.catalogue import DEFAULT_RELEASE_REPO, DEFAULT_STATUS, Catalogue, ModelSpecTemplate, default_docker_image, model_name_of

TABLE_HEADER = "| Model Weights | Hardware | Status | tt-metal commit | vLLM commit | Docker Image |"
_SEPARATOR = "|---------------|----------|--------|-----------------|-------------|--------------|"

STATUS_DISPLAY = {
    "EXPERIMENTAL": "🛠️ Experimental",
    "FUNCTIONAL": "🟡 Functional",
    "COMPLETE": "🟢 Complete",
    "TOP_PERF": "🚀 Top Performance",
}

# Upstream's DEVICE_HARDWARE_LINKS; other devices show their own name rather than vanish.
HARDWARE_LINKS = {
    "T3K": "[WH-QuietBox](https://tenstorrent.com/hardware/tt-quietbox)/[WH-LoudBox](https://tenstorrent.com/hardware/tt-loudbox) (T3K)",
    "N150": "[n150](https://tenstorrent.com/hardware/wormhole)",
    "N300": "[n300](https://tenstorrent.com/hardware/wormhole)",
    "GALAXY": "[Galaxy](https://tenstorrent.com/hardware/galaxy)",
    "P100": "[p100](https://tenstorrent.com/hardware/blackhole)",
    "P150": "[p150](https://tenstorrent.com/hardware/blackhole)",
    "P150X4": "[BH-QuietBox](https://tenstorrent.com/hardware/tt-quietbox) (P150X4)",
}


def _row(t: ModelSpecTemplate, version: str, release_repo: str) -> str | None:
    devices = [d.device for d in t.device_model_specs if d.default_impl]
    if not devices:
        return None
    weights = "<br/>".join(f"[{model_name_of(w)}](https://huggingface.co/{w})" for w in t.weights)
    hardware = ", ".join(HARDWARE_LINKS.get(d, d) for d in dict.fromkeys(devices))
    status = STATUS_DISPLAY[t.status or DEFAULT_STATUS]
    code_link = f"{t.impl.repo_url}/tree/{t.tt_metal_commit}/{t.impl.code_path}"
    tt = f"[{t.tt_metal_commit[:16]}]({code_link})"
    vllm = (f"[{t.vllm_commit[:8]}](https://github.com/tenstorrent/vllm/tree/{t.vllm_commit})"
            if t.vllm_commit else "N/A")
    image = t.docker_image or default_docker_image(version, t.tt_metal_commit, t.vllm_commit,
                                                    release_repo)
    # rpartition: a registry host may carry a port (127.0.0.1:5000/org/img:tag)
    tag = image.rpartition(":")[2]
    return f"| {weights} | {hardware} | {status} | {tt} | {vllm} | [{tag}](https://{image}) |"


def render_model_table(catalogue: Catalogue, version: str,
                       release_repo: str = DEFAULT_RELEASE_REPO) -> str:
    """The Model Support table (header, separator, rows), without a final newline."""
    rows = [r for t in catalogue.templates if (r := _row(t, version, release_repo))]
    return "\n".join([TABLE_HEADER, _SEPARATOR, *rows])


def replace_model_table(readme: str, table: str, path: str = "README.md") -> str:
    """The README text with its Model Support table replaced by `table`, all else unchanged."""
    start = readme.find(TABLE_HEADER)
    if start < 0 or (start > 0 and readme[start - 1] != "\n"):
        raise CatalogueError(f"{path} has no Model Support table starting with the line "
                             f"{TABLE_HEADER!r}")
    lines = readme[start:].split("\n")
    count = 1
    while count < len(lines) and lines[count].lstrip().startswith("|"):
        count += 1
    end = start + sum(len(line) + 1 for line in lines[:count]) - 1  # the last row's newline stays
    return readme[:start] + table + readme[min(end, len(readme)):]
