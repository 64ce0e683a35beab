# -*- coding: utf-8 -*-
# Copyright (c) 2026, sanboot.iscsi contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Redfish backend: NetworkDeviceFunction.iSCSIBoot through a DMTF Redfish service.

Used as a context manager: the session it opens is deleted when the run ends, also on failure.
"""

from __future__ import annotations

import time

from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.backends.redfish import discovery
from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.backends.redfish.client import RedfishClient
from ansible_collections.sanboot.iscsi.plugins.module_utils.bmc.core import BmcError, deep_merge

FINAL_TASK_STATES = ("Completed", "Killed", "Exception", "Cancelled")
POLL_SECONDS = 1.0


class RedfishBackend:
    name = "redfish"

    def __init__(self, params: dict):
        self.timeout = int(params.get("timeout") or 30)
        self.client = RedfishClient(params.get("baseuri"), username=params.get("username"),
                                    password=params.get("password"), auth_token=params.get("auth_token"),
                                    validate_certs=params.get("validate_certs", True) is not False,
                                    ca_path=params.get("ca_path"), timeout=self.timeout)
        self.service_root = None

    def __enter__(self):
        response = self.client.request("GET", "/redfish/v1", authenticated=False)
        if response.status != 200 or not isinstance(response.body, dict):
            self.client.check(response, "read the service root /redfish/v1 (is this a Redfish service?)", expected=(200,))
            raise BmcError("%s/redfish/v1 is not a Redfish service root (no JSON object)" % self.client.root)
        self.service_root = response.body
        self.client.login(self.service_root)
        return self

    def __exit__(self, *exc_info):
        self.client.logout()
        return False

    # -- reading

    def find_function(self, mac_address=None, function_id=None):
        return discovery.find_function(self.client, self.service_root, mac_address, function_id)

    def list_functions(self):
        return discovery.list_functions(self.client, self.service_root)

    # -- writing

    def write(self, function, plan, apply_time: str):
        """PATCH the plan where the function is written, with If-Match; returns the job it started, if any."""
        body = deep_merge(plan.body, {"iSCSIBoot": dict(plan.secrets)} if plan.secrets else {})
        if function.write_kind == "settings":
            body["@Redfish.SettingsApplyTime"] = {"ApplyTime": apply_time}
        headers = {"If-Match": function.write_etag} if getattr(function, "write_etag", None) else {}
        response = self.client.request("PATCH", function.write_uri, body, headers)
        if response.status == 412:
            raise BmcError("the BMC changed %s between this module's read and its write (ETag mismatch, HTTP 412): "
                           "nothing was written; run the task again" % function.write_uri)
        self.client.check(response, "change %s" % function.write_uri)
        location = response.header("Location")
        if response.status == 202 and location:
            return self.job(location)
        return None

    def job(self, location: str) -> dict:
        if "://" in location:
            location = "/" + location.split("://", 1)[1].split("/", 1)[1]
        response = self.client.request("GET", location)
        if response.status == 202 and not (response.body or {}).get("TaskState"):
            return {"uri": location, "state": "Running", "status": None, "message": None}
        self.client.check(response, "read the job %s" % location, expected=(200, 202))
        task = response.body or {}
        if "TaskState" not in task and "JobState" in task:
            states = {"Scheduled": "Pending", "Completed": "Completed"}
            task = dict(task, TaskState=states.get(task["JobState"], task["JobState"]))
        return discovery.job_summary(location, task)

    def clear_pending(self, function):
        if function.job:
            self.client.check(self.client.request("DELETE", function.job["uri"]),
                              "delete the pending job %s" % function.job["uri"])

    # -- the system

    def _system(self, function) -> str:
        systems_link = discovery._link(self.service_root, "Systems")
        systems = discovery._members(self.client, systems_link) if systems_link else []
        if not systems:
            raise BmcError("the BMC at %s lists no computer system to reset" % self.client.root)
        adapter = function.uri.split("/NetworkDeviceFunctions/")[0]
        for system in systems:
            interfaces = discovery._link(self.client.get(system).body, "NetworkInterfaces")
            for interface in discovery._members(self.client, interfaces) if interfaces else []:
                body = self.client.get(interface).body or {}
                if discovery._link(body.get("Links") or {}, "NetworkAdapter") == adapter:
                    return system
        if len(systems) == 1:
            return systems[0]
        raise BmcError("cannot tell which of the BMC's systems (%s) holds %s" % (", ".join(systems), function.uri))

    def reset_and_wait(self, function, job):
        """ComputerSystem.Reset of the function's system, then wait (bounded by timeout) for the job, or for the
        pending values to be in force when there is no job."""
        system_uri = self._system(function)
        system = self.client.get(system_uri).body or {}
        action = (system.get("Actions") or {}).get("#ComputerSystem.Reset") or {}
        if not action.get("target"):
            raise BmcError("the system %s offers no ComputerSystem.Reset action" % system_uri)
        allowed = action.get("ResetType@Redfish.AllowableValues") or ["ForceRestart"]
        if system.get("PowerState") == "Off":
            reset_type = "On" if "On" in allowed else allowed[0]
        else:
            reset_type = next((kind for kind in ("GracefulRestart", "ForceRestart", "PowerCycle") if kind in allowed),
                              allowed[0])
        self.client.check(self.client.request("POST", action["target"], {"ResetType": reset_type}),
                          "reset %s (%s)" % (system_uri, reset_type))
        deadline = time.monotonic() + self.timeout
        while True:
            if job:
                job = self.job(job["uri"])
                if job.get("state") in FINAL_TASK_STATES:
                    return dict(job, reset_type=reset_type)
            else:
                if not discovery.read_function(self.client, self.service_root, function.uri).pending:
                    return {"uri": None, "state": "Completed", "status": None, "reset_type": reset_type,
                            "message": "the staged settings are in force"}
            if time.monotonic() > deadline:
                raise BmcError("the server %s was reset (%s) but %s did not finish within timeout=%d seconds"
                               % (system_uri, reset_type, "job %s" % job["uri"] if job else "applying the staged settings",
                                  self.timeout))
            time.sleep(POLL_SECONDS)

    def boot_first(self, function, check_mode: bool) -> dict:
        """Put the function's iSCSI boot option first: UEFI BootOrder, else a continuous UefiTarget override."""
        system_uri = self._system(function)
        system = self.client.get(system_uri).body or {}
        boot = system.get("Boot") or {}
        options_link = discovery._link(boot, "BootOptions") or discovery._link(system, "BootOptions")
        mac_hex = (function.mac or "").replace(":", "").upper()
        option = None
        for uri in discovery._members(self.client, options_link) if options_link else []:
            body = self.client.get(uri).body or {}
            path = str(body.get("UefiDevicePath") or "")
            if "iSCSI(" in path and mac_hex and mac_hex in path.upper().replace(":", ""):
                option = body
                break
        if option is None:
            return {"changed": False, "method": None, "warning": (
                "boot_order: the system %s lists no UEFI boot option for the iSCSI device of %s yet (Intel and QLogic "
                "NICs add it only after a first successful iSCSI connection); the boot order was left alone: run "
                "the task again after the first boot" % (system_uri, function.mac))}
        reference = option.get("BootOptionReference")
        order = boot.get("BootOrder")
        if isinstance(order, list) and reference:
            if order and order[0] == reference:
                return {"changed": False, "method": "BootOrder", "boot_option": reference}
            body = {"Boot": {"BootOrder": [reference] + [item for item in order if item != reference]}}
            method = "BootOrder"
        elif "UefiTarget" in (boot.get("BootSourceOverrideTarget@Redfish.AllowableValues") or []):
            if boot.get("BootSourceOverrideTarget") == "UefiTarget" and \
                    boot.get("UefiTargetBootSourceOverride") == option.get("UefiDevicePath") and \
                    boot.get("BootSourceOverrideEnabled") == "Continuous":
                return {"changed": False, "method": "UefiTarget", "boot_option": reference}
            body = {"Boot": {"BootSourceOverrideTarget": "UefiTarget", "BootSourceOverrideEnabled": "Continuous",
                             "UefiTargetBootSourceOverride": option.get("UefiDevicePath")}}
            method = "UefiTarget"
        else:
            return {"changed": False, "method": None, "warning": (
                "boot_order: the system %s offers neither a UEFI BootOrder nor a UefiTarget boot override; the boot "
                "order was left alone" % system_uri)}
        if not check_mode:
            self.client.check(self.client.request("PATCH", system_uri, body), "change the boot order of %s" % system_uri)
        return {"changed": True, "method": method, "boot_option": reference}
