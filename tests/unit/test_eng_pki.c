/* The engine's CA and server certificate: first start makes the four files
 * with the right modes; a second start loads the same CA and server
 * certificate; a key open to others is refused naming the file; the server
 * certificate verifies against the CA (X509_verify_cert, hostname and IP
 * checks) and carries the SANs; near-expiry and new names renew it; a TLS
 * handshake over a memory BIO pair works with TLS 1.2+ and fails below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cmn_err.h"
#include "cmn_util.h"
#include "eng_pki.h"

typedef struct {
    char dir[64];
    char pki[96];
} fx_t;

static int
setup(void **state)
{
    fx_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_eng_pki.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->pki, sizeof(fx->pki), "%s/pki", fx->dir);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fx_t *fx = *state;
    static const char *const files[] = { "ca.pem", "ca.key", "server.pem",
                                         "server.key" };
    char path[160];
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->pki, files[i]);
        unlink(path);
    }
    rmdir(fx->pki);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static eng_pki_t *
open_ok(const char *dir, const char *const *names, int server_days)
{
    eng_pki_opts_t o = { .dir = dir, .names = names,
                         .server_days = server_days };
    cmn_err_reset();
    eng_pki_t *p = eng_pki_open(&o);
    if (p == NULL)
        fail_msg("eng_pki_open: %s", cmn_err_msg());
    return p;
}

static unsigned
mode_of(const char *dir, const char *file)
{
    char path[160];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (stat(path, &st) < 0)
        fail_msg("%s missing", path);
    return (unsigned)(st.st_mode & 07777);
}

static char *
slurp(const char *dir, const char *file)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    size_t len;
    char *s = cmn_file_read(path, 1 << 20, &len);
    assert_non_null(s);
    return s;
}

/* X509_verify_cert of `cert` against a store holding only `ca`, checking
 * `host` (or `ip`) as a TLS client would. */
static int
verify(X509 *ca, X509 *cert, const char *host, const char *ip)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    assert_non_null(st);
    assert_non_null(ctx);
    assert_int_equal(X509_STORE_add_cert(st, ca), 1);
    assert_int_equal(X509_STORE_CTX_init(ctx, st, cert, NULL), 1);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
    if (host != NULL)
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    if (ip != NULL)
        X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
    int rc = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return rc;
}

static void
test_first_start(void **state)
{
    fx_t *fx = *state;
    static const char *const names[] = { "engine.example.com", "192.0.2.7",
                                         "::1", NULL };
    eng_pki_opts_t o = { .dir = fx->pki, .names = names,
                         .names_list = " list.example,198.51.100.1  x.lab" };
    cmn_err_reset();
    eng_pki_t *p = eng_pki_open(&o);
    if (p == NULL)
        fail_msg("eng_pki_open: %s", cmn_err_msg());
    assert_int_equal(mode_of(fx->pki, "ca.key"), 0600);
    assert_int_equal(mode_of(fx->pki, "server.key"), 0600);
    assert_int_equal(mode_of(fx->pki, "ca.pem"), 0644);
    assert_int_equal(mode_of(fx->pki, "server.pem"), 0644);

    X509 *ca = eng_pki_ca_cert(p), *srv = eng_pki_server_cert(p);
    assert_int_equal(X509_check_ca(ca), 1);
    assert_int_equal(X509_check_ca(srv), 0);
    assert_int_equal(verify(ca, srv, "localhost", NULL), 1);
    assert_int_equal(verify(ca, srv, "engine.example.com", NULL), 1);
    assert_int_equal(verify(ca, srv, "ENGINE.example.com", NULL), 1);
    assert_int_equal(verify(ca, srv, NULL, "127.0.0.1"), 1);
    assert_int_equal(verify(ca, srv, NULL, "192.0.2.7"), 1);
    assert_int_equal(verify(ca, srv, NULL, "::1"), 1);
    assert_int_equal(verify(ca, srv, "list.example", NULL), 1);
    assert_int_equal(verify(ca, srv, "x.lab", NULL), 1);
    assert_int_equal(verify(ca, srv, NULL, "198.51.100.1"), 1);
    assert_int_equal(verify(ca, srv, "other.example.com", NULL), 0);
    assert_int_equal(verify(ca, srv, NULL, "192.0.2.8"), 0);
    assert_int_equal(X509_check_host(srv, "engine.example.com", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);

    /* the CA is not valid as a server certificate for itself */
    assert_int_equal(verify(srv, srv, "localhost", NULL), 0);

    /* CA ~10 years, server ~2 years */
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca),
                                    X509_get0_notAfter(ca)), 1);
    assert_in_range(days, 3649, 3651);
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(srv),
                                    X509_get0_notAfter(srv)), 1);
    assert_in_range(days, 729, 731);

    /* the PEM served at /ca.crt is ca.pem */
    char *file = slurp(fx->pki, "ca.pem");
    assert_string_equal(eng_pki_ca_pem(p), file);
    free(file);
    eng_pki_destroy(&p);
    assert_null(p);
}

static void
test_second_start_loads(void **state)
{
    fx_t *fx = *state;
    eng_pki_t *p = open_ok(fx->pki, NULL, 0);
    char *ca1 = strdup(eng_pki_ca_pem(p));
    char *srv1 = slurp(fx->pki, "server.pem");
    eng_pki_destroy(&p);

    p = open_ok(fx->pki, NULL, 0);
    assert_string_equal(eng_pki_ca_pem(p), ca1);
    char *srv2 = slurp(fx->pki, "server.pem");
    assert_string_equal(srv1, srv2);        /* not renewed */
    eng_pki_destroy(&p);
    free(ca1);
    free(srv1);
    free(srv2);
}

static void
test_open_key_refused(void **state)
{
    fx_t *fx = *state;
    eng_pki_t *p = open_ok(fx->pki, NULL, 0);
    eng_pki_destroy(&p);
    char path[160];
    eng_pki_opts_t o = { .dir = fx->pki };

    snprintf(path, sizeof(path), "%s/server.key", fx->pki);
    assert_int_equal(chmod(path, 0644), 0);
    cmn_err_reset();
    assert_null(eng_pki_open(&o));
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), path));
    assert_non_null(strstr(cmn_err_msg(), "mode 0644"));
    assert_int_equal(chmod(path, 0600), 0);

    snprintf(path, sizeof(path), "%s/ca.key", fx->pki);
    assert_int_equal(chmod(path, 0640), 0);
    cmn_err_reset();
    assert_null(eng_pki_open(&o));
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), path));
    assert_int_equal(chmod(path, 0600), 0);

    p = open_ok(fx->pki, NULL, 0);
    eng_pki_destroy(&p);
}

static char *
serial_of(X509 *x)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = BN_bn2hex(bn);
    char *s = strdup(hex);
    OPENSSL_free(hex);
    BN_free(bn);
    return s;
}

static void
test_near_expiry_renewed(void **state)
{
    fx_t *fx = *state;
    /* a server certificate of 10 days is within the 30-day window */
    eng_pki_t *p = open_ok(fx->pki, NULL, 10);
    char *ca1 = strdup(eng_pki_ca_pem(p));
    char *serial1 = serial_of(eng_pki_server_cert(p));
    eng_pki_destroy(&p);

    p = open_ok(fx->pki, NULL, 0);
    X509 *srv = eng_pki_server_cert(p);
    char *serial2 = serial_of(srv);
    assert_string_not_equal(serial1, serial2);
    assert_string_equal(eng_pki_ca_pem(p), ca1);    /* same CA */
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(srv),
                                    X509_get0_notAfter(srv)), 1);
    assert_in_range(days, 729, 731);
    assert_int_equal(verify(eng_pki_ca_cert(p), srv, "localhost", NULL), 1);
    /* and written: a third start loads it unchanged */
    cmn_err_reset();
    assert_int_equal(eng_pki_renew_if_needed(p), 0);
    eng_pki_destroy(&p);
    p = open_ok(fx->pki, NULL, 0);
    char *serial3 = serial_of(eng_pki_server_cert(p));
    assert_string_equal(serial2, serial3);
    assert_int_equal(mode_of(fx->pki, "server.key"), 0600);
    eng_pki_destroy(&p);
    free(ca1);
    free(serial1);
    free(serial2);
    free(serial3);
}

static void
test_no_ca_key(void **state)
{
    fx_t *fx = *state;
    eng_pki_t *p = open_ok(fx->pki, NULL, 10);
    eng_pki_destroy(&p);
    char path[160];
    snprintf(path, sizeof(path), "%s/ca.key", fx->pki);
    assert_int_equal(unlink(path), 0);
    /* near expiry but still valid: served as it is, with a warning */
    char *before = slurp(fx->pki, "server.pem");
    p = open_ok(fx->pki, NULL, 0);
    char *after = slurp(fx->pki, "server.pem");
    assert_string_equal(before, after);
    eng_pki_destroy(&p);
    free(before);
    free(after);
    /* no server certificate and no CA key: nothing to serve */
    snprintf(path, sizeof(path), "%s/server.pem", fx->pki);
    assert_int_equal(unlink(path), 0);
    eng_pki_opts_t o = { .dir = fx->pki };
    cmn_err_reset();
    assert_null(eng_pki_open(&o));
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), "ca.key: missing"));
}

static void
test_new_name_reissues(void **state)
{
    fx_t *fx = *state;
    eng_pki_t *p = open_ok(fx->pki, NULL, 0);
    assert_int_equal(X509_check_host(eng_pki_server_cert(p), "new.example",
                                     0, 0, NULL), 0);
    eng_pki_destroy(&p);
    static const char *const names[] = { "new.example", "0.0.0.0", "::",
                                         NULL };
    p = open_ok(fx->pki, names, 0);
    assert_int_equal(X509_check_host(eng_pki_server_cert(p), "new.example",
                                     0, 0, NULL), 1);
    eng_pki_destroy(&p);
}

static void
test_bad_inputs(void **state)
{
    fx_t *fx = *state;
    static const char *const bad[] = { "a,b", NULL };
    eng_pki_opts_t o = { .dir = fx->pki, .names = bad };
    cmn_err_reset();
    assert_null(eng_pki_open(&o));
    assert_int_equal(cmn_err_code(), CMN_ERR_CONFIG);
    assert_non_null(strstr(cmn_err_msg(), "'a,b' is neither"));

    eng_pki_t *p = open_ok(fx->pki, NULL, 0);
    eng_pki_destroy(&p);

    /* ca.pem gone while the rest is there: refused, never a silent new CA */
    char path[160], keep[160];
    snprintf(path, sizeof(path), "%s/ca.pem", fx->pki);
    snprintf(keep, sizeof(keep), "%s/ca.pem.keep", fx->pki);
    assert_int_equal(rename(path, keep), 0);
    o.names = NULL;
    cmn_err_reset();
    assert_null(eng_pki_open(&o));
    assert_non_null(strstr(cmn_err_msg(), "ca.pem: missing"));

    /* garbage in ca.pem */
    assert_int_equal(cmn_file_write_atomic(path, "junk", 4, 0644), 0);
    cmn_err_reset();
    assert_null(eng_pki_open(&o));
    assert_non_null(strstr(cmn_err_msg(), "not a PEM certificate"));
    assert_int_equal(rename(keep, path), 0);

    /* server.key lost: a new server certificate is issued from the CA */
    snprintf(path, sizeof(path), "%s/server.key", fx->pki);
    assert_int_equal(unlink(path), 0);
    p = open_ok(fx->pki, NULL, 0);
    assert_int_equal(mode_of(fx->pki, "server.key"), 0600);
    eng_pki_destroy(&p);
}

/* Drive both ends of a handshake over a BIO pair; 1 if both finished. */
static int
handshake(SSL *c, SSL *s)
{
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 100 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_do_handshake(c);
            if (r == 1)
                cdone = 1;
            else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ)
                return 0;
        }
        if (!sdone) {
            int r = SSL_do_handshake(s);
            if (r == 1)
                sdone = 1;
            else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ)
                return 0;
        }
    }
    return cdone && sdone;
}

static int
try_tls(eng_pki_t *p, int client_max_version, const char *host)
{
    SSL_CTX *sctx = eng_pki_server_ctx(p);
    assert_non_null(sctx);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(cctx);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), eng_pki_ca_cert(p));
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_security_level(cctx, 0);    /* let it offer old versions */
    SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION);
    if (client_max_version)
        SSL_CTX_set_max_proto_version(cctx, client_max_version);
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    SSL_set1_host(c, host);
    BIO *bc = NULL, *bs = NULL;
    assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
    SSL_set_bio(c, bc, bc);
    SSL_set_bio(s, bs, bs);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int ok = handshake(c, s);
    if (ok)
        ok = SSL_version(s);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    ERR_clear_error();
    return ok;
}

static void
test_tls_handshake(void **state)
{
    fx_t *fx = *state;
    eng_pki_t *p = open_ok(fx->pki, NULL, 0);
    assert_int_equal(try_tls(p, 0, "localhost"), TLS1_3_VERSION);
    assert_int_equal(try_tls(p, TLS1_2_VERSION, "localhost"), TLS1_2_VERSION);
    assert_int_equal(try_tls(p, TLS1_1_VERSION, "localhost"), 0);
    assert_int_equal(try_tls(p, 0, "wrong.example"), 0);
    eng_pki_destroy(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_start_loads, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_near_expiry_renewed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_name_reissues, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_ca_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_handshake, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
