/* Engine key rotation on the agent link: EngineKey requests to agents,
 * their answers, and which host has the next key (eng_enginekey.h holds
 * the rotation itself). */
#include "eng_agents.h"
#include "eng_agents_priv.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_log.h"
#include "cmn_util.h"
#include "eng_enginekey.h"

CMN_LOG_INIT("eng.agents.key");

struct eng_agents_key_batch {
    int outstanding;                /* requests not yet answered */
    eng_agents_key_done_cb done;    /* NULL once cancelled */
    void *opaque;
};

typedef struct {
    eng_agents_t *a;
    eng_agents_key_batch_t *batch;  /* may be NULL */
    uint64_t gen;                   /* rotation the request belongs to */
    bool switch_now;
    char host[ENG_ID_LEN];
} s_req_t;

struct eng_enginekey *eng_agents_enginekey(eng_agents_t *a)
{
    return a ? a->ekey : NULL;
}

int eng_agents_engine_key(eng_agents_t *a, const char *host_id,
                          const char *public_key, bool switch_now,
                          int64_t switch_ms, eng_agents_cb cb, void *opaque)
{
    Herd__Envelope env = HERD__ENVELOPE__INIT;
    Herd__EngineKey m = HERD__ENGINE_KEY__INIT;
    m.public_key = (char *)public_key;
    m.switch_now = switch_now;
    m.switch_time_ms = switch_ms;
    env.body_case = HERD__ENVELOPE__BODY_ENGINE_KEY;
    env.engine_key = &m;
    return eng_agents_request_(a, host_id, &env, 0, cb, opaque);
}

void eng_agents_key_begin(eng_agents_t *a)
{
    a->key_gen++;
}

void eng_agents_key_end(eng_agents_t *a)
{
    a->key_gen++;
    for (size_t b = 0; b < ENG_AGT_BUCKETS; b++)
        for (eng_hostent_t *e = a->buckets[b]; e; e = e->next)
            e->key_push = false;
}

static void s_batch_settle(eng_agents_key_batch_t *b)
{
    if (!b || --b->outstanding > 0)
        return;
    eng_agents_key_done_cb done = b->done;
    void *opaque = b->opaque;
    free(b);
    if (done)
        done(opaque);
}

static void s_reply(const eng_agent_reply_t *r, void *opaque)
{
    s_req_t *rq = opaque;
    eng_agents_t *a = rq->a;
    /* Answers about an ended rotation, or arriving while the engine
     * stops (a->ekey is gone first), change nothing. */
    if (a->ekey && rq->gen == a->key_gen) {
        eng_hostent_t *e = eng_agents_find(a, rq->host);
        char name[ENG_NAME_LEN];
        if (r->code == CMN_OK) {
            if (e && e->key_gen != rq->gen) {
                e->key_gen = rq->gen;
                eng_store_host_name(a->ctx->store, rq->host, name, sizeof(name));
                eng_event(a->ctx, ENG_SEV_NORMAL,
                          ENG_EV_ENGINE_KEY_HOST_READY, rq->host, NULL,
                          NULL, "Host %s has the engine's next key", name);
            }
            if (!rq->switch_now)
                eng_enginekey_host_ready(a->ekey);
        } else {
            eng_store_host_name(a->ctx->store, rq->host, name, sizeof(name));
            eng_event(a->ctx, ENG_SEV_WARNING, ENG_EV_ENGINE_KEY_HOST_READY,
                      rq->host, NULL, NULL, "Host %s did not take the "
                      "engine's next key%s: %s (%s)", name,
                      rq->switch_now ? " (switch)" : "", r->message,
                      cmn_code_name(r->code));
        }
    }
    eng_agents_key_batch_t *b = rq->batch;
    free(rq);
    s_batch_settle(b);
}

/* One EngineKey to one host; 0 if sent (the batch then counts it). */
static int s_send(eng_agents_t *a, eng_hostent_t *e, const char *pub,
                  bool switch_now, int64_t switch_ms,
                  eng_agents_key_batch_t *b)
{
    s_req_t *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    rq->a = a;
    rq->batch = b;
    rq->gen = a->key_gen;
    rq->switch_now = switch_now;
    snprintf(rq->host, sizeof(rq->host), "%s", e->id);
    cmn_err_reset();
    if (eng_agents_engine_key(a, e->id, pub, switch_now, switch_ms, s_reply,
                              rq) < 0) {
        CMN_WARN("host %s: cannot send the engine's next key: %s", e->id,
                 cmn_err_msg());
        free(rq);
        return -1;
    }
    if (b)
        b->outstanding++;
    return 0;
}

eng_agents_key_batch_t *eng_agents_key_publish_all(eng_agents_t *a,
                                                   const char *public_key,
                                                   bool switch_now,
                                                   int64_t switch_ms,
                                                   eng_agents_key_done_cb done,
                                                   void *opaque)
{
    eng_agents_key_batch_t *b = NULL;
    if (done) {
        b = calloc(1, sizeof(*b));
        if (!b) {
            CMN_ERR(CMN_ERR_NOMEM, "out of memory");
            return NULL;
        }
        b->done = done;
        b->opaque = opaque;
        /* Held while sending, so no answer can settle it early. */
        b->outstanding = 1;
    }
    size_t sent = 0;
    for (size_t i = 0; i < ENG_AGT_BUCKETS; i++)
        for (eng_hostent_t *e = a->buckets[i]; e; e = e->next)
            if (e->session && s_send(a, e, public_key, switch_now, switch_ms,
                                     b) == 0)
                sent++;
    CMN_INFO("engine key %s sent to %zu hosts",
             switch_now ? "switch" : "pre-publication", sent);
    if (!b)
        return NULL;
    if (sent == 0) {
        free(b);
        return NULL;
    }
    b->outstanding--;       /* the hold; answers come later, on the loop */
    return b;
}

void eng_agents_key_batch_cancel(eng_agents_key_batch_t *b)
{
    if (b)
        b->done = NULL;
}

static void s_push_cb(evutil_socket_t fd, short what, void *opaque)
{
    (void)fd;
    (void)what;
    eng_agents_t *a = opaque;
    const char *pub = a->ekey ? eng_enginekey_next_public(a->ekey) : NULL;
    int64_t when = a->ekey ? eng_enginekey_switch_time(a->ekey) : 0;
    for (size_t i = 0; i < ENG_AGT_BUCKETS; i++)
        for (eng_hostent_t *e = a->buckets[i]; e; e = e->next) {
            if (!e->key_push)
                continue;
            e->key_push = false;
            if (pub && e->session)
                s_send(a, e, pub, false, when, NULL);
        }
}

void eng_agents_key_on_hello(eng_agents_t *a, const char *host_id)
{
    if (!a->ekey || !eng_enginekey_active(a->ekey))
        return;
    eng_hostent_t *e = eng_agents_find(a, host_id);
    if (!e)
        return;
    if (!a->key_push_ev) {
        a->key_push_ev = event_new(a->ctx->base, -1, 0, s_push_cb, a);
        if (!a->key_push_ev) {
            CMN_WARN("host %s: cannot schedule the engine's next key",
                     host_id);
            return;
        }
    }
    e->key_push = true;
    event_active(a->key_push_ev, EV_TIMEOUT, 0);
}

bool eng_agents_key_all_ready(eng_agents_t *a)
{
    for (size_t i = 0; i < ENG_AGT_BUCKETS; i++)
        for (eng_hostent_t *e = a->buckets[i]; e; e = e->next)
            if (e->session && e->key_gen != a->key_gen)
                return false;
    return true;
}

int eng_agents_key_hosts(eng_agents_t *a, eng_agents_key_host_t **out,
                         size_t *n)
{
    *out = NULL;
    *n = 0;
    eng_hostkey_t *keys = NULL;
    size_t nk = 0;
    if (eng_store_hostkey_list(a->ctx->store, NULL, &keys, &nk) < 0)
        return -1;
    eng_agents_key_host_t *list = calloc(nk ? nk : 1, sizeof(*list));
    json_t *seen = json_object();
    if (!list || !seen) {
        free(keys);
        free(list);
        json_decref(seen);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    }
    int64_t now = (int64_t)cmn_time_ms();
    size_t cnt = 0;
    for (size_t i = 0; i < nk; i++) {
        const eng_hostkey_t *k = &keys[i];
        if (k->state != ENG_KEY_APPROVED || !k->host_id[0] ||
            (k->expires_ms != 0 && now >= k->expires_ms))
            continue;
        /* Two approved keys during an agent key overlap: one host. */
        if (json_object_get(seen, k->host_id))
            continue;
        json_object_set_new(seen, k->host_id, json_true());
        eng_agents_key_host_t *h = &list[cnt++];
        snprintf(h->id, sizeof(h->id), "%s", k->host_id);
        eng_store_host_name(a->ctx->store, k->host_id, h->name, sizeof(h->name));
        eng_hostent_t *e = eng_agents_find(a, k->host_id);
        h->has_next_key = e && a->key_gen != 0 && e->key_gen == a->key_gen;
    }
    free(keys);
    json_decref(seen);
    *out = list;
    *n = cnt;
    return 0;
}

int eng_agents_rekey(eng_agents_t *a, const char *secret_key)
{
    if (!a->sock)
        return 0;
    return cmn_zsock_rekey(a->sock, secret_key);
}
