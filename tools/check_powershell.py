# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PowerShell grammar check of `make lint`: every PowerShell file of the tree and every inline
`script:` of an ansible.windows.win_powershell task, parsed with a real PowerShell grammar
(tree-sitter with tree-sitter-powershell, from PyPI).

No PowerShell runs on this project's machines, so this is what catches a missing brace or a
PowerShell 7 operator before a Windows host does. It fails, naming file, line and column, on:

- a syntax error (an ERROR node) or something the parser had to invent (a MISSING node);
- syntax that only PowerShell 7 understands, because the hosts run Windows PowerShell 5.1 (the
  PowerShell Ansible uses on Windows): `??` and `??=` (null-coalescing), `?.` and `?[`
  (null-conditional access), the ternary `cond ? a : b`, and `&&` / `||` between pipelines.
  The grammar parses `&&`/`||` (as pipeline chains) and rejects the others; either way the
  message names the PowerShell 7 construct.

Known limits of the grammar (tree-sitter-powershell 0.26), valid PowerShell it rejects and this
project's scripts therefore avoid: a numeric multiplier suffix right after an operator
(`$bytes / 1MB`: write `$bytes / 1048576`), and several `switch` clauses on one line (put each
clause on its own line). Jinja expressions in inline scripts are replaced by a placeholder word
before parsing; a script that is only a lookup of a file is skipped (the file is checked itself).

Usage: python tools/check_powershell.py [path ...]   (default: the whole checkout)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POWERSHELL_SUFFIXES = (".ps1", ".psm1")
YAML_SUFFIXES = (".yml", ".yaml")
WIN_POWERSHELL = ("ansible.windows.win_powershell", "ansible.legacy.win_powershell", "win_powershell")
SKIPPED_DIRECTORIES = {".git", ".venv", ".collections", ".cache", ".ansible", "output", "__pycache__"}
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
JINJA_PLACEHOLDER = "__jinja__"
# Node types of the grammar that only PowerShell 7 syntax produces.
PS7_NODE_TYPES = {
    "pipeline_chain_tail": "'&&' / '||' between pipelines is PowerShell 7 syntax; Windows PowerShell 5.1 rejects it "
                           "(use if ($?) { ... } or check $LASTEXITCODE)",
}
# What a parse error at a '?' means: PowerShell 7 operators 5.1 does not have.
PS7_OPERATORS = (
    ("??=", "the null-coalescing assignment '??=' is PowerShell 7 syntax; Windows PowerShell 5.1 rejects it "
            "(use if ($null -eq $x) { $x = ... })"),
    ("??", "the null-coalescing operator '??' is PowerShell 7 syntax; Windows PowerShell 5.1 rejects it "
           "(use if ($null -ne $a) { $a } else { $b })"),
    ("?.", "null-conditional member access '?.' is PowerShell 7 syntax; Windows PowerShell 5.1 rejects it"),
    ("?[", "null-conditional indexing '?[' is PowerShell 7 syntax; Windows PowerShell 5.1 rejects it"),
    ("?", "the ternary operator 'condition ? a : b' is PowerShell 7 syntax; Windows PowerShell 5.1 rejects it "
          "(use $(if (condition) { a } else { b }))"),
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    message: str

    def __str__(self):
        return "%s:%d:%d: %s" % (self.path, self.line, self.column, self.message)


def _parser():
    try:
        import tree_sitter
        import tree_sitter_powershell
    except ImportError as exc:
        raise SystemExit("the PowerShell grammar check needs tree-sitter and tree-sitter-powershell "
                         "(tests/requirements.txt): run make setup (%s)" % exc) from None
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


_PARSER = None


def parser():
    global _PARSER  # pylint: disable=global-statement
    if _PARSER is None:
        _PARSER = _parser()
    return _PARSER


def _error_message(source: bytes, node) -> str:
    text = source[node.start_byte:].lstrip()
    for operator, message in PS7_OPERATORS:
        if text.startswith(operator.encode()):
            return message
    near = source[node.start_byte:node.end_byte].decode("utf-8", "replace").strip().splitlines()
    if not near or not near[0]:
        near = [source[node.start_byte:node.start_byte + 20].decode("utf-8", "replace")]
    return "syntax error near %r" % near[0][:40]


def check_source(source, path: str = "<script>", line_offset: int = 0, column_offset: int = 0) -> list:
    """Findings for one PowerShell script (text or bytes); the offsets place it in its file."""
    data = source.encode("utf-8") if isinstance(source, str) else bytes(source)
    tree = parser().parse(data)
    findings = []

    def report(node, message):
        line, column = node.start_point
        # Point at the first character of the offending text, not at the blank before it.
        skipped = data[node.start_byte:node.end_byte]
        blank = len(skipped) - len(skipped.lstrip(b" \t"))
        findings.append(Finding(path, line + 1 + line_offset, column + 1 + blank + column_offset, message))

    def walk(node):
        if node.type in PS7_NODE_TYPES:
            report(node, PS7_NODE_TYPES[node.type])
            return
        if node.is_missing:
            report(node, "missing %r (an unclosed brace, parenthesis or string?)" % node.type)
            return
        if node.is_error:
            # Report the innermost errors: their position is where the parser gave up.
            inner = [child for child in node.children if child.is_error or child.is_missing or child.has_error]
            if inner:
                for child in inner:
                    walk(child)
            else:
                report(node, _error_message(data, node))
            return
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    # After a PowerShell 7 operator the rest of its line cannot parse either: say it once.
    seven = {finding.line for finding in findings if "PowerShell 7" in finding.message}
    return [finding for finding in findings if "PowerShell 7" in finding.message or finding.line not in seven]


def _position(node, lines: list) -> tuple:
    """(0-based line, column offset) of a YAML scalar's content in its file: a block scalar starts
    on the line after its indicator, indented; other scalars are placed by their first line."""
    if node.style in ("|", ">"):
        line = node.start_mark.line + 1
        while line < len(lines) and not lines[line].strip():
            line += 1
        text = lines[line] if line < len(lines) else ""
        return node.start_mark.line + 1, len(text) - len(text.lstrip(" "))
    return node.start_mark.line, 0


def inline_scripts(path: Path):
    """(0-based line, column offset, script text with Jinja replaced) for every inline script of a
    win_powershell task in a YAML file. Scripts that are only Jinja are skipped."""
    import yaml

    content = path.read_text(encoding="utf-8")
    try:
        documents = list(yaml.compose_all(content, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return  # not YAML this check can read; yamllint and ansible-lint report it
    stack = [document for document in documents if document is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in WIN_POWERSHELL and isinstance(value, yaml.MappingNode):
                    for option, script in value.value:
                        if option.value == "script" and isinstance(script, yaml.ScalarNode):
                            text = JINJA.sub(lambda match: JINJA_PLACEHOLDER + "\n" * match.group(0).count("\n"),
                                             script.value)
                            if text.strip() and text.strip() != JINJA_PLACEHOLDER:
                                yield _position(script, content.splitlines()) + (text,)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def tree_files(root: Path) -> list:
    """The files of the checkout that git would commit (tracked, or new and not ignored)."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                capture_output=True, check=True).stdout.decode().split("\0")
        return sorted({root / name for name in listed if name and (root / name).is_file()})
    except (OSError, subprocess.CalledProcessError):
        found = []
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRECTORIES]
            found.extend(Path(directory) / name for name in files)
        return sorted(found)


def check_paths(paths) -> tuple:
    """(findings, number of scripts checked) for the given files."""
    findings, checked = [], 0
    for path in paths:
        shown = os.path.relpath(path, REPO) if str(path).startswith(str(REPO)) else str(path)
        if path.suffix.lower() in POWERSHELL_SUFFIXES:
            findings.extend(check_source(path.read_bytes(), shown))
            checked += 1
        elif path.suffix.lower() in YAML_SUFFIXES:
            for line, column, script in inline_scripts(path):
                findings.extend(check_source(script, shown, line_offset=line, column_offset=column))
                checked += 1
    return findings, checked


def main(argv=None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    paths = []
    for argument in arguments or [str(REPO)]:
        candidate = Path(argument).resolve()
        paths.extend(tree_files(candidate) if candidate.is_dir() else [candidate])
    findings, checked = check_paths(paths)
    for finding in findings:
        print(finding)
    if findings:
        print("PowerShell grammar check: %d problem(s) in %d script(s) (Windows PowerShell 5.1)" % (len(findings), checked))
        return 1
    print("PowerShell grammar check: %d script(s) parse as Windows PowerShell 5.1" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
