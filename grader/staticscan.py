"""Static scan of submitted source for APIs an exercise forbids delegating to.

Parses only (never runs), in the judge's process where student code cannot reach. Two scans:

- `scan`: uses of the exercise's forbidden APIs. Import aliases, simple assignments
  (`G = F`), attribute chains and literal `getattr(F, "name")` resolve to dotted names; a
  name matches a pattern if it or a prefix of it does, or if it is a torch name that ends in a
  pattern's literal last part (a re-export such as `torch.nn.modules.activation.F.<name>`).
- `hiding`: constructs that hide which function is called, or that reach the runtime guard
  (docs/delegation.md says what is and is not covered): computed attribute names, code from
  strings, private attributes, frame and dunder introspection, star imports from torch,
  torch's code-by-name and pickle-loading APIs, changes to torch's own attributes, and modules
  outside a small allowlist (`sys`, `importlib`, `inspect`, `builtins`, `gc`, ...).

Code under `if __name__ == "__main__":` is ignored, as the contract says. Importing is not
using: only uses of an imported name count.
"""
from __future__ import annotations

import ast
import fnmatch
import sys
from dataclasses import dataclass

# Modules whose names a delegation exercise's code may use. None of them can fetch a function by
# a computed name, run code from a string or walk the interpreter's objects (the attributes of
# theirs that can are refused below). An exercise may add more (`delegation.allowed_imports`).
ALLOWED_MODULES = frozenset({
    "torch", "math", "cmath", "numbers", "numpy", "einops", "typing", "typing_extensions", "collections",
    "functools", "itertools", "dataclasses", "__future__", "warnings", "abc", "enum", "random",
    "statistics", "fractions", "decimal", "copy", "time", "operator",
})
# Attributes of allowed modules that look up code by name, compile code from strings or unpickle.
REFUSED_APIS = {
    "torch.jit": "compiles code from strings (TorchScript) and runs it outside Python's dispatch",
    "torch.fx": "builds calls from names given as strings",
    "torch.ops": "looks kernels up by name",
    "torch.library": "registers and looks up kernels by name",
    "torch.overrides": "switches torch's function dispatch, where the grader watches calls",
    "torch.utils.cpp_extension": "compiles code from strings",
    "torch.hub": "loads code by name",
    "torch.package": "loads pickled code",
    "torch.load": "unpickles objects, which can fetch any function by name",
    "torch.serialization": "unpickles objects, which can fetch any function by name",
    "numpy.load": "unpickles objects, which can fetch any function by name",
    "numpy.lib": "holds numpy's pickle and code-loading helpers",
    "numpy.ctypeslib": "calls native code",
    "typing.get_type_hints": "evaluates strings as code",
    "typing.ForwardRef": "evaluates strings as code",
    "operator.attrgetter": "fetches attributes by computed names",
    "operator.methodcaller": "calls methods by computed names",
}
# Builtins that run strings as code, fetch objects by name or expose namespaces.
REFUSED_BUILTINS = {
    "eval": "runs a string as code", "exec": "runs a string as code", "compile": "compiles a string as code",
    "globals": "reaches objects through the module's namespace",
    "locals": "reaches objects through a namespace", "vars": "reaches objects through their namespace",
    "breakpoint": "starts a debugger",
}
ALLOWED_DUNDERS = frozenset({"__init__", "__name__", "__qualname__", "__doc__", "__call__", "__file__",
                             "__class__"})
# Frame, traceback, generator and code objects lead to every namespace of the process.
INTROSPECTION_ATTRS = frozenset({
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "gi_frame",
    "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "co_code", "co_consts", "func_globals",
})
SELF_NAMES = frozenset({"self", "cls"})
STDLIB = frozenset(sys.stdlib_module_names)


@dataclass(frozen=True)
class Finding:
    name: str  # the dotted name used, or the construct
    line: int
    reason: str = ""  # for a hiding construct: why it is refused


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def _literal_getattr(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args)
            and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))


def _graded_statements(tree: ast.Module) -> list[ast.stmt]:
    return [s for s in tree.body if not _is_main_guard(s)]


class _Aliases:
    """What each name of the module stands for, as a dotted name: imports and simple assignments,
    flow-insensitively (a name bound to a torch module anywhere stands for it everywhere), minus the
    names the student defines as functions or classes."""

    def __init__(self, statements: list[ast.stmt]):
        self.names: dict[str, str] = {}
        nodes = [n for s in statements for n in ast.walk(s)]
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.names[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".")[0]
                        self.names[root] = root
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                for alias in node.names:
                    if alias.name != "*":
                        self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        assignments = [n for n in nodes if isinstance(n, (ast.Assign, ast.AnnAssign, ast.NamedExpr))]
        for _ in range(3):  # chains of assignments (H = G; G = F)
            for node in assignments:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = self.dotted(node.value) if node.value is not None else None
                for target in targets:
                    if value and isinstance(target, ast.Name) and target.id not in self.names:
                        self.names[target.id] = value
        self.own = {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        for name in self.own:
            self.names.pop(name, None)  # a student's own definition shadows an imported name

    def dotted(self, node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if _literal_getattr(node):
            base = self.dotted(node.args[0])
            return f"{base}.{node.args[1].value}" if base else None
        return None


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


class _ForbiddenUses(ast.NodeVisitor):
    def __init__(self, patterns: list[str], aliases: _Aliases):
        self.patterns = patterns
        self.last_parts = {p.rsplit(".", 1)[-1] for p in patterns
                           if not any(c in p.rsplit(".", 1)[-1] for c in "*?[")}
        self.aliases = aliases
        self.findings: list[Finding] = []

    def _match(self, dotted: str) -> str | None:
        for prefix in _prefixes(dotted):
            if any(fnmatch.fnmatchcase(prefix, p) for p in self.patterns):
                return prefix
            if prefix.startswith("torch.") and prefix.rsplit(".", 1)[-1] in self.last_parts:
                return prefix
        return None

    def _flag(self, node: ast.AST) -> None:
        dotted = self.aliases.dotted(node)
        matched = self._match(dotted) if dotted else None
        if matched:
            self.findings.append(Finding(matched, getattr(node, "lineno", 0)))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._flag(node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if _literal_getattr(node):
            self._flag(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._flag(node)


class _HidingConstructs(ast.NodeVisitor):
    def __init__(self, aliases: _Aliases, allowed_modules: frozenset[str]):
        self.aliases = aliases
        self.allowed = allowed_modules
        self.findings: list[Finding] = []

    def _add(self, name: str, node: ast.AST, reason: str) -> None:
        self.findings.append(Finding(name, getattr(node, "lineno", 0), reason))

    def _check_dotted(self, dotted: str, node: ast.AST) -> bool:
        """Report the first refused part of a resolved name; whether there was one."""
        parts = dotted.split(".")
        if parts[0] not in self.allowed:
            accepted = ", ".join(f"`{m}`" for m in sorted(self.allowed - {"__future__"}))
            self._add(parts[0], node, "is a module this exercise does not accept: modules such as `sys`, "
                                      "`importlib`, `inspect` and `builtins` reach library code without naming "
                                      f"it, so only these may be used: {accepted}")
            return True
        for prefix in _prefixes(dotted)[1:]:
            part = prefix.rsplit(".", 1)[-1]
            if prefix in REFUSED_APIS:
                self._add(prefix, node, REFUSED_APIS[prefix])
            elif part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
                self._add(prefix, node, "is a private part of the library, where its internals (and the "
                                        "switches of the grader's runtime checks) live")
            elif part in STDLIB and part not in self.allowed:
                self._add(prefix, node, f"reaches the `{part}` module, which this exercise does not accept")
            else:
                continue
            return True
        return False

    def _check_attribute_name(self, base: ast.AST, attr: str, node: ast.AST) -> bool:
        if attr in INTROSPECTION_ATTRS:
            self._add(f".{attr}", node, "walks the interpreter's frames and namespaces")
        elif attr.startswith("__") and attr.endswith("__"):
            if attr in ALLOWED_DUNDERS:
                return False
            self._add(f".{attr}", node, "reaches objects through Python's internals")
        elif attr.startswith("_") and not self._is_own_object(base):
            self._add(f".{attr}", node, "is a private attribute of an object that is not your own "
                                        "(`self._x` in your own class is fine)")
        else:
            return False
        return True

    @staticmethod
    def _is_own_object(base: ast.AST) -> bool:
        if isinstance(base, ast.Name):
            return base.id in SELF_NAMES
        return isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self._add("relative import", node, "imports code the grader cannot see")
        elif any(a.name == "*" for a in node.names) and (node.module.split(".")[0] == "torch"
                                                         or node.module.split(".")[0] not in self.allowed):
            self._add(f"from {node.module} import *", node, "hides which names the module uses")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        """One report per attribute chain (`torch._C._nn.x` is one finding, not three)."""
        chain, base = [], node
        while isinstance(base, ast.Attribute):
            chain.append(base)
            base = base.value
        dotted = self.aliases.dotted(node)
        if dotted and isinstance(node.ctx, (ast.Store, ast.Del)) and dotted.split(".")[0] == "torch":
            self._add(dotted, node, "changes the library's own attributes")
        elif not (dotted and self._check_dotted(dotted, node)):
            for link in reversed(chain):
                if self._check_attribute_name(link.value, link.attr, link):
                    break
        self.visit(base)

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        name = node.id
        if name in self.aliases.own:
            return
        if name in REFUSED_BUILTINS and name not in self.aliases.names:
            self._add(f"{name}()", node, REFUSED_BUILTINS[name])
        elif name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS:
            self._add(name, node, "reaches objects through Python's internals")
        elif name == "getattr" and not getattr(node, "_literal_call", False):
            self._add("getattr", node, "with a computed attribute name (or passed as a value) hides which "
                                       "attribute it fetches; write `obj.name` instead")
        elif name in ("setattr", "delattr") and not getattr(node, "_own_target", False):
            self._add(name, node, "changes attributes by a computed name on an object that is not your own")
        else:
            dotted = self.aliases.names.get(name)
            if dotted:
                self._check_dotted(dotted, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id == "getattr" and _literal_getattr(node):
                func._literal_call = True  # type: ignore[attr-defined]
                self._check_attribute_name(node.args[0], node.args[1].value, node)
                dotted = self.aliases.dotted(node)
                if dotted:
                    self._check_dotted(dotted, node)
            elif func.id in ("setattr", "delattr") and node.args and self._is_own_object(node.args[0]):
                func._own_target = True  # type: ignore[attr-defined]
        self.generic_visit(node)


def _parse(source: str) -> list[ast.stmt] | None:
    try:
        return _graded_statements(ast.parse(source))
    except (SyntaxError, ValueError):
        return None


def _unique(findings: list[Finding]) -> list[Finding]:
    return sorted({(f.name, f.line): f for f in findings}.values(), key=lambda f: (f.line, f.name))


def scan(source: str, patterns: list[str]) -> list[Finding]:
    """Forbidden references in `source`; a file that does not parse has none (it fails elsewhere)."""
    statements = _parse(source) if patterns else None
    if not statements:
        return []
    visitor = _ForbiddenUses(patterns, _Aliases(statements))
    for statement in statements:
        visitor.visit(statement)
    return _unique(visitor.findings)


def hiding(source: str, extra_modules: list[str] = ()) -> list[Finding]:
    """Constructs in `source` that hide which function is called (see the module docstring)."""
    statements = _parse(source)
    if not statements:
        return []
    visitor = _HidingConstructs(_Aliases(statements), ALLOWED_MODULES | frozenset(extra_modules))
    for statement in statements:
        visitor.visit(statement)
    return _unique(visitor.findings)
