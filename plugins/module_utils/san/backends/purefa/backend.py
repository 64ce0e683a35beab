# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The purefa backend of san_volume: a Pure Storage FlashArray, over its REST 2.x API.

How a boot volume maps onto the array (docs/san.md, "Pure FlashArray"):
- the volume is an array volume of the same name (`provisioned` bytes, a multiple of 512), marked
  as managed by a tag (namespace `sanboot-iscsi`, key `volume`, not copyable, so clones do not
  inherit it);
- its server is an array host carrying the initiator IQNs (lowercase) and the CHAP credentials
  (`host_user`/`host_password` for one-way CHAP, `target_user`/`target_password` for mutual CHAP).
  The array registers an IQN on one host only, so one host serves all the volumes of a server
  (a boot LUN and data LUNs); a new host is named after the first volume made for it;
- a connection joins the two with the boot LUN (1-4095);
- the target IQN and the portal are the array's (its iSCSI ports, GET /ports): one IQN for the
  whole array, the LUN tells apart the volumes a host sees. The root path is built from them.

The array never returns CHAP passwords. To keep CHAP idempotent, the host carries, in tags of the
collection's namespace, a salted PBKDF2 hash of each secret (keys `chap` and `mutual-chap`) and
the mark `managed`. A wanted secret whose hash matches is "the same"; a mismatch or a missing tag
is "changed". CHAP belongs to the host: changing it for one volume changes it for every volume of
that server (the run warns, naming them).

A host the array already has with the volume's initiator IQNs (under any name) is adopted when it
is safe: it registers no IQN the volume does not ask for, and it is connected to no volume this
collection does not manage. Otherwise the run is refused, naming the host and the reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    NamingError,
    normalize_iscsi_name,
    parse_portal,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import (
    Credential,
    SanBackend,
    SanError,
    SanInputError,
    Volume,
)
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.backends.purefa.client import (
    PureClient,
    PureError,
)

SECTOR = 512
LUN_MAX = 4095
TAG_NAMESPACE = "sanboot-iscsi"
TAG_VOLUME = "volume"
TAG_MANAGED = "managed"
TAG_CHAP = "chap"
TAG_MUTUAL_CHAP = "mutual-chap"
HASH_SCHEME = "pbkdf2-sha256"
HASH_ITERATIONS = 100000
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
NAME_RULE = "1 to 63 letters, digits and '-', beginning and ending with a letter or digit, not only digits"
# What this backend passes to the array as a CHAP user name or secret: visible ASCII, no spaces
# (the array stores them as strings; the Microsoft initiator types them).
SAFE_CREDENTIAL = re.compile(r"^[\x21-\x7e]+$")
SAFE_CREDENTIAL_RULE = "visible ASCII characters (no spaces)"
CLONE_METHOD = "array copy"

CONNECTION_OPTIONS = {
    "api_url": {"type": "str"},
    "api_token": {"type": "str", "no_log": True},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "timeout": {"type": "int", "default": 30},
}


# --- the CHAP hash tag ---------------------------------------------------------------------------

def _b64(data):
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text):
    return base64.b64decode(text + "=" * (-len(text) % 4))


def chap_hash(username, secret, salt=None, iterations=HASH_ITERATIONS) -> str:
    """The tag value for a CHAP credential: pbkdf2-sha256$<iterations>$<salt>$<hash>, salted per value."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", ("%s\0%s" % (username, secret)).encode("utf-8"), salt, iterations)
    return "%s$%d$%s$%s" % (HASH_SCHEME, iterations, _b64(salt), _b64(digest))


def chap_hash_matches(value, username, secret) -> bool:
    """Whether the tag value is the hash of this username and secret (False for anything malformed)."""
    try:
        scheme, iterations, salt, digest = str(value).split("$")
        if scheme != HASH_SCHEME or not 1000 <= int(iterations) <= 10000000:
            return False
        expected = chap_hash(username, secret, _unb64(salt), int(iterations)).rsplit("$", 1)[1]
        return hmac.compare_digest(expected, digest)
    except (ValueError, TypeError):
        return False


def _kept(credential):
    """A credential the volume keeps as it is (its option left out): its secret is not known here."""
    return credential is not None and not isinstance(credential.secret, str)


class _OtherSecret:
    """Stands for a secret known to differ from the wanted one (its hash is on the array and does not match):
    equal to nothing, so the core reports "changed" rather than "cannot be read back"."""

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return True

    __hash__ = None

    def __repr__(self):
        return "<another secret>"


OTHER_SECRET = _OtherSecret()


# --- the backend ---------------------------------------------------------------------------------

class PureFlashArrayBackend(SanBackend):
    name = "purefa"
    size_granularity = SECTOR
    # One target IQN for the whole array: volumes are told apart by host and LUN, not by target.
    target_per_volume = False
    CONNECTION_OPTIONS = CONNECTION_OPTIONS
    VOLUME_OPTIONS = {}
    # What the array's CHAP fields carry (the core checks these before anything is read or changed).
    CHAP_USERNAME_PATTERN = SAFE_CREDENTIAL
    CHAP_USERNAME_RULE = SAFE_CREDENTIAL_RULE
    CHAP_SECRET_PATTERN = SAFE_CREDENTIAL
    CHAP_SECRET_RULE = SAFE_CREDENTIAL_RULE

    def __init__(self, params, run_command, warn):
        super().__init__(params, run_command, warn)
        self._client = None
        self._cache = {}
        self._adopt = None
        self._journal = []  # (what was done, how to undo it or None), for rollback

    def __repr__(self):
        return "PureFlashArrayBackend(%r)" % (self._client,)

    # -- plumbing

    @property
    def client(self):
        if self._client is None:
            self._client = PureClient(self.params.get("api_url"), self.params.get("api_token"),
                                      validate_certs=self.params.get("validate_certs", True) is not False,
                                      ca_path=self.params.get("ca_path"), timeout=self.params.get("timeout") or 30)
        return self._client

    def close(self):
        if self._client is not None:
            self._client.logout()

    def discard_cache(self):
        self._cache = {}

    def _cached(self, key, read):
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def _hosts(self):
        return self._cached("hosts", lambda: {host["name"]: host for host in self.client.items("/hosts")})

    def _tags(self, kind):
        """resource name -> {key: value} of the collection's tag namespace, for kind "hosts" or "volumes"."""
        def read():
            tags = {}
            for tag in self.client.items("/%s/tags" % kind, {"namespaces": [TAG_NAMESPACE]}):
                tags.setdefault(tag["resource"]["name"], {})[tag["key"]] = tag.get("value", "")
            return tags
        return self._cached(("tags", kind), read)

    def _volume_item(self, name):
        def read():
            items = self.client.items("/volumes", {"names": [name]}, missing_ok=True)
            return items[0] if items else None
        return self._cached(("volume", name), read)

    def _connections(self, host_name=None, volume_name=None):
        params = {"host_names": [host_name]} if host_name else {"volume_names": [volume_name]}
        return self._cached(("connections", host_name, volume_name),
                            lambda: self.client.items("/connections", params, missing_ok=True))

    def _ports(self):
        return self._cached("ports", lambda: [port for port in self.client.items("/ports") if port.get("iqn")])

    def _sessions(self):
        return self._cached("sessions", lambda: self.client.items("/ports/initiators"))

    def array_target_iqn(self):
        ports = self._ports()
        if not ports:
            raise SanError("the FlashArray at %s has no iSCSI port (GET /ports lists none with an IQN)" % self.client.where)
        return normalize_iscsi_name(sorted(ports, key=lambda port: port["name"])[0]["iqn"])

    def managed_volumes(self):
        return sorted(name for name, tags in self._tags("volumes").items() if tags.get(TAG_VOLUME) == name)

    def _host_of_iqn(self, iqn):
        for host in self._hosts().values():
            if iqn in (known.lower() for known in host.get("iqns") or []):
                return host
        return None

    def _host_volumes(self, host_name, but=None):
        """(managed, unmanaged) names of the volumes connected to a host, without `but`."""
        managed = set(self.managed_volumes())
        names = sorted(c["volume"]["name"] for c in self._connections(host_name=host_name) if c["volume"]["name"] != but)
        return [name for name in names if name in managed], [name for name in names if name not in managed]

    # -- input rules only the array has

    def validate(self, desired, params):
        url = params.get("api_url")
        if not url:
            raise SanInputError("api_url is required with backend purefa: the array's management address, "
                                "https://<array>")
        if not re.match(r"^https://[^/\s]+/?$", str(url)):
            raise SanInputError("api_url: '%s' must be https://<array address>[:port] (the API token must not travel in "
                                "clear text)" % re.sub(r"//[^/@]*@", "//", str(url)))
        if not params.get("api_token"):
            raise SanInputError("api_token is required with backend purefa: an API token of an array user allowed to "
                                "manage volumes and hosts (pureadmin create --api-token)")
        timeout = params.get("timeout")
        if timeout is not None and not 1 <= timeout <= 3600:
            raise SanInputError("timeout: %s is out of range: 1 to 3600 seconds" % timeout)
        if params.get("ca_path") and not os.path.isfile(params["ca_path"]):
            raise SanInputError("ca_path: %s is not a file (a PEM file of the CA that signed the array's certificate)"
                                % params["ca_path"])
        if desired is None:
            return
        if not NAME.match(desired.name) or desired.name.isdigit():
            raise SanInputError("name: '%s' is not a FlashArray volume name: %s (the array's rule for volumes and "
                                "hosts)" % (desired.name, NAME_RULE))
        if desired.state != "present":
            return
        if params.get("target_prefix"):
            raise SanInputError("target_prefix: the purefa backend does not name targets: the array has one target IQN "
                                "(its iSCSI ports') and the LUN tells volumes apart; omit target_prefix")
        if params.get("path"):
            raise SanInputError("path: the purefa backend has no backing files (the volume lives on the array); omit path")
        if desired.allowed_addresses:
            raise SanInputError("allowed_addresses: a FlashArray admits hosts by initiator IQN (and CHAP), it has no "
                                "address rules; use initiators")
        if not 1 <= desired.lun <= LUN_MAX:
            raise SanInputError("lun: LUN %d is out of range for a FlashArray: it must be 1 to %d" % (desired.lun, LUN_MAX))
        if desired.clone_from is not None and desired.clone_from.startswith("/"):
            raise SanInputError("clone_from: the purefa backend copies a volume or snapshot on the array, not an image "
                                "file: give its name")

    # -- reading

    def _credential(self, user, tag, wanted):
        if not user:
            return None
        secret = None
        if wanted is not None and wanted.username == user and tag and not _kept(wanted):
            secret = wanted.secret if chap_hash_matches(tag, user, wanted.secret) else OTHER_SECRET
        return Credential(user, secret)

    def _volume(self, name, host, item, desired=None):
        tags = self._tags("hosts").get(host["name"], {}) if host else {}
        chap = (host or {}).get("chap") or {}
        connection = None
        if host is not None:
            connection = next((c for c in self._connections(host_name=host["name"]) if c["volume"]["name"] == name), None)
        iqns = []
        for iqn in (host or {}).get("iqns") or []:
            try:
                iqns.append(normalize_iscsi_name(iqn))
            except NamingError:
                iqns.append(iqn.lower())
        sessions = []
        if connection is not None:
            sessions = [{"initiator": entry["initiator"]["iqn"],
                         "address": (entry["initiator"].get("portal") or "").rsplit(":", 1)[0] or None}
                        for entry in self._sessions()
                        if (entry.get("initiator") or {}).get("iqn", "").lower() in iqns]
        return Volume(name, self.array_target_iqn(), connection["lun"] if connection else None, None,
                      item["provisioned"] if item else None, iqns, (),
                      self._credential(chap.get("host_user"), tags.get(TAG_CHAP), desired and desired.chap),
                      self._credential(chap.get("target_user"), tags.get(TAG_MUTUAL_CHAP), desired and desired.mutual_chap),
                      sessions=sessions, loaded=connection is not None, managed=True,
                      backend_data={"host": host, "item": item, "connection": connection})

    def get(self, name, desired=None):
        item = self._volume_item(name)
        if item is None or item.get("destroyed"):
            return None  # nothing, or destroyed and pending eradication: check_conflicts says so
        hosts = sorted({c["host"]["name"] for c in self._connections(volume_name=name)})
        if name in self.managed_volumes():
            if len(hosts) > 1:
                raise SanError("volume '%s' is connected to several hosts on the array (%s); sanboot.iscsi gives a volume "
                               "to one server: disconnect the others" % (name, ", ".join(hosts)))
            return self._volume(name, self._hosts().get(hosts[0]) if hosts else None, item, desired)
        if hosts or desired is None or desired.state != "present":
            return None  # someone else's volume in use (check_conflicts says so), or data kept by state=absent
        # A volume of this name with no connection (its data kept by state=absent, or made by hand):
        # it becomes this volume's data, as tgt takes an existing backing file. Not served yet.
        return self._volume(name, None, item, desired)

    def list(self, include_unmanaged=False):
        volumes = []
        for name in self.managed_volumes():
            volume = self.get(name)
            if volume is not None:
                volumes.append(volume)
        return volumes

    def portal(self):
        ports = sorted(self._ports(), key=lambda port: port["name"])
        for port in ports:
            if port.get("portal"):
                try:
                    return parse_portal(port["portal"])
                except NamingError:
                    continue
        return None

    def find_clone_source(self, clone_from):
        if "." in clone_from:
            items = self.client.items("/volume-snapshots", {"names": [clone_from]}, missing_ok=True)
            kind = "snapshot"
        else:
            items = self.client.items("/volumes", {"names": [clone_from]}, missing_ok=True)
            kind = "volume"
        if not items or items[0].get("destroyed"):
            raise SanInputError("clone_from: there is no %s '%s' on the array to copy; give the name of a volume or of a "
                                "snapshot (volume.suffix)" % (kind, clone_from))
        return "%s '%s'" % (kind, clone_from), items[0]["provisioned"]

    # -- conflicts

    def check_conflicts(self, desired, current, others):
        self._adopt = None
        array_iqn = self.array_target_iqn()
        requested = self.params.get("target_iqn")
        if requested:
            try:
                requested = normalize_iscsi_name(requested)
            except NamingError:
                pass
            if requested != array_iqn:
                raise SanInputError("target_iqn: %s is not the array's target IQN, %s: a FlashArray has one target IQN "
                                    "for all volumes; omit target_iqn" % (requested, array_iqn))
        desired.target_iqn = array_iqn
        own = current.backend_data.get("host") if current is not None else None
        if current is None:
            item = self._volume_item(desired.name)
            if item is not None and item.get("destroyed"):
                raise SanInputError("name: volume '%s' was destroyed and is pending eradication on the array; recover it "
                                    "or eradicate it before creating it again" % desired.name)
            if item is not None:
                hosts = sorted({c["host"]["name"] for c in self._connections(volume_name=desired.name)})
                raise SanInputError("name: the array has a volume '%s' connected to host(s) %s, which sanboot.iscsi does "
                                    "not manage; it does not take over a volume in use" % (desired.name, ", ".join(hosts)))
        elif desired.clone_from is not None and desired.name not in self.managed_volumes():
            raise SanInputError("clone_from: volume '%s' already exists on the array (its data was kept); clone_from "
                                "never overwrites existing data" % desired.name)
        found = sorted({host["name"] for host in (self._host_of_iqn(iqn) for iqn in desired.initiators) if host})
        if own is not None:
            strangers = [name for name in found if name != own["name"]]
            if strangers:
                raise SanInputError("initiators: %s registered to host(s) %s on the array, and a FlashArray registers an "
                                    "IQN on one host only: remove them there first"
                                    % (", ".join(iqn for iqn in desired.initiators
                                                 if (self._host_of_iqn(iqn) or {}).get("name") in strangers),
                                       ", ".join(strangers)))
            host = own
        elif len(found) > 1:
            raise SanInputError("initiators: the array registers them on different hosts (%s); a volume's initiators must "
                                "be one host: merge them on the array, or list the IQNs of one host" % ", ".join(found))
        elif found:
            host = self._adopt = self._adoptable(desired, self._hosts()[found[0]])
        else:
            host = None
            same_name = self._hosts().get(desired.name)
            if same_name is not None:
                raise SanInputError("name: the array has a host '%s' that registers other IQNs (%s); a new host for these "
                                    "initiators would need its name: rename that host, or give this volume another name"
                                    % (desired.name, ", ".join(same_name.get("iqns") or []) or "none"))
        if host is not None:
            for connection in self._connections(host_name=host["name"]):
                if connection["volume"]["name"] != desired.name and connection["lun"] == desired.lun:
                    raise SanInputError("lun: host '%s' already sees volume '%s' as LUN %d; give this volume another lun"
                                        % (host["name"], connection["volume"]["name"], desired.lun))
            shared, _unmanaged = self._host_volumes(host["name"], but=desired.name)
            chap_now = host.get("chap") or {}
            remove_chap = getattr(desired, "remove_chap", False)
            remove_mutual_chap = remove_chap or getattr(desired, "remove_mutual_chap", False)
            if current is None:
                # A new volume on a host the array has: left out, CHAP stays as the host has it.
                if desired.chap is None and chap_now.get("host_user") and not remove_chap:
                    desired.chap = Credential(chap_now["host_user"])
                    getattr(desired, "kept", []).append("chap")
                if desired.mutual_chap is None and chap_now.get("target_user") and not remove_mutual_chap \
                        and desired.chap is not None:
                    desired.mutual_chap = Credential(chap_now["target_user"])
                    getattr(desired, "kept", []).append("mutual_chap")
            for option, key, wanted, removed in (("chap", "host_user", desired.chap, remove_chap),
                                                 ("mutual_chap", "target_user", desired.mutual_chap, remove_mutual_chap)):
                if shared and chap_now.get(key) and wanted is None and removed:
                    self.warn("remove_%s: host '%s' on the array also serves %s: a FlashArray keeps CHAP per host, so "
                              "it is removed from them too" % (option, host["name"],
                                                               ", ".join("volume '%s'" % name for name in shared)))
                elif shared and chap_now.get(key) and wanted is None:
                    # CHAP is the host's: leaving it out here would take it from the server's other volumes too.
                    raise SanInputError("%s: host '%s' on the array also serves %s, which use%s %s user %s; a FlashArray "
                                        "keeps CHAP per host, so removing it here would remove it from them too: give "
                                        "the same %s" % (option, host["name"],
                                                         ", ".join("volume '%s'" % name for name in shared),
                                                         "s" if len(shared) == 1 else "",
                                                         "CHAP" if option == "chap" else "mutual CHAP",
                                                         chap_now[key], option))
            if shared and current is not None:
                changes = []
                if sorted(current.initiators) != sorted(desired.initiators):
                    changes.append("initiators")
                if any(self._chap_differs(have, want) for have, want in ((current.chap, desired.chap),
                                                                         (current.mutual_chap, desired.mutual_chap))):
                    changes.append("CHAP")
                if changes:
                    self.warn("%s of volume '%s' belong to host '%s' on the array, which also serves %s: the change "
                              "applies to them too" % (" and ".join(changes), desired.name, host["name"],
                                                       ", ".join("volume '%s'" % name for name in shared)))

    @staticmethod
    def _chap_differs(have, want):
        if want is None:
            return have is not None
        if _kept(want):
            return have is None or have.username != want.username
        return not want.same_as(have)

    def _adoptable(self, desired, host):
        """The existing host to use for this volume, or SanInputError saying why it cannot be."""
        name = host["name"]
        extra = sorted(iqn for iqn in (known.lower() for known in host.get("iqns") or []) if iqn not in desired.initiators)
        if extra:
            raise SanInputError("initiators: host '%s' on the array registers %s too; a volume's initiators are all the "
                                "IQNs of its host: add them to initiators, or remove them on the array"
                                % (name, ", ".join(extra)))
        _managed, unmanaged = self._host_volumes(name, but=desired.name)
        if unmanaged:
            raise SanInputError("initiators: host '%s' on the array, which registers %s, is connected to volumes that "
                                "sanboot.iscsi does not manage (%s); it adopts a host only when that cannot change their "
                                "access" % (name, ", ".join(host.get("iqns") or []), ", ".join(unmanaged)))
        if TAG_MANAGED not in self._tags("hosts").get(name, {}):
            self.warn("host '%s' on the array already registers %s: volume '%s' adopts it (its CHAP settings and tags "
                      "are set by this run)" % (name, ", ".join(host.get("iqns") or []), desired.name))
        return host

    # -- changing

    def _chap_body(self, chap, mutual_chap, current=None):
        """The host's chap object: empty strings clear what is set and not wanted."""
        body = {}
        now = (current or {}).get("chap") or {}
        if _kept(chap):
            pass  # as it is on the host
        elif chap is not None:
            body.update(host_user=chap.username, host_password=chap.secret)
        elif now.get("host_user"):
            body.update(host_user="", host_password="")
        if _kept(mutual_chap):
            pass
        elif mutual_chap is not None:
            body.update(target_user=mutual_chap.username, target_password=mutual_chap.secret)
        elif now.get("target_user"):
            body.update(target_user="", target_password="")
        return body

    @staticmethod
    def _host_tags(chap, mutual_chap):
        tags = [{"namespace": TAG_NAMESPACE, "key": TAG_MANAGED, "value": "true"}]
        if chap is not None and not _kept(chap):
            tags.append({"namespace": TAG_NAMESPACE, "key": TAG_CHAP, "value": chap_hash(chap.username, chap.secret)})
        if mutual_chap is not None and not _kept(mutual_chap):
            tags.append({"namespace": TAG_NAMESPACE, "key": TAG_MUTUAL_CHAP,
                         "value": chap_hash(mutual_chap.username, mutual_chap.secret)})
        return tags

    @staticmethod
    def _volume_tags(name):
        # Not copyable: a copy of this volume is another volume, with its own tag.
        return [{"namespace": TAG_NAMESPACE, "key": TAG_VOLUME, "value": name, "copyable": False}]

    def _write_host_tags(self, host_name, chap, mutual_chap):
        self.client.request("PUT", "/hosts/tags/batch", params={"resource_names": [host_name]},
                            body=self._host_tags(chap, mutual_chap))
        stale = [key for key, credential in ((TAG_CHAP, chap), (TAG_MUTUAL_CHAP, mutual_chap)) if credential is None
                 and key in self._tags("hosts").get(host_name, {})]
        if stale:
            self.client.request("DELETE", "/hosts/tags", params={"resource_names": [host_name], "keys": stale,
                                                                 "namespaces": [TAG_NAMESPACE]})

    def _undo_new_volume(self, name):
        self.client.request("PATCH", "/volumes", params={"names": [name]}, body={"destroyed": True})
        self.client.request("DELETE", "/volumes", params={"names": [name]})

    def _done(self, what, undo):
        self._journal.append((what, undo))

    def clone(self, clone_from, desired):
        self.client.request("POST", "/volumes", params={"names": [desired.name]},
                            body={"source": {"name": clone_from}, "tags": self._volume_tags(desired.name)})
        self._done("copy %s to volume %s" % (clone_from, desired.name), lambda: self._undo_new_volume(desired.name))
        self._cache.pop(("volume", desired.name), None)
        return CLONE_METHOD

    def create(self, desired):
        """Volume (unless cloned or kept), then the host with its CHAP, then the connection: nothing is reachable
        before its host has the CHAP it asks for."""
        item = self._volume_item(desired.name)
        if item is None:
            self.client.request("POST", "/volumes", params={"names": [desired.name]},
                                body={"provisioned": desired.size_bytes, "tags": self._volume_tags(desired.name)})
            self._done("create volume %s" % desired.name, lambda: self._undo_new_volume(desired.name))
        else:
            if desired.name not in self.managed_volumes():
                self.client.request("PUT", "/volumes/tags/batch", params={"resource_names": [desired.name]},
                                    body=self._volume_tags(desired.name))
                self._done("tag volume %s" % desired.name, lambda: self.client.request(
                    "DELETE", "/volumes/tags", params={"resource_names": [desired.name], "keys": [TAG_VOLUME],
                                                       "namespaces": [TAG_NAMESPACE]}))
            if desired.size_bytes is not None and desired.size_bytes > item["provisioned"]:
                self.client.request("PATCH", "/volumes", params={"names": [desired.name]},
                                    body={"provisioned": desired.size_bytes})
                self._done("grow volume %s" % desired.name, None)
        host = self._adopt
        if host is None:
            body = {"iqns": list(desired.initiators), "tags": self._host_tags(desired.chap, desired.mutual_chap)}
            chap = self._chap_body(desired.chap, desired.mutual_chap)
            if chap:
                body["chap"] = chap
            self.client.request("POST", "/hosts", params={"names": [desired.name]}, body=body)
            self._done("create host %s" % desired.name, lambda: self.client.request(
                "DELETE", "/hosts", params={"names": [desired.name]}))
            host_name = desired.name
        else:
            host_name = host["name"]
            # CHAP first, then the IQNs: an adopted host is never reachable with less than it asks for.
            chap = self._chap_body(desired.chap, desired.mutual_chap, host)
            current = self._volume(desired.name, host, item, desired)
            if chap and (self._chap_differs(current.chap, desired.chap)
                         or self._chap_differs(current.mutual_chap, desired.mutual_chap)):
                self.client.request("PATCH", "/hosts", params={"names": [host_name]}, body={"chap": chap})
                self._done("set the CHAP of host %s" % host_name, None)
                self._write_host_tags(host_name, desired.chap, desired.mutual_chap)
            elif TAG_MANAGED not in self._tags("hosts").get(host_name, {}):
                self._write_host_tags(host_name, desired.chap, desired.mutual_chap)
            if sorted(iqn.lower() for iqn in host.get("iqns") or []) != sorted(desired.initiators):
                self._patch_iqns(host, desired.initiators)
        self.client.request("POST", "/connections", params={"host_names": [host_name], "volume_names": [desired.name]},
                            body={"lun": desired.lun})
        self._done("connect volume %s to host %s" % (desired.name, host_name), lambda: self.client.request(
            "DELETE", "/connections", params={"host_names": [host_name], "volume_names": [desired.name]}))
        self.discard_cache()

    def grow(self, current, size_bytes):
        if current.size_bytes is not None and size_bytes <= current.size_bytes:
            raise SanError("refusing to change %s from %s to %s bytes: volumes only grow"
                           % (current.describe(), current.size_bytes, size_bytes))
        self.client.request("PATCH", "/volumes", params={"names": [current.name]}, body={"provisioned": size_bytes})
        self._done("grow %s" % current.describe(), None)  # never undone: that would shrink it
        current.size_bytes = size_bytes
        self._cache.pop(("volume", current.name), None)

    def set_access(self, current, initiators, allowed_addresses):
        host = current.backend_data.get("host")
        if host is None:
            return  # not served yet: create() sets the host
        self._patch_iqns(host, initiators)

    def _patch_iqns(self, host, initiators):
        # One PATCH replaces the IQN list: the array applies it at once, no moment with both or neither.
        before = list(host.get("iqns") or [])
        self.client.request("PATCH", "/hosts", params={"names": [host["name"]]}, body={"iqns": list(initiators)})
        self._done("set the IQNs of host %s" % host["name"], lambda: self.client.request(
            "PATCH", "/hosts", params={"names": [host["name"]]}, body={"iqns": before}))

    def set_chap(self, current, chap, mutual_chap):
        host = current.backend_data.get("host")
        if host is None:
            return
        body = self._chap_body(chap, mutual_chap, host)
        if body:
            self.client.request("PATCH", "/hosts", params={"names": [host["name"]]}, body={"chap": body})
            # The array never returns the old secrets: this change cannot be undone (it is atomic, though).
            self._done("set the CHAP of host %s" % host["name"], None)
        # The hashes after the change: a failure here leaves a tag that does not match, and the next run sets CHAP again.
        self._write_host_tags(host["name"], chap, mutual_chap)

    def delete(self, current, force, remove_data):
        host = current.backend_data.get("host")
        if host is not None:
            if current.backend_data.get("connection") is not None:
                self.client.request("DELETE", "/connections", params={"host_names": [host["name"]],
                                                                      "volume_names": [current.name]})
            managed, unmanaged = self._host_volumes(host["name"], but=current.name)
            if not managed and not unmanaged and TAG_MANAGED in self._tags("hosts").get(host["name"], {}):
                self.client.request("DELETE", "/hosts", params={"names": [host["name"]]})
        if remove_data:
            # Destroyed, not eradicated: the array keeps it recoverable for its eradication delay.
            self.client.request("PATCH", "/volumes", params={"names": [current.name]}, body={"destroyed": True})
        else:
            # The data stays, no longer managed: a later creation of the same name takes it back.
            self.client.request("DELETE", "/volumes/tags", params={"resource_names": [current.name], "keys": [TAG_VOLUME],
                                                                   "namespaces": [TAG_NAMESPACE]})
        self.discard_cache()

    def commit(self, desired):
        self._journal = []

    def rollback(self):
        """Undo this run's changes in reverse order; stop at one that cannot be undone (a CHAP change: the array
        never returns the old secret; a growth: undoing it would shrink the volume) or whose undo fails."""
        journal, self._journal = self._journal, []
        try:
            while journal:
                what, undo = journal.pop()
                if undo is None:
                    return ("undoing stopped at '%s', which cannot be undone (the array never returns an old CHAP secret, "
                            "and a volume is never shrunk); the volume keeps the protection it had at that point: run "
                            "the task again" % what)
                try:
                    undo()
                except PureError as exc:
                    return ("undoing '%s' failed (%s), so undoing stopped there; the volume keeps the protection it had "
                            "at that point: run the task again" % (what, exc))
            return None
        finally:
            self.discard_cache()
