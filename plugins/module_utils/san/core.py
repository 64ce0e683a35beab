# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""SAN volumes, independent of the storage product.

This is the core the san_volume and san_volume_info modules run: it turns module parameters into
a desired volume (every rule checked before anything is touched), compares it with what a
backend reports, builds the change plan, the diff and the result, and runs the plan through the
backend interface. Backends (backends/tgt for the Linux SCSI target framework; an array's REST API
would be another) implement SanBackend and are listed in san/registry.BACKENDS; the modules never
name a backend.

Secrets: CHAP secrets live in Credential objects, whose repr hides them. Nothing built here for
a result, a diff, a message or a warning ever contains a secret.
"""

from __future__ import annotations

import re

from ansible_collections.sanboot.iscsi.plugins.module_utils.batch import merge_item
from ansible_collections.sanboot.iscsi.plugins.module_utils.naming import (
    LUN_MAX,
    NamingError,
    build_root_path,
    format_portal,
    format_size,
    normalize_iscsi_name,
    normalize_ip_network,
    parse_portal as parse_portal_text,
    parse_size,
    round_up,
    validate_chap_pair,
    validate_lun,
)


class SanError(Exception):
    """The backend could not do what was asked (daemon down, command refused). Never holds a secret."""


class SanInputError(SanError):
    """A parameter broke a rule. The message starts with the option name and states the rule."""


# --- values -----------------------------------------------------------------------------------

VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$")
VOLUME_NAME_RULE = ("1 to 63 letters, digits, '.' and '-', starting with a letter or digit (the name becomes "
                    "part of the target IQN and of file names)")
# LUN 0 is the target's controller on tgt (and the SCSI "REPORT LUNS" well-known LUN elsewhere): data LUNs start at 1.
LUN_MIN = 1
SECRET_SHOWN_AS = "(hidden)"
SECRET_CHANGED_SHOWN_AS = "(hidden, changed)"


class Credential:
    """A CHAP username and secret. secret is None when the backend cannot tell what it is."""

    __slots__ = ("username", "secret")

    def __init__(self, username, secret=None):
        self.username = username
        self.secret = secret

    def __repr__(self):
        return "Credential(username=%r, secret=%s)" % (self.username, "<unknown>" if self.secret is None else "<hidden>")

    def __eq__(self, other):
        return isinstance(other, Credential) and (self.username, self.secret) == (other.username, other.secret)

    def __hash__(self):
        return hash(self.username)

    def same_as(self, other) -> bool:
        """True only when both username and secret are known to be equal."""
        return (other is not None and self.username == other.username and self.secret is not None
                and other.secret is not None and self.secret == other.secret)


def credential_changes(current, desired) -> bool:
    if desired is current:
        return False  # kept as it is (its option was left out)
    if desired is None:
        return current is not None
    return not desired.same_as(current)


class Volume:
    """A volume as a backend sees it now.

    loaded: served by the target right now (tgt: present in tgtd, not only in its config file).
    managed: recorded by this collection (tgt: it has our config file); unmanaged volumes are
    targets someone else made, reported only so that nothing collides with them.
    """

    def __init__(self, name, target_iqn, lun, path=None, size_bytes=None, initiators=(), allowed_addresses=(),
                 chap=None, mutual_chap=None, sessions=(), loaded=True, managed=True, backend_data=None):
        self.name = name
        self.target_iqn = target_iqn
        self.lun = lun
        self.path = path
        self.size_bytes = size_bytes
        self.initiators = sorted(set(initiators))
        self.allowed_addresses = sorted(set(allowed_addresses))
        self.chap = chap
        self.mutual_chap = mutual_chap
        self.sessions = list(sessions)
        self.loaded = loaded
        self.managed = managed
        self.backend_data = backend_data or {}

    def describe(self) -> str:
        if self.managed:
            return "volume '%s'" % self.name
        return "target %s, which sanboot.iscsi does not manage" % self.target_iqn

    def __repr__(self):
        return "Volume(%s)" % ", ".join("%s=%r" % item for item in sorted(vars(self).items()))


class Desired:
    """What the parameters ask for, every value validated and in canonical form."""

    def __init__(self, **values):
        self.name = values.get("name")
        self.state = values.get("state", "present")
        self.target_iqn = values.get("target_iqn")
        self.lun = values.get("lun", 1)
        self.path = values.get("path")
        self.size_bytes = values.get("size_bytes")
        self.initiators = values.get("initiators", [])
        self.allowed_addresses = values.get("allowed_addresses", [])
        # chap/mutual_chap: as given, until resolve_credentials() fills in the ones omitted options keep.
        self.chap = values.get("chap")
        self.mutual_chap = values.get("mutual_chap")
        self.remove_chap = values.get("remove_chap", False)
        self.remove_mutual_chap = values.get("remove_mutual_chap", False)
        # The credential options left out whose current value is kept ("chap", "mutual_chap").
        self.kept = []
        self.clone_from = values.get("clone_from")
        # (description, size_bytes) of clone_from, found once by plan_present.
        self.clone_source = None
        self.portal = values.get("portal")
        self.force = values.get("force", False)
        self.remove_data = values.get("remove_data", False)

    def __repr__(self):
        return "Desired(%s)" % ", ".join("%s=%r" % item for item in sorted(vars(self).items()))


def _option(option, function, *args, **kwargs):
    """Run a naming-core check; prefix its message with the option unless it already names it."""
    try:
        return function(*args, **kwargs)
    except NamingError as exc:
        message = str(exc)
        if not message.startswith((option + ":", option + ".")):
            message = "%s: %s" % (option, message)
        raise SanInputError(message) from None


def parse_portal(value):
    """'address[:port]' (IPv6 in brackets when a port is given) -> (server, port or None)."""
    try:
        return parse_portal_text(value)
    except NamingError as exc:
        raise SanInputError("portal: %s" % exc) from None


# Rules between options, declared once: san/argspec.py hands them to AnsibleModule, and the core
# checks them again for callers that are not modules (tests, the boot lab, other tools).
MUTUALLY_EXCLUSIVE = (
    ("chap", "remove_chap"),
    ("mutual_chap", "remove_mutual_chap"),
    ("target_iqn", "target_prefix"),
)
REQUIRED_BY = {"mutual_chap": ("chap",)}
_EXCLUSIVE_WHY = {
    "remove_chap": "remove_chap removes the CHAP that chap would set",
    "remove_mutual_chap": "remove_mutual_chap removes the mutual CHAP that mutual_chap would set",
    "target_prefix": "the target IQN is target_iqn, or <target_prefix>:<name> when target_iqn is not given",
}


def check_option_rules(params):
    """MUTUALLY_EXCLUSIVE and REQUIRED_BY, with messages that name the options and the rule."""
    for group in MUTUALLY_EXCLUSIVE:
        given = [option for option in group if params.get(option) not in (None, False, "", [], {})]
        if len(given) > 1:
            raise SanInputError("%s: parameters are mutually exclusive: %s (%s)"
                                % (given[0], "|".join(group), _EXCLUSIVE_WHY[group[1]]))
    for option, needed in REQUIRED_BY.items():
        if params.get(option) and not all(params.get(other) for other in needed):
            raise SanInputError("%s needs %s: the target can only authenticate itself to an initiator that "
                                "authenticated first" % (option, " and ".join(needed)))


def check_backend_credential_rules(backend, option, credential):
    """The backend's own character rules for CHAP user names and secrets (the secret is never shown)."""
    if not backend.CHAP_USERNAME_PATTERN.match(credential.username):
        raise SanInputError("%s.username '%s' may contain only %s on the %s backend" % (
            option, credential.username, backend.CHAP_USERNAME_RULE, backend.name))
    if not backend.CHAP_SECRET_PATTERN.match(credential.secret):
        raise SanInputError("%s.secret may contain only %s on the %s backend"
                            % (option, backend.CHAP_SECRET_RULE, backend.name))


def desired_from_params(params, backend) -> Desired:
    """Validate every parameter (before anything is read or changed) and return the desired volume."""
    check_option_rules(params)
    name = params.get("name")
    if not isinstance(name, str) or not VOLUME_NAME.match(name):
        raise SanInputError("name: %r is not a volume name: use %s" % (name, VOLUME_NAME_RULE))
    state = params.get("state") or "present"
    values = {"name": name, "state": state, "force": bool(params.get("force")),
              "remove_data": bool(params.get("remove_data"))}

    if params.get("target_iqn"):
        values["target_iqn"] = _option("target_iqn", normalize_iscsi_name, params["target_iqn"])
    elif params.get("target_prefix"):
        prefix = _option("target_prefix", normalize_iscsi_name, params["target_prefix"])
        if not prefix.startswith("iqn."):
            raise SanInputError("target_prefix: '%s' must be an IQN (iqn.yyyy-mm.reversed.domain[:...]); the target "
                                "IQN is <target_prefix>:<name>" % params["target_prefix"])
        values["target_iqn"] = _option("name", normalize_iscsi_name, "%s:%s" % (prefix, name))
    elif state == "present" and backend.target_per_volume:
        raise SanInputError("target_iqn or target_prefix is required: the target IQN is <target_prefix>:<name> "
                            "unless target_iqn is given")

    lun = params.get("lun")
    lun = 1 if lun is None else lun
    try:
        values["lun"] = validate_lun(lun, minimum=LUN_MIN, maximum=LUN_MAX)
    except NamingError as exc:
        raise SanInputError("lun: %s (LUN 0 is the target's controller; data LUNs are %d to %d)"
                            % (exc, LUN_MIN, LUN_MAX)) from None

    if params.get("size") is not None and state == "present":
        size = _option("size", parse_size, params["size"])
        values["size_bytes"] = round_up(size, backend.size_granularity)

    values["initiators"] = sorted({_option("initiators", normalize_iscsi_name, item)
                                   for item in params.get("initiators") or []})
    addresses = set()
    for item in params.get("allowed_addresses") or []:
        address = _option("allowed_addresses", normalize_ip_network, item)
        if address.endswith("/0"):
            raise SanInputError("allowed_addresses: '%s' would admit every address; a volume open to everybody is never "
                                "made: list the initiators' networks instead" % item)
        addresses.add(address)
    values["allowed_addresses"] = sorted(addresses)
    if state == "present" and not values["initiators"] and not values["allowed_addresses"]:
        raise SanInputError("initiators or allowed_addresses is required: give the initiator IQNs and/or the addresses "
                            "that may log in; a volume open to everybody is never made")

    chap, mutual_chap = params.get("chap"), params.get("mutual_chap")
    if state == "present":
        try:
            validate_chap_pair(chap, mutual_chap)
        except NamingError as exc:
            raise SanInputError(str(exc)) from None
        values["chap"] = Credential(chap["username"], chap["secret"]) if chap else None
        values["mutual_chap"] = Credential(mutual_chap["username"], mutual_chap["secret"]) if mutual_chap else None
        for option in ("chap", "mutual_chap"):
            if values[option] is not None:
                check_backend_credential_rules(backend, option, values[option])
        values["remove_chap"] = bool(params.get("remove_chap"))
        values["remove_mutual_chap"] = bool(params.get("remove_mutual_chap"))

    clone_from = params.get("clone_from")
    if clone_from is not None and state == "present":
        if not isinstance(clone_from, str) or not clone_from.strip():
            raise SanInputError("clone_from: must be the name of an existing volume or the absolute path of an image")
        values["clone_from"] = clone_from.strip()

    if params.get("portal"):
        values["portal"] = parse_portal(params["portal"])

    desired = Desired(**values)
    backend.validate(desired, params)
    return desired


# --- the backend interface ----------------------------------------------------------------------

class SanBackend:
    """One storage product. The core calls only these methods.

    Reading: list, get, find_clone_source, portal. Changing: create, clone, grow, delete, set_access,
    set_chap. Hooks for what only some products have: validate (product rules on input),
    check_conflicts (names the product shares between volumes), extra_steps (tgt: write the
    volume's config file), commit and rollback (the end of a run), lock.

    Failing closed (what every backend must keep, measured for tgt by tests/integration/test_san_faults.py):
    no change may leave a volume, even for a moment, reachable with less than its old or its new
    protection. So set_chap binds new credentials before the old ones go, set_access narrows
    before it widens, create sets CHAP before it admits anyone, and each change a method makes is
    remembered, so that rollback() can undo the run's changes in reverse order when a later step
    fails. The core orders the steps (CHAP before access is widened, access narrowed before CHAP
    is removed), reads the volume back with get() after the last step and only then calls commit();
    any exception before that calls rollback().
    """

    name = "abstract"
    # Sizes are rounded up to this many bytes (what initiators can see).
    size_granularity = 512
    # True: each volume is its own target, named by target_iqn or target_prefix (tgt). False: the product has
    # one target IQN for all volumes, told apart by LUN (an array); its check_conflicts sets desired.target_iqn.
    target_per_volume = True
    # Options the backend adds to both modules (how to reach it) and to san_volume only.
    CONNECTION_OPTIONS = {}
    VOLUME_OPTIONS = {}
    # The characters the product can carry in CHAP user names and secrets, and the rule in words
    # for messages ("<option>.username '...' may contain only <rule> on the <name> backend"). The
    # core checks them before anything is read or changed. Default: printable ASCII without spaces
    # (the naming core's rule); a backend narrows them to what its API or tools can carry.
    CHAP_USERNAME_PATTERN = re.compile(r"^[\x21-\x7e]+$")
    CHAP_USERNAME_RULE = "printable ASCII characters without spaces"
    CHAP_SECRET_PATTERN = re.compile(r"^[\x21-\x7e]+$")
    CHAP_SECRET_RULE = "printable ASCII characters without spaces"
    # lock() waits at most this many seconds for another run, then fails naming the holder.
    lock_wait = 300.0

    def __init__(self, params, run_command, warn):
        self.params = params
        self.run_command = run_command
        self.warn = warn

    def close(self):
        """Release what __init__ or lock took (locks, connections)."""

    def lock(self):
        """Serialize changes with other runs against the same target (held until close).

        Waits at most lock_wait seconds; then raises SanError naming what holds the lock (which
        process, for which volume, since when) and saying that nothing was changed.
        """

    # reading
    def list(self, include_unmanaged=False):
        raise NotImplementedError

    def get(self, name, desired=None):
        raise NotImplementedError

    def find_clone_source(self, clone_from):
        """Return (description, size_bytes) of the source, or raise SanInputError naming clone_from.

        Called once per run (plan_present keeps the answer in desired.clone_source)."""
        raise NotImplementedError

    def portal(self):
        """(server, port) initiators use by default, or None when the backend cannot tell."""
        raise NotImplementedError

    # changing
    def create(self, desired):
        """Make the volume (or serve a recorded one again). CHAP is set before any initiator is
        admitted: access rules come last."""
        raise NotImplementedError

    def clone(self, clone_from, desired):
        """Make the new volume's data a copy of clone_from; return how ('reflink' or 'sparse copy')."""
        raise NotImplementedError

    def grow(self, current, size_bytes):
        raise NotImplementedError

    def delete(self, current, force, remove_data):
        raise NotImplementedError

    def set_access(self, current, initiators, allowed_addresses):
        """Make the access rules these. Rules that go are removed before rules that come are added."""
        raise NotImplementedError

    def set_chap(self, current, chap, mutual_chap):
        """Make the volume's one-way CHAP `chap` and its mutual CHAP `mutual_chap` (Credential or None).

        These are the credentials the volume ends with: credentials that options left out keep
        are passed in as they are (desired.kept says which), so None always means "no CHAP".
        The new credentials work before the old ones stop working (both may work for a moment,
        never neither while CHAP is wanted, never none needed); removing CHAP removes mutual CHAP
        first. A failure leaves rollback() able to restore the old credentials.
        """
        raise NotImplementedError

    # hooks
    def default_path(self, name):
        return None

    def validate(self, desired, params):
        """Product rules on input; raise SanInputError. Called before anything is read."""

    def check_conflicts(self, desired, current, others):
        """Product rules that involve other volumes or the current volume; raise SanInputError.

        Called after resolve_credentials(), so desired.chap/mutual_chap are the credentials the
        volume will have (a kept one may carry secret=None when the product cannot tell it)."""

    def extra_steps(self, current, desired):
        """Steps only this product needs, as (description, callable) pairs, run after the core's.

        current is None for a new volume. Every step must change something (no placeholder
        steps); tgt writes the volume's config file here."""
        return []

    def commit(self, desired):
        """Every step succeeded and get() shows the volume as planned: forget what rollback would undo."""

    def rollback(self):
        """A step (or the check after the steps) failed: undo what this run changed, in reverse order.

        Stops at a change it cannot undo (the volume is then in a state the run passed through,
        each of which keeps the old or the new protection). Returns None, or a sentence saying
        what could not be undone (the core adds it to the error message)."""

    def discard_cache(self):
        """Forget what was read, so that the next read shows the changes."""

    def uncommit(self, name):
        """After a delete: forget the volume's record."""

    # images (san_image): what was written onto a volume's data, kept with the volume
    def image_record(self, volume):
        """The image record kept with volume, a dict of digest, format, size_bytes and state ("writing"
        or "written"), or None. The core checks it (san_image.valid_record)."""
        return None

    def record_image(self, volume, record):
        """Keep record (the dict image_record returns) with volume, replacing the one before (tgt: a line
        in the volume's 0600 config file; an array: a tag on the volume). Called under lock()."""
        raise SanError("the %s backend cannot keep an image record with a volume, which san_image needs to know "
                       "what it wrote" % self.name)


# --- planning -----------------------------------------------------------------------------------

class Step:
    def __init__(self, description, action):
        self.description = description
        self.action = action

    def __repr__(self):
        return "Step(%r)" % self.description


def _size_text(size_bytes):
    return "%s (%d bytes)" % (format_size(size_bytes), size_bytes)


def _names(values):
    return ", ".join(values) if values else "none"


def resolve_credentials(desired, current):
    """Fill in the credentials that options left out keep, and say so in desired.kept.

    Omitting chap leaves the volume's CHAP as it is, and omitting mutual_chap leaves its mutual
    CHAP as it is: a play that lost a variable must never weaken a boot LUN to initiator-name-only
    access. Only remove_chap (CHAP and mutual CHAP, which needs CHAP) and remove_mutual_chap
    remove them.
    """
    desired.kept = []
    if current is None or desired.state != "present":
        return
    if desired.remove_chap:
        desired.chap = desired.mutual_chap = None
        return
    if desired.chap is None and current.chap is not None:
        desired.chap = current.chap
        desired.kept.append("chap")
    if desired.remove_mutual_chap:
        desired.mutual_chap = None
    elif desired.mutual_chap is None and current.mutual_chap is not None and desired.chap is not None:
        desired.mutual_chap = current.mutual_chap
        desired.kept.append("mutual_chap")
    if desired.chap is not None and desired.mutual_chap is not None and desired.kept \
            and desired.chap.secret is not None and desired.chap.secret == desired.mutual_chap.secret:
        given = "mutual_chap" if "chap" in desired.kept else "chap"
        raise SanInputError("%s.secret must differ from the secret of the %s that %s keeps (RFC 3720 8.2.1)" % (
            given, "CHAP" if given == "mutual_chap" else "mutual CHAP", current.describe()))


def _weakens_chap(current, desired):
    return current.chap is not None and desired.chap is None


def plan_present(backend, desired, current, others):
    """The steps that take current to desired. Raises SanInputError for requests that are refused.

    Order (fail closed): CHAP is set before access is widened, and access is narrowed before CHAP
    is removed; the backend's own steps (tgt: its config file) come last.
    """
    resolve_credentials(desired, current)
    for other in others:
        if backend.target_per_volume and other.target_iqn == desired.target_iqn:
            raise SanInputError("target_iqn: %s is already used by %s; each volume needs its own target IQN"
                                % (desired.target_iqn, other.describe()))
        if desired.path and other.path == desired.path:
            raise SanInputError("path: %s is already the backing store of %s" % (desired.path, other.describe()))
    backend.check_conflicts(desired, current, others)
    steps = []
    if current is None:
        if desired.clone_from is None and desired.size_bytes is None:
            raise SanInputError("size is required to create volume '%s' (or clone_from, to copy an existing volume)"
                                % desired.name)
        if desired.clone_from is not None:
            desired.clone_source = backend.find_clone_source(desired.clone_from)
            source, source_size = desired.clone_source
            if desired.size_bytes is not None and desired.size_bytes < source_size:
                raise SanInputError("size: %s is smaller than clone_from %s (%s): volumes only grow"
                                    % (_size_text(desired.size_bytes), source, _size_text(source_size)))
            steps.append(Step("clone %s into %s" % (source, desired.path or desired.name),
                              lambda: backend.clone(desired.clone_from, desired)))
        steps.append(Step("create volume %s: target %s, LUN %d, %s, initiators %s, addresses %s%s%s"
                          % (desired.name, desired.target_iqn, desired.lun,
                             _size_text(desired.size_bytes) if desired.size_bytes else "size of the clone",
                             _names(desired.initiators), _names(desired.allowed_addresses),
                             ", CHAP user %s" % desired.chap.username if desired.chap else "",
                             ", mutual CHAP user %s" % desired.mutual_chap.username if desired.mutual_chap else ""),
                          lambda: backend.create(desired)))
        steps.extend(Step(description, action) for description, action in backend.extra_steps(None, desired))
        return steps

    for option in ("target_iqn", "lun", "path"):
        wanted, actual = getattr(desired, option), getattr(current, option)
        if wanted is not None and actual is not None and wanted != actual:
            raise SanInputError("%s: %s has %s %s; it cannot be changed to %s (remove the volume and create it again, "
                                "or keep %s)" % (option, current.describe(), option, actual, wanted, actual))
    if desired.size_bytes is not None and current.size_bytes is not None:
        if desired.size_bytes < current.size_bytes:
            raise SanInputError("size: %s is smaller than the current size of %s, %s: volumes only grow, never shrink "
                                "(shrinking destroys data)" % (_size_text(desired.size_bytes), current.describe(),
                                                               _size_text(current.size_bytes)))
        if desired.size_bytes > current.size_bytes:
            steps.append(Step("grow %s from %s to %s" % (current.describe(), _size_text(current.size_bytes),
                                                         _size_text(desired.size_bytes)),
                              lambda: backend.grow(current, desired.size_bytes)))
    if not current.loaded:
        # Recorded but not served (tgt: tgtd restarted without its config): create it again from the record.
        steps.append(Step("load %s into the target again (it is recorded but not served)" % current.describe(),
                          lambda: backend.create(desired)))
    else:
        access = chap = None
        if (current.initiators, current.allowed_addresses) != (desired.initiators, desired.allowed_addresses):
            access = Step("set access of %s: initiators %s -> %s; addresses %s -> %s"
                          % (current.describe(), _names(current.initiators), _names(desired.initiators),
                             _names(current.allowed_addresses), _names(desired.allowed_addresses)),
                          lambda: backend.set_access(current, desired.initiators, desired.allowed_addresses))
        chap_changes = [what for what, have, want in (("CHAP", current.chap, desired.chap),
                                                      ("mutual CHAP", current.mutual_chap, desired.mutual_chap))
                        if credential_changes(have, want)]
        if chap_changes:
            chap = Step("set %s of %s (%s)" % (" and ".join(chap_changes), current.describe(),
                                               _chap_change_text(current, desired)),
                        lambda: backend.set_chap(current, desired.chap, desired.mutual_chap))
        # Never less than the old or the new protection in between: CHAP first, unless it is removed.
        ordered = (access, chap) if _weakens_chap(current, desired) else (chap, access)
        steps.extend(step for step in ordered if step is not None)
    steps.extend(Step(description, action) for description, action in backend.extra_steps(current, desired))
    return steps


def _chap_change_text(current, desired):
    parts = []
    for what, have, want in (("CHAP", current.chap, desired.chap), ("mutual CHAP", current.mutual_chap, desired.mutual_chap)):
        if not credential_changes(have, want):
            continue
        if want is None:
            parts.append("%s user %s removed" % (what, have.username))
        elif have is None:
            parts.append("%s user %s added" % (what, want.username))
        elif have.username != want.username:
            parts.append("%s user %s -> %s" % (what, have.username, want.username))
        elif have.secret is None:
            parts.append("%s secret of user %s set: the current one cannot be read back to compare" % (what, want.username))
        else:
            parts.append("%s secret of user %s changed" % (what, want.username))
    return "; ".join(parts)


# --- results --------------------------------------------------------------------------------------

def volume_result(volume, portal) -> dict:
    """The public shape of a volume (the module's `volume` return): never a secret."""
    if volume is None:
        return {}
    portal_text = root_path = None
    if portal is not None and volume.target_iqn:
        server, port = portal
        portal_text = format_portal(server, port)
        try:
            root_path = build_root_path(server, volume.target_iqn, port=port, lun=volume.lun)
        except NamingError:
            root_path = None  # a target named outside the rules (made by hand): no root path for it
    return {
        "name": volume.name,
        "size_bytes": volume.size_bytes,
        "target_iqn": volume.target_iqn,
        "lun": volume.lun,
        "portal": portal_text,
        "initiators": list(volume.initiators),
        "allowed_addresses": list(volume.allowed_addresses),
        "chap_username": volume.chap.username if volume.chap else None,
        "mutual_chap_username": volume.mutual_chap.username if volume.mutual_chap else None,
        "path": volume.path,
        "root_path": root_path,
        "sessions": [dict(session) for session in volume.sessions],
        "loaded": volume.loaded,
    }


def _diff_side(volume, portal, secret_markers):
    if volume is None:
        return {}
    side = volume_result(volume, portal)
    side.pop("sessions")
    for key, credential in (("chap_secret", volume.chap), ("mutual_chap_secret", volume.mutual_chap)):
        side[key] = secret_markers.get(key) if credential is not None else None
    return side


def projected_volume(desired, current, clone_size=None):
    """The volume as it will be once the plan has run (check mode reports this)."""
    size = desired.size_bytes
    if size is None:
        size = current.size_bytes if current is not None else clone_size
    return Volume(desired.name, desired.target_iqn, desired.lun, desired.path, size, desired.initiators,
                  desired.allowed_addresses, desired.chap, desired.mutual_chap,
                  sessions=current.sessions if current is not None else (), loaded=True)


def build_diff(current, after, portal):
    before_markers = {"chap_secret": SECRET_SHOWN_AS, "mutual_chap_secret": SECRET_SHOWN_AS}
    after_markers = dict(before_markers)
    if current is not None and after is not None:
        for key, have, want in (("chap_secret", current.chap, after.chap),
                                ("mutual_chap_secret", current.mutual_chap, after.mutual_chap)):
            if have is not None and want is not None and credential_changes(have, want):
                after_markers[key] = SECRET_CHANGED_SHOWN_AS
    return {"before": _diff_side(current, portal, before_markers), "after": _diff_side(after, portal, after_markers)}


# --- running ------------------------------------------------------------------------------------

def effective_portal(backend, desired, found=None):
    """The portal to report: the portal option, its port filled from the target's own portal.

    found: backend.portal(), when the caller already asked (a batch asks once)."""
    if found is None:
        found = backend.portal()
    if desired is not None and desired.portal is not None:
        server, port = desired.portal
        if port is None:
            port = found[1] if found else 3260
        return server, port
    return found


class BatchItem:
    """One volume of a run: its parameters, and what planning and running it found.

    label is how messages name it: None for the single form (san_volume with name), "volumes[3]" in a
    batch. The single form is a batch of one, so both forms plan, order, apply, check and undo every
    volume the same way."""

    def __init__(self, params, label=None, options=()):
        self.params = params
        self.label = label
        # The option names messages may start with (they are prefixed with the label, 'volumes[3].size: ...').
        self.options = options
        self.desired = None
        self.current = None
        self.steps = []
        self.expected = None
        self.after = None
        self.portal = None
        self.result = None

    def name_for_messages(self):
        name = self.params.get("name")
        return name if isinstance(name, str) and VOLUME_NAME.match(name) else None


def item_error(item, exc):
    """exc's message naming the item: 'volumes[3].chap.secret ...' when it starts with an option, else
    'volumes[3] (volume 'x'): ...'. The single form's messages are unchanged."""
    message = str(exc) if isinstance(exc, SanError) else _describe_error(exc)
    if item.label is None:
        return message
    name = item.name_for_messages()
    first = re.match(r"^([a-z_]+)(?=[.: ])", message)
    if first and first.group(1) in item.options:
        labelled = "%s.%s" % (item.label, message)
        if name and ("'%s'" % name) not in message:
            labelled += " (%s is volume '%s')" % (item.label, name)
        return labelled
    return "%s (volume '%s'): %s" % (item.label, name, message) if name else "%s: %s" % (item.label, message)


def _relabel(item, exc):
    """The same kind of error, its message naming the item."""
    kind = SanInputError if isinstance(exc, SanInputError) else SanError
    return kind(item_error(item, exc))


def _check_batch(items, target_per_volume=True):
    """Two items of one batch may not be the same volume, nor share a target IQN (where each volume is its own
    target) or a backing file."""
    seen = {}
    for item in items:
        desired = item.desired
        for what, value in (("name", desired.name), ("target_iqn", desired.target_iqn if target_per_volume else None),
                            ("path", desired.path)):
            if value is None:
                continue
            first = seen.setdefault((what, value), item)
            if first is not item:
                raise SanInputError("%s.%s: %s is also the %s of %s; each item of volumes is its own volume"
                                    % (item.label, what, value, what, first.label))


def _plan_absent(backend, item, portal):
    desired = item.desired
    current = item.current
    if current is None:
        item.result = {"changed": False, "actions": [], "volume": {}, "diff": {"before": {}, "after": {}}}
        return
    if not current.managed:
        raise SanInputError("name: there is no volume '%s'; %s has its target IQN, and sanboot.iscsi deletes only "
                            "volumes it manages" % (desired.name, current.describe()))
    if current.sessions and not desired.force:
        raise SanInputError("force: %s has live sessions from %s; log them out first, or set force=true to cut them "
                            "off and delete the volume" % (current.describe(), ", ".join(
                                sorted({session["initiator"] for session in current.sessions}))))
    what = "delete %s (target %s%s)" % (current.describe(), current.target_iqn,
                                        "; its data in %s too" % current.path if desired.remove_data and current.path
                                        else "; its data is kept in %s" % current.path if current.path else "")
    if current.sessions:
        what += ", cutting off the sessions of %s" % ", ".join(sorted({session["initiator"] for session in current.sessions}))
    item.result = {"changed": True, "actions": [what], "volume": {},
                   "diff": {"before": _diff_side(current, portal, {"chap_secret": SECRET_SHOWN_AS,
                                                                   "mutual_chap_secret": SECRET_SHOWN_AS}), "after": {}}}


def _plan_present(backend, item, others, found_portal):
    desired = item.desired
    item.steps = plan_present(backend, desired, item.current, others)
    portal = effective_portal(backend, desired, found_portal)
    clone_size = desired.clone_source[1] if desired.clone_source else None
    item.expected = projected_volume(desired, item.current, clone_size)
    result = {"changed": bool(item.steps), "actions": [step.description for step in item.steps],
              "diff": build_diff(item.current, item.expected, portal)}
    if desired.kept:
        result["kept"] = list(desired.kept)
    # What it reports unless a change is made and read back: the projection, or the volume as it is.
    result["volume"] = volume_result(item.expected if item.steps else item.current, portal)
    item.result = result
    item.portal = portal


def run_batch(backend, items, check_mode):
    """Plan every item against one reading of the backend, then apply them as one change.

    Bad input and refused requests (a shrink, a target IQN in use, a missing clone source, ...) fail
    the run before anything is changed, naming the item. Then the present items' steps run in order,
    each item's in the fail-closed order plan_present gives; every volume changed is read back once
    at the end and compared with its plan. A failing step or check undoes the changes of the whole
    run in reverse order (backend.rollback walks back through the states the run passed through, each
    of which kept the old or the new protection of every volume), so the backend is left as it was.
    Deletions, which cannot be undone, run last, once every other item is done.
    Returns the items, each with its result."""
    for item in items:
        try:
            item.desired = desired_from_params(item.params, backend)
        except SanError as exc:
            raise _relabel(item, exc) from None
    _check_batch(items, backend.target_per_volume)
    if not check_mode:
        backend.lock()
    found_portal = backend.portal()
    # One reading for the whole run: the volumes (and other targets) the backend has now.
    known = backend.list(include_unmanaged=True) if any(item.desired.state == "present" for item in items) else []
    planned = []
    for item in items:
        try:
            item.current = backend.get(item.desired.name, item.desired)
            if item.desired.state == "absent":
                _plan_absent(backend, item, effective_portal(backend, None, found_portal))
                continue
            current = item.current
            others = [volume for volume in known
                      if current is None or not _same_volume(volume, current, backend.target_per_volume)]
            # The volumes the items before this one will be: a batch may not make two volumes collide.
            others.extend(other.expected for other in planned)
            _plan_present(backend, item, others, found_portal)
        except SanError as exc:
            raise _relabel(item, exc) from None
        item.expected.backend_data = {"batch_item": item.label}
        planned.append(item)
    if check_mode:
        _warn_portal(backend, items)
        return items
    changing = [item for item in planned if item.steps]
    if changing:
        _apply(backend, changing)
    for item in items:
        if item.desired.state == "absent" and item.result["changed"]:
            try:
                backend.delete(item.current, item.desired.force, item.desired.remove_data)
                backend.uncommit(item.current.name)
            except (SanError, OSError) as exc:
                done = [other.label for other in items if other is not item and other.result["changed"]
                        and (other.desired.state == "present" or items.index(other) < items.index(item))]
                message = item_error(item, exc)
                if item.label is not None and done:
                    message += "; the items before it are done (%s): run again to go on" % ", ".join(done)
                raise SanError(message) from None
    _warn_portal(backend, items)
    return items


def _apply(backend, changing):
    failed = changing[0]
    try:
        for item in changing:
            failed = item
            for step in item.steps:
                outcome = step.action()
                if isinstance(outcome, str) and outcome:
                    item.result["clone_method"] = outcome
        # Read every volume back and compare before the run counts as done: a change the target did
        # not take is undone like a failed step.
        backend.discard_cache()
        for item in changing:
            failed = item
            after = backend.get(item.desired.name, item.desired)
            _check_applied(item.desired, item.expected, after)
            item.after = after
        for item in changing:
            backend.commit(item.desired)
    except Exception as exc:
        undone = backend.rollback()
        if not isinstance(exc, (SanError, OSError)):
            raise  # a bug: keep its traceback
        message = item_error(failed, exc)
        if failed.label is not None and len(changing) > 1:
            message += ("; the changes of every item of the batch were undone" if not undone else
                        "; undoing the changes of the batch, newest first")
        if isinstance(exc, SanError) and not undone and failed.label is None:
            raise
        raise SanError("%s; %s" % (message, undone) if undone else message) from None
    for item in changing:
        item.result["volume"] = volume_result(item.after, item.portal)


def _warn_portal(backend, items):
    if any(item.desired.state == "present" and item.portal is None for item in items):
        backend.warn("the target's portal cannot be told (it listens on a wildcard address): set portal to the address "
                     "initiators use, so that volume.portal and volume.root_path can be returned")


def run_present(backend, desired, check_mode):
    """One volume (state present), with an already validated desired state (tests call this)."""
    return _run_one(backend, desired, check_mode)


def run_absent(backend, desired, check_mode):
    """One volume (state absent), with an already validated desired state (tests call this)."""
    return _run_one(backend, desired, check_mode)


def _run_one(backend, desired, check_mode):
    item = BatchItem({})
    item.desired = desired
    found_portal = backend.portal()
    item.current = backend.get(desired.name, desired)
    if desired.state == "absent":
        _plan_absent(backend, item, effective_portal(backend, None, found_portal))
        if item.result["changed"] and not check_mode:
            backend.delete(item.current, desired.force, desired.remove_data)
            backend.uncommit(item.current.name)
        return item.result
    current = item.current
    others = [volume for volume in backend.list(include_unmanaged=True)
              if current is None or not _same_volume(volume, current, backend.target_per_volume)]
    _plan_present(backend, item, others, found_portal)
    if item.steps and not check_mode:
        _apply(backend, [item])
    _warn_portal(backend, [item])
    return item.result


def _describe_error(exc):
    if isinstance(exc, OSError):
        return "%s: %s" % (exc.filename or "operating system error", exc.strerror or exc)
    return str(exc)


def _check_applied(desired, expected, after):
    if after is None:
        raise SanError("volume '%s' is not there after the changes were applied" % desired.name)
    differences = []
    for what, wanted, found in (
            ("initiators", expected.initiators, after.initiators),
            ("allowed_addresses", expected.allowed_addresses, after.allowed_addresses),
            ("chap user", expected.chap.username if expected.chap else None, after.chap.username if after.chap else None),
            ("mutual chap user", expected.mutual_chap.username if expected.mutual_chap else None,
             after.mutual_chap.username if after.mutual_chap else None)):
        if wanted != found:
            differences.append("%s %s instead of %s" % (what, found, wanted))
    if differences:
        raise SanError("volume '%s' does not hold the changes after they were applied (%s); the run's changes are undone"
                       % (desired.name, "; ".join(differences)))


def _same_volume(first, second, target_per_volume=True):
    if not target_per_volume:  # one target for all volumes: only the name tells them apart
        return first.name == second.name
    return first.target_iqn == second.target_iqn or (first.managed and second.managed and first.name == second.name)


# Options a volume of a batch (an entry of `volumes`) may set; the others are the backend's connection.
ITEM_OPTIONS = ("name", "state", "size", "target_iqn", "target_prefix", "lun", "initiators", "allowed_addresses",
                "chap", "mutual_chap", "remove_chap", "remove_mutual_chap", "clone_from", "portal", "force",
                "remove_data")
# Options that only describe one volume: never inherited from the module's top level by an item.
ITEM_ONLY_OPTIONS = ("name", "target_iqn", "path")


def item_params(params, entry, item_options):
    """One entry of `volumes` as the parameters of the single form: the entry's options, and for each it
    leaves out (None) the module's top-level value (its default included). An option the entry sets
    drops the inherited options it excludes (an entry's target_iqn wins over a top-level target_prefix,
    its remove_chap over a top-level chap), so that only the entry's own options can contradict each other."""
    merged, given = merge_item(params, entry, "volumes", item_options, ITEM_ONLY_OPTIONS, MUTUALLY_EXCLUSIVE)
    for option, needed in REQUIRED_BY.items():
        # An entry that removes what the inherited option needs drops it too (remove_chap drops mutual_chap).
        if option not in given and any(merged.get(other) in (None, False) for other in needed):
            merged[option] = None
    return merged


def run_volume(backends, params, run_command, warn, check_mode):
    """Everything san_volume does, as plain Python. Returns the result dict; raises SanError.

    With `volumes`, every entry is a volume of one batch (run_batch): the result has `changed`,
    `volume_results` (one single-form result per entry, in order), `actions` and `diff` (each
    entry's, labelled with its name)."""
    backend = make_backend(backends, params, run_command, warn)
    try:
        if params.get("volumes") is None:
            item = run_batch(backend, [BatchItem(params)], check_mode)[0]
            return item.result
        entries = params["volumes"]
        if params.get("name") is not None:
            raise SanInputError("name: parameters are mutually exclusive: name|volumes (name is one volume, volumes "
                                "a batch whose entries each have their own name)")
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise SanInputError("volumes: must be a list of dictionaries, each with a volume's options")
        options = ITEM_OPTIONS + tuple(backend.VOLUME_OPTIONS)
        labels = options + tuple(backend.CONNECTION_OPTIONS)
        items = [BatchItem(item_params(params, entry, options), "volumes[%d]" % index, labels)
                 for index, entry in enumerate(entries)]
        run_batch(backend, items, check_mode)
        return batch_result(items)
    finally:
        backend.close()


def batch_result(items) -> dict:
    results = [item.result for item in items]
    diff = []
    for item, result in zip(items, results):
        if result["changed"]:
            label = "%s (volume %s)" % (item.label, item.desired.name)
            diff.append(dict(result["diff"], before_header=label, after_header=label))
    return {"changed": any(result["changed"] for result in results), "volume_results": results,
            "actions": ["%s: %s" % (item.desired.name, action) for item, result in zip(items, results)
                        for action in result["actions"]],
            "diff": diff}


def run_info(backends, params, run_command, warn):
    """san_volume_info: every volume, one (name), or many (volumes: one reading for all of them; an entry
    with chap or mutual_chap also says whether the volume holds that secret, never returning any)."""
    backend = make_backend(backends, params, run_command, warn)
    try:
        name = params.get("name")
        entries = params.get("volumes")
        if name is not None and entries is not None:
            raise SanInputError("name: parameters are mutually exclusive: name|volumes")
        if name is not None and not VOLUME_NAME.match(name):
            raise SanInputError("name: %r is not a volume name: use %s" % (name, VOLUME_NAME_RULE))
        wanted = [_info_entry(index, entry) for index, entry in enumerate(entries)] if entries is not None else None
        portal = None
        if params.get("portal"):
            portal = parse_portal(params["portal"])
        backend.validate(None, params)
        found = backend.portal()
        if portal is not None and portal[1] is None:
            portal = (portal[0], found[1] if found else 3260)
        portal = portal or found
        if wanted is not None:
            found = (_info_result(backend, entry, portal) for entry in wanted)
            return {"changed": False, "volumes": [result for result in found if result is not None]}
        if name is not None:
            volume = backend.get(name)
            volumes = [volume] if volume is not None and volume.managed else []
        else:
            volumes = backend.list()
        return {"changed": False, "volumes": [volume_result(volume, portal) for volume in volumes]}
    finally:
        backend.close()


def _info_entry(index, entry):
    """An entry of san_volume_info's `volumes` as a Desired that reads like a deletion (only volumes this
    collection manages), with the credentials to compare."""
    name = entry.get("name") if isinstance(entry, dict) else None
    if not isinstance(name, str) or not VOLUME_NAME.match(name):
        raise SanInputError("volumes[%d].name: %r is not a volume name: use %s" % (index, name, VOLUME_NAME_RULE))
    credentials = {}
    for option in ("chap", "mutual_chap"):
        given = entry.get(option)
        if given:
            if not given.get("username") or not given.get("secret"):
                raise SanInputError("volumes[%d].%s: needs username and secret to compare" % (index, option))
            credentials[option] = Credential(given["username"], given["secret"])
    return Desired(name=name, state="absent", chap=credentials.get("chap"), mutual_chap=credentials.get("mutual_chap"))


def _info_result(backend, desired, portal):
    volume = backend.get(desired.name, desired)
    if volume is None or not volume.managed:
        return None
    result = volume_result(volume, portal)
    pairs = (("chap", volume.chap, desired.chap), ("mutual_chap", volume.mutual_chap, desired.mutual_chap))
    for option, have, want in pairs:
        if want is not None:
            # As san_volume's check mode would report it: a secret that cannot be read back counts as different.
            result["%s_secret_differs" % option] = credential_changes(have, want)
    return result


def make_backend(backends, params, run_command, warn):
    """The backend params["backend"] names, from backends (san/registry.BACKENDS for the modules,
    whose argument spec fills in registry.DEFAULT_BACKEND: the core names no default)."""
    name = params.get("backend")
    if not name:
        raise SanInputError("backend is required: one of %s" % ", ".join(sorted(backends)))
    if name not in backends:
        raise SanInputError("backend: '%s' is not a known backend; the backends are %s" % (name, ", ".join(sorted(backends))))
    return backends[name](params, run_command, warn)
