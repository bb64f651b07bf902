"""Data package: requirement profiles, their schema and pinned FHIR/CDA packages
(installed as `conformance._profiles`; located through `conformance.resources`)."""
