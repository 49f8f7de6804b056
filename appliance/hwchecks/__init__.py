"""Hardware prechecks: the §14.2 servers over Redfish, the MSA 2040 over its XML API, the hypervisors' OS facts.

Everything here only reads: the management controllers are asked with GET requests and the hosts
with Ansible's fact gathering, before anything is changed.
"""
