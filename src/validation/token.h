/*
 * token.h: approval tokens, the secret in a validation email's link.
 *
 * A token is never stored. The outbox row keeps a 16-byte random nonce,
 * the token is base64url(HMAC-SHA-256(token key, nonce)) without padding
 * (43 characters, 256 bits), and approval_tokens keeps SHA-256(token) as
 * the lookup key. The token key is HKDF-SHA-256 of the master key (info
 * "certfleet approval tokens"), so a copy of the database alone can
 * neither read nor forge a link.
 */
#ifndef CERTFLEET_VALIDATION_TOKEN_H
#define CERTFLEET_VALIDATION_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"

#define TOKEN_KEY_LEN 32
#define TOKEN_NONCE_LEN 16
#define TOKEN_HASH_LEN 32
/* base64url of 32 bytes, no padding, plus NUL */
#define TOKEN_TEXT_LEN 43
#define TOKEN_TEXT_SIZE (TOKEN_TEXT_LEN + 1)

/* Derives the token key from the 32-byte master key. */
int token_key_derive(const unsigned char *master, size_t master_len,
    unsigned char key[TOKEN_KEY_LEN]) _wur_;
/* 16 random bytes from the CSPRNG. */
int token_nonce_new(unsigned char nonce[TOKEN_NONCE_LEN]) _wur_;
/* The token for a nonce, NUL-terminated in out. */
int token_from_nonce(const unsigned char key[TOKEN_KEY_LEN],
    const unsigned char nonce[TOKEN_NONCE_LEN],
    char out[TOKEN_TEXT_SIZE]) _wur_;
/* SHA-256 of the token text. */
void token_hash(const char *token, unsigned char hash[TOKEN_HASH_LEN]);
/* Exactly 43 base64url characters: anything else is not worth a query. */
bool token_well_formed(const char *token);

#endif
