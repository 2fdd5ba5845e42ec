#ifndef CASCADE_CLIBCRYPTO_SHIM_H
#define CASCADE_CLIBCRYPTO_SHIM_H
// OpenSSL 3 only: keys are built with OSSL_PARAM_BLD / EVP_PKEY_fromdata, never the
// deprecated RSA_* / EC_KEY_* calls, so hide those from Swift altogether.
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

// EVP_PKEY_PUBLIC_KEY is an OR of nested macros, which Swift does not import.
static inline int cascade_evp_pkey_public_key_selection(void) {
    return EVP_PKEY_PUBLIC_KEY;
}

// OpenSSL keeps some of the names it is given rather than copying them: an EVP_PKEY_CTX its
// key type, an OSSL_PARAM array its keys, a builder its string values until to_param. A Swift
// String bridged to `const char *` lives only for the one call, so these come from C literals.
static inline const char *cascade_key_type_rsa(void) { return "RSA"; }
static inline const char *cascade_key_type_ec(void) { return "EC"; }
static inline const char *cascade_param_rsa_n(void) { return OSSL_PKEY_PARAM_RSA_N; }
static inline const char *cascade_param_rsa_e(void) { return OSSL_PKEY_PARAM_RSA_E; }
static inline const char *cascade_param_group_name(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *cascade_param_public_key(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
static inline const char *cascade_group_p256(void) { return SN_X9_62_prime256v1; }

#endif
