"""The physical rack: VM placement on the two hypervisors and what each hypervisor carries."""
