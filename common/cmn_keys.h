/* CURVE key files shared by the engine, the agent and herd-agent-setup.
 *
 * A key file holds one Z85 key (40 characters, zmq_z85_encode of the raw
 * 32 bytes) on one line; blank lines and lines starting with '#' are
 * ignored. Secret key files must be private: a regular file that neither
 * group nor others may read or write (0600 or 0400). A secret key file with
 * a wider mode is refused at start with an error naming the file and the
 * fix ("chmod 600 FILE"); public key files may be world-readable.
 *
 * Fingerprint: "SHA256:" followed by the unpadded base64 of the SHA-256 of
 * the raw 32-byte public key, as OpenSSH shows host keys (and oVirt shows
 * host.ssh.fingerprint). 50 characters. */
#ifndef CMN_KEYS_H
#define CMN_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define CMN_KEY_Z85_LEN 40          /* characters, without the NUL */
#define CMN_KEY_FP_LEN 51           /* "SHA256:" + 43 base64 + NUL */

/* True if `s` is exactly one Z85 key (40 characters of the Z85 alphabet). */
bool cmn_key_valid(const char *s);

/* The fingerprint of public key `z85` into fp. -1 with CMN_ERR_INVALID if
 * it is not a key. */
int cmn_key_fingerprint(const char *z85, char fp[CMN_KEY_FP_LEN]);

/* Make a new key pair (Z85, NUL-terminated). -1 with an error recorded. */
int cmn_key_generate(char pub[CMN_KEY_Z85_LEN + 1],
                     char sec[CMN_KEY_Z85_LEN + 1]);

/* The public key of secret key `sec`. -1 with CMN_ERR_INVALID. */
int cmn_key_public_of(const char *sec, char pub[CMN_KEY_Z85_LEN + 1]);

/* Read a public key file. -1 with CMN_ERR_CONFIG naming the file. */
int cmn_key_load_public(const char *path, char out[CMN_KEY_Z85_LEN + 1]);

/* Read a secret key file after checking that it is a regular file private
 * to its owner. -1 with CMN_ERR_CONFIG naming the file (and, for a wide
 * mode, the chmod that fixes it). */
int cmn_key_load_secret(const char *path, char out[CMN_KEY_Z85_LEN + 1]);

/* Write a key file atomically: secret keys 0600, public keys 0644, the
 * folder made 0700 if missing. `comment` (may be NULL) goes on a '#' line
 * above the key. -1 with an error recorded. */
int cmn_key_write(const char *path, const char *z85, bool secret,
                  const char *comment);

/* Load the pair at sec_path/pub_path, or make and write one if neither
 * file exists. The public key file is rewritten from the secret key if it
 * is missing or disagrees. *created (may be NULL) says whether a new pair
 * was made. -1 with an error recorded (a secret key that is unreadable or
 * too open is an error, never silently replaced). */
int cmn_key_ensure_pair(const char *sec_path, const char *pub_path,
                        const char *comment, char pub[CMN_KEY_Z85_LEN + 1],
                        char sec[CMN_KEY_Z85_LEN + 1], bool *created);

#endif /* CMN_KEYS_H */
