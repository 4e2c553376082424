"""The event contract of DESIGN.md §2 and §8, shared by the service and the CAD adapters.

The canonical event and its kinds, a typed payload per kind, RFC 3339 times, what the stores can
keep, the wire model that validates a posted event, and which role may post which kind. It imports
neither `service` nor `cad_adapters`: both build on it.
"""
