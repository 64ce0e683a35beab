# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make setup`: everything a fresh Debian 12 machine needs to develop and test the collection.

Works where only the package registries (PyPI, Debian) are reachable. Idempotent: each step
checks first and does nothing when its result is already in place.

  1. .venv/ with requirements.txt and tests/requirements.txt (skipped when unchanged)
  2. Debian packages from bindep.txt (profile 'test') that are missing: apt-get, as root or
     through sudo; otherwise it names the packages and stops
  3. dependency collections in .collections/ from Galaxy, or else from the `ansible` wheel
     on PyPI; .collections/ansible_collections/sanboot/iscsi points at this checkout
  4. ansible-test prepared to run offline (its pip bootstrap script)

Environment: SANBOOT_SKIP_SYSTEM_PACKAGES=1 skips step 2 (a missing package is then only reported).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
COLLECTIONS = REPO / ".collections"
CACHE = REPO / ".cache"
REQUIREMENT_FILES = [REPO / "requirements.txt", REPO / "tests" / "requirements.txt"]
COLLECTION_REQUIREMENT_FILES = [REPO / "requirements.yml", REPO / "tests" / "requirements.yml"]
# The community package that carries every collection we depend on; 12.x is the series for a
# Python 3.11 controller (ansible-core 2.19).
ANSIBLE_WHEEL_SPEC = "ansible>=12.3,<13"
GALAXY_URL = "https://galaxy.ansible.com/api/"

START = float(os.environ.get("SANBOOT_SETUP_START", time.time()))


def say(message: str) -> None:
    print("[setup %5.1fs] %s" % (time.time() - START, message), flush=True)


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


def pip(arguments: list) -> None:
    """pip, without the per-package warnings about unreadable extra index locations some hosts configure."""
    result = subprocess.run([str(VENV_PYTHON), "-m", "pip"] + [str(a) for a in arguments] + ["--quiet", "--disable-pip-version-check"],
                            stderr=subprocess.PIPE, text=True, check=False)
    noise = re.compile(r"^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$")
    sys.stderr.write("".join(line + "\n" for line in result.stderr.splitlines() if not noise.match(line)))
    if result.returncode != 0:
        sys.exit("setup: pip %s failed (exit %d)" % (arguments[0], result.returncode))


def reachable(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except Exception:  # any failure means "not usable from here"
        return False


# --- stage 1 (system Python): the virtualenv -------------------------------------------------

def privileged_prefix() -> list | None:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0:
        return ["sudo", "-n"]
    return None


_apt_updated = False


def apt_install(packages: list) -> None:
    global _apt_updated
    prefix = privileged_prefix()
    if prefix is None or not shutil.which("apt-get"):
        sys.exit("setup: these Debian packages are missing and this user cannot install them (not root, no "
                 "password-less sudo, or no apt-get):\n    %s\nInstall them, for example with\n    sudo apt-get "
                 "install %s\nthen run `make setup` again." % (" ".join(packages), " ".join(packages)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not _apt_updated:
        say("apt-get update")
        run(prefix + ["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
        _apt_updated = True
    say("apt-get install %s" % " ".join(packages))
    run(prefix + ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + packages, env=env,
        stdout=subprocess.DEVNULL)


def ensure_venv() -> None:
    if not VENV_PYTHON.exists():
        say("creating .venv with %s" % sys.executable)
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            # Debian's python3 has venv without ensurepip until python3-venv is installed.
            shutil.rmtree(VENV, ignore_errors=True)
            if os.environ.get("SANBOOT_SKIP_SYSTEM_PACKAGES"):
                sys.exit("setup: `python3 -m venv` failed (%s); install python3-venv" % result.stderr.strip())
            apt_install(["python3-venv"])
            run([sys.executable, "-m", "venv", str(VENV)])
    digest = hashlib.sha256(sys.version.encode())
    for path in REQUIREMENT_FILES:
        digest.update(path.read_bytes())
    stamp = VENV / ".sanboot-requirements.sha256"
    if stamp.exists() and stamp.read_text().strip() == digest.hexdigest():
        say(".venv is up to date")
        return
    say("installing Python packages into .venv (%s)" % ", ".join(p.relative_to(REPO).as_posix() for p in REQUIREMENT_FILES))
    arguments = ["install"]
    for path in REQUIREMENT_FILES:
        arguments += ["-r", path]
    pip(arguments)
    stamp.write_text(digest.hexdigest() + "\n")


# --- stage 2 (inside .venv): system packages, collections, ansible-test -----------------------

def ensure_system_packages() -> None:
    result = subprocess.run([str(VENV / "bin" / "bindep"), "-b", "-f", str(REPO / "bindep.txt"), "test"],
                            capture_output=True, text=True, check=False)
    missing = result.stdout.split()
    if result.returncode not in (0, 1) or (result.returncode == 1 and not missing):
        sys.exit("setup: bindep failed: %s" % (result.stderr.strip() or result.stdout.strip()))
    if not missing:
        say("Debian packages from bindep.txt are installed")
        return
    if os.environ.get("SANBOOT_SKIP_SYSTEM_PACKAGES"):
        say("WARNING: missing Debian packages (SANBOOT_SKIP_SYSTEM_PACKAGES is set): %s" % " ".join(missing))
        return
    apt_install(missing)


def required_collections() -> dict:
    import yaml  # from .venv

    required = {}
    for path in COLLECTION_REQUIREMENT_FILES:
        if path.exists():
            for entry in (yaml.safe_load(path.read_text()) or {}).get("collections", []):
                required[entry["name"]] = entry.get("version", "*")
    return required


def installed_version(name: str) -> str | None:
    manifest = COLLECTIONS / "ansible_collections" / Path(*name.split(".")) / "MANIFEST.json"
    if manifest.exists():
        return json.loads(manifest.read_text())["collection_info"]["version"]
    return None


def satisfied(version: str | None, spec: str) -> bool:
    from packaging.specifiers import SpecifierSet  # from .venv

    return version is not None and (spec == "*" or SpecifierSet(spec.replace(" ", "")).contains(version))


def link_this_collection() -> None:
    link = COLLECTIONS / "ansible_collections" / "sanboot" / "iscsi"
    link.parent.mkdir(parents=True, exist_ok=True)
    target = os.path.relpath(REPO, link.parent)
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target, target_is_directory=True)
    say("linked .collections/ansible_collections/sanboot/iscsi -> %s" % target)


def install_from_galaxy(missing: dict) -> bool:
    if not reachable(GALAXY_URL):
        say("Galaxy is not reachable; using the ansible package from PyPI instead")
        return False
    say("installing %s from Galaxy" % ", ".join(sorted(missing)))
    requirements = CACHE / "collections-from-galaxy.yml"
    CACHE.mkdir(exist_ok=True)
    requirements.write_text(json.dumps({"collections": [{"name": n, "version": v} for n, v in missing.items()]}))
    result = subprocess.run([str(VENV / "bin" / "ansible-galaxy"), "collection", "install", "-r", str(requirements),
                             "-p", str(COLLECTIONS), "--force"], capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        say("Galaxy install failed (%s); using the ansible package from PyPI instead"
            % (result.stderr.strip().splitlines() or ["?"])[-1])
        return False
    return True


def install_from_wheel(missing: dict) -> None:
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob("ansible-[0-9]*.whl"))
    if not found:
        say("downloading %s from PyPI (no dependencies, ~55 MB)" % ANSIBLE_WHEEL_SPEC)
        pip(["download", "--no-deps", "--only-binary=:all:", ANSIBLE_WHEEL_SPEC, "-d", wheels])
        found = sorted(wheels.glob("ansible-[0-9]*.whl"))
    wheel = found[-1]
    say("extracting %s from %s" % (", ".join(sorted(missing)), wheel.name))
    with zipfile.ZipFile(wheel) as archive:
        for name in missing:
            prefix = "ansible_collections/%s/" % name.replace(".", "/")
            destination = COLLECTIONS / "ansible_collections" / Path(*name.split("."))
            shutil.rmtree(destination, ignore_errors=True)
            members = [member for member in archive.namelist() if member.startswith(prefix)]
            if not members:
                sys.exit("setup: %s does not contain the collection %s" % (wheel.name, name))
            archive.extractall(COLLECTIONS, members)


def ensure_collections() -> None:
    link_this_collection()
    required = required_collections()
    missing = {name: spec for name, spec in required.items() if not satisfied(installed_version(name), spec)}
    if not missing:
        say("collections are installed: %s" % ", ".join("%s %s" % (n, installed_version(n)) for n in sorted(required)))
        return
    if not install_from_galaxy(missing):
        install_from_wheel(missing)
    wrong = {name: (installed_version(name), spec) for name, spec in missing.items()
             if not satisfied(installed_version(name), spec)}
    if wrong:
        sys.exit("setup: collection versions do not satisfy the requirements: %s"
                 % "; ".join("%s is %s, needs %s" % (n, v, s) for n, (v, s) in sorted(wrong.items())))
    say("collections are installed: %s" % ", ".join("%s %s" % (n, installed_version(n)) for n in sorted(required)))


OFFLINE_GET_PIP = '''\
# Offline stand-in for get-pip.py, written by sanboot.iscsi's `make setup` because
# ci-files.testing.ansible.com is not reachable. ansible-test runs it in a fresh virtualenv with
# pip's usual arguments; ensurepip provides a pip, which then installs the requested versions.
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
'''


def ensure_ansible_test_offline() -> None:
    import ansible_test

    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text())
    if not match:
        sys.exit("setup: cannot find which pip version ansible-test bootstraps (in %s)" % source)
    version = match.group(1)
    cache = Path.home() / ".ansible" / "test" / "cache" / ("get_pip_%s.py" % version.replace(".", "_"))
    if cache.exists():
        say("ansible-test pip bootstrap is in place (%s)" % cache)
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    url = "https://ci-files.testing.ansible.com/ansible-test/get-pip-%s.py" % version
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            cache.write_bytes(response.read())
        say("downloaded ansible-test's pip bootstrap to %s" % cache)
    except Exception:
        cache.write_text(OFFLINE_GET_PIP)
        say("wrote an offline pip bootstrap for ansible-test to %s" % cache)


def main() -> None:
    if "--in-venv" not in sys.argv:
        ensure_venv()
        os.environ["SANBOOT_SETUP_START"] = str(START)
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), __file__, "--in-venv"])
    ensure_system_packages()
    ensure_collections()
    ensure_ansible_test_offline()
    say("done: .venv/bin/ansible-playbook, ansible-doc and ansible resolve sanboot.iscsi.* from %s" % REPO)


if __name__ == "__main__":
    main()
