/* Routing of the affinity group paths (eng_rest_ext_route): the methods
 * each path takes, the cluster id handed on, and paths too deep or under
 * another word refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "eng_rest_priv.h"

#define AG ENG_REST_BASE "/clusters/c%201/affinitygroups"

static unsigned s_allowed(const char *path)
{
    eng_route_t r;
    if (!eng_rest_ext_route(path, &r))
        return 0;
    assert_int_equal(r.kind, ENG_ROUTE_EXT);
    assert_string_equal(r.id, "c 1");
    return r.allowed;
}

static void test_affinity_routes(void **state)
{
    (void)state;
    assert_int_equal(s_allowed(AG), ENG_REST_GET | ENG_REST_POST);
    assert_int_equal(s_allowed(AG "/g1"),
                     ENG_REST_GET | ENG_REST_PUT | ENG_REST_DELETE);
    assert_int_equal(s_allowed(AG "/g1/vms"), ENG_REST_POST);
    assert_int_equal(s_allowed(AG "/g1/vms/"), ENG_REST_POST);
    assert_int_equal(s_allowed(AG "/g1/vms/vm%2Fx"), ENG_REST_DELETE);
    assert_int_equal(s_allowed(AG "/g1/hosts"), 0);
    assert_int_equal(s_allowed(AG "/g1/hosts/h1"), 0);
    assert_int_equal(s_allowed(AG "/g1/vms/v1/x"), 0);
    assert_int_equal(s_allowed(AG "/g1//v1"), 0);
    assert_int_equal(s_allowed(ENG_REST_BASE "/clusters/c/groups/g/vms/v"),
                     0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_affinity_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
