/* Enrollment routes of the REST API: POST /hosts (pre-registration) and
 * POST /hosts/enrollmenttokens are routed as host writes, which only a
 * SuperUser may make; other methods and deeper paths are refused; reading
 * tokens needs the handler's own SuperUser check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmn_err.h"
#include "eng_auth.h"
#include "eng_rest_priv.h"

static void
test_routes(void **state)
{
    (void)state;
    cmn_err_reset();
    eng_route_t r;
    assert_int_equal(eng_rest_route("/ovirt-engine/api/hosts", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_HOSTS);
    assert_int_equal(r.allowed, ENG_REST_GET | ENG_REST_POST);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/hosts/enrollmenttokens",
                                     &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_TOKENS);
    assert_int_equal(r.allowed, ENG_REST_GET | ENG_REST_POST);
    assert_string_equal(eng_rest_route_kind(&r), "hosts");
    assert_int_equal(eng_rest_route(
        "/ovirt-engine/api/hosts/enrollmenttokens/t1", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_TOKEN);
    assert_string_equal(r.id, "t1");
    assert_int_equal(r.allowed, ENG_REST_GET | ENG_REST_DELETE);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/enginekey", &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_ENGINE_KEY);
    assert_int_equal(r.allowed, ENG_REST_GET);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/enginekey/rotate",
                                     &r), 0);
    assert_int_equal(r.kind, ENG_ROUTE_ENGINE_KEY_ACTION);
    assert_string_equal(r.id, "rotate");
    assert_int_equal(r.allowed, ENG_REST_POST);
    assert_int_equal(eng_rest_route("/ovirt-engine/api/enginekey/x", &r), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    cmn_err_reset();
    /* An ordinary host keeps its methods. */
    assert_int_equal(eng_rest_route("/ovirt-engine/api/hosts/h1", &r), 0);
    assert_int_equal(r.allowed, ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE);
    assert_int_equal(eng_rest_route(
        "/ovirt-engine/api/hosts/enrollmenttokens/x/y", &r), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_NOT_FOUND);
    cmn_err_reset();
}

static void
test_roles(void **state)
{
    (void)state;
    cmn_err_reset();
    assert_int_equal(eng_auth_check(ENG_ROLE_SUPERUSER, "POST", "hosts",
                                    NULL), 0);
    assert_int_equal(eng_auth_check(ENG_ROLE_OPERATOR, "POST", "hosts",
                                    NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_DENIED);
    cmn_err_reset();
    assert_int_equal(eng_auth_check(ENG_ROLE_READONLY, "POST", "hosts",
                                    NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_DENIED);
    cmn_err_reset();
}

/* Token routes belong to "hosts", which every role may read: the generic
 * check lets ReadOnly and Operator through to GET and DELETE is refused
 * to them, so the token handler refuses non-SuperUsers itself, also for
 * GET (test_curve_api checks the 403 on the real engine). */
static void
test_token_routes_need_own_check(void **state)
{
    (void)state;
    eng_route_t r;
    cmn_err_reset();
    assert_int_equal(eng_rest_route("/ovirt-engine/api/hosts/enrollmenttokens",
                                     &r), 0);
    assert_string_equal(eng_rest_route_kind(&r), "hosts");
    assert_int_equal(eng_auth_check(ENG_ROLE_READONLY, "GET", "hosts", NULL),
                     0);
    assert_int_equal(eng_auth_check(ENG_ROLE_OPERATOR, "GET", "hosts", NULL),
                     0);
    assert_int_equal(eng_rest_route(
        "/ovirt-engine/api/hosts/enrollmenttokens/t1", &r), 0);
    assert_string_equal(eng_rest_route_kind(&r), "hosts");
    assert_int_equal(eng_auth_check(ENG_ROLE_OPERATOR, "DELETE", "hosts",
                                    NULL), -1);
    assert_int_equal(cmn_err_code(), CMN_ERR_DENIED);
    cmn_err_reset();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_token_routes_need_own_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
