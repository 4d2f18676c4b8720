# SPDX-License-Identifier: Apache-2.0
#
# SPDX-FileCopyrightText: © 2025 Tenstorrent AI ULC
#
# Sample product for the `release` sandbox: the enums that workflows/model_spec.py imports.
# Kept in its own module as upstream does, so the catalogue reads `DeviceTypes.N150`.

from enum import IntEnum, auto


class DeviceTypes(IntEnum):
    # CPU/GPU are reference devices, not Tenstorrent hardware
    CPU = auto()
    E150 = auto()
    N150 = auto()
    P100 = auto()
    P150 = auto()
    P150X4 = auto()
    P150X8 = auto()
    N150X4 = auto()
    N300 = auto()
    T3K = auto()
    GALAXY = auto()
    # a T3K-shaped sub-mesh of a Galaxy: note the `_` in the name
    GALAXY_T3K = auto()
    GPU = auto()

    @classmethod
    def from_string(cls, name: str) -> "DeviceTypes":
        return cls[name.upper()]


class ModelStatusTypes(IntEnum):
    EXPERIMENTAL = auto()
    FUNCTIONAL = auto()
    COMPLETE = auto()
    TOP_PERF = auto()

    @classmethod
    def to_display_string(cls, status: "ModelStatusTypes") -> str:
        return {
            cls.EXPERIMENTAL: "🛠️ Experimental",
            cls.FUNCTIONAL: "🟡 Functional",
            cls.COMPLETE: "🟢 Complete",
            cls.TOP_PERF: "🚀 Top Performance",
        }[status]


class VersionMode(IntEnum):
    STRICT = auto()
    SUGGESTED = auto()
