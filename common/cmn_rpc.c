#include "cmn_rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cmn_log.h"

CMN_LOG_INIT("rpc.envelope");

#define CMN_RPC_DEFAULT_MAX (4u * 1024 * 1024)

Herd__Envelope *
cmn_rpc_decode(const uint8_t *buf, size_t len, size_t max_bytes, uint64_t *id_out)
{
    if (id_out)
        *id_out = 0;
    if (max_bytes == 0)
        max_bytes = CMN_RPC_DEFAULT_MAX;
    if (len > max_bytes) {
        CMN_ERR(CMN_ERR_TOO_BIG, "message of %zu bytes exceeds the limit %zu",
                len, max_bytes);
        return NULL;
    }
    if (len == 0 || !buf) {
        CMN_ERR(CMN_ERR_PROTOCOL, "empty message");
        return NULL;
    }
    Herd__Envelope *env = herd__envelope__unpack(NULL, len, buf);
    if (!env) {
        CMN_ERR(CMN_ERR_PROTOCOL, "message of %zu bytes is not a valid envelope", len);
        return NULL;
    }
    if (id_out)
        *id_out = env->id;
    if (env->version != CMN_RPC_VERSION) {
        CMN_ERR(CMN_ERR_VERSION, "envelope %llu speaks protocol version %u, "
                "this side speaks %u", (unsigned long long)env->id,
                env->version, (unsigned)CMN_RPC_VERSION);
        goto err;
    }
    if (env->id == 0) {
        CMN_ERR(CMN_ERR_PROTOCOL, "envelope has id 0");
        goto err;
    }
    if (env->body_case == HERD__ENVELOPE__BODY__NOT_SET && !env->result) {
        CMN_ERR(CMN_ERR_PROTOCOL, "envelope %llu has neither a body nor a result",
                (unsigned long long)env->id);
        goto err;
    }
    if (env->result && !cmn_code_valid(env->result->code)) {
        CMN_ERR(CMN_ERR_PROTOCOL, "envelope %llu has an unknown result code %d",
                (unsigned long long)env->id, (int)env->result->code);
        goto err;
    }
    return env;
err:
    herd__envelope__free_unpacked(env, NULL);
    return NULL;
}

void
cmn_rpc_free(Herd__Envelope *env)
{
    if (env)
        herd__envelope__free_unpacked(env, NULL);
}

uint8_t *
cmn_rpc_encode(Herd__Envelope *env, size_t *len)
{
    env->version = CMN_RPC_VERSION;
    size_t n = herd__envelope__get_packed_size(env);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory encoding a %zu-byte envelope", n);
        return NULL;
    }
    size_t w = herd__envelope__pack(env, buf);
    if (len)
        *len = w;
    return buf;
}

void
cmn_rpc_init_reply(Herd__Envelope *env, Herd__Result *result, uint64_t id,
                   uint64_t request_id, cmn_code_t code, const char *message)
{
    herd__envelope__init(env);
    herd__result__init(result);
    env->version = CMN_RPC_VERSION;
    env->id = id;
    env->in_reply_to = request_id;
    result->code = (int32_t)code;
    result->message = (char *)(message ? message : "");
    env->result = result;
}

const char *
cmn_rpc_body_name(const Herd__Envelope *env)
{
    if (!env || env->body_case == HERD__ENVELOPE__BODY__NOT_SET)
        return "none";
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&herd__envelope__descriptor,
                                                (unsigned)env->body_case);
    return f ? f->name : "unknown";
}

/* ---- pending-request table ------------------------------------------- */

typedef struct s_entry s_entry_t;
struct s_entry {
    s_entry_t *next;            /* bucket chain */
    cmn_rpc_t *rpc;
    uint64_t id;
    char *key;
    struct event *timer;
    cmn_rpc_reply_cb cb;
    void *opaque;
};

struct cmn_rpc {
    struct event_base *base;
    uint64_t next_id;
    s_entry_t **buckets;
    size_t nbuckets;            /* power of two */
    size_t count;
    int busy;                   /* > 0 while callbacks run */
    bool dead;                  /* destroyed from inside a callback */
};

cmn_rpc_t *
cmn_rpc_new(struct event_base *base)
{
    if (!base) {
        CMN_ERR(CMN_ERR_INTERNAL, "cmn_rpc_new: no event base");
        return NULL;
    }
    cmn_rpc_t *rpc = calloc(1, sizeof(*rpc));
    if (!rpc) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    rpc->base = base;
    rpc->next_id = 1;
    rpc->nbuckets = 64;
    rpc->buckets = calloc(rpc->nbuckets, sizeof(*rpc->buckets));
    if (!rpc->buckets) {
        free(rpc);
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return rpc;
}

uint64_t
cmn_rpc_next_id(cmn_rpc_t *rpc)
{
    uint64_t id = rpc->next_id++;
    if (rpc->next_id == 0)
        rpc->next_id = 1;
    return id;
}

static size_t
s_slot(const cmn_rpc_t *rpc, uint64_t id)
{
    /* Fibonacci hashing spreads sequential ids. */
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (rpc->nbuckets - 1);
}

static s_entry_t *
s_find(cmn_rpc_t *rpc, uint64_t id)
{
    for (s_entry_t *e = rpc->buckets[s_slot(rpc, id)]; e; e = e->next)
        if (e->id == id)
            return e;
    return NULL;
}

static void
s_unlink(cmn_rpc_t *rpc, s_entry_t *e)
{
    s_entry_t **pp = &rpc->buckets[s_slot(rpc, e->id)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = e->next;
        rpc->count--;
    }
    e->next = NULL;
}

static void
s_entry_free(s_entry_t *e)
{
    if (e->timer)
        event_free(e->timer);
    free(e->key);
    free(e);
}

static void
s_grow(cmn_rpc_t *rpc)
{
    size_t n = rpc->nbuckets * 2;
    s_entry_t **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return;     /* keep the longer chains; still correct */
    s_entry_t **old = rpc->buckets;
    size_t oldn = rpc->nbuckets;
    rpc->buckets = nb;
    rpc->nbuckets = n;
    for (size_t i = 0; i < oldn; i++) {
        s_entry_t *e = old[i];
        while (e) {
            s_entry_t *next = e->next;
            size_t s = s_slot(rpc, e->id);
            e->next = nb[s];
            nb[s] = e;
            e = next;
        }
    }
    free(old);
}

static void
s_rpc_free(cmn_rpc_t *rpc)
{
    free(rpc->buckets);
    free(rpc);
}

/* Run one entry's callback (the entry is already out of the table) and
 * free it. The caller runs s_settle() afterwards. */
static void
s_fire(cmn_rpc_t *rpc, s_entry_t *e, const Herd__Envelope *env,
       cmn_code_t code, const char *message)
{
    rpc->busy++;
    if (e->cb)
        e->cb(env, code, message ? message : "", e->opaque);
    rpc->busy--;
    s_entry_free(e);
}

/* After callbacks: free the object if a callback destroyed it. Returns true
 * if it was freed. */
static bool
s_settle(cmn_rpc_t *rpc)
{
    if (rpc->dead && rpc->busy == 0) {
        s_rpc_free(rpc);
        return true;
    }
    return false;
}

static void
s_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_entry_t *e = arg;
    cmn_rpc_t *rpc = e->rpc;
    char msg[96];
    snprintf(msg, sizeof(msg), "no reply to request %llu in time",
             (unsigned long long)e->id);
    CMN_DEBUG("request %llu (%s) timed out", (unsigned long long)e->id,
              e->key ? e->key : "-");
    s_unlink(rpc, e);
    s_fire(rpc, e, NULL, CMN_ERR_TIMEOUT, msg);
    s_settle(rpc);
}

int
cmn_rpc_expect(cmn_rpc_t *rpc, uint64_t id, const char *key,
               unsigned timeout_ms, cmn_rpc_reply_cb cb, void *opaque)
{
    if (!rpc || rpc->dead)
        return CMN_ERR(CMN_ERR_UNAVAILABLE, "rpc table is shutting down");
    if (id == 0)
        return CMN_ERR(CMN_ERR_INTERNAL, "request id 0");
    if (s_find(rpc, id))
        return CMN_ERR(CMN_ERR_EXISTS, "request %llu is already pending",
                       (unsigned long long)id);
    s_entry_t *e = calloc(1, sizeof(*e));
    if (!e)
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    e->rpc = rpc;
    e->id = id;
    e->cb = cb;
    e->opaque = opaque;
    if (key && !(e->key = strdup(key))) {
        free(e);
        return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
    }
    e->timer = evtimer_new(rpc->base, s_on_timeout, e);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    if (!e->timer || evtimer_add(e->timer, &tv) < 0) {
        s_entry_free(e);
        return CMN_ERR(CMN_ERR_INTERNAL, "cannot arm the timer of request %llu",
                       (unsigned long long)id);
    }
    if (rpc->count >= rpc->nbuckets)
        s_grow(rpc);
    size_t s = s_slot(rpc, id);
    e->next = rpc->buckets[s];
    rpc->buckets[s] = e;
    rpc->count++;
    return 0;
}

bool
cmn_rpc_complete(cmn_rpc_t *rpc, const char *key, const Herd__Envelope *env)
{
    if (!rpc || rpc->dead || !env || env->in_reply_to == 0)
        return false;
    s_entry_t *e = s_find(rpc, env->in_reply_to);
    if (!e)
        return false;
    if (key && (!e->key || strcmp(e->key, key) != 0)) {
        CMN_WARN("reply to request %llu came from '%s', not from '%s'",
                 (unsigned long long)env->in_reply_to, key,
                 e->key ? e->key : "-");
        return false;
    }
    cmn_code_t code = CMN_OK;
    const char *message = "";
    if (env->result) {
        code = cmn_code_valid(env->result->code) ? (cmn_code_t)env->result->code
                                                 : CMN_ERR_PROTOCOL;
        if (env->result->message)
            message = env->result->message;
    }
    s_unlink(rpc, e);
    evtimer_del(e->timer);
    s_fire(rpc, e, env, code, message);
    s_settle(rpc);
    return true;
}

/* Take every entry matching `key` (all if NULL) out of the table, then fail
 * them one by one: callbacks may add or complete requests meanwhile. */
static void
s_fail(cmn_rpc_t *rpc, const char *key, cmn_code_t code, const char *message)
{
    s_entry_t *list = NULL;
    for (size_t i = 0; i < rpc->nbuckets; i++) {
        s_entry_t **pp = &rpc->buckets[i];
        while (*pp) {
            s_entry_t *e = *pp;
            if (!key || (e->key && strcmp(e->key, key) == 0)) {
                *pp = e->next;
                rpc->count--;
                evtimer_del(e->timer);
                e->next = list;
                list = e;
            } else {
                pp = &e->next;
            }
        }
    }
    while (list) {
        s_entry_t *e = list;
        list = e->next;
        e->next = NULL;
        s_fire(rpc, e, NULL, code, message);
    }
}

void
cmn_rpc_fail_key(cmn_rpc_t *rpc, const char *key, cmn_code_t code,
                 const char *message)
{
    if (!rpc)
        return;
    s_fail(rpc, key, code, message);
    s_settle(rpc);
}

size_t
cmn_rpc_pending(cmn_rpc_t *rpc)
{
    return rpc ? rpc->count : 0;
}

void
cmn_rpc_destroy(cmn_rpc_t **p)
{
    if (!p || !*p)
        return;
    cmn_rpc_t *rpc = *p;
    *p = NULL;
    if (rpc->dead)
        return;
    rpc->dead = true;
    /* Callbacks cannot add requests any more (dead), so this empties the
     * table. */
    rpc->busy++;
    s_fail(rpc, NULL, CMN_ERR_UNAVAILABLE, "shutting down");
    rpc->busy--;
    s_settle(rpc);
}
