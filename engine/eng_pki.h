/* The engine's own certificate authority and HTTPS server certificate.
 *
 * At first start eng_pki_open makes, under opts->dir (the "pki" folder of
 * the state dir):
 *   ca.pem      the CA certificate (0644), served at /ca.crt
 *   ca.key      its P-256 private key (0600)
 *   server.pem  the server certificate, signed by the CA (0644)
 *   server.key  its P-256 private key (0600)
 * On later starts it loads and checks them: a private key readable by group
 * or others is refused naming the file; the server certificate must be
 * signed by the CA and match its key; one that expires within renew_days
 * (or lacks a configured name) is re-issued from the CA, with a log line.
 * Setup may later put its own files there; the CA key is only needed to
 * issue or renew the server certificate. */
#ifndef ENG_PKI_H
#define ENG_PKI_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Validity. The CA is the trust anchor clients keep (herdctl --ca-file,
 * oVirt SDKs' ca_file, browsers): ten years so that it outlives the
 * installation's first hardware, as oVirt's own engine CA does. The server
 * certificate: two years (730 days) stays under the 825-day limit Apple
 * platforms enforce on every TLS server certificate, even under a private
 * CA; it is renewed automatically renew_days before it ends, so a
 * shorter life would only mean more churn. */
#define ENG_PKI_CA_DAYS 3650
#define ENG_PKI_SERVER_DAYS 730
#define ENG_PKI_RENEW_DAYS 30
#define ENG_PKI_MAX_NAMES 32

typedef struct eng_pki eng_pki_t;

typedef struct {
    const char *dir;            /* folder of the four files; made 0755 */
    /* Extra subjectAltNames: DNS names ("engine.example.com", "*.lab")
     * or IPv4/IPv6 addresses; NULL-terminated, may be NULL. "localhost"
     * and 127.0.0.1 are always included; the any-addresses 0.0.0.0, ::
     * and * are skipped, so api.listen can be passed as it is. */
    const char *const *names;
    /* More names as one string separated by commas or blanks, as a config
     * value gives them ("engine.lab, 192.0.2.7"); NULL or "" for none. */
    const char *names_list;
    int ca_days;                /* 0: ENG_PKI_CA_DAYS */
    int server_days;            /* 0: ENG_PKI_SERVER_DAYS */
    int renew_days;             /* 0: ENG_PKI_RENEW_DAYS */
} eng_pki_opts_t;

/* Create or load the CA and server certificate (see above). NULL with an
 * error recorded: CMN_ERR_CONFIG for a bad name, a key file open to group
 * or others, files that do not belong together or a missing CA; CMN_ERR_IO
 * for file errors; CMN_ERR_INTERNAL for OpenSSL failures. The message
 * names the file. */
eng_pki_t *eng_pki_open(const eng_pki_opts_t *opts);
void eng_pki_destroy(eng_pki_t **p);

/* Re-issue the server certificate if it ends within renew_days of now (or
 * lacks a configured name). 1 if it was renewed (make a new SSL_CTX), 0 if
 * not needed or not possible while it is still valid (no ca.key: a warning
 * is logged), -1 with an error recorded (expired and no ca.key, write
 * failure). For a daily timer; eng_pki_open already does this once. */
int eng_pki_renew_if_needed(eng_pki_t *p);

/* A new SSL_CTX for the HTTPS server (TLS 1.2 and later, the server
 * certificate and key loaded). The caller owns it (SSL_CTX_free). NULL with
 * CMN_ERR_INTERNAL recorded. */
SSL_CTX *eng_pki_server_ctx(const eng_pki_t *p);

/* The CA certificate as PEM text, NUL-terminated, owned by `p`. */
const char *eng_pki_ca_pem(const eng_pki_t *p);

/* The certificates, owned by `p` (for tests and for logging). */
X509 *eng_pki_ca_cert(const eng_pki_t *p);
X509 *eng_pki_server_cert(const eng_pki_t *p);

#endif /* ENG_PKI_H */
