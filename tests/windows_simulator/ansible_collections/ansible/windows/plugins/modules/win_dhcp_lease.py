# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Simulator stand-in for ansible.windows.win_dhcp_lease (a test double; see sanboot_simulator).

Leases and reservations of the simulated Windows DHCP Server, with the real module's behaviour
(win_dhcp_lease.ps1 in ansible.windows 3.x) where it matters to callers:
- it looks the MAC up among all leases of all scopes (Get-DhcpServerv4Lease: dynamic leases and
  reservations alike), and only when the MAC has none, the IP;
- a dynamic lease found that way becomes a reservation by `$lease | Add-DhcpServerv4Reservation`,
  which reserves the lease's own address in its scope: the ip option is not used then;
- an existing reservation keeps its IP and scope (only its name and description are updated);
- in check mode an existing lease or reservation is always reported changed;
- creating a reservation with dns_hostname fails, because the real module passes it on to
  Add-DhcpServerv4Reservation, which has no -HostName parameter;
- without an existing lease, scope_id is required;
- removing a reservation removes its option values with it, as the DHCP server does; removing a
  dynamic lease (Remove-DhcpServerv4Lease) just forgets it.
- a dynamic lease found by ip that belongs to another client than mac is converted for that other
  client, after which the real module fails; the simulator fails at once (the roles never ask for
  it: their plan refuses an address another client holds a lease on)."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.sanboot_simulator import SimulatorError, WindowsState

ARGUMENT_SPEC = {
    "type": {"type": "str", "choices": ["reservation", "lease"], "default": "reservation"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "ip": {"type": "str"},
    "scope_id": {"type": "str"},
    "mac": {"type": "str"},
    "dns_hostname": {"type": "str"},
    "reservation_name": {"type": "str"},
    "description": {"type": "str"},
}


def convert_mac(mac):
    """Convert-MacAddress of the real module: 12 characters get dashes, 17 get colons replaced."""
    if len(mac) == 12:
        return "-".join(mac[index:index + 2] for index in range(0, 12, 2))
    if len(mac) == 17:
        return mac.replace(":", "-")
    return None


def summary(lease, state="InactiveReservation"):
    return {"address_state": state, "client_id": lease.get("client_id"), "ip_address": lease.get("ip"),
            "scope_id": lease.get("scope_id"), "name": lease.get("name"), "description": lease.get("description")}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_one_of=[["mac", "ip"]], supports_check_mode=True)
    params = module.params
    if params["type"] != "reservation":
        module.fail_json(msg="the simulator models reservations only")
    mac = None
    if params["mac"]:
        mac = convert_mac(params["mac"])
        if mac is None:
            module.fail_json(msg="The MAC Address is not properly formatted")
    try:
        with WindowsState(check_mode=module.check_mode) as state:
            dhcp = state.data.get("dhcp")
            if dhcp is None:
                module.fail_json(msg="The DhcpServer module failed to load properly: the specified module 'DhcpServer' "
                                     "was not loaded because no valid module file was found")
            reservations = dhcp.setdefault("reservations", [])
            leases = dhcp.setdefault("leases", [])
            # Get-DhcpServerv4Scope | Get-DhcpServerv4Lease: reservations and dynamic leases.
            everything = [("reservation", held) for held in reservations] + [("lease", held) for held in leases]
            current = None
            if mac:
                current = next((entry for entry in everything if str(entry[1].get("client_id")).casefold() == mac.casefold()),
                               None)
            if current is None and params["ip"]:
                current = next((entry for entry in everything if str(entry[1].get("ip")) == params["ip"]), None)

            if params["state"] == "absent":
                if current is None:
                    module.exit_json(changed=False, msg="The lease doesn't exist.")
                kind, held = current
                if kind == "reservation":
                    reservations.remove(held)
                    (dhcp.get("reservation_options") or {}).pop(str(held.get("ip")), None)
                else:
                    leases.remove(held)
                module.exit_json(changed=True)

            if current is not None and current[0] == "lease":
                # $current_lease | Add-DhcpServerv4Reservation: the lease's address, in the lease's scope.
                held = current[1]
                if mac and str(held.get("client_id")).casefold() != mac.casefold():
                    # Found by ip: another client's lease. The real module pipes that lease (with its client
                    # id) to Add-DhcpServerv4Reservation, then looks for a reservation of mac, finds none and
                    # fails, leaving the address reserved for the other client. The roles never ask for this.
                    module.fail_json(msg="Could not convert lease to a reservation: %s is leased to %s, not %s (the real "
                                         "module would reserve it for %s first)"
                                         % (held.get("ip"), held.get("client_id"), mac, held.get("client_id")))
                client = mac or held.get("client_id")
                if module.check_mode:
                    module.exit_json(changed=True)
                leases.remove(held)
                reservation = {"scope_id": held.get("scope_id"), "ip": held.get("ip"), "client_id": client,
                               "name": params["reservation_name"] or "reservation-" + str(client),
                               "description": params["description"] or held.get("description")}
                reservations.append(reservation)
                module.exit_json(changed=True, lease=summary(reservation))

            if current is not None:
                held = current[1]
                before = dict(held)
                name = params["reservation_name"] or held.get("name") or "reservation-" + str(held.get("client_id"))
                held["name"] = name
                held["description"] = params["description"] or held.get("description")
                if module.check_mode:
                    module.exit_json(changed=True)
                module.exit_json(changed=before != held, lease=summary(held))

            if not params["scope_id"]:
                module.fail_json(msg="The scope_id parameter is required for state=present when a lease or reservation "
                                     "doesn't already exist")
            if params["dns_hostname"] and not module.check_mode:
                module.fail_json(msg="Could not create DHCP reservation: A parameter cannot be found that matches "
                                     "parameter name 'HostName'.")
            if not any(scope.get("scope_id") == params["scope_id"] for scope in dhcp.get("scopes") or []):
                module.fail_json(msg="Could not create DHCP reservation: Failed to get the scope %s on the DHCP server"
                                     % params["scope_id"])
            lease = {"scope_id": params["scope_id"], "ip": params["ip"], "client_id": mac.lower(),
                     "name": params["reservation_name"] or "reservation-" + mac,
                     "description": params["description"]}
            reservations.append(lease)
    except SimulatorError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=True, lease=summary(lease))


if __name__ == "__main__":
    main()
