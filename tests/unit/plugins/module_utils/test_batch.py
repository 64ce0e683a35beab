# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/batch.py: the rules san_volume's `volumes` and dhcp_reservation's `reservations` share."""

from __future__ import annotations

from ansible_collections.sanboot.iscsi.plugins.module_utils.batch import item_spec, merge_item

SPEC = {"name": {"type": "str", "required": True}, "size": {"type": "str", "default": "1G"},
        "chap": {"type": "dict", "options": {"secret": {"type": "str", "no_log": True}}},
        "target_iqn": {"type": "str"}, "target_prefix": {"type": "str", "default": "iqn.2026-11.test"},
        "volumes": {"type": "list"}}


def test_an_entry_spec_has_no_defaults_and_requires_only_the_naming_option():
    item = item_spec(SPEC, ("name", "size", "chap"), "name")
    assert item == {"name": {"type": "str", "required": True}, "size": {"type": "str"},
                    "chap": {"type": "dict", "options": {"secret": {"type": "str", "no_log": True}}}}
    item["chap"]["options"]["secret"]["no_log"] = False
    assert SPEC["chap"]["options"]["secret"]["no_log"] is True  # a copy: the module's own spec is untouched
    assert SPEC["size"]["default"] == "1G"


def test_an_entry_takes_what_it_leaves_out_from_the_top_level_but_never_an_own_option():
    params = {"name": None, "size": "8G", "chap": {"secret": "top-level"}, "target_iqn": "iqn.2026-11.test:top",
              "target_prefix": None, "volumes": [{"name": "a"}]}
    merged, given = merge_item(params, {"name": "a", "size": None}, "volumes", ("name", "size", "chap", "target_iqn"),
                               ("name", "target_iqn"))
    assert given == {"name"}
    assert merged == {"name": "a", "size": "8G", "chap": {"secret": "top-level"}, "target_iqn": None,
                      "target_prefix": None}


def test_an_option_the_entry_gives_drops_the_inherited_options_it_excludes():
    params = {"name": None, "target_iqn": None, "target_prefix": "iqn.2026-11.test", "size": "8G"}
    merged, given = merge_item(params, {"name": "a", "target_iqn": "iqn.2026-11.test:own"}, "volumes",
                               ("name", "target_iqn", "target_prefix", "size"), ("name",),
                               [("target_iqn", "target_prefix")])
    assert given == {"name", "target_iqn"}
    assert merged["target_iqn"] == "iqn.2026-11.test:own" and merged["target_prefix"] is None and merged["size"] == "8G"
