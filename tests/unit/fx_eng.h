/* Fixtures shared by the engine unit tests: the engine context they run on
 * (event base, in-memory store, stats, agent link) and the temporary key
 * folder of the enrollment gate. Static inline, like test_helpers.h: each
 * test binary keeps only what it uses. */
#ifndef FX_ENG_H
#define FX_ENG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "cmn_conf.h"
#include "cmn_rpc.h"
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_conf.h"
#include "eng_ctx.h"
#include "eng_enroll.h"
#include "eng_stats.h"
#include "eng_store.h"
#include "test_helpers.h"

/* Open ctx's event base, an in-memory store, stats, a fresh engine id and
 * the agent link: detached (no socket) or bound as ctx->conf says. The
 * caller has loaded ctx->conf. Any failure fails the test. */
static inline void
fx_eng_ctx_open(eng_ctx_t *ctx, bool detached)
{
    ctx->base = event_base_new();
    assert_non_null(ctx->base);
    ctx->store = eng_store_open(":memory:");
    if (!ctx->store)
        fail_msg("eng_store_open: %s", cmn_err_msg());
    ctx->stats = eng_stats_new();
    assert_non_null(ctx->stats);
    cmn_uuid_generate(ctx->engine_id);
    ctx->agents = detached ? eng_agents_new_detached(ctx)
                           : eng_agents_new(ctx);
    if (!ctx->agents)
        fail_msg("eng_agents_new: %s", cmn_err_msg());
}

/* Undo fx_eng_ctx_open and clear ctx->conf (destroy what uses the link,
 * the store or the base first). */
static inline void
fx_eng_ctx_close(eng_ctx_t *ctx)
{
    eng_agents_destroy(&ctx->agents);
    eng_stats_destroy(&ctx->stats);
    eng_store_destroy(&ctx->store);
    if (ctx->base)
        event_base_free(ctx->base);
    ctx->base = NULL;
    eng_conf_clear(&ctx->conf);
}

/* For a test of the enrollment gate without sockets: a new folder
 * "/tmp/<name>.XXXXXX" into dir, the default conf with CURVE off, and the
 * engine key folder dir (sub NULL) or dir/sub (not created). */
static inline void
fx_eng_gate_conf(eng_ctx_t *ctx, char *dir, size_t dir_size,
                 const char *name, const char *sub)
{
    snprintf(dir, dir_size, "/tmp/%s.XXXXXX", name);
    assert_non_null(mkdtemp(dir));
    assert_int_equal(eng_conf_load(&ctx->conf, NULL), 0);
    ctx->conf.agents_curve = false;
    char kd[256];
    snprintf(kd, sizeof(kd), "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
    cmn_conf_set_str(&ctx->conf.agents_key_dir, kd);
}

/* Remove what fx_eng_gate_conf made: the engine key pair (and the next
 * pair and switch file of a rotation) in dir[/sub], then the folders. */
static inline void
fx_eng_gate_remove(const char *dir, const char *sub)
{
    static const char *const files[] = {
        "engine.key", "engine.pub", "engine.next.key", "engine.next.pub",
        "engine.next.switch", NULL
    };
    char kd[256], p[320];
    snprintf(kd, sizeof(kd), "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
    for (int i = 0; files[i]; i++) {
        snprintf(p, sizeof(p), "%s/%s", kd, files[i]);
        unlink(p);
    }
    if (sub)
        rmdir(kd);
    rmdir(dir);
}

/* An enrollment gate on a context of its own (see fx_eng_gate_conf). */
typedef struct {
    eng_ctx_t ctx;
    eng_enroll_t *en;
    char dir[64];
} fx_eng_enroll_t;

/* A new fx_eng_enroll_t: folder "/tmp/<name>.XXXXXX", engine keys in it,
 * agents_pending_rate set if `pending_rate` > 0, the context open and the
 * enrollment made. Any failure fails the test. */
static inline fx_eng_enroll_t *
fx_eng_enroll_new(const char *name, int pending_rate)
{
    fx_eng_enroll_t *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    fx_eng_gate_conf(&t->ctx, t->dir, sizeof(t->dir), name, NULL);
    if (pending_rate > 0)
        t->ctx.conf.agents_pending_rate = pending_rate;
    fx_eng_ctx_open(&t->ctx, true);
    t->en = eng_enroll_new(&t->ctx);
    if (!t->en)
        fail_msg("eng_enroll_new: %s", cmn_err_msg());
    return t;
}

/* Undo fx_eng_enroll_new, files and folder included; accepts NULL. */
static inline void
fx_eng_enroll_destroy(fx_eng_enroll_t *t)
{
    if (!t)
        return;
    eng_enroll_destroy(&t->en);
    fx_eng_ctx_close(&t->ctx);
    fx_eng_gate_remove(t->dir, NULL);
    free(t);
}

/* An encoded Hello (envelope id 5) of host `host_id` called `hostname`
 * with `token` (NULL: none), as an agent sends it first. Caller frees. */
static inline uint8_t *
fx_eng_hello(const char *host_id, const char *hostname, const char *token,
             size_t *len)
{
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = (char *)host_id;
    h.hostname = (char *)hostname;
    h.agent_version = "test";
    h.cpu_count = 2;
    h.memory_bytes = 1 << 30;
    h.stats_interval = 1;
    h.enrollment_token = (char *)(token ? token : "");
    e.id = 5;
    e.body_case = HERD__ENVELOPE__BODY_HELLO;
    e.hello = &h;
    uint8_t *buf = cmn_rpc_encode(&e, len);
    assert_non_null(buf);
    return buf;
}

/* Run frame `buf` from CURVE key `key` (routing id "r1") through the
 * gate: its verdict; host gets the host id. *code is the reply's result
 * code, -1 for a reply without one, -2 when nothing was answered; msg
 * (may be NULL) gets the reply's message ("" if none). */
static inline eng_gate_t
fx_eng_gate(eng_enroll_t *en, const char *key, const uint8_t *buf,
            size_t len, char host[ENG_ID_LEN], int *code, char *msg,
            size_t msg_size)
{
    uint8_t *reply = NULL;
    size_t rlen = 0;
    eng_gate_t g = eng_enroll_gate(en, key, (const uint8_t *)"r1", 2, buf,
                                   len, host, &reply, &rlen);
    *code = -2;
    if (msg)
        msg[0] = '\0';
    if (reply) {
        Herd__Envelope *r = cmn_rpc_decode(reply, rlen, 0, NULL);
        assert_non_null(r);
        *code = r->result ? (int)r->result->code : -1;
        if (msg && r->result && r->result->message)
            snprintf(msg, msg_size, "%s", r->result->message);
        cmn_rpc_free(r);
        free(reply);
    }
    return g;
}

/* A store on a real SQLite file in a folder of its own. */
typedef struct {
    char dir[64];
    char path[128];                 /* dir/engine.db */
    eng_store_t *s;
} fx_eng_store_t;

/* cmocka setup body: *state = a new fx_eng_store_t, its folder made as
 * "/tmp/<name>.XXXXXX" and the store opened; any failure fails the test. */
static inline int
fx_eng_store_setup(void **state, const char *name)
{
    fx_eng_store_t *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    test_db_make(fx->dir, sizeof(fx->dir), fx->path, sizeof(fx->path),
                 name);
    cmn_err_reset();
    fx->s = eng_store_open(fx->path);
    if (fx->s == NULL)
        fail_msg("open %s: %s", fx->path, cmn_err_msg());
    *state = fx;
    return 0;
}

/* cmocka teardown: close the store, remove its files and folder, free. */
static inline int
fx_eng_store_teardown(void **state)
{
    fx_eng_store_t *fx = *state;
    eng_store_destroy(&fx->s);
    assert_null(fx->s);
    test_db_remove(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

#endif /* FX_ENG_H */
