/* /ovirt-engine/api/enginekey: the engine's CURVE key and its rotation
 * (eng_enginekey.h). GET for any user; rotate and switch are SuperUser
 * only (eng_auth_check refuses other roles any non-GET). */
#include "eng_rest_priv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_keys.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_enginekey.h"

/* {"window": seconds} (a number, or a string of digits as oVirt sends
 * numbers); absent: the default. -1 with CMN_ERR_INVALID naming the
 * field. */
int eng_enginekey_parse_rotate(const char *body, size_t len, int64_t *window)
{
    json_t *root = NULL;
    *window = ENG_ENGINEKEY_WINDOW_DEFAULT_S;
    if (eng_rest_parse_object(body, len, true, &root) < 0)
        return -1;
    int rc = 0;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (strcmp(k, "window") != 0) {
            rc = CMN_ERR(CMN_ERR_INVALID, "'%s': unknown field (a rotation "
                         "takes only \"window\", in seconds)", k);
            goto out;
        }
    }
    v = root ? json_object_get(root, "window") : NULL;
    if (!v)
        goto out;
    int64_t w = -1;
    if (json_is_integer(v)) {
        w = json_integer_value(v);
    } else if (!json_is_string(v) ||
               cmn_parse_int64(json_string_value(v), 0,
                               ENG_ENGINEKEY_WINDOW_MAX_S, "window", &w) < 0) {
        cmn_err_reset();
        w = -1;
    }
    if (w < 0 || w > ENG_ENGINEKEY_WINDOW_MAX_S) {
        rc = CMN_ERR(CMN_ERR_INVALID, "window: expected whole seconds "
                     "0..%d (31 days; 0 = as soon as every connected host "
                     "has the next key)", ENG_ENGINEKEY_WINDOW_MAX_S);
        goto out;
    }
    *window = w;
out:
    json_decref(root);
    return rc;
}

static void s_show(eng_rest_call_t *call, eng_enginekey_t *ek, int status)
{
    json_t *j = eng_enginekey_json(ek);
    if (!j) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_reply_as(call->req, status, "engine_key", j);
}

static void s_rotate(eng_rest_call_t *call, eng_enginekey_t *ek)
{
    int64_t window = 0;
    if (eng_enginekey_parse_rotate(call->body, call->body_len, &window) < 0 ||
        eng_enginekey_start(ek, window, call->user.name) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    s_show(call, ek, 200);
}

/* Answered when the switch has ended (or 202 at once with ?async). */
static void s_switch(eng_rest_call_t *call, eng_enginekey_t *ek)
{
    if (eng_rest_parse_action(call->body, call->body_len) < 0) {
        eng_rest_reply_err(call->req);
        return;
    }
    char next[CMN_KEY_Z85_LEN + 1] = "", fp[CMN_KEY_FP_LEN] = "";
    const char *n = eng_enginekey_next_public(ek);
    if (n) {
        snprintf(next, sizeof(next), "%s", n);
        cmn_key_fingerprint(next, fp);
    }
    eng_rest_pending_t *p = eng_rest_pending_new(call, ENG_PEND_ACTION);
    if (!p) {
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_set_extra(p, json_pack("{s:s,s:s}", "public_key", next,
                                            "fingerprint", fp));
    if (eng_enginekey_switch(ek, call->user.name, eng_rest_pending_cb,
                             p) < 0) {
        eng_rest_pending_drop(p);
        eng_rest_reply_err(call->req);
        return;
    }
    eng_rest_pending_started(call, p);
}

void
eng_rest_handle_enginekey(eng_rest_call_t *call)
{
    eng_enginekey_t *ek = eng_agents_enginekey(call->ctx->agents);
    if (!ek) {
        CMN_ERR(CMN_ERR_UNSUPPORTED, "agent links are not authenticated "
                "(agents.curve: false): the engine has no CURVE key");
        eng_rest_reply_err(call->req);
        return;
    }
    if (call->route.kind == ENG_ROUTE_ENGINE_KEY) {
        s_show(call, ek, 200);
    } else if (strcmp(call->route.id, "rotate") == 0) {
        s_rotate(call, ek);
    } else if (strcmp(call->route.id, "switch") == 0) {
        s_switch(call, ek);
    } else {
        CMN_ERR(CMN_ERR_NOT_FOUND, "no such engine key action '%s'",
                call->route.id);
        eng_rest_reply_err(call->req);
    }
}
