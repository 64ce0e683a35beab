# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the collection's Windows roles against the Windows state simulator (a test double).

The simulator (tests/windows_simulator) shadows ansible.windows and community.windows with Python
fakes that keep one simulated Windows host in a JSON file; see docs/windows.md for what it covers.
A SimulatedWindowsHost is such a host in a directory of its own, with the environment and an
inventory to run ansible-playbook against it; the boot lab can use it for its Windows stages.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from labkit import COLLECTIONS, REPO, VENV_BIN, ansible_env

SIMULATOR = REPO / "tests" / "windows_simulator"
STATES = SIMULATOR / "states"
STATE_ENV = "SANBOOT_WINDOWS_SIMULATOR_STATE"


def load_state(name: str) -> dict:
    """One of the simulator's host states (tests/windows_simulator/states/<name>.json)."""
    return json.loads((STATES / (name + ".json")).read_text())


class SimulatedWindowsHost:
    """A simulated Windows host: its state file, an inventory and a way to run roles on it."""

    def __init__(self, directory: Path, state, name: str = "winboot01", host_vars: dict | None = None,
                 groups: dict | None = None):
        """host_vars: more variables of the simulated host; groups: other inventory groups, as
        {group: {host: variables}} (hosts the roles read about, never run on)."""
        self.directory = Path(directory)
        self.name = name
        self.state_file = self.directory / (name + ".json")
        self.write_state(load_state(state) if isinstance(state, str) else state)
        self.inventory = self.directory / (name + "-inventory.json")
        variables = {"ansible_connection": "local", "ansible_python_interpreter": str(VENV_BIN / "python")}
        variables.update(host_vars or {})
        inventory = {"all": {"hosts": {name: variables}}}
        if groups:
            inventory["all"]["children"] = {group: {"hosts": hosts} for group, hosts in groups.items()}
        self.inventory.write_text(json.dumps(inventory))

    def write_state(self, state: dict):
        self.state_file.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")

    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def state_bytes(self) -> bytes:
        return self.state_file.read_bytes()

    def env(self, extra: dict | None = None) -> dict:
        # The simulator first on the path, so that it shadows ansible.windows and community.windows.
        environment = ansible_env({"ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (SIMULATOR, COLLECTIONS),
                                   STATE_ENV: str(self.state_file), "ANSIBLE_PIPELINING": "true",
                                   "ANSIBLE_CONFIG": str(self.directory / "none.cfg")})
        environment.update(extra or {})
        return environment

    def run_role(self, role: str, variables: dict | None = None, check: bool = False, verbosity: int = 0,
                 timeout: int = 300) -> subprocess.CompletedProcess:
        """ansible-playbook applying sanboot.iscsi.<role> with these variables; never raises on failure."""
        playbook = self.directory / ("%s.yml" % role)
        playbook.write_text(json.dumps([{"name": "Apply %s" % role, "hosts": self.name, "gather_facts": False,
                                         "roles": [{"role": "sanboot.iscsi." + role, "vars": variables or {}}]}]))
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(playbook)]
        if check:
            argv.append("--check")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        return subprocess.run(argv, cwd=str(self.directory), env=self.env(), capture_output=True, text=True,
                              timeout=timeout, check=False)


def recap(result: subprocess.CompletedProcess) -> dict:
    """The PLAY RECAP counters of a one-host run: {'ok': n, 'changed': n, 'failed': n, ...}."""
    for line in result.stdout.splitlines()[::-1]:
        if " : ok=" in line:
            return {key: int(value) for key, value in (part.split("=") for part in line.split(":", 1)[1].split())}
    raise AssertionError("no PLAY RECAP in the output:\n" + result.stdout + result.stderr)


def load_simulator():
    """The simulator's module_utils (its models, boot_clone, reboot), loaded by path: the real
    ansible.windows is what `ansible_collections.ansible.windows` means on a test's sys.path."""
    import importlib.util

    path = SIMULATOR / "ansible_collections" / "ansible" / "windows" / "plugins" / "module_utils" / "sanboot_simulator.py"
    spec = importlib.util.spec_from_file_location("sanboot_simulator_for_labkit", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
