"""The auditor's report (`osonctl audit`): control catalogue, live evidence, TLS scan, signed JSON/HTML/PDF."""
