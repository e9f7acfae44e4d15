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
#include "cmn_util.h"
#include "eng_agents.h"
#include "eng_conf.h"
#include "eng_ctx.h"
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
