# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The tgt backend of san_volume: the Linux SCSI target framework (tgtd), on the storage host.

One volume is one target with one data LUN backed by a file. Every change is applied live with
tgtadm and persisted as one config file per volume in tgt-admin syntax (config_dir, default
/etc/tgt/conf.d, which Debian's /etc/tgt/targets.conf includes), so that tgtd's usual start
(`tgt-admin -e`) brings every volume back.

This file holds TgtBackend; the package splits the rest by concern: parser.py (tgtadm's output),
config.py (the config files), control.py (tgtd's control socket), clone.py (backing-file copies).

What tgt 1.0.85 does, and what this backend does about it (measured; see docs/san.md):
- `tgtadm --op show --mode target` is indentation-structured text: parser.parse_show_target.
- Initiator names in ACLs are compared byte for byte: only canonical lowercase IQNs are bound.
- An initiator is admitted when its address matches an address rule OR its name matches a name
  rule. tgt-admin binds ALL (every address) to a target whose config has no initiator-address,
  so a volume restricted by initiator names only also gets the address rule NONE, which matches
  no address (tgt matches address rules numerically; NONE is not a number).
- Address rules: a /32 (or /128), a /0 and a network with host bits set never match; the naming
  core writes single hosts without a prefix and refuses the others.
- tgtadm never shows CHAP secrets: the secret is compared with the one in the volume's own 0600
  config file, and changed only when it differs. tgtadm takes a password only on its command
  line, where every local user can read it (/proc/<pid>/cmdline), so accounts are created
  over tgtd's control socket instead (TgtControl).
- tgt-admin passes config values to /bin/sh unquoted and reads them with Config::General, so
  CHAP names and secrets and paths are limited to characters that survive both.
- A grown backing file is picked up by taking the LUN offline and setting its path again
  (`--params online=0`, then `--params path=...`), which reopens the file and reads its size;
  logged-in initiators keep their sessions and see the new capacity on their next READ CAPACITY.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    NamingError,
    normalize_iscsi_name,
    normalize_server,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.clone import clone_file
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.config import (
    CONFIG_PREFIX,
    CONFIG_SUFFIX,
    DEFAULT_CONFIG_DIR,
    IMAGE_FIELDS,
    NO_ADDRESS,
    SAFE_CREDENTIAL,
    SAFE_CREDENTIAL_RULE,
    SAFE_PATH,
    SAFE_PATH_RULE,
    acl_rules,
    parse_config,
    render_config,
    write_private_file,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.control import (
    CONTROL_SOCKET,
    TgtControl,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.parser import (
    SECTOR,
    exposed_size,
    is_name_rule,
    parse_show_account,
    parse_show_portal,
    parse_show_target,
    tgt_display_mb,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import (
    Credential,
    SanBackend,
    SanError,
    SanInputError,
    Volume,
)

DEFAULT_STORAGE_DIR = "/srv/iscsi"
LOCK_FILE = "/var/run/tgtd/sanboot-iscsi.%d.lock"
SEARCH_PATH = ("/usr/sbin", "/sbin", "/usr/local/sbin")

# Options this backend adds to the modules (documented in doc_fragments/san_backends.py).
CONNECTION_OPTIONS = {
    "config_dir": {"type": "path", "default": DEFAULT_CONFIG_DIR},
    "tgt_control_port": {"type": "int", "default": 0},
}
VOLUME_OPTIONS = {
    "path": {"type": "path"},
    "storage_dir": {"type": "path", "default": DEFAULT_STORAGE_DIR},
}


# --- the backend --------------------------------------------------------------------------------

def find_program(name):
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SEARCH_PATH))
    if not found:
        raise SanError("%s is not installed on this host (it comes with the tgt package); san_volume runs on the storage "
                       "host: delegate_to it" % name)
    return found


class TgtBackend(SanBackend):
    name = "tgt"
    size_granularity = SECTOR
    CONNECTION_OPTIONS = CONNECTION_OPTIONS
    VOLUME_OPTIONS = VOLUME_OPTIONS

    def __init__(self, params, run_command, warn):
        super().__init__(params, run_command, warn)
        self.control_port = params.get("tgt_control_port") or 0
        self.config_dir = params.get("config_dir") or DEFAULT_CONFIG_DIR
        self.storage_dir = params.get("storage_dir") or DEFAULT_STORAGE_DIR
        self.control = TgtControl(self.control_port)
        self._tgtadm_path = None
        self._lock_fd = None
        self._targets = None
        self._secrets = None
        # What this run created, undone by rollback() when a later step fails.
        self._created_tids = []
        self._created_accounts = []
        self._created_files = []

    # -- plumbing

    def close(self):
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def lock(self):
        path = LOCK_FILE % self.control_port
        if not os.path.exists(CONTROL_SOCKET % self.control_port):
            return  # no tgtd on this control port: tgtadm will say so clearly
        self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)

    def tgtadm(self, *arguments, **kwargs):
        """Run tgtadm; return its output. Raises SanError with tgtadm's message (it never carries a secret)."""
        if self._tgtadm_path is None:
            self._tgtadm_path = find_program("tgtadm")
        argv = [self._tgtadm_path, "-C", str(self.control_port), "--lld", "iscsi"] + [str(part) for part in arguments]
        rc, out, err = self.run_command(argv)
        if rc != 0 and not kwargs.get("allow_fail"):
            message = (err or out).strip().replace("tgtadm: ", "")
            if rc == 107 or "not connected" in message or "can't connect" in message:
                raise SanError("tgtd is not running, or not on control port %d (tgt_control_port): %s"
                               % (self.control_port, message))
            raise SanError("tgtadm %s failed (exit %d): %s" % (" ".join(str(part) for part in arguments[:4]), rc, message))
        return out if rc == 0 else None

    def targets(self, refresh=False):
        if self._targets is None or refresh:
            self._targets = parse_show_target(self.tgtadm("--op", "show", "--mode", "target"))
        return self._targets

    def target_by_name(self, target_iqn, refresh=False):
        for target in self.targets(refresh):
            if target.name == target_iqn:
                return target
        for target in self.targets():
            try:
                if normalize_iscsi_name(target.name) == target_iqn:
                    return target
            except NamingError:
                continue
        return None

    def accounts(self):
        return parse_show_account(self.tgtadm("--op", "show", "--mode", "account"))

    def config_path(self, name):
        return os.path.join(self.config_dir, CONFIG_PREFIX + name + CONFIG_SUFFIX)

    def read_records(self) -> dict:
        """name -> record, for every config file sanboot.iscsi wrote in config_dir."""
        records = {}
        if not os.path.isdir(self.config_dir):
            return records
        for entry in sorted(os.listdir(self.config_dir)):
            if not (entry.startswith(CONFIG_PREFIX) and entry.endswith(CONFIG_SUFFIX)):
                continue
            path = os.path.join(self.config_dir, entry)
            try:
                with open(path) as stream:
                    record = parse_config(stream.read())
            except (OSError, UnicodeDecodeError):
                continue
            if record is not None and CONFIG_PREFIX + record["name"] + CONFIG_SUFFIX == entry:
                record["file"] = path
                records[record["name"]] = record
        return records

    def default_path(self, name):
        return os.path.join(self.storage_dir, name + ".img")

    # -- input rules only tgt has

    def validate(self, desired, params):
        port = params.get("tgt_control_port") or 0
        if not 0 <= port <= 65535:
            raise SanInputError("tgt_control_port: %s is out of range: tgtd's control port (-C) is 0 to 65535" % port)
        for option in ("config_dir", "storage_dir"):
            if params.get(option) and not SAFE_PATH.match(params[option]):
                raise SanInputError("%s: '%s' must be %s (tgt-admin reads config files with Config::General and runs "
                                    "tgtadm through a shell)" % (option, params[option], SAFE_PATH_RULE))
        if desired is None:
            return
        if desired.path is None:
            desired.path = params.get("path") or self.default_path(desired.name)
        desired.path = os.path.normpath(desired.path)
        if not SAFE_PATH.match(desired.path):
            raise SanInputError("path: '%s' must be %s (tgt-admin reads config files with Config::General and runs "
                                "tgtadm through a shell)" % (desired.path, SAFE_PATH_RULE))
        for option, credential in (("chap", desired.chap if desired.state == "present" else None),
                                   ("mutual_chap", desired.mutual_chap if desired.state == "present" else None)):
            if credential is None:
                continue
            if not SAFE_CREDENTIAL.match(credential.username):
                raise SanInputError("%s.username '%s' may contain only %s on the tgt backend: tgt-admin passes it through "
                                    "a shell when it restores the volume" % (option, credential.username,
                                                                             SAFE_CREDENTIAL_RULE))
            if not SAFE_CREDENTIAL.match(credential.secret):
                raise SanInputError("%s.secret may contain only %s on the tgt backend: tgt-admin passes it through a shell "
                                    "and its config parser when it restores the volume" % (option, SAFE_CREDENTIAL_RULE))
        if desired.chap and desired.mutual_chap and desired.chap.username == desired.mutual_chap.username:
            raise SanInputError("mutual_chap.username must differ from chap.username on the tgt backend: tgt keeps one "
                                "secret per account name")

    # -- reading

    def _volume_from(self, record, target, managed=True):
        """A Volume from a config record and/or a live target (either may be None, not both)."""
        lun_number = record["lun"] if record else None
        if target is not None and lun_number is None:
            data_luns = sorted(number for number in target.luns if number != 0)
            lun_number = data_luns[0] if data_luns else None
        live_lun = target.luns.get(lun_number) if target is not None and lun_number is not None else None
        path = record["path"] if record else (live_lun.path if live_lun else None)
        size = None
        if path:
            try:
                size = exposed_size(os.stat(path).st_size)
            except OSError:
                size = None
        if target is not None:
            initiators = target.acl_names
            addresses = [entry for entry in target.acl_addresses if entry != NO_ADDRESS]
            known = self._recorded_secrets()
            chap = self._live_credential(target.accounts, record and record.get("chap"), known)
            mutual_chap = self._live_credential(target.outgoing_accounts, record and record.get("mutual_chap"), known)
            sessions = [{"initiator": session["initiator"],
                         "address": session["addresses"][0] if session["addresses"] else None}
                        for session in target.sessions]
        else:
            initiators, addresses = record["initiators"], record["allowed_addresses"]
            chap, mutual_chap, sessions = record.get("chap"), record.get("mutual_chap"), []
        name = record["name"] if record else None
        target_iqn = record["target_iqn"] if record else target.name
        data = {"record": record, "target": target, "live_lun": live_lun}
        return Volume(name, target_iqn, lun_number, path, size, initiators, addresses, chap, mutual_chap,
                      sessions=sessions, loaded=target is not None, managed=managed, backend_data=data)

    @staticmethod
    def _live_credential(bound, recorded, known):
        """The CHAP credential bound to a target, with its secret when a config file records it."""
        if not bound:
            return None
        if len(bound) > 1:
            return Credential(", ".join(sorted(bound)))
        if recorded is not None and recorded.username == bound[0]:
            return Credential(bound[0], recorded.secret)
        # An account other volumes share has the secret their files record (they may not disagree).
        return Credential(bound[0], known.get(bound[0]))

    def _recorded_secrets(self):
        """username -> secret, for the accounts the config files agree on."""
        if self._secrets is None:
            secrets, disputed = {}, set()
            for record in self.read_records().values():
                for credential in (record.get("chap"), record.get("mutual_chap")):
                    if credential is None:
                        continue
                    if secrets.get(credential.username, credential.secret) != credential.secret:
                        disputed.add(credential.username)
                    secrets[credential.username] = credential.secret
            self._secrets = {username: secret for username, secret in secrets.items() if username not in disputed}
        return self._secrets

    def get(self, name, desired=None):
        record = self.read_records().get(name)
        if record is not None:
            return self._volume_from(record, self.target_by_name(record["target_iqn"]))
        if desired is None or desired.target_iqn is None:
            return None
        target = self.target_by_name(desired.target_iqn)
        if target is None:
            return None
        if any(self.target_by_name(other["target_iqn"]) is target for other in self.read_records().values()):
            return None  # another volume's target: a conflict, reported as such
        volume = self._volume_from(None, target, managed=False)
        if volume.lun != desired.lun or volume.path != desired.path:
            return None  # someone else's target with this IQN: a conflict, reported as such
        # The volume's target and backing file, without its config file (a run that failed before
        # recording it, or a lost file): it is this volume; the next steps record it.
        volume.name = desired.name
        volume.managed = True
        volume.backend_data["adopted"] = True
        return volume

    def list(self, include_unmanaged=False):
        records = self.read_records()
        volumes = []
        recorded_iqns = set()
        for record in records.values():
            target = self.target_by_name(record["target_iqn"])
            recorded_iqns.add(record["target_iqn"])
            volumes.append(self._volume_from(record, target))
        if include_unmanaged:
            for target in self.targets():
                try:
                    canonical = normalize_iscsi_name(target.name)
                except NamingError:
                    canonical = target.name
                if canonical not in recorded_iqns and target.name not in recorded_iqns:
                    volume = self._volume_from(None, target, managed=False)
                    volume.target_iqn = canonical
                    volumes.append(volume)
        return sorted(volumes, key=lambda volume: (not volume.managed, volume.name or "", volume.target_iqn))

    def portal(self):
        portals = parse_show_portal(self.tgtadm("--op", "show", "--mode", "portal"))
        specific = [(address, port) for address, port in portals if address not in ("0.0.0.0", "::", "")]
        if specific:
            return normalize_server(specific[0][0]), specific[0][1]
        return None

    def find_clone_source(self, clone_from):
        if clone_from.startswith("/"):
            path, description = os.path.normpath(clone_from), "image %s" % clone_from
        else:
            record = self.read_records().get(clone_from)
            if record is None:
                raise SanInputError("clone_from: there is no volume '%s' to clone (no %s); give the name of an existing "
                                    "volume or the absolute path of an image" % (clone_from, self.config_path(clone_from)))
            path, description = record["path"], "volume '%s'" % clone_from
        try:
            info = os.stat(path)
        except OSError as exc:
            raise SanInputError("clone_from: %s cannot be read at %s: %s" % (description, path, exc.strerror)) from None
        if not stat.S_ISREG(info.st_mode):
            raise SanInputError("clone_from: %s at %s is not a regular file" % (description, path))
        return description, exposed_size(info.st_size)

    # -- conflicts only tgt has

    def check_conflicts(self, desired, current, others):
        if current is None:
            config = self.config_path(desired.name)
            if os.path.exists(config):
                raise SanInputError("name: %s exists but was not written by sanboot.iscsi; refusing to overwrite it"
                                    % config)
            if os.path.lexists(desired.path):
                if desired.clone_from is not None:
                    raise SanInputError("path: %s already exists; clone_from never overwrites existing data (remove it, or "
                                        "choose another path)" % desired.path)
                existing = os.stat(desired.path)
                if not stat.S_ISREG(existing.st_mode):
                    raise SanInputError("path: %s exists and is not a regular file" % desired.path)
                if desired.size_bytes is not None and desired.size_bytes < exposed_size(existing.st_size):
                    raise SanInputError("size: %d bytes is smaller than the existing backing file %s (%d bytes): volumes "
                                        "only grow, never shrink" % (desired.size_bytes, desired.path,
                                                                     exposed_size(existing.st_size)))
        elif current.path and not os.path.exists(current.path):
            raise SanInputError("path: the backing file of %s, %s, is missing; refusing to put an empty one in its place "
                                "(restore it, or remove the volume)" % (current.describe(), current.path))
        records = self.read_records()
        live_accounts = None
        for option, credential in (("chap", desired.chap), ("mutual_chap", desired.mutual_chap)):
            if credential is None:
                continue
            for name, record in records.items():
                if name == desired.name:
                    continue
                for recorded in (record.get("chap"), record.get("mutual_chap")):
                    if recorded is not None and recorded.username == credential.username \
                            and recorded.secret != credential.secret:
                        raise SanInputError("%s.username '%s' is also the CHAP account of volume '%s', with another "
                                            "secret; tgt keeps one secret per account name: use the same secret or "
                                            "another username" % (option, credential.username, name))
            recorded_anywhere = any(recorded is not None and recorded.username == credential.username
                                    for name, record in records.items() if name != desired.name
                                    for recorded in (record.get("chap"), record.get("mutual_chap")))
            if recorded_anywhere:
                continue
            if live_accounts is None:
                live_accounts = self.accounts()
            if credential.username not in live_accounts:
                continue
            foreign = [target.name for target in self.targets()
                       if credential.username in target.accounts + target.outgoing_accounts
                       and (current is None or not current.loaded or target.tid != current.backend_data["target"].tid)]
            if foreign:
                raise SanInputError("%s.username '%s' is a tgt account of %s, which sanboot.iscsi does not manage; "
                                    "its secret cannot be checked and changing it would lock that target out: use "
                                    "another username" % (option, credential.username, ", ".join(foreign)))

    # -- steps only tgt has

    def extra_steps(self, current, desired):
        steps = []
        target = current.backend_data.get("target")
        live_lun = current.backend_data.get("live_lun")
        if current.loaded:
            growing = desired.size_bytes is not None and desired.size_bytes > (current.size_bytes or 0)
            if live_lun is None:
                steps.append(("add LUN %d (%s) to target %s" % (desired.lun, desired.path, current.target_iqn),
                              lambda: self._add_lun(target.tid, desired.lun, desired.path)))
            elif not growing and self._lun_is_stale(current):
                # The grow step reopens the LUN itself; otherwise a stale size is fixed here.
                steps.append(("reopen LUN %d of %s so that initiators see the backing file's %d bytes"
                              % (current.lun, current.target_iqn, current.size_bytes),
                              lambda: self._reopen_lun(target.tid, current.lun, current.path)))
            if live_lun is not None and live_lun.online is False:
                steps.append(("bring LUN %d of %s online" % (current.lun, current.target_iqn),
                              lambda: self.tgtadm("--op", "update", "--mode", "logicalunit", "--tid", target.tid,
                                                  "--lun", current.lun, "--params", "online=1")))
            access_same = (current.initiators, current.allowed_addresses) == (desired.initiators, desired.allowed_addresses)
            if access_same and sorted(target.acl) != sorted(acl_rules(desired.initiators, desired.allowed_addresses)):
                steps.append(("set the address rule %s of target %s (restores with tgt-admin must not admit every "
                              "address)" % (NO_ADDRESS if not desired.allowed_addresses else "list", current.target_iqn),
                              lambda: self.set_access(current, desired.initiators, desired.allowed_addresses)))
        size = desired.size_bytes if desired.size_bytes is not None else current.size_bytes
        if self._record_text(desired, size) != self._current_record_text(desired.name):
            steps.append(("write the config file %s (mode 0600)" % self.config_path(desired.name), lambda: None))
        return steps

    def _lun_is_stale(self, current):
        live_lun = current.backend_data.get("live_lun")
        record = current.backend_data.get("record")
        if live_lun is None or current.size_bytes is None:
            return False
        if live_lun.size_mb is not None and live_lun.size_mb != tgt_display_mb(current.size_bytes):
            return True
        # A grow whose reopen did not complete: the file grew, the record still has the old size.
        return record is not None and record.get("size_bytes") is not None and record["size_bytes"] != current.size_bytes

    def _record_text(self, desired, size):
        return render_config({"name": desired.name, "size_bytes": size, "target_iqn": desired.target_iqn,
                              "lun": desired.lun, "path": desired.path, "initiators": desired.initiators,
                              "allowed_addresses": desired.allowed_addresses, "chap": desired.chap,
                              "mutual_chap": desired.mutual_chap,
                              # san_image's record survives san_volume's rewrites.
                              "image": (self.read_records().get(desired.name) or {}).get("image")})

    def _current_record_text(self, name):
        path = self.config_path(name)
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != 0o600 or info.st_uid != os.geteuid():
                return None
            with open(path) as stream:
                return stream.read()
        except (OSError, UnicodeDecodeError):
            return None

    def discard_cache(self):
        self._targets = None
        self._secrets = None

    def commit(self, desired):
        if not os.path.isdir(self.config_dir):
            os.makedirs(self.config_dir, 0o700)
        size = exposed_size(os.stat(desired.path).st_size)
        text = self._record_text(desired, size)
        if text != self._current_record_text(desired.name):
            write_private_file(self.config_path(desired.name), text)
        self._created_tids, self._created_accounts, self._created_files = [], [], []

    def image_record(self, volume):
        return (self.read_records().get(volume.name) or {}).get("image")

    def record_image(self, volume, record):
        current = self.read_records().get(volume.name)
        if current is None:
            raise SanError("volume '%s' has no config file in %s to record its image in" % (volume.name, self.config_dir))
        current["image"] = {field: record[field] for field in IMAGE_FIELDS} if record else None
        write_private_file(self.config_path(volume.name), render_config(current))

    def uncommit(self, name):
        try:
            os.unlink(self.config_path(name))
        except FileNotFoundError:
            pass

    def rollback(self):
        """Undo what this run created before a later step failed, so that a re-run starts clean."""
        for tid in reversed(self._created_tids):
            self.tgtadm("--op", "delete", "--force", "--mode", "target", "--tid", tid, allow_fail=True)
        for username in reversed(self._created_accounts):
            self.tgtadm("--op", "delete", "--mode", "account", "--user", username, allow_fail=True)
        for path in reversed(self._created_files):
            try:
                os.unlink(path)
            except OSError:
                pass
        self._created_tids, self._created_accounts, self._created_files = [], [], []

    # -- changing

    def _ensure_backing_file(self, desired):
        directory = os.path.dirname(desired.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        if not os.path.exists(desired.path):
            descriptor = os.open(desired.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            self._created_files.append(desired.path)
            try:
                os.ftruncate(descriptor, desired.size_bytes)
            finally:
                os.close(descriptor)
        elif desired.size_bytes is not None and exposed_size(os.stat(desired.path).st_size) < desired.size_bytes:
            os.truncate(desired.path, desired.size_bytes)

    def clone(self, clone_from, desired):
        if clone_from.startswith("/"):
            source = os.path.normpath(clone_from)
        else:
            source = self.read_records()[clone_from]["path"]
        directory = os.path.dirname(desired.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        try:
            method = clone_file(source, desired.path)
        except OSError as exc:
            raise SanError("cloning %s to %s failed: %s" % (source, desired.path, exc.strerror or exc))
        self._created_files.append(desired.path)
        return method

    def _new_target(self, target_iqn):
        """Create the target with the next free target id (another run may take an id first: retry)."""
        for _attempt in range(20):
            tid = max([target.tid for target in self.targets(refresh=True)] + [0]) + 1
            try:
                self.tgtadm("--op", "new", "--mode", "target", "--tid", tid, "-T", target_iqn)
            except SanError as exc:
                if "already exists" not in str(exc):
                    raise
                if self.target_by_name(target_iqn, refresh=True) is not None:
                    raise SanError("target %s appeared while this run was creating it (made by another run?)"
                                   % target_iqn)
                continue
            self._created_tids.append(tid)
            return tid
        raise SanError("no free target id for %s after 20 attempts" % target_iqn)

    def _add_lun(self, tid, lun, path):
        self.tgtadm("--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", lun, "--backing-store", path)

    def _reopen_lun(self, tid, lun, path):
        """Make tgt read the backing file's size again: offline, set the path (reopens, onlines)."""
        self.tgtadm("--op", "update", "--mode", "logicalunit", "--tid", tid, "--lun", lun, "--params", "online=0")
        try:
            self.tgtadm("--op", "update", "--mode", "logicalunit", "--tid", tid, "--lun", lun, "--params", "path=" + path)
        except SanError as first:
            # A failed reopen leaves the LUN closed: add it back as it was, so initiators keep their disk.
            self.tgtadm("--op", "delete", "--mode", "logicalunit", "--tid", tid, "--lun", lun, allow_fail=True)
            if self.tgtadm("--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", lun, "--backing-store", path,
                           allow_fail=True) is None:
                raise SanError("reopening LUN %s of target %s failed and it could not be added back: %s" % (lun, tid, first))
            raise

    def create(self, desired):
        """Create (or, for a recorded volume that tgtd does not serve, re-create) the volume live."""
        self._ensure_backing_file(desired)
        tid = self._new_target(desired.target_iqn)
        self._add_lun(tid, desired.lun, desired.path)
        for rule in acl_rules([], desired.allowed_addresses):
            self.tgtadm("--op", "bind", "--mode", "target", "--tid", tid, "--initiator-address", rule)
        for name in desired.initiators:
            self.tgtadm("--op", "bind", "--mode", "target", "--tid", tid, "--initiator-name", name)
        self._targets = None
        self._bind_credential(tid, desired.name, desired.chap, outgoing=False)
        self._bind_credential(tid, desired.name, desired.mutual_chap, outgoing=True)

    def grow(self, current, size_bytes):
        if size_bytes <= (current.size_bytes or 0):
            raise SanError("refusing to change %s from %s to %s bytes: volumes only grow"
                           % (current.describe(), current.size_bytes, size_bytes))
        try:
            os.truncate(current.path, size_bytes)
        except OSError as exc:
            raise SanError("growing %s to %d bytes failed: %s" % (current.path, size_bytes, exc.strerror))
        current.size_bytes = size_bytes
        if current.loaded and current.backend_data.get("live_lun") is not None:
            self._reopen_lun(current.backend_data["target"].tid, current.lun, current.path)

    def set_access(self, current, initiators, allowed_addresses):
        tid = current.backend_data["target"].tid
        live = list(current.backend_data["target"].acl)
        wanted = acl_rules(initiators, allowed_addresses)
        # Narrow first, then widen: nobody gets in who should not, even for a moment.
        for rule in live:
            if rule not in wanted:
                kind = "--initiator-name" if is_name_rule(rule) else "--initiator-address"
                self.tgtadm("--op", "unbind", "--mode", "target", "--tid", tid, kind, rule)
        for rule in wanted:
            if rule not in live:
                kind = "--initiator-name" if is_name_rule(rule) else "--initiator-address"
                self.tgtadm("--op", "bind", "--mode", "target", "--tid", tid, kind, rule)
        current.backend_data["target"].acl = wanted

    def set_chap(self, current, chap, mutual_chap):
        target = current.backend_data["target"]
        for bound, credential, outgoing in ((target.accounts, chap, False), (target.outgoing_accounts, mutual_chap, True)):
            for username in list(bound):
                if credential is None or username != credential.username:
                    self._unbind_account(target.tid, username, outgoing, current.name)
            self._bind_credential(target.tid, current.name, credential, outgoing,
                                  recorded=(current.backend_data.get("record") or {}).get(
                                      "mutual_chap" if outgoing else "chap"))
        self._targets = None

    def _unbind_account(self, tid, username, outgoing, name):
        arguments = ["--op", "unbind", "--mode", "account", "--tid", tid, "--user", username]
        self.tgtadm(*(arguments + (["--outgoing"] if outgoing else [])))
        self._delete_account_if_unused(username, exclude_name=name)

    def _delete_account_if_unused(self, username, exclude_name):
        still_bound = any(username in target.accounts + target.outgoing_accounts for target in self.targets(refresh=True))
        recorded = any(recorded is not None and recorded.username == username
                       for name, record in self.read_records().items() if name != exclude_name
                       for recorded in (record.get("chap"), record.get("mutual_chap")))
        if not still_bound and not recorded:
            self.tgtadm("--op", "delete", "--mode", "account", "--user", username, allow_fail=True)

    def _bind_credential(self, tid, name, credential, outgoing, recorded=None):
        """Make credential's account exist with its secret and be bound to tid, changing only what differs."""
        if credential is None:
            return
        targets = self.targets(refresh=True)
        this = [target for target in targets if target.tid == tid][0]
        already_bound = credential.username in (this.outgoing_accounts if outgoing else this.accounts)
        known_secret = credential.same_as(recorded) or any(
            credential.same_as(other) for other_name, record in self.read_records().items() if other_name != name
            for other in (record.get("chap"), record.get("mutual_chap")))
        exists = credential.username in self.accounts()
        if exists and not known_secret:
            # The account's secret cannot be read back: set it. Deleting an account unbinds it from
            # every target, so bind it back where it was.
            holders = [(target.tid, direction) for target in targets
                       for direction, names in ((False, target.accounts), (True, target.outgoing_accounts))
                       if credential.username in names]
            self.tgtadm("--op", "delete", "--mode", "account", "--user", credential.username)
            self.control.new_account(credential.username, credential.secret)
            for holder_tid, holder_outgoing in holders:
                self._bind_account(holder_tid, credential.username, holder_outgoing)
            already_bound = (tid, outgoing) in holders
        elif not exists:
            self.control.new_account(credential.username, credential.secret)
            self._created_accounts.append(credential.username)
        if not already_bound:
            self._bind_account(tid, credential.username, outgoing)

    def _bind_account(self, tid, username, outgoing):
        self.tgtadm(*(["--op", "bind", "--mode", "account", "--tid", tid, "--user", username]
                      + (["--outgoing"] if outgoing else [])))

    def delete(self, current, force, remove_data):
        target = current.backend_data.get("target")
        if target is not None:
            arguments = ["--op", "delete", "--mode", "target", "--tid", target.tid]
            if force:
                arguments.insert(2, "--force")
            self.tgtadm(*arguments)
            for username in target.accounts + target.outgoing_accounts:
                self._delete_account_if_unused(username, exclude_name=current.name)
        if remove_data and current.path:
            try:
                os.unlink(current.path)
            except FileNotFoundError:
                pass
