"""psc_skips_signature: the ID token's claims are read without verifying its signature (alg none and
tokens signed by unknown keys pass). Breaks FR-002."""

from __future__ import annotations

import base64
import json
from typing import Any

from conformance.adapter import Denied
from conformance.adapters.reference.service import ReferenceEHR
from tests.mutants._factory import mutant_factory


class PscSkipsSignature(ReferenceEHR):
    def verify_signature(self, id_token: str) -> dict[str, Any]:
        try:  # BUG: the payload is trusted as it is
            payload = id_token.split(".")[1]
            return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
        except (IndexError, ValueError) as exc:
            raise Denied(f"unreadable ID token ({exc})") from None


create = mutant_factory(PscSkipsSignature, "psc_skips_signature")
