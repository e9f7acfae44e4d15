/* Rotation of the engine's own CURVE key pair (agents.key_dir/engine.key,
 * engine.pub) without taking hosts down.
 *
 * A rotation starts (POST /enginekey/rotate) by making the next pair:
 * engine.next.key (0600), engine.next.pub (0644) and engine.next.switch
 * (one line: the switch time, Unix ms; written last, so it marks a complete
 * start). The next public key is pre-published to every host with a
 * session, and to every host at its hello (eng_agents_key.c); agents then
 * trust both keys. At the switch time (or POST /enginekey/switch) the
 * engine tells every host to switch, waits for their answers (5 s at
 * most), renames engine.next.key/.pub over engine.key/.pub, removes
 * engine.next.switch and re-binds its ROUTER with the new secret key.
 * engine.next.key + engine.next.switch together define a rotation under
 * way: at start a due one is promoted before the key is loaded
 * (eng_enginekey_promote_due), one not yet due is resumed. */
#ifndef ENG_ENGINEKEY_H
#define ENG_ENGINEKEY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cmn_err.h"
#include "eng_ctx.h"

struct eng_enroll;
typedef struct eng_enginekey eng_enginekey_t;

/* Event codes (stable, shown in the API). */
enum {
    ENG_EV_ENGINE_KEY_ROTATION = 116,   /* a rotation started */
    ENG_EV_ENGINE_KEY_HOST_READY = 117, /* a host has the next key (or
                                           refused it: warning) */
    ENG_EV_ENGINE_KEY_ROTATED = 118,    /* the switch happened */
    ENG_EV_ENGINE_KEY_HOST_MISSED = 119,/* an approved host never confirmed */
};

#define ENG_ENGINEKEY_WINDOW_DEFAULT_S 86400
#define ENG_ENGINEKEY_WINDOW_MAX_S 2678400      /* 31 days */
#define ENG_ENGINEKEY_ASAP_MAX_S 60     /* window 0: switch after this at most */
#define ENG_ENGINEKEY_SWITCH_WAIT_MS 5000   /* for the hosts' answers */

/* At start, before the engine key is loaded (eng_enroll_new): a rotation
 * whose switch time has passed is promoted (event 118 "... while the
 * engine was down"); leftovers of an interrupted start or switch are
 * cleaned up. 0, or -1 with an error recorded (CMN_ERR_CONFIG naming a
 * bad engine.next.switch or next key file). */
int eng_enginekey_promote_due(eng_ctx_t *ctx);

/* The rotation state of a running engine; resumes a rotation under way
 * (switch timer). ctx, agents (may be detached) and en are borrowed and
 * must outlive the result. NULL with an error recorded. */
eng_enginekey_t *eng_enginekey_new(eng_ctx_t *ctx, eng_agents_t *agents,
                                   struct eng_enroll *en);
/* Accepts NULL; sets *p = NULL. A switch waiting for answers is dropped
 * (the files stay: the next start resumes or promotes them). */
void eng_enginekey_destroy(eng_enginekey_t **p);

/* Start a rotation switching in window_s seconds (0: as soon as every host
 * with a session has the next key, ENG_ENGINEKEY_ASAP_MAX_S at most).
 * `user` (may be NULL) goes in the event. 0, or -1 with CMN_ERR_INVALID
 * (window out of range), CMN_ERR_STATE (one is under way: the message
 * names its switch time) or another error (key files). */
int eng_enginekey_start(eng_enginekey_t *ek, int64_t window_s,
                        const char *user);

/* Called once when a switch has ended: CMN_OK, or the error. */
typedef void (*eng_enginekey_cb)(cmn_code_t code, const char *message,
                                 void *opaque);

/* Switch now: tell every host with a session, wait for their answers
 * (ENG_ENGINEKEY_SWITCH_WAIT_MS at most), promote the files and re-bind
 * the ROUTER; then cb (may be NULL) is called, never from inside this
 * call. 0, or -1 with CMN_ERR_STATE (no rotation, or a switch is under
 * way already) and cb is never called. */
int eng_enginekey_switch(eng_enginekey_t *ek, const char *user,
                         eng_enginekey_cb cb, void *opaque);

/* True while a rotation is under way (started, not yet switched). */
bool eng_enginekey_active(const eng_enginekey_t *ek);
/* The next public key (Z85, owned by ek), NULL when none. */
const char *eng_enginekey_next_public(const eng_enginekey_t *ek);
/* The planned switch time (Unix ms), 0 when none. */
int64_t eng_enginekey_switch_time(const eng_enginekey_t *ek);

/* For eng_agents_key.c: a host confirmed the next key. With window 0 the
 * switch starts (on the loop) once every host with a session has it. */
void eng_enginekey_host_ready(eng_enginekey_t *ek);

/* GET /enginekey: {"public_key", "fingerprint", "rotation":
 * {"next_public_key", "next_fingerprint", "switch_time", "hosts":
 * [{"id", "name", "has_next_key"}]}} ("rotation" only during one). New
 * reference; NULL with an error recorded. */
json_t *eng_enginekey_json(eng_enginekey_t *ek);

/* herd-engine --show-key: the next key, its fingerprint and the switch
 * time of a rotation under way in key_dir, printed on stdout (nothing if
 * none). 0, or -1 with an error recorded. */
int eng_enginekey_cli_show(const char *key_dir);

/* The switch time (Unix ms) in the file `path`; -1 with CMN_ERR_CONFIG
 * naming the file (fuzzed). */
int eng_enginekey_read_switch(const char *path, int64_t *out);
/* POST /enginekey/rotate body {"window": s} (eng_rest_enginekey.c) into
 * *window (default when absent); -1 with CMN_ERR_INVALID (fuzzed). */
int eng_enginekey_parse_rotate(const char *body, size_t len, int64_t *window);

#endif /* ENG_ENGINEKEY_H */
