/* cmn_https: URL parsing, and requests against a tiny HTTP server on a
 * thread (127.0.0.1): answer, headers and body sent, answer too large,
 * no answer in time, TLS to a plain-HTTP server, a refused connection. */
#include "test_helpers.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "cmn_https.h"

/* ---- URL parsing ----------------------------------------------------------- */

static void
test_url_parse(void **state)
{
    (void)state;
    cmn_url_t u;
    OK(cmn_url_parse("https://engine.example:8443", &u));
    assert_true(u.tls);
    assert_string_equal(u.host, "engine.example");
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.target, "/");

    OK(cmn_url_parse("http://127.0.0.1/ovirt-engine/api?x=1&y=2", &u));
    assert_false(u.tls);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 80);
    assert_string_equal(u.target, "/ovirt-engine/api?x=1&y=2");

    OK(cmn_url_parse("HTTPS://h", &u));
    assert_true(u.tls);
    assert_int_equal(u.port, 443);

    OK(cmn_url_parse("https://[::1]:9443/a", &u));
    assert_string_equal(u.host, "::1");          /* brackets gone */
    assert_int_equal(u.port, 9443);
    assert_string_equal(u.target, "/a");
}

static void
test_url_parse_bad(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *frag;
    } bad[] = {
        { "", "empty" },
        { "ftp://h/x", "https:// or http://" },
        { "engine.example:8443", "https:// or http://" },
        { "https://", "no host" },
        { "https:///path", "no host" },
        { "https://user:pw@h:8443", "user name" },
        { "https://h:0", "port" },
        { "https://h:70000", "not a URL" },
        { "https://h:12ab", "not a URL" },
    };
    cmn_url_t u;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cmn_err_reset();
        if (cmn_url_parse(bad[i].url, &u) == 0)
            fail_msg("'%s' was accepted", bad[i].url);
        assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
        if (!strstr(cmn_err_msg(), bad[i].frag))
            fail_msg("'%s': error '%s' lacks '%s'", bad[i].url,
                     cmn_err_msg(), bad[i].frag);
    }
    char longurl[2100] = "https://h/";
    memset(longurl + 10, 'a', sizeof(longurl) - 11);
    longurl[sizeof(longurl) - 1] = '\0';
    cmn_err_reset();
    assert_int_equal(cmn_url_parse(longurl, &u), -1);
    assert_non_null(strstr(cmn_err_msg(), "too long"));
}

/* cmn_url_parse_named puts the URL's source first; a fragment is noted,
 * not sent. */
static void
test_url_parse_named(void **state)
{
    (void)state;
    cmn_url_t u;
    cmn_err_reset();
    assert_int_equal(cmn_url_parse_named("ftp://h", "--api-url", &u), -1);
    assert_string_equal(cmn_err_msg(), "--api-url: 'ftp://h' must start "
                        "with https:// or http://");
    cmn_err_reset();
    assert_int_equal(cmn_url_parse_named("https://", "--api-url", &u), -1);
    assert_string_equal(cmn_err_msg(), "--api-url: 'https://' has no host");
    cmn_err_reset();
    assert_int_equal(cmn_url_parse_named("https://h:x", "X", &u), -1);
    assert_string_equal(cmn_err_msg(), "X: 'https://h:x' is not a URL");
    cmn_err_reset();
    assert_int_equal(cmn_url_parse("https://", &u), -1);
    assert_string_equal(cmn_err_msg(), "URL 'https://' has no host");

    cmn_err_reset();
    OK(cmn_url_parse_named("https://h/a?q=1#frag", "X", &u));
    assert_true(u.fragment);
    assert_string_equal(u.target, "/a?q=1");
    OK(cmn_url_parse("https://h/a", &u));
    assert_false(u.fragment);
}

/* ---- a one-connection server -------------------------------------------------- */

typedef struct {
    int lfd;
    int port;
    const char *answer;         /* NULL: read, never answer, wait for EOF */
    size_t answer_len;
    bool at_once;               /* answer the first bytes, whatever they are */
    char request[8192];         /* what the client sent (NUL-terminated) */
    size_t req_len;
    pthread_t thr;
} srv_t;

static int
s_listen(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Accepts the probe connection (which sends nothing) and the request: the
 * connection that sends something gets the answer. */
static void *
s_serve(void *arg)
{
    srv_t *s = arg;
    for (int conn = 0; conn < 2; conn++) {
        int c = accept(s->lfd, NULL, NULL);
        if (c < 0)
            return NULL;
        bool answered = false;
        for (;;) {
            ssize_t n = recv(c, s->request + s->req_len,
                             sizeof(s->request) - 1 - s->req_len, 0);
            if (n <= 0)
                break;
            s->req_len += (size_t)n;
            s->request[s->req_len] = '\0';
            const char *end = strstr(s->request, "\r\n\r\n");
            const char *cl = strstr(s->request, "Content-Length: ");
            size_t want = cl ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
            bool whole = end &&
                s->req_len >= (size_t)(end + 4 - s->request) + want;
            if (s->answer && !answered && (whole || s->at_once)) {
                size_t off = 0;
                while (off < s->answer_len) {
                    ssize_t w = send(c, s->answer + off, s->answer_len - off,
                                     MSG_NOSIGNAL);
                    if (w <= 0)
                        break;
                    off += (size_t)w;
                }
                answered = true;
                shutdown(c, SHUT_WR);
            }
        }
        close(c);
        if (s->req_len > 0)
            break;
    }
    return NULL;
}

static void
s_srv_start(srv_t *s, const char *answer, size_t len, bool at_once)
{
    memset(s, 0, sizeof(*s));
    s->lfd = s_listen(&s->port);
    assert_int_equal(listen(s->lfd, 4), 0);
    s->answer = answer;
    s->answer_len = len;
    s->at_once = at_once;
    assert_int_equal(pthread_create(&s->thr, NULL, s_serve, s), 0);
}

static void
s_srv_stop(srv_t *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(s->thr, NULL);
    close(s->lfd);
}

static void
s_url(cmn_url_t *u, bool tls, int port, const char *target)
{
    char url[256];
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", tls ? "https" : "http",
             port, target);
    OK(cmn_url_parse(url, u));
}

/* ---- requests -------------------------------------------------------------- */

static void
test_get_answer(void **state)
{
    (void)state;
    static const char ans[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 5\r\nConnection: close\r\n"
                              "\r\nhello";
    srv_t s;
    s_srv_start(&s, ans, sizeof(ans) - 1, false);
    cmn_url_t u;
    s_url(&u, false, s.port, "/key?x=1");
    const cmn_http_header_t hdrs[] = {
        { "X-Test", "yes" }, { "Accept", "text/plain" }, { NULL, NULL },
    };
    cmn_http_opts_t o = { .method = "GET", .headers = hdrs, .timeout_s = 5 };
    cmn_http_resp_t r;
    OK(cmn_http_request(&u, &o, &r));
    s_srv_stop(&s);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 5);
    assert_string_equal(r.body, "hello");
    assert_non_null(strstr(s.request, "GET /key?x=1 HTTP/1.1\r\n"));
    char host[64];
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\r\n", s.port);
    assert_non_null(strstr(s.request, host));
    assert_non_null(strstr(s.request, "X-Test: yes\r\n"));
    assert_non_null(strstr(s.request, "Accept: text/plain\r\n"));
    cmn_http_resp_clear(&r);
    assert_null(r.body);
    cmn_http_resp_clear(NULL);
}

static void
test_post_body_and_status(void **state)
{
    (void)state;
    static const char ans[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 2"
                              "\r\n\r\n{}";
    srv_t s;
    s_srv_start(&s, ans, sizeof(ans) - 1, false);
    cmn_url_t u;
    s_url(&u, false, s.port, "/things");
    cmn_http_opts_t o = { .method = "POST", .body = "{\"a\":1}",
                          .timeout_s = 5 };
    cmn_http_resp_t r;
    OK(cmn_http_request(&u, &o, &r));       /* any HTTP answer is 0 */
    s_srv_stop(&s);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body, "{}");
    assert_non_null(strstr(s.request, "POST /things HTTP/1.1\r\n"));
    assert_non_null(strstr(s.request, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(s.request, "\r\n\r\n{\"a\":1}"));
    cmn_http_resp_clear(&r);
}

/* A request to a server answering `ans` (NULL: never; `at_once`: to the
 * first bytes) must fail with `code` and a message holding `frag`, and
 * leave the answer empty. */
static void
s_expect_fail(const char *ans, size_t len, bool at_once, bool tls,
              const cmn_http_opts_t *o, cmn_code_t code, const char *frag)
{
    srv_t s;
    s_srv_start(&s, ans, len, at_once);
    cmn_url_t u;
    s_url(&u, tls, s.port, "/");
    cmn_http_resp_t r;
    cmn_err_reset();
    assert_int_equal(cmn_http_request(&u, o, &r), -1);
    s_srv_stop(&s);
    assert_int_equal(cmn_err_code(), code);
    if (!strstr(cmn_err_msg(), frag))
        fail_msg("error '%s' lacks '%s'", cmn_err_msg(), frag);
    assert_null(r.body);
    assert_int_equal(r.status, 0);
}

static void
test_answer_too_big(void **state)
{
    (void)state;
    size_t blen = 100000;
    char *ans = malloc(blen + 100);
    assert_non_null(ans);
    int h = snprintf(ans, 100, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                     "\r\n", blen);
    memset(ans + h, 'x', blen);
    cmn_http_opts_t o = { .method = "GET", .timeout_s = 5, .max_body = 1000 };
    s_expect_fail(ans, (size_t)h + blen, false, false, &o, CMN_ERR_TOO_BIG,
                  "larger than 1000 bytes");
    free(ans);
}

static void
test_no_answer_in_time(void **state)
{
    (void)state;
    cmn_http_opts_t o = { .method = "GET", .timeout_s = 1,
                          .timeout_hint = " (see --timeout)" };
    s_expect_fail(NULL, 0, false, false, &o, CMN_ERR_TIMEOUT,
                  "no answer within 1 s (see --timeout)");
}

static void
test_tls_to_plain_server(void **state)
{
    (void)state;
    static const char ans[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0"
                              "\r\n\r\n";
    cmn_http_opts_t o = { .method = "GET", .timeout_s = 5, .insecure = true };
    /* the plain answer comes back to the ClientHello */
    s_expect_fail(ans, sizeof(ans) - 1, true, true, &o, CMN_ERR_UNAVAILABLE,
                  "TLS error");
}

static void
test_bad_ca_file(void **state)
{
    (void)state;
    cmn_http_opts_t o = { .method = "GET", .timeout_s = 5,
                          .ca_file = "/nonexistent/ca.pem" };
    s_expect_fail(NULL, 0, false, true, &o, CMN_ERR_INVALID,
                  "cannot read the CA file '/nonexistent/ca.pem'");
}

static void
test_refused(void **state)
{
    (void)state;
    int port;
    int fd = s_listen(&port);
    close(fd);                  /* bound, never listened: nobody is there */
    cmn_url_t u;
    s_url(&u, true, port, "/");
    cmn_http_opts_t o = { .method = "GET", .timeout_s = 5 };
    cmn_http_resp_t r;
    cmn_err_reset();
    assert_int_equal(cmn_http_request(&u, &o, &r), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_UNAVAILABLE);
    assert_non_null(strstr(cmn_err_msg(), "refused"));
    assert_null(r.body);
}

static void
test_bad_method(void **state)
{
    (void)state;
    cmn_url_t u;
    s_url(&u, false, 1, "/");
    cmn_http_opts_t o = { .method = "PATCH", .timeout_s = 5 };
    cmn_http_resp_t r;
    cmn_err_reset();
    assert_int_equal(cmn_http_request(&u, &o, &r), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_INVALID);
    assert_non_null(strstr(cmn_err_msg(), "PATCH"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_url_parse_bad),
        cmocka_unit_test(test_url_parse_named),
        cmocka_unit_test(test_get_answer),
        cmocka_unit_test(test_post_body_and_status),
        cmocka_unit_test(test_answer_too_big),
        cmocka_unit_test(test_no_answer_in_time),
        cmocka_unit_test(test_tls_to_plain_server),
        cmocka_unit_test(test_bad_ca_file),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bad_method),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
