"""The firewall policy as data (firewall/policy.yml) and what is rendered from it: the FortiGate pair's
configuration, an nftables ruleset per VM, the lab's enforcement between its networks, and a flow test."""
