/* zmq_hello: pose as an agent and say hello to an engine.
 *
 *   zmq_hello ENDPOINT --host-id UUID [--engine-key Z85] [--secret Z85]
 *             [--identity ID] [--token T] [--listen SECONDS]
 *
 * Connects a DEALER (CURVE when --engine-key is given: with the key pair
 * whose secret key is --secret, else a fresh one), sends a hello for host
 * UUID (routing identity --identity, none by default) and prints one line
 * per frame that comes back within 3 s (or within --listen seconds,
 * answering nothing): "reply code=N message=..." for replies, "request
 * BODY" for requests the engine sends. Prints "no answer" if nothing came.
 * The last line is "key FINGERPRINT-INPUT" with the client's public key.
 * Exit status: 0 if anything came back, 1 if not, 2 on bad usage. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "herd.pb-c.h"

static int usage(const char *me)
{
    fprintf(stderr, "usage: %s ENDPOINT --host-id UUID [--engine-key Z85] "
            "[--secret Z85] [--identity ID] [--token T] [--listen S]\n", me);
    return 2;
}

int main(int argc, char **argv)
{
    const char *ep = NULL, *host = NULL, *ekey = NULL, *secret = NULL;
    const char *ident = NULL, *token = NULL;
    long listen_s = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-' && !ep) { ep = a; continue; }
        if (!v)
            return usage(argv[0]);
        i++;
        if (strcmp(a, "--host-id") == 0) host = v;
        else if (strcmp(a, "--engine-key") == 0) ekey = v;
        else if (strcmp(a, "--secret") == 0) secret = v;
        else if (strcmp(a, "--identity") == 0) ident = v;
        else if (strcmp(a, "--token") == 0) token = v;
        else if (strcmp(a, "--listen") == 0) listen_s = strtol(v, NULL, 10);
        else return usage(argv[0]);
    }
    if (!ep || !host || listen_s < 1 || listen_s > 600)
        return usage(argv[0]);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (ident)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, ident, strlen(ident));
    char pub[41] = "", sec[41] = "";
    if (ekey) {
        if (secret) {
            snprintf(sec, sizeof(sec), "%s", secret);
            if (zmq_curve_public(pub, sec) < 0) {
                fprintf(stderr, "--secret: not a Z85 key\n");
                return 2;
            }
        } else {
            zmq_curve_keypair(pub, sec);
        }
        if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, ekey, 40) < 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40) < 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40) < 0) {
            fprintf(stderr, "CURVE options: %s\n", zmq_strerror(errno));
            return 2;
        }
    }
    if (zmq_connect(s, ep) < 0) {
        fprintf(stderr, "connect %s: %s\n", ep, zmq_strerror(errno));
        return 2;
    }
    Herd__Envelope e = HERD__ENVELOPE__INIT;
    Herd__Hello h = HERD__HELLO__INIT;
    h.host_id = (char *)host;
    h.hostname = "zmq-hello";
    h.agent_version = "test";
    h.cpu_count = 1;
    h.memory_bytes = 1 << 30;
    h.stats_interval = 1;
    h.enrollment_token = (char *)(token ? token : "");
    e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
    e.id = 7;
    e.body_case = HERD__ENVELOPE__BODY_HELLO;
    e.hello = &h;
    size_t n = herd__envelope__get_packed_size(&e);
    uint8_t *buf = malloc(n);
    herd__envelope__pack(&e, buf);
    /* A DEALER queues until connected (and CURVE handshakes take a moment):
     * send once the connection is up, retrying for the first second. */
    zmq_send(s, buf, n, 0);
    free(buf);
    int got = 0;
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    int64_t left = listen_s * 1000;
    while (left > 0 && zmq_poll(&it, 1, 100) >= 0) {
        left -= 100;
        if (!(it.revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            continue;
        }
        got++;
        Herd__Envelope *r = herd__envelope__unpack(NULL, zmq_msg_size(&m),
                                                   zmq_msg_data(&m));
        if (!r)
            printf("garbage frame of %zu bytes\n", zmq_msg_size(&m));
        else if (r->in_reply_to)
            printf("reply code=%d message=%s\n",
                   r->result ? r->result->code : -1,
                   r->result && r->result->message ? r->result->message : "");
        else
            printf("request body=%d\n", (int)r->body_case);
        if (r)
            herd__envelope__free_unpacked(r, NULL);
        zmq_msg_close(&m);
        fflush(stdout);
    }
    if (!got)
        printf("no answer\n");
    printf("key %s\n", pub);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return got ? 0 : 1;
}
