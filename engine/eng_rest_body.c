/* Request bodies of the REST API beyond VMs: data centers, clusters, users,
 * permissions and the ticket action. Pure functions (no store), used by
 * the handlers, the unit tests and the fuzz target. Bodies arrive as JSON
 * text (an XML body is converted to the same tree first), so numbers and
 * booleans may be strings. */
#include "eng_rest_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_log.h"

CMN_LOG_INIT("rest.body");

/* Unknown keys are refused naming the key and the known ones. */
static int
s_keys(const json_t *o, const char *path, const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(key, *k) == 0;
        if (ok)
            continue;
        char list[256];
        size_t off = 0;
        list[0] = '\0';
        for (const char *const *k = known; *k; k++) {
            int n = snprintf(list + off, sizeof(list) - off, "%s%s",
                             off ? ", " : "", *k);
            if (n < 0 || (size_t)n >= sizeof(list) - off)
                break;
            off += (size_t)n;
        }
        json_t *js = eng_rest_str(key);
        int rc = CMN_ERR(CMN_ERR_INVALID, "unknown field '%s%s%s' (known: %s)",
                         path, *path ? "." : "",
                         js ? json_string_value(js) : "?", list);
        json_decref(js);
        return rc;
    }
    return 0;
}

/* Optional string member: 1 copied, 0 absent, -1 wrong type or too long. */
static int
s_str(const json_t *o, const char *key, char *buf, size_t size)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected a string", key);
    size_t len = json_string_length(v);
    if (len >= size || strlen(json_string_value(v)) != len)
        return CMN_ERR(CMN_ERR_INVALID, "field '%s' is too long or holds a "
                       "NUL character (at most %zu bytes)", key, size - 1);
    memcpy(buf, json_string_value(v), len + 1);
    return 1;
}

/* Optional integer member given as a number or a decimal string. */
static int
s_int(const json_t *o, const char *key, int64_t min, int64_t max,
      int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        if (*out < min || *out > max)
            return CMN_ERR(CMN_ERR_INVALID, "field '%s': %lld is out of range "
                           "(%lld..%lld)", key, (long long)*out,
                           (long long)min, (long long)max);
        return 1;
    }
    if (json_is_string(v)) {
        char what[80];
        snprintf(what, sizeof(what), "field '%s'", key);
        return cmn_parse_int64(json_string_value(v), min, max, what, out) < 0
               ? -1 : 1;
    }
    return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected an integer", key);
}

static int
s_obj(const json_t *o, const char *key, json_t **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_object(v))
        return CMN_ERR(CMN_ERR_INVALID, "field '%s': expected an object", key);
    *out = v;
    return 1;
}

static int
s_name_ok(const char *name, const char *what)
{
    if (!cmn_str_printable(name, ENG_NAME_LEN - 1, "/"))
        return CMN_ERR(CMN_ERR_INVALID, "%s: '%s' is not a valid name (1..255 "
                       "printable characters, no '/')", what, name);
    return 0;
}

int
eng_rest_parse_dc(const char *body, size_t len, bool update, eng_dc_t *dc)
{
    static const char *const known[] = { "name", "description", "comment",
        "local", "version", "storage_type", "id", "href", "status",
        "creation_time", NULL };
    json_t *root = NULL;
    if (eng_rest_parse_object(body, len, false, &root) < 0)
        return -1;
    int rc = s_keys(root, "", known);
    int have = 0;
    if (rc == 0 && (have = s_str(root, "name", dc->name, sizeof(dc->name)))
        < 0)
        rc = -1;
    if (rc == 0 && have == 1)
        rc = s_name_ok(dc->name, "field 'name'");
    if (rc == 0 && have == 0 && !update)
        rc = CMN_ERR(CMN_ERR_INVALID, "field 'name' is required");
    if (rc == 0 && s_str(root, "description", dc->description,
                         sizeof(dc->description)) < 0)
        rc = -1;
    json_decref(root);
    return rc;
}

int
eng_rest_parse_cluster(const char *body, size_t len, bool update,
                       eng_cluster_t *c, char dc_ref[ENG_NAME_LEN])
{
    static const char *const known[] = { "name", "description", "comment",
        "data_center", "cpu", "memory_policy", "version", "id", "href",
        "creation_time", "scheduling_policy", "migration", NULL };
    json_t *root = NULL, *o = NULL, *oc = NULL;
    dc_ref[0] = '\0';
    if (eng_rest_parse_object(body, len, false, &root) < 0)
        return -1;
    int rc = s_keys(root, "", known);
    int have = 0;
    if (rc == 0 && (have = s_str(root, "name", c->name, sizeof(c->name))) < 0)
        rc = -1;
    if (rc == 0 && have == 1)
        rc = s_name_ok(c->name, "field 'name'");
    if (rc == 0 && have == 0 && !update)
        rc = CMN_ERR(CMN_ERR_INVALID, "field 'name' is required");
    if (rc == 0 && s_str(root, "description", c->description,
                         sizeof(c->description)) < 0)
        rc = -1;
    if (rc == 0 && s_obj(root, "data_center", &o) == 1) {
        static const char *const k2[] = { "id", "name", "href", NULL };
        char id[ENG_ID_LEN] = "";
        if (s_keys(o, "data_center", k2) < 0 ||
            s_str(o, "id", id, sizeof(id)) < 0 ||
            s_str(o, "name", dc_ref, ENG_NAME_LEN) < 0)
            rc = -1;
        else if (id[0])
            snprintf(dc_ref, ENG_NAME_LEN, "%s", id);
        else if (!dc_ref[0])
            rc = CMN_ERR(CMN_ERR_INVALID, "field 'data_center' needs an id "
                         "or a name");
    } else if (cmn_err_code() != CMN_OK) {
        rc = -1;
    }
    if (rc == 0 && s_obj(root, "cpu", &o) == 1) {
        static const char *const k2[] = { "type", "architecture", NULL };
        if (s_keys(o, "cpu", k2) < 0 ||
            s_str(o, "type", c->cpu_type, sizeof(c->cpu_type)) < 0)
            rc = -1;
    } else if (cmn_err_code() != CMN_OK) {
        rc = -1;
    }
    if (rc == 0 && s_obj(root, "memory_policy", &o) == 1) {
        static const char *const k2[] = { "over_commit", NULL };
        static const char *const k3[] = { "percent", NULL };
        int64_t pct = c->memory_overcommit;
        if (s_keys(o, "memory_policy", k2) < 0 ||
            s_obj(o, "over_commit", &oc) < 0 ||
            (oc && (s_keys(oc, "memory_policy.over_commit", k3) < 0 ||
                    s_int(oc, "percent", 1, 1000, &pct) < 0)))
            rc = -1;
        else
            c->memory_overcommit = (int)pct;
    } else if (cmn_err_code() != CMN_OK) {
        rc = -1;
    }
    json_decref(root);
    return rc;
}

int
eng_rest_parse_user(const char *body, size_t len, char name[ENG_NAME_LEN],
                    char *password, size_t pw_size, int *role)
{
    static const char *const known[] = { "user_name", "name", "principal",
        "password", "role", "domain", NULL };
    json_t *root = NULL, *o = NULL;
    name[0] = '\0';
    password[0] = '\0';
    *role = -1;
    if (eng_rest_parse_object(body, len, false, &root) < 0)
        return -1;
    int rc = s_keys(root, "", known);
    if (rc == 0 && s_str(root, "user_name", name, ENG_NAME_LEN) < 0)
        rc = -1;
    if (rc == 0 && !name[0] && s_str(root, "name", name, ENG_NAME_LEN) < 0)
        rc = -1;
    if (rc == 0 && !name[0])
        rc = CMN_ERR(CMN_ERR_INVALID, "field 'user_name' is required "
                     "(\"joe@internal\")");
    if (rc == 0 && !strchr(name, '@')) {
        /* oVirt names carry their domain: joe -> joe@internal */
        size_t n = strlen(name);
        if (n + sizeof("@internal") > ENG_NAME_LEN)
            rc = CMN_ERR(CMN_ERR_INVALID, "field 'user_name' is too long");
        else
            memcpy(name + n, "@internal", sizeof("@internal"));
    }
    if (rc == 0 && s_str(root, "password", password, pw_size) < 0)
        rc = -1;
    if (rc == 0 && !password[0])
        rc = CMN_ERR(CMN_ERR_INVALID, "field 'password' is required (Herd "
                     "keeps its own users)");
    if (rc == 0 && s_obj(root, "role", &o) == 1) {
        char rn[64] = "";
        if (s_str(o, "name", rn, sizeof(rn)) < 0)
            rc = -1;
        else if ((*role = eng_role_parse(rn)) < 0)
            rc = CMN_ERR(CMN_ERR_INVALID, "field 'role.name': '%s' is not a "
                         "role (SuperUser, Operator, ReadOnly)", rn);
    } else if (cmn_err_code() != CMN_OK) {
        rc = -1;
    }
    json_decref(root);
    return rc;
}

int
eng_rest_parse_perm(const char *body, size_t len, int *role)
{
    static const char *const known[] = { "role", "user", "id", "href",
        NULL };
    json_t *root = NULL, *o = NULL;
    *role = -1;
    if (eng_rest_parse_object(body, len, false, &root) < 0)
        return -1;
    int rc = s_keys(root, "", known);
    char rn[64] = "";
    if (rc == 0 && s_obj(root, "role", &o) != 1)
        rc = CMN_ERR(CMN_ERR_INVALID, "field 'role' (an object with a name) "
                     "is required");
    if (rc == 0 && s_str(o, "name", rn, sizeof(rn)) < 0)
        rc = -1;
    if (rc == 0 && (*role = eng_role_parse(rn)) < 0)
        rc = CMN_ERR(CMN_ERR_INVALID, "field 'role.name': '%s' is not a role "
                     "(SuperUser, Operator, ReadOnly)", rn);
    json_decref(root);
    return rc;
}

int
eng_rest_parse_ticket(const char *body, size_t len, int64_t *expiry_s)
{
    static const char *const known[] = { "ticket", "async", "force", NULL };
    static const char *const k2[] = { "expiry", "value", NULL };
    json_t *root = NULL, *o = NULL;
    *expiry_s = ENG_REST_TICKET_DEFAULT_S;
    if (eng_rest_parse_object(body, len, true, &root) < 0)
        return -1;
    if (!root)
        return 0;
    int rc = s_keys(root, "", known);
    if (rc == 0 && s_obj(root, "ticket", &o) == 1) {
        char ignored[128];
        if (s_keys(o, "ticket", k2) < 0 ||
            s_int(o, "expiry", 1, ENG_REST_TICKET_MAX_S, expiry_s) < 0 ||
            s_str(o, "value", ignored, sizeof(ignored)) < 0)
            rc = -1;
    } else if (cmn_err_code() != CMN_OK) {
        rc = -1;
    }
    json_decref(root);
    return rc;
}
