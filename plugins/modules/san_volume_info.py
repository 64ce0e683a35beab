#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: san_volume_info
short_description: The iSCSI boot volumes on a SAN, with their access rules and sessions
version_added: 0.1.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Lists the volumes that M(sanboot.iscsi.san_volume) manages, or one of them, in the same shape as its
    RV(sanboot.iscsi.san_volume#module:volume) return, including the initiators logged in now.
  - B(tgt backend) - the volumes are those with a config file in O(config_dir); other targets of the same C(tgtd) are
    not listed. A volume whose config file exists but which C(tgtd) does not serve (it restarted without loading its
    config) is listed with RV(volumes[].loaded=false).
  - B(purefa backend) - the volumes are the array volumes carrying the collection's tag (C(sanboot-iscsi/volume));
    other volumes of the array are not listed.
  - Never returns a CHAP secret.
extends_documentation_fragment:
  - sanboot.iscsi.attributes
  - sanboot.iscsi.attributes.INFO_MODULE
  - sanboot.iscsi.attributes.ACTIONGROUP_SAN
  - sanboot.iscsi.san_backends
options:
  name:
    description:
      - Only this volume. RV(volumes) is empty when it does not exist.
      - All volumes when omitted (and O(volumes) is not given).
      - Mutually exclusive with O(volumes).
    type: str
  volumes:
    description:
      - Only these volumes, read once for all of them (one listing of the target however many there are); RV(volumes)
        lists those that exist, in this order. Mutually exclusive with O(name).
      - An entry with O(volumes[].chap) or O(volumes[].mutual_chap) also tells whether the volume holds that secret,
        in RV(volumes[].chap_secret_differs) and RV(volumes[].mutual_chap_secret_differs), as M(sanboot.iscsi.san_volume)
        in check mode would (the boot chain preflight uses it). The secrets are compared where the volume keeps its
        record (tgt - its 0600 config file) and never returned.
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      name:
        description: The volume's name.
        type: str
        required: true
      chap:
        description: One-way CHAP credentials to compare with the volume's.
        type: dict
        suboptions:
          username:
            description: The CHAP user name.
            type: str
            required: true
          secret:
            description: The CHAP secret.
            type: str
            required: true
      mutual_chap:
        description: Mutual CHAP credentials to compare with the volume's.
        type: dict
        suboptions:
          username:
            description: The user name the target presents.
            type: str
            required: true
          secret:
            description: The target's CHAP secret.
            type: str
            required: true
notes:
  - B(tgt) - run it on the storage host, as root, with C(delegate_to). B(purefa) - run it where the array's API is
    reachable (the controller).
seealso:
  - module: sanboot.iscsi.san_volume
  - plugin: sanboot.iscsi.root_path
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Every volume on the SAN
  sanboot.iscsi.san_volume_info:
    portal: 10.0.0.5
  delegate_to: san01.example.com
  become: true
  register: san

- name: Volumes with nobody logged in
  ansible.builtin.debug:
    msg: "{{ san.volumes | selectattr('sessions', 'equalto', []) | map(attribute='name') | list }}"

- name: One volume, to check that its server booted from it
  sanboot.iscsi.san_volume_info:
    name: winboot01
  delegate_to: san01.example.com
  become: true
  register: winboot01_volume

- name: Several volumes in one read, and whether the SAN holds this CHAP secret for one of them
  sanboot.iscsi.san_volume_info:
    volumes:
      - name: winboot01
      - name: winboot02
        chap:
          username: winboot02
          secret: "{{ boot_chap_secret }}"
  delegate_to: san01.example.com
  become: true
  register: some_volumes

- name: The server's initiator is logged in
  ansible.builtin.assert:
    that:
      - winboot01_volume.volumes | length == 1
      - winboot01_volume.volumes[0].sessions | map(attribute='initiator') | select('equalto', boot_initiator_iqn) | list | length > 0
"""

RETURN = r"""
volumes:
  description: The volumes, sorted by name, each as san_volume returns RV(sanboot.iscsi.san_volume#module:volume).
  returned: always
  type: list
  elements: dict
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
      description: The initiator IQNs that may log in, sorted.
      type: list
      elements: str
      sample: [iqn.1991-05.com.microsoft:winboot01.example.com]
    allowed_addresses:
      description: The addresses and networks that may log in, sorted.
      type: list
      elements: str
      sample: []
    chap_username:
      description: The one-way CHAP user name, or null.
      type: str
      sample: winboot01
    mutual_chap_username:
      description: The user name the target presents for mutual CHAP, or null.
      type: str
      sample: null
    path:
      description: The backing file (tgt backend).
      type: str
      sample: /srv/iscsi/winboot01.img
    root_path:
      description: The RFC 4173 root path for DHCP option 17; null when the portal cannot be told.
      type: str
      sample: iscsi:10.0.0.5:6:3260:1:iqn.2026-11.com.example.san:winboot01
    sessions:
      description: The initiators logged in now, one entry per session, each with C(initiator) and C(address).
      type: list
      elements: dict
      sample: [{initiator: iqn.1991-05.com.microsoft:winboot01.example.com, address: 10.0.10.21}]
    loaded:
      description: Whether the target serves the volume now.
      type: bool
      sample: true
    chap_secret_differs:
      description:
        - Whether the volume's one-way CHAP is not the O(volumes[].chap) given (another user name or secret, none, or a
          secret that cannot be read back to compare).
      returned: with O(volumes) and O(volumes[].chap)
      type: bool
      sample: false
      version_added: 0.2.0
    mutual_chap_secret_differs:
      description: The same for O(volumes[].mutual_chap).
      returned: with O(volumes) and O(volumes[].mutual_chap)
      type: bool
      sample: false
      version_added: 0.2.0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError, run_info
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.argspec import info_module_kwargs
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.registry import BACKENDS


def main():
    module = AnsibleModule(**info_module_kwargs())

    def run_command(argv):
        return module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})

    try:
        result = run_info(BACKENDS, module.params, run_command, module.warn)
    except SanError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="%s: %s" % (exc.filename or "operating system error", exc.strerror or exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
