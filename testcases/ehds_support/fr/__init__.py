"""French (Sesali) helpers for the checks: the purpose of a consented access, the test professionals,
the mock Pro Sante Connect provider, the test translation catalogue, the identity-trait table and the
mock national contact point. Harness machinery only: the SUTs never import it."""

#: The purpose a French professional states when reading a patient summary through Sesali
#: (the access the patient's consent must cover, FR-003). A harness code, not an official one.
CROSS_BORDER_PURPOSE = "cross-border-care"
