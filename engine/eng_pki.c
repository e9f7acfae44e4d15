/* The engine's CA and HTTPS server certificate with OpenSSL 3 (EVP and
 * X509 APIs only, no deprecated ones). See eng_pki.h for the files and the
 * rules. Keys are P-256: every TLS 1.2 client speaks ECDSA, they are made
 * in a millisecond (RSA-3072 takes a second or more) and give 128-bit
 * security like RSA-3072. */
#include "eng_pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("engine.pki");

#define PEM_MAX (256 * 1024)
#define DAY_S (24 * 60 * 60)

struct eng_pki {
    char dir[PATH_MAX];
    char ca_pem_path[PATH_MAX], ca_key_path[PATH_MAX];
    char srv_pem_path[PATH_MAX], srv_key_path[PATH_MAX];
    char *names[ENG_PKI_MAX_NAMES + 2];     /* normalised, "localhost" first */
    bool is_ip[ENG_PKI_MAX_NAMES + 2];
    size_t nnames;
    int ca_days, server_days, renew_days;
    X509 *ca;
    EVP_PKEY *ca_key;                       /* NULL if ca.key is absent */
    X509 *srv;
    EVP_PKEY *srv_key;
    char *ca_pem;
};

/* Record CMN_ERR_INTERNAL with OpenSSL's newest queued error appended. */
static int ossl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
ossl_err(const char *fmt, ...)
{
    char what[512], lib[256] = "no detail";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    unsigned long e = ERR_peek_last_error();
    if (e != 0)
        ERR_error_string_n(e, lib, sizeof(lib));
    ERR_clear_error();
    return CMN_ERR(CMN_ERR_INTERNAL, "%s: %s", what, lib);
}

/* ---- names ----------------------------------------------------------------- */

static bool
dns_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 253)
        return false;
    if (strncmp(n, "*.", 2) == 0)
        n += 2;
    if (*n == '\0' || *n == '.' || *n == '-')
        return false;
    for (; *n; n++) {
        char c = *n;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* Add `name` (an address in canonical text, or a DNS name in lower case)
 * unless present. */
static int
add_name(eng_pki_t *p, const char *name)
{
    char buf[INET6_ADDRSTRLEN + 256];
    unsigned char bin[16];
    bool ip = false;
    if (strcmp(name, "0.0.0.0") == 0 || strcmp(name, "::") == 0 ||
        strcmp(name, "*") == 0) {
        CMN_DEBUG("'%s' (any address) is not a certificate name; skipped",
                  name);
        return 0;
    }
    if (inet_pton(AF_INET, name, bin) == 1) {
        ip = inet_ntop(AF_INET, bin, buf, sizeof(buf)) != NULL;
    } else if (inet_pton(AF_INET6, name, bin) == 1) {
        ip = inet_ntop(AF_INET6, bin, buf, sizeof(buf)) != NULL;
    } else if (dns_name_ok(name)) {
        size_t i = 0;
        for (; name[i] && i + 1 < sizeof(buf); i++)
            buf[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ?
                            name[i] + 32 : name[i]);
        buf[i] = '\0';
    } else {
        return CMN_ERR(CMN_ERR_CONFIG, "pki: certificate name '%.100s' is "
                       "neither a host name nor an IP address", name);
    }
    for (size_t i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], buf) == 0)
            return 0;
    if (p->nnames >= ENG_PKI_MAX_NAMES + 2)
        return CMN_ERR(CMN_ERR_CONFIG, "pki: more than %d certificate names",
                       ENG_PKI_MAX_NAMES);
    p->names[p->nnames] = strdup(buf);
    if (p->names[p->nnames] == NULL)
        return CMN_ERR(CMN_ERR_NOMEM, "pki: out of memory");
    p->is_ip[p->nnames++] = ip;
    return 0;
}

/* Names separated by commas or blanks. */
static int
add_name_list(eng_pki_t *p, const char *list)
{
    const char *s = list ? list : "";
    while (*s != '\0') {
        while (*s == ',' || *s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, ", \t");
        if (n == 0)
            break;
        char name[256];
        if (n >= sizeof(name))
            return CMN_ERR(CMN_ERR_CONFIG, "pki: certificate name '%.40s...' "
                           "is too long", s);
        memcpy(name, s, n);
        name[n] = '\0';
        if (add_name(p, name) < 0)
            return -1;
        s += n;
    }
    return 0;
}

/* "DNS:localhost,IP:127.0.0.1,..." for the subjectAltName extension. The
 * names were checked by add_name, so no ',' can sneak in. */
static char *
san_text(const eng_pki_t *p)
{
    size_t cap = 16;
    for (size_t i = 0; i < p->nnames; i++)
        cap += strlen(p->names[i]) + 5;
    char *s = malloc(cap);
    if (s == NULL) {
        CMN_ERR(CMN_ERR_NOMEM, "pki: out of memory");
        return NULL;
    }
    size_t off = 0;
    for (size_t i = 0; i < p->nnames; i++)
        off += (size_t)snprintf(s + off, cap - off, "%s%s:%s", i ? "," : "",
                                p->is_ip[i] ? "IP" : "DNS", p->names[i]);
    return s;
}

/* True if the certificate's subjectAltName holds `name` exactly. */
static bool
cert_has_name(X509 *cert, const char *name, bool ip)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
                                           NULL);
    bool found = false;
    for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) && !found;
         i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (!ip && g->type == GEN_DNS) {
            const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
            int len = ASN1_STRING_length(g->d.dNSName);
            found = (size_t)len == strlen(name) &&
                    strncasecmp((const char *)d, name, (size_t)len) == 0;
        } else if (ip && g->type == GEN_IPADD) {
            unsigned char bin[16];
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
            int af = strchr(name, ':') ? AF_INET6 : AF_INET;
            found = inet_pton(af, name, bin) == 1 &&
                    len == (af == AF_INET ? 4 : 16) &&
                    memcmp(bin, d, (size_t)len) == 0;
        }
    }
    GENERAL_NAMES_free(gens);
    return found;
}

/* ---- files ----------------------------------------------------------------- */

static bool
file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A private key must be a regular file nobody but its owner can read. */
static int
check_key_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "%s: cannot stat private key", path);
    if (!S_ISREG(st.st_mode))
        return CMN_ERR(CMN_ERR_CONFIG, "%s: private key is not a regular file",
                       path);
    if ((st.st_mode & 077) != 0)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: private key is open to group or "
                       "others (mode %04o); refusing to use it. Run: chmod "
                       "600 %s", path, (unsigned)(st.st_mode & 07777), path);
    return 0;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

static X509 *
read_cert(const char *path)
{
    size_t len = 0;
    CMN_AUTOFREE char *text = cmn_file_read(path, PEM_MAX, &len);
    if (text == NULL)
        return NULL;
    BIO *b = BIO_new_mem_buf(text, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    if (x == NULL) {
        ERR_clear_error();
        CMN_ERR(CMN_ERR_CONFIG, "%s: not a PEM certificate", path);
    }
    return x;
}

static EVP_PKEY *
read_key(const char *path)
{
    if (check_key_mode(path) < 0)
        return NULL;
    size_t len = 0;
    CMN_AUTOFREE char *text = cmn_file_read(path, PEM_MAX, &len);
    if (text == NULL)
        return NULL;
    BIO *b = BIO_new_mem_buf(text, (int)len);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
                    : NULL;
    BIO_free(b);
    OPENSSL_cleanse(text, len);
    if (k == NULL) {
        ERR_clear_error();
        CMN_ERR(CMN_ERR_CONFIG, "%s: not an unencrypted PEM private key",
                path);
    }
    return k;
}

/* Write a certificate (x) or a private key (k) as PEM, atomically. */
static int
write_pem(const char *path, X509 *x, EVP_PKEY *k, unsigned mode)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return ossl_err("%s: encoding", path);
    int ok = x ? PEM_write_bio_X509(b, x)
               : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    if (!ok) {
        BIO_free(b);
        return ossl_err("%s: encoding", path);
    }
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    int rc = cmn_file_write_atomic(path, data, (size_t)len, mode);
    if (len > 0)
        OPENSSL_cleanse(data, (size_t)len);
    BIO_free(b);
    return rc;
}

/* ---- making certificates --------------------------------------------------- */

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return ossl_err("pki: extension %s=%s", OBJ_nid2sn(nid), value);
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : ossl_err("pki: adding extension %s", OBJ_nid2sn(nid));
}

/* A certificate for `key` named `cn`, signed by issuer/issuer_key (NULL:
 * self-signed with `key`), valid from an hour ago (clock skew) for `days`.
 * `san` NULL makes a CA. */
static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
          int days, const char *san)
{
    X509 *x = X509_new();
    BIGNUM *serial = BN_new();
    if (x == NULL || serial == NULL)
        goto ossl_fail;
    /* 159 random bits: positive, unique, at most 20 bytes (RFC 5280). */
    if (!X509_set_version(x, X509_VERSION_3) ||
        !BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) ||
        !X509_set_pubkey(x, key))
        goto ossl_fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                    (const unsigned char *)"Herd", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                        : name))
        goto ossl_fail;
    int rc;
    if (san == NULL) {
        rc = add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE,"
                     "pathlen:0");
        rc = rc ?: add_ext(x, issuer, NID_key_usage,
                           "critical,keyCertSign,cRLSign");
    } else {
        rc = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        rc = rc ?: add_ext(x, issuer, NID_key_usage,
                           "critical,digitalSignature");
        rc = rc ?: add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
        rc = rc ?: add_ext(x, issuer, NID_subject_alt_name, san);
    }
    rc = rc ?: add_ext(x, issuer, NID_subject_key_identifier, "hash");
    rc = rc ?: add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    if (rc < 0)
        goto fail;
    if (X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0)
        goto ossl_fail;
    BN_free(serial);
    return x;

ossl_fail:
    ossl_err("pki: making certificate '%s'", cn);
fail:
    BN_free(serial);
    X509_free(x);
    return NULL;
}

static EVP_PKEY *
make_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (k == NULL)
        ossl_err("pki: generating a P-256 key");
    return k;
}

static int
make_ca(eng_pki_t *p)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    char cn[300];
    snprintf(cn, sizeof(cn), "Herd CA %.200s", host);
    p->ca_key = make_key();
    if (p->ca_key == NULL)
        return -1;
    p->ca = make_cert(cn, p->ca_key, NULL, NULL, p->ca_days, NULL);
    if (p->ca == NULL)
        return -1;
    /* key first: a pem without its key would block the next start */
    if (write_pem(p->ca_key_path, NULL, p->ca_key, 0600) < 0 ||
        write_pem(p->ca_pem_path, p->ca, NULL, 0644) < 0)
        return -1;
    CMN_INFO("made a new CA '%s' (%d days) in %s", cn, p->ca_days,
             p->dir);
    return 0;
}

static int
issue_server(eng_pki_t *p, const char *why)
{
    if (p->ca_key == NULL)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: missing; it is needed to issue "
                       "the server certificate (%s)", p->ca_key_path, why);
    CMN_AUTOFREE char *san = san_text(p);
    if (san == NULL)
        return -1;
    EVP_PKEY *key = make_key();
    if (key == NULL)
        return -1;
    X509 *x = make_cert(p->names[p->nnames > 2 ? 2 : 0], key, p->ca,
                        p->ca_key, p->server_days, san);
    if (x == NULL || write_pem(p->srv_key_path, NULL, key, 0600) < 0 ||
        write_pem(p->srv_pem_path, x, NULL, 0644) < 0) {
        X509_free(x);
        EVP_PKEY_free(key);
        return -1;
    }
    X509_free(p->srv);
    EVP_PKEY_free(p->srv_key);
    p->srv = x;
    p->srv_key = key;
    CMN_INFO("issued server certificate %s (%d days; %s): %s",
             p->srv_pem_path, p->server_days, why, san);
    return 0;
}

/* ---- checks ---------------------------------------------------------------- */

/* Why the server certificate should be re-issued, or NULL if it is fine. */
static const char *
renew_reason(const eng_pki_t *p, char *buf, size_t size)
{
    time_t limit = time(NULL) + (time_t)p->renew_days * DAY_S;
    if (X509_cmp_time(X509_get0_notAfter(p->srv), &limit) <= 0) {
        snprintf(buf, size, "it expires within %d days", p->renew_days);
        return buf;
    }
    for (size_t i = 0; i < p->nnames; i++) {
        if (!cert_has_name(p->srv, p->names[i], p->is_ip[i])) {
            snprintf(buf, size, "it lacks the name %s", p->names[i]);
            return buf;
        }
    }
    return NULL;
}

int
eng_pki_renew_if_needed(eng_pki_t *p)
{
    char why[300];
    if (renew_reason(p, why, sizeof(why)) == NULL)
        return 0;
    time_t now = time(NULL);
    if (p->ca_key == NULL &&
        X509_cmp_time(X509_get0_notAfter(p->srv), &now) > 0) {
        /* Certificates from elsewhere (setup, an external CA): keep
         * serving while they are valid. */
        CMN_WARN("server certificate %s should be renewed (%s) but %s is "
                 "absent; renew it by hand", p->srv_pem_path, why,
                 p->ca_key_path);
        return 0;
    }
    CMN_INFO("renewing server certificate %s: %s", p->srv_pem_path, why);
    return issue_server(p, why) < 0 ? -1 : 1;
}

static int
check_ca(eng_pki_t *p)
{
    if (p->ca_key != NULL && X509_check_private_key(p->ca, p->ca_key) != 1) {
        ERR_clear_error();
        return CMN_ERR(CMN_ERR_CONFIG, "%s: does not belong to %s",
                       p->ca_key_path, p->ca_pem_path);
    }
    if (X509_check_ca(p->ca) < 1)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: not a CA certificate",
                       p->ca_pem_path);
    time_t now = time(NULL), soon = now + (time_t)p->renew_days * DAY_S;
    if (X509_cmp_time(X509_get0_notAfter(p->ca), &now) <= 0)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: the CA certificate has expired; "
                       "make a new one with herd-engine-setup",
                       p->ca_pem_path);
    if (X509_cmp_time(X509_get0_notAfter(p->ca), &soon) <= 0)
        CMN_WARN("%s: the CA certificate expires within %d days",
                 p->ca_pem_path, p->renew_days);
    return 0;
}

static int
load_server(eng_pki_t *p)
{
    p->srv_key = read_key(p->srv_key_path);
    if (p->srv_key == NULL)
        return -1;
    p->srv = read_cert(p->srv_pem_path);
    if (p->srv == NULL)
        return -1;
    if (X509_check_private_key(p->srv, p->srv_key) != 1) {
        ERR_clear_error();
        return CMN_ERR(CMN_ERR_CONFIG, "%s: does not belong to %s",
                       p->srv_key_path, p->srv_pem_path);
    }
    if (X509_verify(p->srv, X509_get0_pubkey(p->ca)) != 1) {
        ERR_clear_error();
        return CMN_ERR(CMN_ERR_CONFIG, "%s: not signed by the CA in %s",
                       p->srv_pem_path, p->ca_pem_path);
    }
    return eng_pki_renew_if_needed(p) < 0 ? -1 : 0;
}

static int
join(char *out, const char *dir, const char *file)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);
    if (n < 0 || n >= PATH_MAX)
        return CMN_ERR(CMN_ERR_CONFIG, "pki: path '%s' is too long", dir);
    return 0;
}

static int
load_or_create(eng_pki_t *p)
{
    bool ca_pem = file_exists(p->ca_pem_path);
    bool ca_key = file_exists(p->ca_key_path);
    bool srv_pem = file_exists(p->srv_pem_path);
    bool srv_key = file_exists(p->srv_key_path);
    /* Refuse open keys before anything else, even ones we'd replace. */
    if ((ca_key && check_key_mode(p->ca_key_path) < 0) ||
        (srv_key && check_key_mode(p->srv_key_path) < 0))
        return -1;
    if (!ca_pem && !ca_key && !srv_pem && !srv_key) {
        if (make_ca(p) < 0)
            return -1;
        return issue_server(p, "first start");
    }
    if (!ca_pem)
        return CMN_ERR(CMN_ERR_CONFIG, "%s: missing, but other files of the "
                       "engine's PKI are in %s; restore it (clients trust "
                       "it) or remove the folder to make a new CA",
                       p->ca_pem_path, p->dir);
    p->ca = read_cert(p->ca_pem_path);
    if (p->ca == NULL)
        return -1;
    if (ca_key && (p->ca_key = read_key(p->ca_key_path)) == NULL)
        return -1;
    if (check_ca(p) < 0)
        return -1;
    if (srv_pem && srv_key)
        return load_server(p);
    if (srv_pem || srv_key)
        CMN_WARN("%s without %s; issuing a new server certificate",
                 srv_pem ? p->srv_pem_path : p->srv_key_path,
                 srv_pem ? p->srv_key_path : p->srv_pem_path);
    return issue_server(p, "no server certificate");
}

eng_pki_t *
eng_pki_open(const eng_pki_opts_t *o)
{
    if (o == NULL || o->dir == NULL || o->dir[0] == '\0') {
        CMN_ERR(CMN_ERR_CONFIG, "pki: no folder given");
        return NULL;
    }
    if (o->ca_days < 0 || o->server_days < 0 || o->renew_days < 0) {
        CMN_ERR(CMN_ERR_CONFIG, "pki: negative validity");
        return NULL;
    }
    eng_pki_t *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        CMN_ERR(CMN_ERR_NOMEM, "pki: out of memory");
        return NULL;
    }
    p->ca_days = o->ca_days ? o->ca_days : ENG_PKI_CA_DAYS;
    p->server_days = o->server_days ? o->server_days : ENG_PKI_SERVER_DAYS;
    p->renew_days = o->renew_days ? o->renew_days : ENG_PKI_RENEW_DAYS;
    snprintf(p->dir, sizeof(p->dir), "%s", o->dir);
    if (join(p->ca_pem_path, o->dir, "ca.pem") < 0 ||
        join(p->ca_key_path, o->dir, "ca.key") < 0 ||
        join(p->srv_pem_path, o->dir, "server.pem") < 0 ||
        join(p->srv_key_path, o->dir, "server.key") < 0)
        goto fail;
    if (add_name(p, "localhost") < 0 || add_name(p, "127.0.0.1") < 0)
        goto fail;
    for (size_t i = 0; o->names != NULL && o->names[i] != NULL; i++)
        if (add_name(p, o->names[i]) < 0)
            goto fail;
    if (add_name_list(p, o->names_list) < 0)
        goto fail;
    if (cmn_mkdir_p(o->dir, 0755) < 0 || load_or_create(p) < 0)
        goto fail;

    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len = 0;
    if (b == NULL || !PEM_write_bio_X509(b, p->ca) ||
        (len = BIO_get_mem_data(b, &data)) <= 0 ||
        (p->ca_pem = strndup(data, (size_t)len)) == NULL) {
        BIO_free(b);
        ossl_err("pki: encoding the CA certificate");
        goto fail;
    }
    BIO_free(b);
    return p;

fail:
    eng_pki_destroy(&p);
    return NULL;
}

void
eng_pki_destroy(eng_pki_t **pp)
{
    if (pp == NULL || *pp == NULL)
        return;
    eng_pki_t *p = *pp;
    for (size_t i = 0; i < p->nnames; i++)
        free(p->names[i]);
    X509_free(p->ca);
    EVP_PKEY_free(p->ca_key);
    X509_free(p->srv);
    EVP_PKEY_free(p->srv_key);
    free(p->ca_pem);
    free(p);
    *pp = NULL;
}

SSL_CTX *
eng_pki_server_ctx(const eng_pki_t *p)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        ossl_err("pki: SSL_CTX_new");
        return NULL;
    }
    /* TLS 1.2 with forward-secret AEAD suites only; TLS 1.3 suites are
     * all fine as OpenSSL ships them. */
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") ||
        SSL_CTX_use_certificate(ctx, p->srv) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, p->srv_key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ossl_err("pki: setting up the TLS server context");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    return ctx;
}

const char *
eng_pki_ca_pem(const eng_pki_t *p)
{
    return p->ca_pem;
}

X509 *
eng_pki_ca_cert(const eng_pki_t *p)
{
    return p->ca;
}

X509 *
eng_pki_server_cert(const eng_pki_t *p)
{
    return p->srv;
}
