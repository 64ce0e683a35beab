#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: san_image
short_description: Write a disk image (a sysprepped golden image) onto a SAN volume through iSCSI
version_added: 0.2.0
author: sanboot.iscsi contributors (@sanboot)
description:
  - Writes a disk image, in any format C(qemu-img) reads (raw, qcow2, VHDX, VHD, VMDK, ...), onto a volume's LUN
    B(through iSCSI itself), logging in with the volume's initiator name and CHAP, as its server will. So it works for
    every SAN the collection can reach, an array or C(tgt).
  - Refuses an image larger than the LUN. Refuses to overwrite a LUN that already holds a partition table, a file
    system or any other data in its first MiB, naming what it found, unless O(force=true).
  - "Idempotent without reading the LUN back: the image's digest (SHA-256 of the image file), format and size are
    recorded with the volume by the SAN backend (B(tgt) - a line in the volume's C(0600) config file, which
    M(sanboot.iscsi.san_volume) keeps), and a run whose image has the recorded digest writes nothing."
  - The record says V(writing) before the write and V(written) after it, so that a run that failed half-way is
    finished by the next run without O(force).
  - The CHAP secret reaches C(qemu-img) through a pipe, never a command line (which every local user can read) or a
    file.
extends_documentation_fragment:
  - sanboot.iscsi.attributes
  - sanboot.iscsi.san_backends
attributes:
  check_mode:
    support: full
    details:
      - Logs in, reads the LUN's size and first MiB and the volume's record, and says in RV(msg) and RV(actions) what
        it would write. Writes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - By the digest recorded with the volume.
options:
  image:
    description:
      - The disk image, a path on the host the module runs on.
    type: path
    required: true
  image_format:
    description:
      - The image's format, in C(qemu-img)'s names (V(vpc) is VHD; V(vhd) is accepted for it). Default - detected by
        C(qemu-img info). When given, the image must be of that format.
    type: str
  root_path:
    description:
      - The LUN as an RFC 4173 root path, C(iscsi:<server>:<protocol>:<port>:<LUN>:<target IQN>), for example
        RV(sanboot.iscsi.san_volume#module:volume.root_path). Mutually exclusive with O(portal) and O(target_iqn).
    type: str
  portal:
    description:
      - With O(target_iqn), the portal to log in to, C(address) or C(address:port) (IPv6 in brackets when a port is
        given; port default 3260).
    type: str
  target_iqn:
    description:
      - With O(portal), the target's full IQN.
    type: str
  lun:
    description:
      - With O(portal) and O(target_iqn), the LUN. Default 1. (With O(root_path), the LUN is in the root path.)
    type: int
  initiator_iqn:
    description:
      - The initiator name to log in with; the volume must admit it (its ACL).
    type: str
    required: true
  chap:
    description:
      - One-way CHAP credentials for the login, as the volume has them.
    type: dict
    suboptions:
      username:
        description: The CHAP user name.
        type: str
        required: true
      secret:
        description: The CHAP secret, 12 to 16 characters.
        type: str
        required: true
  mutual_chap:
    description:
      - The target's credentials (mutual CHAP). Checked against the rules of O(chap), but C(qemu-img) (QEMU's iscsi
        driver) cannot authenticate a target, so the image is written after one-way CHAP; a warning says so.
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
  force:
    description:
      - Overwrite a LUN that holds a partition table, a file system, other data, or another image. Its data is lost.
      - Never overrides the size rule.
    type: bool
    default: false
notes:
  - Needs C(qemu-img) with its iscsi driver on the host it runs on (Debian - C(qemu-utils) and C(qemu-block-extra)), and
    that host must reach the portal.
  - "The image record is kept by the SAN backend, which O(backend) and its connection options name, as for
    M(sanboot.iscsi.san_volume). B(tgt): the module must run on the storage host (it reads and writes the volume's config
    file in O(config_dir)); the volume must have been made by M(sanboot.iscsi.san_volume)."
  - O(portal) here is where the image is written to, not (as in M(sanboot.iscsi.san_volume)) the portal to report.
  - The digest is of the image file (its bytes, container included), so the same disk in another format is another
    image.
seealso:
  - module: sanboot.iscsi.san_volume
  - name: Images onto boot LUNs
    description: The golden-image workflow, from a sysprepped image to N servers.
    link: https://github.com/sanboot/sanboot.iscsi/blob/main/docs/imaging.md
"""

EXAMPLES = r"""
- name: The golden volume, for the imaging host only
  sanboot.iscsi.san_volume:
    name: golden-2022
    size: 60G
    target_prefix: iqn.2026-11.com.example.san
    initiators: [iqn.2026-11.com.example:imaging]
    chap: {username: imaging, secret: "{{ vault_imaging_chap_secret }}"}
    portal: 10.0.0.5
  delegate_to: san01.example.com
  become: true
  register: golden

- name: The sysprepped image onto it, through iSCSI
  sanboot.iscsi.san_image:
    image: /srv/images/ws2022-sysprep.vhdx
    root_path: "{{ golden.volume.root_path }}"
    initiator_iqn: iqn.2026-11.com.example:imaging
    chap: {username: imaging, secret: "{{ vault_imaging_chap_secret }}"}
  delegate_to: san01.example.com
  become: true
  register: written

- name: How much was written, how long it took
  ansible.builtin.debug:
    msg: "{{ written.bytes_written }} bytes ({{ written.format }}, {{ written.digest }}) in {{ written.seconds }} s"

- name: Re-image a volume that holds an older image (its data is lost)
  sanboot.iscsi.san_image:
    image: /srv/images/ws2022-sysprep-2.qcow2
    portal: 10.0.0.5
    target_iqn: iqn.2026-11.com.example.san:golden-2022
    lun: 1
    initiator_iqn: iqn.2026-11.com.example:imaging
    chap: {username: imaging, secret: "{{ vault_imaging_chap_secret }}"}
    force: true
  delegate_to: san01.example.com
  become: true
"""

RETURN = r"""
changed:
  description: Whether the image was written (in check mode, would be).
  returned: always
  type: bool
bytes_written:
  description: The bytes written onto the LUN (the image's virtual size); 0 when nothing was written and in check mode.
  returned: always
  type: int
  sample: 64424509440
digest:
  description: The image file's digest, C(sha256:<hex>), as recorded with the volume.
  returned: always
  type: str
  sample: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
format:
  description: The image's format (C(qemu-img)'s name).
  returned: always
  type: str
  sample: vhdx
image_size_bytes:
  description: The image's virtual size, what it occupies on the LUN.
  returned: always
  type: int
lun_size_bytes:
  description: The LUN's size, as the target reports it through iSCSI.
  returned: always
  type: int
volume:
  description: The name of the volume the LUN belongs to.
  returned: always
  type: str
  sample: golden-2022
seconds:
  description: How long the write took; 0 when nothing was written.
  returned: always
  type: float
progress:
  description: C(qemu-img)'s progress at every 10%, with the elapsed time (shown with C(-v)).
  returned: always
  type: list
  elements: str
  sample: ["10% after 3.2 s", "20% after 6.1 s"]
actions:
  description: What was done (in check mode, what would be done), without secrets.
  returned: always
  type: list
  elements: str
msg:
  description: The outcome in words.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sanboot.iscsi.plugins.module_utils.san.argspec import image_argument_spec
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.core import SanError
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.image import run_image
from ansible_collections.sanboot.iscsi.plugins.module_utils.san.registry import BACKENDS


def main():
    module = AnsibleModule(argument_spec=image_argument_spec(), supports_check_mode=True)

    def run_command(argv):
        return module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})

    try:
        result = run_image(BACKENDS, module.params, run_command, module.warn, module.check_mode)
    except SanError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="%s: %s" % (exc.filename or "operating system error", exc.strerror or exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
