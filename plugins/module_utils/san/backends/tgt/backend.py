# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The tgt backend of san_volume: the Linux SCSI target framework (tgtd), on the storage host.

One volume is one target with one data LUN backed by a file. Every change is applied live with
tgtadm's requests, sent over tgtd's control socket (control.py: the bytes tgtadm sends, without a
process per request), and persisted as one config file per volume in tgt-admin syntax (config_dir, default
/etc/tgt/conf.d, which Debian's /etc/tgt/targets.conf includes), so that tgtd's usual start
(`tgt-admin -e`) brings every volume back.

This file holds TgtBackend; the package splits the rest by concern: parser.py (tgtadm's output),
config.py (the config files), control.py (tgtd's control socket), clone.py (backing-file copies).

What tgt 1.0.85 does, and what this backend does about it (measured; see docs/san.md):
- `tgtadm --op show --mode target` is indentation-structured text: parser.parse_show_target.
- Initiator names in ACLs are compared byte for byte: only canonical lowercase IQNs are bound.
- An initiator is admitted when its address matches an address rule OR its name matches a name
  rule; a target without rules admits nobody. tgt-admin binds ALL (every address) to a target
  whose config has no initiator-address, so a volume restricted by initiator names only also gets
  the address rule NONE, which matches no address (tgt matches address rules numerically; NONE
  is not a number).
- Address rules: a /32 (or /128), a /0 and a network with host bits set never match; the naming
  core writes single hosts without a prefix and refuses the others.
- A target with no incoming account admits logins without CHAP. tgtd keeps one secret per
  account name and never shows it: the secret is compared with the one in the volume's own
  0600 config file, and changed only when it differs. tgtadm takes a password only on its
  command line, where every local user can read it (/proc/<pid>/cmdline), so accounts are
  created over tgtd's control socket instead (TgtControl), which is checked first.
- tgtd keeps a target's incoming accounts in an array and, when one is unbound, leaves its slot
  empty; logins and `show --mode target` then only look at the first N slots (N = the number of
  accounts still bound). An account behind an empty slot cannot log in, and `show --mode target`
  dereferences the empty slot and kills tgtd (seen on 1.0.85: unbind the first of two accounts,
  then show). A bind fills the first empty slot. So an account is only ever unbound from the end,
  or from the front while a temporary account (TEMP_ACCOUNT_PREFIX, holding the new secret) keeps
  CHAP required until the new account fills the slot; and `show --mode target` is never run
  while a slot is empty.
- Deleting an account unbinds it from every target; an account's secret cannot be changed in
  place, only by deleting and creating it again.
- tgt-admin passes config values to /bin/sh unquoted and reads them with Config::General, so
  CHAP names and secrets and paths are limited to characters that survive both; tgtd splits an
  account request at its first comma, so user names have no comma (config.CHAP_USERNAME_PATTERN).
- A grown backing file is picked up by taking the LUN offline and setting its path again
  (`--params online=0`, then `--params path=...`), which reopens the file and reads its size;
  logged-in initiators keep their sessions and see the new capacity on their next READ CAPACITY.

Every change a run makes is journaled with its inverse; rollback() undoes them in reverse order,
which walks back through the same states, each of which kept the old or the new protection.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.sanboot.iscsi.plugins.module_utils import locking
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    NamingError,
    normalize_iscsi_name,
    normalize_server,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.clone import clone_file
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.tgt.config import (
    CHAP_SECRET_PATTERN,
    CHAP_SECRET_RULE,
    CHAP_USERNAME_PATTERN,
    CHAP_USERNAME_RULE,
    CONFIG_PREFIX,
    CONFIG_SUFFIX,
    DEFAULT_CONFIG_DIR,
    IMAGE_FIELDS,
    NO_ADDRESS,
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
# Accounts this backend creates for a moment while a target's first incoming account changes.
TEMP_ACCOUNT_PREFIX = "sanboot-rotate-"

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

class TgtBackend(SanBackend):
    name = "tgt"
    size_granularity = SECTOR
    CONNECTION_OPTIONS = CONNECTION_OPTIONS
    VOLUME_OPTIONS = VOLUME_OPTIONS
    CHAP_USERNAME_PATTERN = CHAP_USERNAME_PATTERN
    CHAP_USERNAME_RULE = CHAP_USERNAME_RULE
    CHAP_SECRET_PATTERN = CHAP_SECRET_PATTERN
    CHAP_SECRET_RULE = CHAP_SECRET_RULE

    def __init__(self, params, run_command, warn):
        super().__init__(params, run_command, warn)
        self.control_port = params.get("tgt_control_port") or 0
        self.config_dir = params.get("config_dir") or DEFAULT_CONFIG_DIR
        self.storage_dir = params.get("storage_dir") or DEFAULT_STORAGE_DIR
        self.control = TgtControl(self.control_port)
        self._lock_fd = None
        # What this run read, kept while it holds the lock (nobody else changes the target then):
        # one target listing, one account listing and one reading of the config files serve every
        # volume of a batch. Changes this run makes update them (or drop them, to be read again).
        self._targets = None
        self._targets_by_name = None
        self._accounts = None
        self._portal = None
        self._records = None
        self._next_tid = None
        self._secrets = None
        self._holders = None
        self._unreadable = {}
        self._warned = set()
        # (what was done, how to undo it or None when it cannot be undone), in the order done.
        self._journal = []

    # -- plumbing

    def close(self):
        if self._lock_fd is not None:
            locking.release(self._lock_fd)
            self._lock_fd = None

    def lock(self):
        path = LOCK_FILE % self.control_port
        if not os.path.exists(CONTROL_SOCKET % self.control_port):
            return  # no tgtd on this control port: tgtadm will say so clearly
        try:
            self._lock_fd = locking.acquire(path, self.lock_wait, self._lock_purpose())
        except locking.LockTimeout as exc:
            raise SanError("another run has held the lock of the tgtd on control port %d (%s) for %d s: %s; nothing was "
                           "changed, run again when it is done" % (self.control_port, path, self.lock_wait, exc)) from None

    def _lock_purpose(self):
        """What this run does, for the message of a run that waits for it."""
        if self.params.get("image"):
            return "san_image, %s" % (self.params.get("root_path") or self.params.get("target_iqn") or "a volume")
        if self.params.get("volumes") is not None:
            names = [entry.get("name") for entry in self.params["volumes"]]
            return "san_volume, %d volumes (%s)" % (len(names), ", ".join(str(name) for name in names[:3])
                                                    + (", ..." if len(names) > 3 else ""))
        return "san_volume, volume '%s'" % self.params.get("name")

    def tgtadm(self, *arguments, **kwargs):
        """Send tgtd the request `tgtadm <arguments>` would send, over its control socket (control.py: the same
        bytes, no process per request); return the answer's text. Raises SanError with tgtadm's message (it
        never carries a secret); with allow_fail, returns None instead when tgtd refuses or is not there."""
        try:
            return self.control.run(*arguments)
        except SanError:
            if kwargs.get("allow_fail"):
                return None
            raise

    def targets(self, refresh=False):
        if self._targets is None or refresh:
            self._targets = parse_show_target(self.tgtadm("--op", "show", "--mode", "target"))
            self._targets_by_name = None
        return self._targets

    def target_by_name(self, target_iqn, refresh=False):
        """The live target named target_iqn, in any case (tgt keeps the name as it was given)."""
        targets = self.targets(refresh)
        if self._targets_by_name is None:
            index = {}
            for target in targets:
                try:
                    canonical = normalize_iscsi_name(target.name)
                except NamingError:
                    canonical = None
                # The exact name first, as a target named exactly so wins over one that only normalises to it.
                if canonical is not None:
                    index.setdefault(("canonical", canonical), target)
                index[("exact", target.name)] = target
            self._targets_by_name = index
        return (self._targets_by_name.get(("exact", target_iqn))
                or self._targets_by_name.get(("canonical", target_iqn)))

    def accounts(self):
        """tgtd's account names (read once; this run's own changes keep the list up to date)."""
        if self._accounts is None:
            self._accounts = parse_show_account(self.tgtadm("--op", "show", "--mode", "account"))
        return list(self._accounts)

    def config_path(self, name):
        return os.path.join(self.config_dir, CONFIG_PREFIX + name + CONFIG_SUFFIX)

    def read_records(self) -> dict:
        """name -> record, for every config file sanboot.iscsi wrote in config_dir.

        A file named like one of ours that cannot be read is remembered in self._unreadable
        (path -> why), so that get() and list() can say so instead of treating it as someone else's.
        Read once per run (while the lock is held); the files this run writes are kept up to date.
        """
        if self._records is None:
            self._records = self._read_records()
        return self._records

    def _read_records(self) -> dict:
        records = {}
        self._unreadable = {}
        if not os.path.isdir(self.config_dir):
            return records
        for entry in sorted(os.listdir(self.config_dir)):
            if not (entry.startswith(CONFIG_PREFIX) and entry.endswith(CONFIG_SUFFIX)):
                continue
            path = os.path.join(self.config_dir, entry)
            try:
                if not stat.S_ISREG(os.stat(path).st_mode):
                    self._unreadable[path] = "it is not a regular file"
                    continue
                with open(path, "rb") as stream:
                    text = stream.read().decode("utf-8")
            except OSError as exc:
                self._unreadable[path] = exc.strerror or str(exc)
                continue
            except UnicodeDecodeError as exc:
                self._unreadable[path] = "it is not UTF-8 text (byte %d)" % exc.start
                continue
            record = parse_config(text)
            if record is not None and CONFIG_PREFIX + record["name"] + CONFIG_SUFFIX == entry:
                record["file"] = path
                records[record["name"]] = record
        return records

    def default_path(self, name, storage_dir=None):
        return os.path.join(storage_dir or self.storage_dir, name + ".img")

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
            # params are the volume's own (a batch's entry may give its storage_dir).
            desired.path = params.get("path") or self.default_path(desired.name, params.get("storage_dir"))
        desired.path = os.path.normpath(desired.path)
        if not SAFE_PATH.match(desired.path):
            raise SanInputError("path: '%s' must be %s (tgt-admin reads config files with Config::General and runs "
                                "tgtadm through a shell)" % (desired.path, SAFE_PATH_RULE))
        for option in ("chap", "mutual_chap"):
            credential = getattr(desired, option) if desired.state == "present" else None
            if credential is not None and credential.username.startswith(TEMP_ACCOUNT_PREFIX):
                raise SanInputError("%s.username '%s' must not start with %s on the tgt backend: that is the prefix of "
                                    "the temporary accounts this collection makes while it changes CHAP"
                                    % (option, credential.username, TEMP_ACCOUNT_PREFIX))
        self._check_distinct_usernames(desired)

    @staticmethod
    def _check_distinct_usernames(desired):
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

    def _account_holders(self):
        """username -> [(volume name, Credential)] for every CHAP account the config files record."""
        if self._holders is None:
            holders = {}
            for name, record in sorted(self.read_records().items()):
                for credential in (record.get("chap"), record.get("mutual_chap")):
                    if credential is not None:
                        holders.setdefault(credential.username, []).append((name, credential))
            self._holders = holders
        return self._holders

    def get(self, name, desired=None):
        records = self.read_records()
        problem = self._unreadable.get(self.config_path(name))
        if problem is not None:
            raise SanError("config_dir: the config file of volume '%s', %s, cannot be read: %s; nothing was changed "
                           "(fix or remove the file)" % (name, self.config_path(name), problem))
        record = records.get(name)
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
        for path, problem in sorted(self._unreadable.items()):
            if path not in self._warned:
                self._warned.add(path)
                self.warn("config_dir: %s cannot be read (%s); the volume it describes is not listed" % (path, problem))
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
        if self._portal is None:
            self._portal = [self._read_portal()]
        return self._portal[0]

    def _read_portal(self):
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
                problem = self._unreadable.get(self.config_path(clone_from))
                if problem is not None:
                    raise SanInputError("clone_from: the config file of volume '%s', %s, cannot be read: %s"
                                        % (clone_from, self.config_path(clone_from), problem))
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
        for option in desired.kept:
            credential = getattr(desired, option)
            if credential.secret is None:
                removal = "remove_chap: true" if option == "chap" else "remove_mutual_chap: true"
                raise SanInputError("%s: left out, so %s keeps its %s account %s; but tgt never shows a secret and no "
                                    "config file of this collection records that account's, so the volume's config file "
                                    "cannot be written with it: give %s with its secret, or %s" % (
                                        option, current.describe(), "CHAP" if option == "chap" else "mutual CHAP",
                                        credential.username, option, removal))
        self._check_distinct_usernames(desired)
        # The volumes the batch's earlier items will be: one secret per account name holds among them too.
        for other in others:
            label = other.backend_data.get("batch_item")
            if label is None:
                continue
            for option, credential in (("chap", desired.chap), ("mutual_chap", desired.mutual_chap)):
                if credential is None or option in desired.kept:
                    continue
                for theirs in (other.chap, other.mutual_chap):
                    if theirs is not None and theirs.username == credential.username \
                            and theirs.secret is not None and theirs.secret != credential.secret:
                        raise SanInputError("%s.username '%s' is also the CHAP account of volume '%s' (%s) in this batch, "
                                            "with another secret; tgt keeps one secret per account name: use the same "
                                            "secret or another username" % (option, credential.username, other.name,
                                                                            label))
        live_accounts = None
        holders = self._account_holders()
        for option, credential in (("chap", desired.chap), ("mutual_chap", desired.mutual_chap)):
            if credential is None or option in desired.kept:
                continue
            recorded_anywhere = False
            for name, recorded in holders.get(credential.username, ()):
                if name == desired.name:
                    continue
                recorded_anywhere = True
                if recorded.secret != credential.secret:
                    raise SanInputError("%s.username '%s' is also the CHAP account of volume '%s', with another "
                                        "secret; tgt keeps one secret per account name: use the same secret or "
                                        "another username" % (option, credential.username, name))
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
        if current is not None and current.loaded:
            target = current.backend_data.get("target")
            live_lun = current.backend_data.get("live_lun")
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
        if current is None:
            record_differs = True
        else:
            size = desired.size_bytes if desired.size_bytes is not None else current.size_bytes
            record_differs = self._record_text(desired, size) != self._current_record_text(desired.name)
        if record_differs:
            steps.append(("write the config file %s (mode 0600)" % self.config_path(desired.name),
                          lambda: self._write_record(desired)))
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

    def _write_record(self, desired):
        """Write the volume's config file (atomically, 0600); journaled with the previous content."""
        if not os.path.isdir(self.config_dir):
            os.makedirs(self.config_dir, 0o700)
        path = self.config_path(desired.name)
        text = self._record_text(desired, exposed_size(os.stat(desired.path).st_size))
        previous = None
        if os.path.lexists(path):
            with open(path, "rb") as stream:
                previous = stream.read()
        write_private_file(path, text)
        self._record_written(desired.name, path, text)
        if previous is None:
            self._done("write the config file %s" % path, lambda: os.unlink(path))
        else:
            self._done("rewrite the config file %s" % path,
                       lambda: write_private_file(path, previous.decode("utf-8")))

    def _record_written(self, name, path, text):
        """Keep the records read this run equal to the files, without reading them all again."""
        self._secrets = self._holders = None
        if self._records is None:
            return
        record = parse_config(text) if text is not None else None
        if record is None:
            self._records.pop(name, None)
        else:
            record["file"] = path
            self._records[name] = record
        self._unreadable.pop(path, None)

    def discard_cache(self):
        self._targets = None
        self._targets_by_name = None
        self._accounts = None
        self._records = None
        self._secrets = self._holders = None

    # -- the journal: what this run changed, and how to undo it

    def _done(self, what, undo):
        """Remember a change and its inverse (None: it cannot be undone; rollback stops there)."""
        self._journal.append((what, undo))

    def commit(self, desired):
        self._journal = []

    def image_record(self, volume):
        return (self.read_records().get(volume.name) or {}).get("image")

    def record_image(self, volume, record):
        current = self.read_records().get(volume.name)
        if current is None:
            raise SanError("volume '%s' has no config file in %s to record its image in" % (volume.name, self.config_dir))
        current["image"] = {field: record[field] for field in IMAGE_FIELDS} if record else None
        text = render_config(current)
        write_private_file(self.config_path(volume.name), text)
        self._record_written(volume.name, self.config_path(volume.name), text)

    def uncommit(self, name):
        try:
            os.unlink(self.config_path(name))
        except FileNotFoundError:
            pass
        self._record_written(name, self.config_path(name), None)

    def rollback(self):
        """Undo this run's changes in reverse order; stop at one that cannot be undone or whose undo fails."""
        journal, self._journal = self._journal, []
        self.discard_cache()
        self._next_tid = None
        try:
            return self._undo(journal)
        finally:
            self.discard_cache()

    def _undo(self, journal):
        while journal:
            what, undo = journal.pop()
            if undo is None:
                return ("undoing stopped at '%s', which cannot be undone (the secret it would need is not known); the "
                        "volume keeps the protection it had at that point: run the task again" % what)
            try:
                undo()
            except (SanError, OSError) as exc:
                return ("undoing '%s' failed (%s), so undoing stopped there; the volume keeps the protection it had at "
                        "that point: run the task again" % (what, exc.strerror if isinstance(exc, OSError) else exc))
        return None

    # -- changing

    def _ensure_backing_file(self, desired):
        directory = os.path.dirname(desired.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        if not os.path.exists(desired.path):
            descriptor = os.open(desired.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            self._done("create the backing file %s" % desired.path, lambda: os.unlink(desired.path))
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
        self._done("clone %s to %s" % (source, desired.path), lambda: os.unlink(desired.path))
        return method

    def _new_target(self, target_iqn):
        """Create the target with the next free target id. The ids are read once per run and then counted
        on; when tgtd says the id is taken (someone made a target behind the lock's back) they are read again."""
        for _attempt in range(20):
            if self._next_tid is None:
                self._next_tid = max([target.tid for target in self.targets(refresh=True)] + [0]) + 1
            tid = self._next_tid
            try:
                self.tgtadm("--op", "new", "--mode", "target", "--tid", tid, "-T", target_iqn)
            except SanError as exc:
                if "already exists" not in str(exc):
                    raise
                if self.target_by_name(target_iqn, refresh=True) is not None:
                    raise SanError("target %s appeared while this run was creating it (made by another run?)"
                                   % target_iqn)
                self._next_tid = None
                continue
            self._next_tid = tid + 1
            self._done("create target %s (tid %d)" % (target_iqn, tid),
                       lambda: self.tgtadm("--op", "delete", "--force", "--mode", "target", "--tid", tid))
            return tid
        raise SanError("no free target id for %s after 20 attempts" % target_iqn)

    def _add_lun(self, tid, lun, path):
        self.tgtadm("--op", "new", "--mode", "logicalunit", "--tid", tid, "--lun", lun, "--backing-store", path)
        self._done("add LUN %s to target %s" % (lun, tid),
                   lambda: self.tgtadm("--op", "delete", "--mode", "logicalunit", "--tid", tid, "--lun", lun))

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
        """Create (or, for a recorded volume that tgtd does not serve, re-create) the volume live.

        Order: backing file, target, LUN, CHAP accounts, and the access rules last: until a target
        has rules it admits nobody, so no initiator ever logs in before CHAP is in place.
        """
        self._ensure_backing_file(desired)
        tid = self._new_target(desired.target_iqn)
        self._add_lun(tid, desired.lun, desired.path)
        self._targets = None
        record = (self.read_records().get(desired.name) or {})
        for credential, outgoing in ((desired.chap, False), (desired.mutual_chap, True)):
            if credential is None:
                continue
            live = set(self.accounts())
            reset = self._needs_reset(credential, desired.name, record.get("mutual_chap" if outgoing else "chap"), live)
            if reset:
                self._check_only_holder(credential.username, tid)
                self._replace_account(credential, live, self._old_secrets(record))
            elif credential.username not in live:
                self._new_account(credential.username, credential.secret)
            self._bind(tid, credential.username, outgoing)
        for rule in acl_rules([], desired.allowed_addresses):
            self._acl(tid, rule, bind=True)
        for name in desired.initiators:
            self._acl(tid, name, bind=True)
        self._targets = None

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

    def _acl(self, tid, rule, bind):
        kind = "--initiator-name" if is_name_rule(rule) else "--initiator-address"
        forward, backward = ("bind", "unbind") if bind else ("unbind", "bind")
        self.tgtadm("--op", forward, "--mode", "target", "--tid", tid, kind, rule)
        self._done("%s the access rule %s of target %s" % (forward, rule, tid),
                   lambda: self.tgtadm("--op", backward, "--mode", "target", "--tid", tid, kind, rule))

    def set_access(self, current, initiators, allowed_addresses):
        target = current.backend_data["target"]
        live = list(target.acl)
        wanted = acl_rules(initiators, allowed_addresses)
        # Narrow first, then widen: nobody gets in who should not, even for a moment. A target
        # left without rules in between admits nobody.
        for rule in live:
            if rule not in wanted:
                self._acl(target.tid, rule, bind=False)
        for rule in wanted:
            if rule not in live:
                self._acl(target.tid, rule, bind=True)
        self._targets = None

    # -- CHAP accounts

    def _new_account(self, username, secret):
        self.control.new_account(username, secret)
        self._account_added(username)
        self._done("create the account %s" % username,
                   lambda: self.tgtadm("--op", "delete", "--mode", "account", "--user", username))

    def _delete_account(self, username, old_secret):
        """Delete an account that is bound nowhere any more; undone by creating it again with old_secret."""
        self.tgtadm("--op", "delete", "--mode", "account", "--user", username)
        if self._accounts is not None and username in self._accounts:
            self._accounts.remove(username)
        self._done("delete the account %s" % username,
                   (lambda: self.control.new_account(username, old_secret)) if old_secret else None)

    def _account_added(self, username):
        if self._accounts is not None and username not in self._accounts:
            self._accounts.append(username)

    def _bind(self, tid, username, outgoing):
        direction = ["--outgoing"] if outgoing else []
        self.tgtadm(*(["--op", "bind", "--mode", "account", "--tid", tid, "--user", username] + direction))
        self._done("bind the account %s to target %s" % (username, tid),
                   lambda: self.tgtadm(*(["--op", "unbind", "--mode", "account", "--tid", tid, "--user", username]
                                         + direction)))

    def _unbind(self, tid, username, outgoing):
        direction = ["--outgoing"] if outgoing else []
        self.tgtadm(*(["--op", "unbind", "--mode", "account", "--tid", tid, "--user", username] + direction))
        self._done("unbind the account %s from target %s" % (username, tid),
                   lambda: self.tgtadm(*(["--op", "bind", "--mode", "account", "--tid", tid, "--user", username]
                                         + direction)))

    def _old_secrets(self, record):
        """username -> secret, as far as the config files tell (to create a deleted account again)."""
        secrets = dict(self._recorded_secrets())
        for credential in (record.get("chap"), record.get("mutual_chap")):
            if credential is not None and credential.secret:
                secrets[credential.username] = credential.secret
        return secrets

    def _needs_reset(self, credential, name, recorded, live):
        """True when the account exists in tgtd but may hold another secret: it must be made again."""
        if credential.username not in live:
            return False
        return not (credential.same_as(recorded) or any(
            credential.same_as(other) for other_name, record in self.read_records().items() if other_name != name
            for other in (record.get("chap"), record.get("mutual_chap"))))

    def _check_only_holder(self, username, tid):
        """An account is made again only when no other target uses it (deleting it unbinds it everywhere)."""
        others = sorted({target.name for target in self.targets(refresh=True) if target.tid != tid
                         and username in target.accounts + target.outgoing_accounts})
        if others:
            raise SanError("the CHAP account %s must be made again to set its secret, but %s use it too; deleting it "
                           "would unbind it from them: use another username" % (username, ", ".join(others)))

    def _replace_account(self, credential, live, old_secrets):
        """Delete (when it exists) and create the account with the credential's secret."""
        if credential.username in live:
            self._delete_account(credential.username, old_secrets.get(credential.username))
        self._new_account(credential.username, credential.secret)

    def set_chap(self, current, chap, mutual_chap):
        """Change the target's accounts so that the old or the new credentials always work and CHAP
        stays required while either wants it (see the module docstring for tgt's account slots)."""
        tid = current.backend_data["target"].tid
        record = current.backend_data.get("record") or {}
        old_secrets = self._old_secrets(record)
        if current.chap is not None and current.chap.secret:
            old_secrets.setdefault(current.chap.username, current.chap.secret)
        if current.mutual_chap is not None and current.mutual_chap.secret:
            old_secrets.setdefault(current.mutual_chap.username, current.mutual_chap.secret)
        # The control socket must answer as tgt does before anything changes.
        if chap is not None or mutual_chap is not None:
            self.control.check()
        removed = []
        # Removing CHAP: mutual CHAP (which needs CHAP) goes first; otherwise CHAP is set first.
        phases = (("outgoing", mutual_chap), ("incoming", chap)) if chap is None else \
            (("incoming", chap), ("outgoing", mutual_chap))
        for direction, credential in phases:
            # Read before each phase: between phases no slot is empty, so show is safe.
            target = [target for target in self.targets(refresh=True) if target.tid == tid][0]
            live = set(self.accounts())
            outgoing = direction == "outgoing"
            recorded = record.get("mutual_chap" if outgoing else "chap")
            reset = credential is not None and self._needs_reset(credential, current.name, recorded, live)
            if reset:
                self._check_only_holder(credential.username, tid)
            if outgoing:
                removed += self._set_outgoing(tid, list(target.outgoing_accounts), credential, reset, live, old_secrets)
            else:
                removed += self._set_incoming(tid, list(target.accounts), credential, reset, live, old_secrets)
        self._targets = None
        self._delete_unused(removed, current.name, old_secrets)

    def _set_incoming(self, tid, bound, want, reset, live, old_secrets):
        """Make want (or nothing) the incoming account of tid; bound lists them in tgt's slot order.
        Returns the account names it unbound."""
        if want is None:
            for username in reversed(bound):  # from the last slot: no slot is ever left empty
                self._unbind(tid, username, outgoing=False)
            return list(bound)
        if not reset and bound[:1] == [want.username]:
            for username in reversed(bound[1:]):
                self._unbind(tid, username, outgoing=False)
            return list(bound[1:])
        if not bound:
            if reset:
                self._replace_account(want, live, old_secrets)
            elif want.username not in live:
                self._new_account(want.username, want.secret)
            self._bind(tid, want.username, outgoing=False)
            return []
        # The first slot changes: a temporary account (the new secret) keeps CHAP required while the
        # old accounts leave their slots and the new one fills the first.
        if not reset and want.username not in live:
            self._new_account(want.username, want.secret)
        temporary = TEMP_ACCOUNT_PREFIX + os.urandom(4).hex()
        self._new_account(temporary, want.secret)
        self._bind(tid, temporary, outgoing=False)
        for username in bound:
            self._unbind(tid, username, outgoing=False)
        if reset:
            self._replace_account(want, live, old_secrets)
        self._bind(tid, want.username, outgoing=False)
        self._unbind(tid, temporary, outgoing=False)
        self._delete_account(temporary, want.secret)
        return [username for username in bound if username != want.username]

    def _set_outgoing(self, tid, bound, want, reset, live, old_secrets):
        """Make want (or nothing) the outgoing account of tid (tgt has one). Returns the names unbound."""
        if want is None:
            for username in bound:
                self._unbind(tid, username, outgoing=True)
            return list(bound)
        if not reset and bound == [want.username]:
            return []
        if not reset and want.username not in live:
            self._new_account(want.username, want.secret)
        for username in bound:
            self._unbind(tid, username, outgoing=True)
        if reset:
            self._replace_account(want, live, old_secrets)
        self._bind(tid, want.username, outgoing=True)
        return [username for username in bound if username != want.username]

    def _delete_unused(self, usernames, name, old_secrets):
        """Delete the accounts no target uses and no other volume records (ours only: never a stranger's)."""
        targets = self.targets(refresh=True)
        for username in sorted(set(usernames)):
            if self._account_used(username, name, targets):
                continue
            self._delete_account(username, old_secrets.get(username))

    def _account_used(self, username, exclude_name, targets):
        if any(username in target.accounts + target.outgoing_accounts for target in targets):
            return True
        return any(recorded is not None and recorded.username == username
                   for name, record in self.read_records().items() if name != exclude_name
                   for recorded in (record.get("chap"), record.get("mutual_chap")))

    def delete(self, current, force, remove_data):
        target = current.backend_data.get("target")
        if target is not None:
            arguments = ["--op", "delete", "--mode", "target", "--tid", target.tid]
            if force:
                arguments.insert(2, "--force")
            self.tgtadm(*arguments)
            # The listing this run read, without the target just deleted (the lock keeps others out).
            self._targets = [other for other in self.targets() if other.tid != target.tid]
            self._targets_by_name = None
            targets = self._targets
            for username in target.accounts + target.outgoing_accounts:
                if not self._account_used(username, current.name, targets):
                    self.tgtadm("--op", "delete", "--mode", "account", "--user", username, allow_fail=True)
                    if self._accounts is not None and username in self._accounts:
                        self._accounts.remove(username)
        if remove_data and current.path:
            try:
                os.unlink(current.path)
            except FileNotFoundError:
                pass
