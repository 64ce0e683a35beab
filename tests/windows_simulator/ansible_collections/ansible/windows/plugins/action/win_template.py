# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for the ansible.windows.win_template action (a test double; see
module_utils/sanboot_simulator.py).

Like the real action plugin it renders the template on the controller, applies newline_sequence
to the template's own line ends, encodes the result with output_encoding and hands the bytes to
win_copy (here the simulator's win_copy, which compares and stores them in the simulated host)."""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 trusts template text as it is
    def trust_as_template(text):
        return text

ARGUMENT_SPEC = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "path", "required": True},
    "newline_sequence": {"type": "str", "choices": ["\\n", "\\r", "\\r\\n"], "default": "\\r\\n"},
    "output_encoding": {"type": "str", "default": "utf-8"},
    "force": {"type": "bool", "default": True},
    "backup": {"type": "bool", "default": False},
}
_NEWLINES = {"\\n": "\n", "\\r": "\r", "\\r\\n": "\r\n"}


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        _validation, arguments = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        source = self._find_needle("templates", arguments["src"])
        with open(source, "r", encoding="utf-8") as handle:
            template_text = handle.read()
        templar = self._templar.copy_with_new_env(available_variables=task_vars)
        try:
            rendered = templar.template(trust_as_template(template_text), preserve_trailing_newlines=True,
                                        escape_backslashes=False,
                                        overrides={"newline_sequence": _NEWLINES[arguments["newline_sequence"]]})
        except Exception as exc:
            raise AnsibleActionFail("%s: %s" % (type(exc).__name__, exc)) from None
        try:
            content = str(rendered).encode(arguments["output_encoding"])
        except LookupError:
            raise AnsibleActionFail("output_encoding %s is not an encoding Python knows" % arguments["output_encoding"]) from None

        local_dir = tempfile.mkdtemp(dir=C.DEFAULT_LOCAL_TMP)
        try:
            rendered_file = os.path.join(local_dir, os.path.basename(source))
            with open(rendered_file, "wb") as handle:
                handle.write(content)
            result.update(self._execute_module(
                module_name="ansible.windows.win_copy",
                module_args={"src": rendered_file, "dest": arguments["dest"], "force": arguments["force"],
                             "backup": arguments["backup"]},
                task_vars=task_vars))
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)
        return result
