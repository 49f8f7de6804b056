"""OSON Appliance control-node package: topology model, `osonctl`, lab, drills and audit."""

__version__ = "0.1.0"
