#!/usr/bin/env python3
"""Bearer tokens for `make bench`'s --auth jwt drain, minted by PyJWT (not by us).

    python3 scripts/contracts/mint_bench_tokens.py OUTDIR ISSUER N

Writes OUTDIR/jwks.json (one RSA 2048 key, one P-256 key), and OUTDIR/rs256.txt and
OUTDIR/es256.txt: N distinct `Bearer <token>` lines each, valid for a day, with the scope
Cascade requires by default.
"""
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

out, issuer, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
now = int(time.time())
keys = {"rs256": (rsa.generate_private_key(public_exponent=65537, key_size=2048), "bench-rsa", jwt.algorithms.RSAAlgorithm),
        "es256": (ec.generate_private_key(ec.SECP256R1()), "bench-ec", jwt.algorithms.ECAlgorithm)}
jwks = []
for private, kid, algorithm in keys.values():
    key = json.loads(algorithm.to_jwk(private.public_key()))
    key.update({"kid": kid, "use": "sig"})
    jwks.append(key)
with open(os.path.join(out, "jwks.json"), "w") as f:
    json.dump({"keys": jwks}, f)
for name, (private, kid, _) in keys.items():
    with open(os.path.join(out, name + ".txt"), "w") as f:
        for i in range(count):
            claims = {"iss": issuer, "token_use": "access", "client_id": f"handler-{i}", "sub": f"handler-{i}",
                      "scope": "streamline/complete_jobs", "iat": now, "exp": now + 86400}
            f.write("Bearer " + jwt.encode(claims, private, algorithm=name.upper(), headers={"kid": kid}) + "\n")
