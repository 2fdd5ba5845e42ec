#!/usr/bin/env python3
"""Mints the bearer tokens the JWT tests send, with PyJWT and `cryptography` (neither written here).

    python3 scripts/contracts/mint_tokens.py OUTDIR ISSUER

Writes to OUTDIR:
  jwks.json               keys rsa-1 (RSA 2048) and ec-1 (P-256)
  jwks-rotated.json       rsa-1, ec-1 and a new rsa-2
  jwks-rotated-only.json  rsa-2 and ec-1: rsa-1 removed
  hs256.secret            a 40-byte development secret, with a trailing newline as `echo` leaves one
  tokens.json             {name: {"authorization": header or null, "code": 200|401|403, "reason": label}}
                          (the codes are the answers without --hs256-secret-file)
Every token is minted now, so the time claims are relative to the moment the test runs. The
private keys stay in this process.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

out, issuer = sys.argv[1], sys.argv[2]
now = int(time.time())


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk(private, kid):
    # PyJWT's own JWK export, so the key set is written by code no one here wrote.
    algorithm = jwt.algorithms.RSAAlgorithm if isinstance(private, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
    key = json.loads(algorithm.to_jwk(private.public_key()))
    key.update({"kid": kid, "use": "sig"})
    return key


rsa1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec1 = ec.generate_private_key(ec.SECP256R1())

for name, keys in [("jwks.json", [jwk(rsa1, "rsa-1"), jwk(ec1, "ec-1")]),
                   ("jwks-rotated.json", [jwk(rsa1, "rsa-1"), jwk(ec1, "ec-1"), jwk(rsa2, "rsa-2")]),
                   ("jwks-rotated-only.json", [jwk(rsa2, "rsa-2"), jwk(ec1, "ec-1")])]:
    with open(os.path.join(out, name), "w") as f:
        json.dump({"keys": keys}, f)


hs256_secret = os.urandom(20).hex().encode()
with open(os.path.join(out, "hs256.secret"), "wb") as f:
    f.write(hs256_secret + b"\n")


def claims(**changes):
    base = {"iss": issuer, "token_use": "access", "client_id": "fleet-a", "scope": "streamline/complete_jobs",
            "exp": now + 3600, "iat": now - 10, "sub": "fleet-a"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def rs256(payload, key=rsa1, kid="rsa-1"):
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def es256(payload):
    return jwt.encode(payload, ec1, algorithm="ES256", headers={"kid": "ec-1"})


def raw(header, payload, signature):
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)])


good = rs256(claims())
h, p, s = good.split(".")
pem = rsa1.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
confusion_input = (b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode()) + "." + p).encode()
es_token = es256(claims(scope="streamline/admin"))
eh, ep, es = es_token.split(".")

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
raw_sig = base64.urlsafe_b64decode(es + "=" * (-len(es) % 4))
der = encode_dss_signature(int.from_bytes(raw_sig[:32], "big"), int.from_bytes(raw_sig[32:], "big"))

tokens = {
    # accepted
    "rs256_with_scope": (good, 200, None),
    "es256_admin_scope": (es_token, 200, None),
    "human_admin_group": (rs256(claims(scope=None, **{"cognito:groups": ["admin"], "username": "ada"})), 200, None),
    "inside_leeway": (rs256(claims(exp=now - 30)), 200, None),
    # 401
    "forged_signature": (rs256(claims(), key=forger), 401, "bad_signature"),
    "alg_none_empty_signature": (raw({"alg": "none", "typ": "JWT"}, claims(), b""), 401, "algorithm_not_allowed"),
    "alg_none_with_signature": (raw({"alg": "none", "typ": "JWT"}, claims(), b"x" * 32), 401, "algorithm_not_allowed"),
    "hs256_with_public_key_pem": (confusion_input.decode() + "." + b64(hmac.new(pem, confusion_input, hashlib.sha256).digest()),
                                  401, "algorithm_not_allowed"),
    "expired": (rs256(claims(exp=now - 3600, iat=now - 7200)), 401, "expired"),
    "not_yet_valid": (rs256(claims(nbf=now + 3600)), 401, "not_yet_valid"),
    "wrong_issuer": (rs256(claims(iss="https://elsewhere.example")), 401, "wrong_issuer"),
    "client_not_allowed": (rs256(claims(client_id="intruder")), 401, "client_not_allowed"),
    "id_token": (rs256(claims(token_use="id")), 401, "wrong_token_use"),
    "malformed_base64url": (h + ".*" + p[1:] + "." + s, 401, "bad_encoding"),
    "padding": (h + "." + p + "=" * (-len(p) % 4 or 4) + "." + s, 401, "bad_encoding"),
    "two_segments": (h + "." + p, 401, "malformed"),
    "four_segments": (good + "." + s, 401, "malformed"),
    "nine_kib": (rs256(claims(pad="x" * 9216)), 401, "too_large"),
    "header_not_json": (b64(b"not json") + "." + p + "." + s, 401, "malformed"),
    "claims_of_wrong_types": (rs256(claims(exp=str(now + 3600))), 401, "bad_claims"),
    "unknown_kid": (rs256(claims(), key=rsa2, kid="rsa-9"), 401, "unknown_key"),
    "rs256_naming_the_ec_key": (rs256(claims(), kid="ec-1"), 401, "key_type_mismatch"),
    "issued_in_the_future": (rs256(claims(iat=now + 3600)), 401, "issued_in_future"),
    "no_kid_one_rsa_key": (jwt.encode(claims(), rsa1, algorithm="RS256"), 200, None),
    "es256_der_signature": (eh + "." + ep + "." + b64(der), 401, "bad_signature"),
    "basic_scheme": ("Basic " + b64(b"user:password"), 401, "not_bearer"),
    "missing_header": (None, 401, "missing"),
    "hs256_development": (jwt.encode(claims(), hs256_secret, algorithm="HS256"), 401, "algorithm_not_allowed"),
    # 403
    "read_models_only": (rs256(claims(scope="streamline/read_models")), 403, "insufficient_scope"),
    # rotation
    "signed_by_new_key": (rs256(claims(), key=rsa2, kid="rsa-2"), 200, None),
}
document = {name: {"authorization": None if token is None else (token if token.startswith("Basic ") else "Bearer " + token),
                   "code": code, "reason": reason}
            for name, (token, code, reason) in tokens.items()}
with open(os.path.join(out, "tokens.json"), "w") as f:
    json.dump(document, f)
