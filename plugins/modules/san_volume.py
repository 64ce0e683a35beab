#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: san_volume
short_description: Boot LUNs on an iSCSI SAN, restricted to their servers, with CHAP and golden-image clones
version_added: 0.1.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Creates, grows and deletes an iSCSI volume, a target with one data LUN, and restricts who may log in to it by
    initiator IQN and/or address, with optional one-way and mutual CHAP.
  - A new volume can be a copy-on-write clone of a golden image (reflink, near-instant) where the filesystem supports
    it, or else a sparse copy. An existing volume is never overwritten.
  - Volumes only grow. A smaller O(size) fails, unless it is equal after rounding up to whole 512-byte blocks (what
    initiators see). A grown volume is served at its new size at once; a logged-in initiator keeps its session and
    sees the new capacity when it next reads it (a disk rescan).
  - Every value is checked before anything changes; a bad value fails with a message that names the option and the
    rule, and changes nothing.
  - "B(tgt backend): the volume is a C(tgtd) target with the LUN backed by a file. Each change is applied to the
    running C(tgtd) with the requests C(tgtadm) sends, over C(tgtd)'s control socket (the same bytes, without a process
    per request), and persisted in one config file per volume in O(config_dir), so that a restart of
    C(tgtd) (C(tgt-admin -e)) brings it back. Running the same task again after C(tgtd) lost its configuration also
    brings the volume back."
  - "B(purefa backend): the volume is a Pure Storage FlashArray volume; its server is an array host with the initiator
    IQNs and CHAP (one host per server, shared by its volumes), joined to the volume by a connection with O(lun). The
    target IQN and portal are the array's. Sizes are whole 512-byte sectors, as the array requires."
  - CHAP is idempotent. The target never shows secrets, so the module compares the secret with the one it recorded
    (B(tgt) - in the volume's C(0600) config file; B(purefa) - a salted hash in a tag of the array host) and changes it
    only when it differs; an account whose secret cannot be read back is set once, then compared. Secrets never appear in results, diffs, messages or warnings.
  - IQNs are case-insensitive (RFC 3722) and are written in their canonical lowercase form, because targets such as
    C(tgt) compare initiator names byte for byte. An initiator given as C(IQN.1991-05.com.Microsoft:Host) is bound
    as C(iqn.1991-05.com.microsoft:host), the name the initiator really sends.
  - "B(Batches.) With O(volumes) instead of O(name), one task makes many volumes (a rack of servers) in one run: the
    target is read once and locked once, and every volume is planned before anything changes, so a bad value in any
    entry fails the task naming the entry (for example C(volumes[3].chap.secret)) and changes nothing. Each entry
    gets exactly the result the single form would give it, in RV(volume_results). The whole batch is one change:
    if a step of any entry fails, or a volume read back afterwards is not as planned, the changes of every entry
    are undone, newest first, in the same fail-closed order, so the SAN is left as it was; running the task
    again makes them. Deletions (O(volumes[].state=absent)), which cannot be undone, run last, once every other
    entry succeeded."
extends_documentation_fragment:
  - sanboot.iscsi.attributes
  - sanboot.iscsi.attributes.ACTIONGROUP_SAN
  - sanboot.iscsi.san_backends
  - sanboot.iscsi.san_backends.VOLUME
attributes:
  check_mode:
    support: full
    details:
      - Reads the target and the files; changes neither.
  diff_mode:
    support: full
    details:
      - Before and after as in RV(volume), without the sessions. CHAP secrets show only as the words
        "(hidden)" or "(hidden, changed)".
  idempotent:
    support: full
    details:
      - Including CHAP secrets, which are compared, never set blindly.
options:
  name:
    description:
      - The volume's name, 1 to 63 letters, digits, C(.) and C(-). It is the last part of the default O(target_iqn)
        and of the default O(path).
      - Required unless O(volumes) is given; mutually exclusive with it.
    type: str
  volumes:
    description:
      - A batch of volumes, each entry with the options of one volume. Mutually exclusive with O(name).
      - An option an entry leaves out takes the value given at the top level of the task (or its default there), so
        options all volumes share (O(target_prefix), O(size), O(clone_from), O(portal), O(storage_dir)) are written
        once. O(name), O(target_iqn) and O(path) are never taken from the top level. An option an entry sets drops
        the top-level options it excludes (an entry's O(volumes[].target_iqn) wins over a top-level O(target_prefix),
        its O(volumes[].remove_chap) over a top-level O(chap)).
      - Two entries may not be the same volume, nor share a target IQN or a backing file. On C(tgt), entries that
        share a CHAP user name must give it the same secret (one secret per account name).
      - O(volumes[].clone_from) names a volume that exists before the task (a golden volume) or an image file;
        the clones are made one after the other in the same run, copy-on-write where the file system shares
        extents (the golden-image fan-out).
      - The connection options (O(backend), and the backend's, such as O(config_dir) and O(tgt_control_port)) are the
        task's, not an entry's.
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      name:
        description: The volume's name, as O(name).
        type: str
        required: true
      state:
        description: As O(state); default the top-level O(state).
        type: str
        choices: [present, absent]
      size:
        description: As O(size); default the top-level O(size).
        type: str
      target_iqn:
        description: As O(target_iqn) (never taken from the top level).
        type: str
      target_prefix:
        description: As O(target_prefix); default the top-level O(target_prefix).
        type: str
      lun:
        description: As O(lun); default the top-level O(lun).
        type: int
      initiators:
        description: As O(initiators); default the top-level O(initiators).
        type: list
        elements: str
      allowed_addresses:
        description: As O(allowed_addresses); default the top-level O(allowed_addresses).
        type: list
        elements: str
      chap:
        description: As O(chap); default the top-level O(chap).
        type: dict
        suboptions:
          username:
            description: The CHAP user name, as O(chap.username).
            type: str
            required: true
          secret:
            description: The CHAP secret, as O(chap.secret).
            type: str
            required: true
      mutual_chap:
        description: As O(mutual_chap); default the top-level O(mutual_chap).
        type: dict
        suboptions:
          username:
            description: The user name the target presents, as O(mutual_chap.username).
            type: str
            required: true
          secret:
            description: The target's CHAP secret, as O(mutual_chap.secret).
            type: str
            required: true
      remove_chap:
        description: As O(remove_chap); default the top-level O(remove_chap).
        type: bool
      remove_mutual_chap:
        description: As O(remove_mutual_chap); default the top-level O(remove_mutual_chap).
        type: bool
      clone_from:
        description: As O(clone_from); default the top-level O(clone_from).
        type: str
      portal:
        description: As O(portal); default the top-level O(portal).
        type: str
      force:
        description: As O(force); default the top-level O(force).
        type: bool
      remove_data:
        description: As O(remove_data); default the top-level O(remove_data).
        type: bool
      path:
        description: B(tgt backend.) As O(path) (never taken from the top level).
        type: path
      storage_dir:
        description: B(tgt backend.) As O(storage_dir); default the top-level O(storage_dir).
        type: path
  state:
    description:
      - V(present) creates the volume or makes it match the options; V(absent) deletes it.
      - "V(absent) removes the target, its access rules, the CHAP accounts only it used and its config file. It
        refuses while an initiator is logged in, unless O(force=true). The data is kept unless O(remove_data=true)."
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - The size, a number of bytes or a number with a unit, K, M, G, T, P or KiB, MiB, GiB, TiB, PiB (powers of 1024),
        or KB, MB, GB, TB, PB (powers of 1000). Rounded up to whole 512-byte blocks.
      - Required to create a volume, unless O(clone_from) is given (then the clone has its source's size, or this
        size if it is larger).
      - Volumes only grow. Omit it to keep the current size.
    type: str
  target_iqn:
    description:
      - The full iSCSI name of the volume's target, given to the servers' boot firmware (which cannot use target
        aliases). Default C(<target_prefix>:<name>), lowercase.
      - It cannot be changed on an existing volume, and no two volumes may share it.
      - Mutually exclusive with O(target_prefix).
    type: str
  target_prefix:
    description:
      - The IQN the default O(target_iqn) starts with, for example C(iqn.2026-11.com.example.san). Required unless
        O(target_iqn) is given.
      - Mutually exclusive with O(target_iqn).
      - "B(purefa) - not used, and refused: the array has one target IQN for all volumes (RV(volume.target_iqn))."
    type: str
  lun:
    description:
      - The LUN of the volume's data in its target, 1 to 16383. LUN 0 is the target's controller on C(tgt).
      - B(purefa) - the LUN of the host's connection to the volume, 1 to 4095; the volumes of one server need
        different LUNs.
    type: int
    default: 1
  initiators:
    description:
      - The initiator IQNs that may log in, in any case; they are bound in canonical lowercase.
      - At least one of O(initiators) and O(allowed_addresses) is required; a volume open to everybody is never made.
      - "B(tgt): an initiator is admitted when its name is in O(initiators) B(or) its address is in
        O(allowed_addresses). Use CHAP to authenticate it."
    type: list
    elements: str
  allowed_addresses:
    description:
      - The initiator addresses that may log in, single IPv4/IPv6 addresses or networks (C(10.0.0.0/24)).
      - A network with host bits set (C(10.0.0.5/24)) and C(/0) are refused; a single host is written without a prefix
        (C(tgt) never matches a C(/32) rule).
      - "B(purefa) - refused: a FlashArray admits hosts by initiator IQN (and CHAP) only."
    type: list
    elements: str
  chap:
    description:
      - One-way CHAP, the credentials the initiator must present.
      - "Left out, the volume's CHAP stays as it is (RV(kept) says so): a play that lost a variable must never weaken
        a boot LUN to access by initiator name only, which anyone can claim. A new volume made without it has no
        CHAP. Removing CHAP takes O(remove_chap=true)."
      - "B(tgt): an account name belongs to the whole target daemon, so volumes may share a username only with the
        same secret."
      - Mutually exclusive with O(remove_chap).
    type: dict
    suboptions:
      username:
        description:
          - The CHAP user name. Each backend has its own rule for the characters, checked before anything changes.
            B(tgt) - letters, digits and C(_.:@+=%/^-); no comma, because C(tgtd) splits C(user=...,password=...) at
            the first comma.
        type: str
        required: true
      secret:
        description:
          - The CHAP secret, 12 to 16 characters (the Microsoft iSCSI initiator's limits; RFC 3720 asks for at least
            96 bits). B(tgt) - letters, digits and C(_.:@+=,%/^-), because C(tgt-admin) passes it through a
            shell when it restores the volume.
        type: str
        required: true
  mutual_chap:
    description:
      - Mutual CHAP, the credentials the target presents to the initiator. Needs O(chap), and its secret must differ
        from O(chap.secret). Same rules as O(chap).
      - Left out, the volume's mutual CHAP stays as it is (RV(kept) says so). Removing it takes
        O(remove_mutual_chap=true), or O(remove_chap=true), which removes both.
      - Mutually exclusive with O(remove_mutual_chap).
    type: dict
    suboptions:
      username:
        description:
          - The user name the target presents. B(tgt) - it must differ from O(chap.username).
        type: str
        required: true
      secret:
        description:
          - The target's CHAP secret, 12 to 16 characters.
        type: str
        required: true
  remove_chap:
    description:
      - Remove the volume's CHAP, and its mutual CHAP with it (mutual CHAP needs CHAP). Afterwards the initiators
        in O(initiators) and O(allowed_addresses) log in without any secret.
      - "Removing CHAP is an explicit option, never the effect of leaving O(chap) out, so that a lost variable
        cannot weaken a boot LUN. The access rules are narrowed before CHAP goes, so that no moment is less
        protected than the old and the new state."
      - Mutually exclusive with O(chap).
    type: bool
    default: false
  remove_mutual_chap:
    description:
      - Remove only the volume's mutual CHAP (the target's own credentials); its one-way CHAP stays.
      - Mutually exclusive with O(mutual_chap).
    type: bool
    default: false
  clone_from:
    description:
      - Create the volume as a copy of this one, the name of an existing volume (its backing data), or the absolute
        path of an image file on the storage host.
      - Copy-on-write (reflink) where the filesystem supports it (XFS with C(reflink=1), btrfs), which is near-instant,
        and the clone shares the golden image's blocks until either is written. Otherwise a sparse copy (ext4).
      - Only used when the volume is created; an existing volume or an existing file at O(path) is never overwritten.
      - B(purefa) - the name of a volume or of a snapshot (C(volume.suffix)) on the array, copied by the array.
    type: str
  force:
    description:
      - With O(state=absent), delete the volume even while initiators are logged in, cutting off their sessions.
    type: bool
    default: false
  remove_data:
    description:
      - With O(state=absent), also delete the backing data. By default it is kept.
    type: bool
    default: false
notes:
  - B(tgt) - run it on the storage host, as root, with C(delegate_to) (see the examples); it talks to C(tgtd) over its
    control socket there.
    B(purefa) - run it where the array's API is reachable (the controller); it needs the Python library C(requests).
  - A volume restricted by O(initiators) only gets the address rule C(NONE) as well. Without any address rule,
    C(tgt-admin) (and so a restart of the tgt service) would admit every address; C(NONE) matches no address.
  - "CHAP secrets reach C(tgtd) over its root-only control socket (as every request does), never on a command line,
    where every local user could read them. C(tgt-admin), which restores the volumes at start, does put them on C(tgtadm) command lines for
    a moment."
  - "Changing a CHAP secret does not disconnect an initiator that is logged in: CHAP is checked at login."
  - "Changes fail closed: CHAP is set before access is widened, new CHAP credentials work before the old ones stop
    (both may work for a moment), access is narrowed before CHAP is removed, and a change that fails midway is
    undone, so that the volume ends with its old or its new protection, never less. Running the task again then
    makes the change."
  - Runs against one target are serialized; a run waits at most 5 minutes for another, then fails naming it.
  - "A batch holds the lock once for all its volumes: a play that provisions a rack runs one O(volumes) task on the
    storage host (C(run_once) with C(delegate_to), built from the play's hosts), as the C(sanboot.iscsi.san_boot_volume)
    role does, instead of one task per server."
seealso:
  - module: sanboot.iscsi.san_volume_info
  - plugin: sanboot.iscsi.root_path
    plugin_type: filter
    description: Builds the same RFC 4173 root path as RV(volume.root_path) for DHCP option 17.
  - name: The SAN guide of this collection
    description: How volumes live on tgt, persistence, CHAP rules, growth and rounding, clones.
    link: https://github.com/sanboot/sanboot.iscsi/blob/main/docs/san.md
"""

EXAMPLES = r"""
- name: Boot LUN for winboot01, only for its initiator, with CHAP
  sanboot.iscsi.san_volume:
    name: winboot01
    size: 60G
    target_prefix: iqn.2026-11.com.example.san
    initiators:
      - iqn.1991-05.com.microsoft:winboot01.example.com
    chap:
      username: winboot01
      secret: "{{ vault_winboot01_chap_secret }}"
    portal: 10.0.0.5
  delegate_to: san01.example.com
  become: true
  register: boot_lun

- name: The root path DHCP option 17 must carry
  ansible.builtin.debug:
    msg: "{{ boot_lun.volume.root_path }}"  # iscsi:10.0.0.5:6:3260:1:iqn.2026-11.com.example.san:winboot01

- name: One boot LUN per server, each a copy-on-write clone of the golden image
  sanboot.iscsi.san_volume:
    name: "{{ inventory_hostname_short }}"
    clone_from: golden-2022
    target_prefix: iqn.2026-11.com.example.san
    initiators:
      - "{{ boot_initiator_iqn }}"
    allowed_addresses:
      - 10.0.10.0/24
    chap:
      username: "{{ inventory_hostname_short }}"
      secret: "{{ boot_chap_secret }}"
    mutual_chap:
      username: san01
      secret: "{{ san_mutual_chap_secret }}"
  delegate_to: san01.example.com
  become: true

- name: Grow a volume (never shrinks)
  sanboot.iscsi.san_volume:
    name: winboot01
    size: 80G
    target_prefix: iqn.2026-11.com.example.san
    initiators:
      - iqn.1991-05.com.microsoft:winboot01.example.com
    chap:
      username: winboot01
      secret: "{{ vault_winboot01_chap_secret }}"
  delegate_to: san01.example.com
  become: true

- name: Drop only the mutual CHAP of a volume; its one-way CHAP, left out here, stays as it is
  sanboot.iscsi.san_volume:
    name: winboot01
    target_prefix: iqn.2026-11.com.example.san
    initiators:
      - iqn.1991-05.com.microsoft:winboot01.example.com
    remove_mutual_chap: true
  delegate_to: san01.example.com
  become: true

- name: Stop using CHAP on a volume (explicitly; leaving chap out would keep it)
  sanboot.iscsi.san_volume:
    name: winboot01
    target_prefix: iqn.2026-11.com.example.san
    initiators:
      - iqn.1991-05.com.microsoft:winboot01.example.com
    remove_chap: true
  delegate_to: san01.example.com
  become: true

- name: Boot LUNs for two servers in one task (one batch) on the storage host
  sanboot.iscsi.san_volume:
    target_prefix: iqn.2026-11.com.example.san
    size: 60G
    portal: 10.0.0.5
    volumes:
      - name: winboot02
        initiators: [iqn.1991-05.com.microsoft:winboot02.example.com]
        chap: {username: winboot02, secret: "{{ boot_chap_secret }}"}
      - name: winboot03
        size: 80G
        initiators: [iqn.1991-05.com.microsoft:winboot03.example.com]
        chap: {username: winboot03, secret: "{{ boot_chap_secret }}"}
  delegate_to: san01.example.com
  become: true
  run_once: true
  register: rack

- name: Each server's root path, from the batch result
  ansible.builtin.debug:
    msg: "{{ rack.volume_results | map(attribute='volume') | items2dict(key_name='name', value_name='root_path') }}"
  run_once: true

- name: The golden-image fan-out, a copy-on-write clone of the golden volume per server, in one task
  sanboot.iscsi.san_volume:
    target_prefix: iqn.2026-11.com.example.san
    clone_from: golden-2022
    volumes:
      - {name: winboot11, initiators: [iqn.1991-05.com.microsoft:winboot11.example.com]}
      - {name: winboot12, initiators: [iqn.1991-05.com.microsoft:winboot12.example.com]}
      - {name: winboot13, initiators: [iqn.1991-05.com.microsoft:winboot13.example.com]}
  delegate_to: san01.example.com
  become: true
  run_once: true

- name: The same boot LUN on a Pure Storage FlashArray, from the controller
  sanboot.iscsi.san_volume:
    backend: purefa
    api_url: "{{ flasharray_api_url }}"  # https://flasharray01.example.com
    api_token: "{{ vault_flasharray_api_token }}"
    ca_path: "{{ flasharray_ca_path }}"  # the CA that signed the array's certificate
    name: winboot01
    size: 60G
    lun: 1
    initiators:
      - iqn.1991-05.com.microsoft:winboot01.example.com
    chap:
      username: winboot01
      secret: "{{ vault_winboot01_chap_secret }}"
  register: boot_lun_on_pure

- name: Retire a server's volume, keeping its data
  sanboot.iscsi.san_volume:
    name: winboot01
    state: absent
  delegate_to: san01.example.com
  become: true

- name: Defaults for every SAN task of a block (options both SAN modules have)
  module_defaults:
    group/sanboot.iscsi.san:
      portal: 10.0.0.5
  block:
    - name: A data LUN reachable from the backup network by address
      sanboot.iscsi.san_volume:
        name: winboot01-data
        size: 200G
        target_prefix: iqn.2026-11.com.example.san
        allowed_addresses:
          - 10.0.20.0/24
      delegate_to: san01.example.com
      become: true

    - name: Every volume on the SAN
      sanboot.iscsi.san_volume_info:
      delegate_to: san01.example.com
      become: true
"""

RETURN = r"""
volume:
  description:
    - The volume after the task (in check mode, as it would be). Empty after O(state=absent).
    - Never holds a CHAP secret.
  returned: without O(volumes)
  type: dict
  contains:
    name:
      description: The volume's name.
      type: str
      sample: winboot01
    size_bytes:
      description: The size initiators see, in bytes.
      type: int
      sample: 64424509440
    target_iqn:
      description: The full iSCSI name of the volume's target.
      type: str
      sample: iqn.2026-11.com.example.san:winboot01
    lun:
      description: The LUN of the data.
      type: int
      sample: 1
    portal:
      description: The portal initiators use, C(address:port); null when it cannot be told (see O(portal)).
      type: str
      sample: 10.0.0.5:3260
    initiators:
      description: The initiator IQNs that may log in, canonical lowercase, sorted.
      type: list
      elements: str
      sample: [iqn.1991-05.com.microsoft:winboot01.example.com]
    allowed_addresses:
      description: The addresses and networks that may log in, sorted.
      type: list
      elements: str
      sample: [10.0.10.0/24]
    chap_username:
      description: The one-way CHAP user name, or null.
      type: str
      sample: winboot01
    mutual_chap_username:
      description: The user name the target presents for mutual CHAP, or null.
      type: str
      sample: san01
    path:
      description: The backing file (tgt backend).
      type: str
      sample: /srv/iscsi/winboot01.img
    root_path:
      description:
        - The RFC 4173 root path for DHCP option 17, C(iscsi:<server>:6:<port>:<LUN in hex>:<target IQN>), built by the
          same code as the P(sanboot.iscsi.root_path#filter) filter; null when the portal cannot be told.
      type: str
      sample: iscsi:10.0.0.5:6:3260:1:iqn.2026-11.com.example.san:winboot01
    sessions:
      description: The initiators logged in now, one entry per session.
      type: list
      elements: dict
      sample: [{initiator: iqn.1991-05.com.microsoft:winboot01.example.com, address: 10.0.10.21}]
      contains:
        initiator:
          description: The initiator's IQN, as it sent it.
          type: str
        address:
          description: The address of the session's first connection.
          type: str
    loaded:
      description:
        - Whether the target serves the volume now. False only for a recorded volume the target lost (tgt - C(tgtd)
          restarted without loading its config), which running the task again brings back.
      type: bool
      sample: true
actions:
  description:
    - What was done (in check mode, what would be done), one line per change, without secrets.
    - With O(volumes), the actions of every entry, each line starting with the volume's name.
  returned: always
  type: list
  elements: str
  sample:
    - "grow volume 'winboot01' from 60GiB (64424509440 bytes) to 80GiB (85899345920 bytes)"
kept:
  description:
    - The credential options that were left out and whose current setting the volume keeps, V(chap) and/or
      V(mutual_chap). Leaving them out never removes CHAP; O(remove_chap) and O(remove_mutual_chap) do.
  returned: when an existing volume has CHAP or mutual CHAP that the task left out
  type: list
  elements: str
  sample: [chap, mutual_chap]
clone_method:
  description: How the clone was made, V(reflink) (copy-on-write) or V(sparse copy) (tgt), V(array copy) (purefa).
  returned: when the volume was created with O(clone_from)
  type: str
  sample: reflink
volume_results:
  description:
    - With O(volumes), one entry per entry of O(volumes), in order, each exactly the result the single form (O(name))
      gives for that volume, RV(volume), RV(actions), RV(kept), RV(clone_method), C(changed), and in diff mode C(diff).
    - Without O(volumes), RV(volume), RV(actions), RV(kept) and RV(clone_method) are returned at the top level instead.
  returned: with O(volumes)
  type: list
  elements: dict
  version_added: 0.2.0
  sample:
    - changed: true
      actions: ["create volume winboot02: target iqn.2026-11.com.example.san:winboot02, LUN 1, ..."]
      volume: {name: winboot02, root_path: "iscsi:10.0.0.5:6:3260:1:iqn.2026-11.com.example.san:winboot02"}
    - changed: false
      actions: []
      volume: {name: winboot03, root_path: "iscsi:10.0.0.5:6:3260:1:iqn.2026-11.com.example.san:winboot03"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError, run_volume
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.argspec import volume_module_kwargs
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.registry import BACKENDS


def main():
    module = AnsibleModule(**volume_module_kwargs())

    def run_command(argv):
        return module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})

    try:
        result = run_volume(BACKENDS, module.params, run_command, module.warn, module.check_mode)
    except SanError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="%s: %s" % (exc.filename or "operating system error", exc.strerror or exc))
    if not module._diff:
        result.pop("diff", None)
        for entry in result.get("volume_results", []):
            entry.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
