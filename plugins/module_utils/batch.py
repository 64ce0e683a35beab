# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The rules the batch forms share (san_volume `volumes`, dhcp_reservation `reservations`).

An entry of a batch is the single form's options for one object; an option the entry leaves out takes
the task's top-level value, so that what every entry shares is written once. Each area says which
options an entry may give, which are the entry's own (never inherited), and which exclude each other."""

from __future__ import annotations

import copy


def item_spec(spec: dict, options, required: str) -> dict:
    """The argument spec of one entry: each of `options` as `spec` declares it, without its default (an
    entry that leaves the option out takes the top-level value, whose default applies when that is left
    out too) and not required, except `required`, the option that names the entry."""
    item = {}
    for option in options:
        definition = copy.deepcopy(spec[option])
        definition.pop("default", None)
        definition.pop("required", None)
        item[option] = definition
    item[required]["required"] = True
    return item


def merge_item(params: dict, entry: dict, batch_option: str, item_options, own_options, exclusive_groups=()):
    """One entry as the single form's parameters, and the set of options the entry gives.

    The module's top-level parameters (without `batch_option`), with each of `item_options` the entry gives
    in place of the top-level value; `own_options` (the entry's own, never inherited) are None unless the
    entry gives them. An option the entry gives drops the inherited options of its `exclusive_groups` that
    the entry leaves out, so that only the entry's own options can contradict each other."""
    merged = {key: value for key, value in params.items() if key != batch_option}
    for option in own_options:
        merged[option] = None
    given = {key for key, value in entry.items() if key in item_options and value is not None}
    for key in given:
        merged[key] = entry[key]
    for group in exclusive_groups:
        if given & set(group):
            for option in group:
                if option not in given:
                    merged[option] = None
    return merged, given
