# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx configuration of the documentation site that `make docs` builds (tools/docs.py).

The source tree is staged by tools/docs.py: the guide pages of docs/ (Markdown, read with
myst-parser) and the collection reference antsibull-docs renders from the plugins' and roles'
own documentation. The build runs with -W -n: any warning, a broken internal link or a reference
to a page or label that does not exist among them, fails it.
"""

from __future__ import annotations

import re

project = "sanboot.iscsi"
copyright = "sanboot.iscsi contributors"
title = "sanboot.iscsi: boot Windows servers from an iSCSI SAN"
html_short_title = "sanboot.iscsi"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = []

# Links inside the guide to a heading of another page (page.md#heading) resolve like any other
# reference, and fail the build when the heading is not there.
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

pygments_style = "ansible"
# Unlabelled code blocks of the guide are plain text (shell output, device messages); the reference
# labels its YAML blocks itself.
highlight_language = "none"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
html_theme_options = {"display_version": False}

# Every reference is checked. What cannot be checked offline is named here, and only that: the
# pages of other collections and of docs.ansible.com (their inventories are on the internet),
# which antsibull-docs links from our plugin pages (M(ansible.windows.win_dhcp_lease), the common
# return values). References inside sanboot.iscsi and the guide are never ignored.
nitpicky = True
_ANSIBLE_DOCS_LABELS = ("common_return_values", "action_plugins", "playbooks_delegation", "ansible_configuration_settings",
                        "module_defaults", "playbooks_filters", "playbooks_tests")
nitpick_ignore_regex = [
    ("ref", r"ansible_collections\.(?!sanboot\.iscsi\.).*"),
    ("ref", "|".join(re.escape(label) for label in _ANSIBLE_DOCS_LABELS)),
]
