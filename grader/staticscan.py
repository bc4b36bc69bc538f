"""Static scan of submitted source for APIs an exercise forbids delegating to.

Parses only (never runs): resolves import aliases and attribute chains
(`F.scaled_dot_product_attention`, a name bound by `from torch.distributions
import kl_divergence`, `getattr(F, "scaled_dot_product_attention")`) to dotted
names and matches each use against the exercise's glob patterns. Code under `if __name__ == "__main__":`
is ignored, as the contract says.
"""
from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    name: str
    line: int


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


class _Resolver(ast.NodeVisitor):
    def __init__(self, patterns: list[str]):
        self.patterns = patterns
        self.aliases: dict[str, str] = {}
        self.findings: list[Finding] = []

    def _flag(self, dotted: str | None, node: ast.AST) -> None:
        if dotted and any(fnmatch.fnmatchcase(dotted, p) for p in self.patterns):
            self.findings.append(Finding(dotted, getattr(node, "lineno", 0)))

    # Imports only record aliases: importing is not using (a name imported for a
    # self-test under `if __name__ == "__main__":` must not count).
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.aliases[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)):
            base = self.dotted(node.args[0])
            return f"{base}.{node.args[1].value}" if base else None
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.aliases.pop(node.name, None)  # a student's own definition shadows an imported name
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._flag(self.dotted(node), node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "getattr":
            self._flag(self.dotted(node), node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._flag(self.aliases.get(node.id), node)


def scan(source: str, patterns: list[str]) -> list[Finding]:
    """Forbidden references in `source`; a file that does not parse has none (it fails elsewhere)."""
    if not patterns:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    resolver = _Resolver(patterns)
    for statement in tree.body:
        if not _is_main_guard(statement):
            resolver.visit(statement)
    unique = {(f.name, f.line): f for f in resolver.findings}
    return sorted(unique.values(), key=lambda f: f.line)
