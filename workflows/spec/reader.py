"""Reading the catalogue: the target's `workflows/model_spec.py` parsed as a syntax tree (DOMAIN §3).

The file is parsed with libcst (the same tree `workflows.spec.edit` edits). What is read:
module-level `ImplSpec(...)` variables and string constants, then every `ModelSpecTemplate(...)`
call in source order. Enum members are kept by name (`DeviceTypes.GALAXY_T3K` -> "GALAXY_T3K").
"""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from release_ledger.workflows.errors import CatalogueError
from release_ledger.workflows.spec.catalogue import (_DATA_CALLS, _OTHER_ENUMS, _REQUIRED, CATALOGUE_PATH, DEFAULT_RELEASE_REPO,
                                                     KNOWN_DEVICES, STATUSES, Catalogue, DeviceModelSpec,
                                                     ImplSpec, ModelSpec, ModelSpecTemplate, expand,
                                                     read_version)


def read_catalogue(repo: Path) -> Catalogue:
    """Parse the target's `workflows/model_spec.py` (and its DeviceTypes, where defined)."""
    path = repo / CATALOGUE_PATH
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(f"{path} does not exist; the model catalogue is read from it") from None
    return parse_catalogue(source, str(path), devices=known_devices(repo))


def load_catalogue(repo: Path, release_repo: str = DEFAULT_RELEASE_REPO) -> list[ModelSpec]:
    """Every expanded ModelSpec of the target, in catalogue order, with images for its VERSION."""
    return expand(read_catalogue(repo), read_version(repo), release_repo)


def known_devices(repo: Path) -> frozenset[str]:
    """KNOWN_DEVICES plus the members of a `class DeviceTypes` in the target's workflow_types."""
    extra: set[str] = set()
    for rel in ("workflows/workflow_types.py", CATALOGUE_PATH):
        path = repo / rel
        if path.is_file():
            extra |= _enum_members(path.read_text(encoding="utf-8"), "DeviceTypes")
    return KNOWN_DEVICES | extra


def _enum_members(source: str, class_name: str) -> set[str]:
    try:
        module = ast.parse(source)
    except SyntaxError:
        return set()  # reported, with its line, when the catalogue itself is parsed
    return {target.id
            for stmt in module.body if isinstance(stmt, ast.ClassDef) and stmt.name == class_name
            for line in stmt.body if isinstance(line, ast.Assign)
            for target in line.targets if isinstance(target, ast.Name)}


# --- parsing -------------------------------------------------------------------------------

def parse_module(source: str, path: str) -> cst.Module:
    """Parse catalogue source; a syntax error becomes a CatalogueError naming file:line."""
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as err:
        line, detail = err.raw_line, re.sub(r"^parser error: (error at \d+:\d+: )?", "", err.message)
    # libcst points at the token after the fault; Python's own parser (parsing only, no
    # execution) names the line a person has to fix.
    try:
        ast.parse(source, filename=path)
    except SyntaxError as err:
        line, detail = err.lineno or line, err.msg
    raise CatalogueError(f"{path}:{line}: syntax error, {detail}")


def template_calls(module: cst.Module) -> list[cst.Call]:
    """Every `ModelSpecTemplate(...)` call of the module, in source order."""
    found: list[cst.Call] = []

    class _Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "ModelSpecTemplate":
                found.append(node)

    module.visit(_Finder())
    return found


@functools.lru_cache(maxsize=32)
def parse_catalogue(source: str, path: str = CATALOGUE_PATH,
                    devices: frozenset[str] = KNOWN_DEVICES) -> Catalogue:
    """Read a catalogue's templates from its source text, without executing anything.

    Cached by (source, path, devices): a step reads the same text several times, and the
    result is frozen. Errors are not cached.
    """
    module = parse_module(source, path)
    reader = _Reader(module, path, devices)
    calls = template_calls(module)
    lines = _template_lines(source)
    try:
        templates = [reader.template(i, call, lines[i] if len(lines) == len(calls) else None)
                     for i, call in enumerate(calls)]
    except _Unreadable as problem:
        raise reader.error(problem) from None
    if not templates:
        raise CatalogueError(f"{path}:1: no ModelSpecTemplate(...) entries were found")
    return Catalogue(path=path, templates=templates, impls=reader.impls)


def _template_lines(source: str) -> list[int]:
    """The line of every ModelSpecTemplate call in source order (Python's parser: fast)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # syntax newer than this Python: fall back to libcst positions
        return []
    starts = sorted((node.lineno, node.col_offset) for node in ast.walk(tree)
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "ModelSpecTemplate")
    return [line for line, _ in starts]


class _Unreadable(Exception):
    """Internal: an expression the reader cannot evaluate (becomes a CatalogueError)."""

    def __init__(self, node: cst.CSTNode, why: str):
        super().__init__(why)
        self.node, self.why = node, why


class _Reader:
    """Evaluates the literal subset of Python that a catalogue uses, and nothing more."""

    def __init__(self, module: cst.Module, path: str, devices: frozenset[str]):
        self.module = module
        self._positions: Any = None
        self.path = path
        self.devices = devices
        self.constants: dict[str, Any] = {}
        self.impls: dict[str, ImplSpec] = {}
        self._read_module_assignments()

    def fail(self, node: cst.CSTNode, why: str) -> "_Unreadable":
        """What cannot be read; cheap, because unread module constants are common."""
        return _Unreadable(node, why)

    def error(self, problem: "_Unreadable") -> CatalogueError:
        """The user-facing error: file:line, the expression and why it cannot be read."""
        code = " ".join(self.module.code_for_node(problem.node).split())
        if len(code) > 60:
            code = code[:57] + "..."
        return CatalogueError(f"{self.path}:{self.line(problem.node)}: `{code}` {problem.why}")

    def line(self, node: cst.CSTNode) -> int:
        """The 1-based line where a node starts (positions are resolved on first use only)."""
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(
                PositionProvider)
        return self._positions[node].start.line

    def _read_module_assignments(self) -> None:
        # Module-level `name = ...`: ImplSpec variables and plain constants. A value we cannot
        # read (VERSION = get_version()) is only an error if a template uses it.
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not (isinstance(small, cst.Assign) and len(small.targets) == 1
                        and isinstance(small.targets[0].target, cst.Name)):
                    continue
                name = small.targets[0].target.value
                try:
                    value = self.value(small.value)
                except _Unreadable:
                    continue
                if isinstance(value, ImplSpec):
                    self.impls[name] = value
                else:
                    self.constants[name] = value

    def kwargs(self, call: cst.Call) -> dict[str, cst.Arg]:
        """A call's keyword arguments; positional or starred ones cannot be read by name."""
        out: dict[str, cst.Arg] = {}
        for arg in call.args:
            if arg.keyword is None or arg.star:
                raise self.fail(arg, "is not a keyword argument; write name=value")
            out[arg.keyword.value] = arg
        return out

    def template(self, index: int, call: cst.Call, line: int | None = None) -> ModelSpecTemplate:
        """One ModelSpecTemplate call as a model."""
        args = self.kwargs(call)
        for name in _REQUIRED:
            if name not in args:
                raise self.fail(call.func, f"at template {index + 1} lacks the field {name}")
        impl_node = args["impl"].value
        impl = self.value(impl_node)
        if not isinstance(impl, ImplSpec):
            raise self.fail(impl_node, "does not name an ImplSpec(...) defined in this file")
        data = {"index": index, "line": line or self.line(call), "impl": impl,
                "impl_var": impl_node.value if isinstance(impl_node, cst.Name) else None,
                "fields": tuple(args)}
        extra: dict[str, Any] = {}
        for name, arg in args.items():
            if name == "impl":
                continue
            if name == "device_model_specs":
                data[name] = self.device_specs(arg.value)
            elif name in ("weights", "tt_metal_commit", "vllm_commit", "status", "docker_image"):
                data[name] = self.typed(name, arg.value)
            else:
                extra[name] = self.value(arg.value)
        return ModelSpecTemplate(**data, extra=extra)

    def typed(self, name: str, node: cst.BaseExpression) -> Any:
        value = self.value(node)
        ok = {
            "weights": isinstance(value, list) and value and all(isinstance(w, str) for w in value),
            "tt_metal_commit": isinstance(value, str) and value,
            "vllm_commit": value is None or isinstance(value, str),
            "docker_image": value is None or isinstance(value, str),
            "status": isinstance(node, cst.Attribute) and value in STATUSES,
        }[name]
        if not ok:
            raise self.fail(node, f"is not a valid {name}")
        return value

    def device_specs(self, node: cst.BaseExpression) -> list[DeviceModelSpec]:
        if not isinstance(node, cst.List) or not node.elements:
            raise self.fail(node, "is not a non-empty list of DeviceModelSpec(...)")
        specs = []
        for element in node.elements:
            call = element.value
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Name)
                    and call.func.value == "DeviceModelSpec"):
                raise self.fail(call, "is not a DeviceModelSpec(...) call")
            values = {k: self.value(a.value) for k, a in self.kwargs(call).items()}
            device_node = self.kwargs(call).get("device")
            if device_node is None or not isinstance(device_node.value, cst.Attribute):
                raise self.fail(call, "lacks device=DeviceTypes.<NAME>")
            try:
                specs.append(DeviceModelSpec(**values))
            except ValueError as err:
                field = err.errors()[0]["loc"][0]  # type: ignore[attr-defined]
                raise self.fail(call, f"has an invalid or unknown field {field}") from None
        return specs

    def value(self, node: cst.BaseExpression) -> Any:
        """The value of a literal expression; anything else raises a CatalogueError."""
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            if not isinstance(value, str):
                raise self.fail(node, "is not a text string")
            return value
        if isinstance(node, cst.Integer):
            return int(node.value.replace("_", ""), 0)
        if isinstance(node, cst.Float):
            return float(node.value.replace("_", ""))
        if isinstance(node, cst.Name):
            return self._name(node)
        if isinstance(node, (cst.List, cst.Tuple)):
            return [self._element(e) for e in node.elements]
        if isinstance(node, cst.Dict):
            return {self._key(e): self.value(e.value) for e in node.elements}  # type: ignore[union-attr]
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            return -self._number(node.expression)
        if isinstance(node, cst.BinaryOperation):
            return self._binary(node)
        if isinstance(node, cst.Attribute):
            return self._enum(node)
        if isinstance(node, cst.Call):
            return self._call(node)
        raise self.fail(node, "cannot be read without running the file")

    def _name(self, node: cst.Name) -> Any:
        literal = {"True": True, "False": False, "None": None}
        if node.value in literal:
            return literal[node.value]
        if node.value in self.impls:
            return self.impls[node.value]
        if node.value in self.constants:
            return self.constants[node.value]
        raise self.fail(node, "is not a constant or ImplSpec assigned at the top of this file")

    def _element(self, element: cst.BaseElement) -> Any:
        if isinstance(element, cst.StarredElement):
            raise self.fail(element, "is a starred element")
        return self.value(element.value)

    def _key(self, element: cst.BaseDictElement) -> Any:
        if isinstance(element, cst.StarredDictElement):
            raise self.fail(element, "is a ** expansion")
        return self.value(element.key)

    def _number(self, node: cst.BaseExpression) -> int | float:
        value = self.value(node)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(node, "is not a number")
        return value

    def _binary(self, node: cst.BinaryOperation) -> Any:
        ops = {cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b,
               cst.Multiply: lambda a, b: a * b, cst.FloorDivide: lambda a, b: a // b}
        op = ops.get(type(node.operator))
        if op is None:
            raise self.fail(node, "uses an operator the catalogue reader does not evaluate")
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(left, str) and isinstance(right, str) and isinstance(node.operator, cst.Add):
            return left + right
        return op(self._number(node.left), self._number(node.right))

    def _enum(self, node: cst.Attribute) -> str:
        if not isinstance(node.value, cst.Name):
            raise self.fail(node, "is not an enum member such as DeviceTypes.N150")
        enum, member = node.value.value, node.attr.value
        if enum == "DeviceTypes" and member not in self.devices:
            raise self.fail(node, f"names an unknown device {member}")
        if enum == "ModelStatusTypes" and member not in STATUSES:
            raise self.fail(node, f"names an unknown status {member}")
        if enum not in ("DeviceTypes", "ModelStatusTypes") and enum not in _OTHER_ENUMS:
            raise self.fail(node, "is not an enum member the catalogue reader knows")
        return member

    def _call(self, node: cst.Call) -> Any:
        func = node.func
        if isinstance(func, cst.Name) and func.value == "ImplSpec":
            values = {k: self.value(a.value) for k, a in self.kwargs(node).items()}
            try:
                return ImplSpec(**values)
            except ValueError:
                raise self.fail(node, "is not an ImplSpec with impl_id, impl_name, repo_url "
                                      "and code_path as strings") from None
        if isinstance(func, cst.Name) and func.value in _DATA_CALLS:
            return {k: self.value(a.value) for k, a in self.kwargs(node).items()}
        if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                and func.value.value == "json" and func.attr.value == "dumps"
                and len(node.args) == 1 and node.args[0].keyword is None):
            # json.dumps of a literal is how upstream writes vllm_args such as mm-processor-kwargs.
            return json.dumps(self.value(node.args[0].value))
        raise self.fail(node, "is a call the catalogue reader cannot evaluate")
