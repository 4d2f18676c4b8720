"""A stand-in for a docker build script: pushes each image argument into the test's OCI layout.

Run by `images.build_command` in the tests, through the shell, as a real build script would be.
It also writes what it was given (arguments, RELEASE_VERSION, RELEASE_STAGE) to a JSON file.
"""

import json
import os
import sys
from pathlib import Path

from release_ledger.adapters.image_factory import build_image
from release_ledger.adapters.image_ref import ImageRef
from release_ledger.adapters.registry.oci_layout import OciLayout

root = Path(os.environ["PROMOTE_TEST_LAYOUTS"])
Path(os.environ["PROMOTE_TEST_RECORD"]).write_text(json.dumps({
    "args": sys.argv[1:], "version": os.environ.get("RELEASE_VERSION"),
    "stage": os.environ.get("RELEASE_STAGE")}))
for image in sys.argv[1:]:
    if "unbuildable" in image:
        continue
    ref = ImageRef.parse(image)
    build_image(OciLayout(root / ref.host), ref.repo, ref.tag, seed=42)
