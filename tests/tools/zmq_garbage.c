/* zmq_garbage: throw bad frames at an engine's agent socket.
 *
 *   zmq_garbage tcp://127.0.0.1:PORT [--rounds N] [--seed S] [--no-session]
 *
 * Sends, from DEALER sockets with random identities and from raw TCP
 * connections: random bytes, truncated and bit-flipped Envelopes, other
 * protocol versions, id 0, oversized frames (16 MiB), multi-part messages,
 * a hello whose host_id differs from the identity, a hello with absurd
 * fields followed by junk reports/events/stats for random VM ids, and raw
 * bytes that are not ZMTP (or a ZMTP greeting announcing a huge frame).
 * At the end a fresh DEALER must get a pong to a ping within 5 s; the exit
 * status is 0 if it did, 1 if not (the engine stopped answering), 2 on bad
 * usage. Prints what it sent and what came back.
 *
 * With HERD_ENGINE_KEY=<engine public key, Z85> in the environment every
 * DEALER speaks CURVE with a fresh key pair of its own (an unknown host). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "herd.pb-c.h"

static uint64_t s_rng = 88172645463325252ULL;

static uint64_t rnd(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void rnd_bytes(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)rnd();
}

static void rnd_uuid(char out[37])
{
    uint8_t b[16];
    rnd_bytes(b, sizeof(b));
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static unsigned long s_sent, s_replies;

static void *dealer_new(void *zctx, const char *endpoint, const char *ident)
{
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 200, hwm = 100000;
    if (!s)
        return NULL;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    if (ident)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, ident, strlen(ident));
    /* CURVE engine: every socket gets a fresh key pair (an unknown,
     * unapproved host), so frames reach the engine's gate. */
    const char *server = getenv("HERD_ENGINE_KEY");
    if (server && *server) {
        char pub[41], sec[41];
        zmq_curve_keypair(pub, sec);
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    }
    if (zmq_connect(s, endpoint) != 0) {
        fprintf(stderr, "zmq_connect %s: %s\n", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

static void send_buf(void *s, const void *buf, size_t n)
{
    if (zmq_send(s, buf, n, ZMQ_DONTWAIT) >= 0)
        s_sent++;
}

/* Read and count whatever replies arrived; print the first few. */
static void drain(void *s, int wait_ms, const char *what)
{
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    while (zmq_poll(&it, 1, wait_ms) > 0) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        s_replies++;
        Herd__Envelope *e = herd__envelope__unpack(NULL, zmq_msg_size(&m),
                                                   zmq_msg_data(&m));
        if (e && s_replies <= 20)
            printf("  reply to %s: in_reply_to=%llu code=%d message='%s' body=%d\n",
                   what, (unsigned long long)e->in_reply_to,
                   e->result ? e->result->code : -1,
                   e->result && e->result->message ? e->result->message : "",
                   (int)e->body_case);
        if (e)
            herd__envelope__free_unpacked(e, NULL);
        zmq_msg_close(&m);
        wait_ms = 50;
    }
}

static size_t pack_env(Herd__Envelope *e, uint8_t **out)
{
    size_t n = herd__envelope__get_packed_size(e);
    *out = malloc(n ? n : 1);
    if (!*out)
        return 0;
    herd__envelope__pack(e, *out);
    return n;
}

static void send_env(void *s, Herd__Envelope *e)
{
    uint8_t *buf = NULL;
    size_t n = pack_env(e, &buf);
    if (buf)
        send_buf(s, buf, n);
    free(buf);
}

static void ping_env(Herd__Envelope *e, Herd__Ping *p, uint32_t version,
                     uint64_t id)
{
    herd__envelope__init(e);
    herd__ping__init(p);
    p->sent_us = 1;
    e->version = version;
    e->id = id;
    e->body_case = HERD__ENVELOPE__BODY_PING;
    e->ping = p;
}

static void hello_env(Herd__Envelope *e, Herd__Hello *h, const char *host_id,
                      char *big)
{
    herd__envelope__init(e);
    herd__hello__init(h);
    h->host_id = (char *)host_id;
    h->hostname = big ? big : "garbage\n\t\x01host";
    h->agent_version = "0.0-garbage";
    h->cpu_model = big ? big : "";
    h->cpu_count = (uint32_t)rnd();
    h->cpu_sockets = 0;
    h->memory_bytes = UINT64_MAX;
    h->libvirt_version = "not.a.version";
    h->hypervisor = "GARBAGE";
    h->stats_interval = 0;
    e->version = HERD__PROTOCOL__PROTOCOL_VERSION;
    e->id = 1 + (rnd() % 1000000);
    e->body_case = HERD__ENVELOPE__BODY_HELLO;
    e->hello = h;
}

/* Random bytes and mangled valid envelopes from a session-less DEALER. */
static void phase_junk(void *zctx, const char *ep, int rounds)
{
    char ident[37];
    rnd_uuid(ident);
    void *s = dealer_new(zctx, ep, ident);
    if (!s)
        return;
    uint8_t buf[4096];
    for (int i = 0; i < rounds; i++) {
        size_t n = rnd() % sizeof(buf);
        rnd_bytes(buf, n);
        send_buf(s, buf, n);
        send_buf(s, buf, 0);                    /* empty frame */

        Herd__Envelope e;
        Herd__Ping p;
        uint8_t *pk = NULL;
        ping_env(&e, &p, HERD__PROTOCOL__PROTOCOL_VERSION, 1 + i);
        size_t pn = pack_env(&e, &pk);
        if (pk && pn > 1) {
            send_buf(s, pk, rnd() % pn);        /* truncated */
            pk[rnd() % pn] ^= (uint8_t)(1u << (rnd() % 8));
            send_buf(s, pk, pn);                /* bit flip */
        }
        free(pk);

        /* Multi-part message: valid envelope followed by junk parts. */
        ping_env(&e, &p, HERD__PROTOCOL__PROTOCOL_VERSION, 1000 + i);
        pn = pack_env(&e, &pk);
        if (pk) {
            zmq_send(s, pk, pn, ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(s, buf, n % 64, ZMQ_DONTWAIT);
            s_sent++;
        }
        free(pk);
        if (i % 50 == 0)
            drain(s, 0, "junk");
    }
    drain(s, 300, "junk");
    zmq_close(s);
}

/* Other versions, id 0, unknown bodies, replies nobody asked for. */
static void phase_versions(void *zctx, const char *ep)
{
    char ident[37];
    rnd_uuid(ident);
    void *s = dealer_new(zctx, ep, ident);
    if (!s)
        return;
    uint32_t versions[] = { 0, 2, 3, 255, 65536, UINT32_MAX };
    Herd__Envelope e;
    Herd__Ping p;
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        ping_env(&e, &p, versions[i], 100 + i);
        send_env(s, &e);
    }
    ping_env(&e, &p, HERD__PROTOCOL__PROTOCOL_VERSION, 0);   /* id 0 */
    send_env(s, &e);
    /* An envelope with no body, and a pong answering nothing. */
    herd__envelope__init(&e);
    e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
    e.id = 77;
    send_env(s, &e);
    Herd__Pong po;
    herd__pong__init(&po);
    e.in_reply_to = 123456;
    e.body_case = HERD__ENVELOPE__BODY_PONG;
    e.pong = &po;
    send_env(s, &e);
    /* Requests that need a session. */
    Herd__VmReport rep;
    herd__vm_report__init(&rep);
    herd__envelope__init(&e);
    e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
    e.id = 78;
    e.body_case = HERD__ENVELOPE__BODY_VM_REPORT;
    e.vm_report = &rep;
    send_env(s, &e);
    /* A hello whose host_id is not the routing identity. */
    Herd__Hello h;
    char other[37];
    rnd_uuid(other);
    hello_env(&e, &h, other, NULL);
    send_env(s, &e);
    /* Engine -> agent commands sent to the engine. */
    Herd__VmOp op;
    herd__vm_op__init(&op);
    op.vm_id = "../../etc/passwd";
    op.op = 99;
    herd__envelope__init(&e);
    e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
    e.id = 79;
    e.body_case = HERD__ENVELOPE__BODY_VM_OP;
    e.vm_op = &op;
    send_env(s, &e);
    drain(s, 500, "versions");
    zmq_close(s);
}

/* Frames bigger than any limit. */
static void phase_huge(void *zctx, const char *ep)
{
    char ident[37];
    rnd_uuid(ident);
    void *s = dealer_new(zctx, ep, ident);
    if (!s)
        return;
    size_t n = 16u << 20;
    uint8_t *big = malloc(n);
    if (big) {
        rnd_bytes(big, 4096);
        memset(big + 4096, 'A', n - 4096);
        send_buf(s, big, n);
        /* A valid-looking envelope with a 6 MiB string. */
        char *str = malloc(6u << 20);
        if (str) {
            memset(str, 'x', (6u << 20) - 1);
            str[(6u << 20) - 1] = '\0';
            Herd__Envelope e;
            Herd__Hello h;
            hello_env(&e, &h, ident, str);
            send_env(s, &e);
            free(str);
        }
        free(big);
    }
    drain(s, 500, "huge");
    zmq_close(s);
}

/* A fake host with a session, then junk that needs one. */
static void phase_session(void *zctx, const char *ep, int rounds)
{
    char ident[37];
    rnd_uuid(ident);
    void *s = dealer_new(zctx, ep, ident);
    if (!s)
        return;
    Herd__Envelope e;
    Herd__Hello h;
    hello_env(&e, &h, ident, NULL);
    send_env(s, &e);
    drain(s, 1000, "hello(fake host)");

    for (int i = 0; i < rounds; i++) {
        char vm[37];
        rnd_uuid(vm);
        Herd__VmEvent ev;
        herd__vm_event__init(&ev);
        ev.vm_id = (i % 3 == 0) ? "not-a-uuid" : vm;
        ev.name = (i % 2) ? "" : "x";
        ev.event = (int32_t)rnd();
        ev.detail = (int32_t)rnd();
        ev.state = (int32_t)rnd();
        ev.reason = -1;
        herd__envelope__init(&e);
        e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
        e.id = 10000 + i;
        e.body_case = HERD__ENVELOPE__BODY_VM_EVENT;
        e.vm_event = &ev;
        send_env(s, &e);

        Herd__VmStats vs;
        Herd__VmStats *vsp = &vs;
        Herd__VmStatsBatch b;
        herd__vm_stats__init(&vs);
        herd__vm_stats_batch__init(&b);
        vs.vm_id = vm;
        vs.name = "";
        vs.state = (int32_t)rnd();
        vs.cpu_usage = -1e308;
        vs.cpu_time_ns = UINT64_MAX;
        vs.vcpus = UINT32_MAX;
        b.timestamp_ms = rnd();
        b.n_vms = 1;
        b.vms = &vsp;
        herd__envelope__init(&e);
        e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
        e.id = 20000 + i;
        e.body_case = HERD__ENVELOPE__BODY_VM_STATS;
        e.vm_stats = &b;
        send_env(s, &e);

        Herd__HostStats hs;
        herd__host_stats__init(&hs);
        hs.cpu_user = 1e300;
        hs.cpu_idle = -5;
        hs.mem_total = 1;
        hs.mem_used = UINT64_MAX;
        herd__envelope__init(&e);
        e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
        e.id = 30000 + i;
        e.body_case = HERD__ENVELOPE__BODY_HOST_STATS;
        e.host_stats = &hs;
        send_env(s, &e);

        Herd__VmStatus st;
        Herd__VmStatus *stp = &st;
        Herd__VmReport rep;
        herd__vm_status__init(&st);
        herd__vm_report__init(&rep);
        st.vm_id = (i % 2) ? vm : "";
        st.name = "garbage-vm";
        st.state = (int32_t)rnd();
        rep.n_vms = 1;
        rep.vms = &stp;
        herd__envelope__init(&e);
        e.version = HERD__PROTOCOL__PROTOCOL_VERSION;
        e.id = 40000 + i;
        e.body_case = HERD__ENVELOPE__BODY_VM_REPORT;
        e.vm_report = &rep;
        send_env(s, &e);
        if (i % 20 == 0)
            drain(s, 0, "session junk");
    }
    drain(s, 500, "session junk");
    zmq_close(s);
}

static int tcp_connect(const char *ep)
{
    const char *p = strrchr(ep, ':');
    char host[64];
    if (strncmp(ep, "tcp://", 6) != 0 || !p)
        return -1;
    size_t hl = (size_t)(p - (ep + 6));
    if (hl >= sizeof(host))
        return -1;
    memcpy(host, ep + 6, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(p + 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)port) };
    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Bytes that are not ZMTP, and ZMTP that lies about sizes. */
static void phase_raw_tcp(const char *ep, int rounds)
{
    uint8_t buf[8192];
    for (int i = 0; i < rounds; i++) {
        int fd = tcp_connect(ep);
        if (fd < 0) {
            printf("  raw tcp: connect failed: %s\n", strerror(errno));
            return;
        }
        size_t n = 1 + rnd() % sizeof(buf);
        rnd_bytes(buf, n);
        if (i % 2 == 1) {
            /* ZMTP 3.0 greeting (NULL mechanism), then a long frame of
             * declared size 2^62. */
            memset(buf, 0, 64);
            buf[0] = 0xff;
            buf[9] = 0x7f;
            buf[10] = 3;
            memcpy(buf + 12, "NULL", 4);
            buf[64] = 0x06;                     /* long command frame */
            memset(buf + 65, 0x3f, 8);
            n = n < 80 ? 80 : n;
        }
        ssize_t w = write(fd, buf, n);
        (void)w;
        s_sent++;
        close(fd);
    }
    /* Half-open: a greeting and then silence while we go on. */
    int fd = tcp_connect(ep);
    if (fd >= 0) {
        ssize_t w = write(fd, "\xff\0\0\0\0\0\0\0\0\x7f", 10);
        (void)w;
        usleep(200000);
        close(fd);
    }
}

/* A fresh DEALER pings; the engine must answer within 5 s. */
static int check_alive(void *zctx, const char *ep)
{
    char ident[37];
    rnd_uuid(ident);
    void *s = dealer_new(zctx, ep, ident);
    if (!s)
        return 1;
    Herd__Envelope e;
    Herd__Ping p;
    ping_env(&e, &p, HERD__PROTOCOL__PROTOCOL_VERSION, 424242);
    send_env(s, &e);
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    int ok = 1;
    if (zmq_poll(&it, 1, 5000) > 0) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) >= 0) {
            Herd__Envelope *r = herd__envelope__unpack(NULL, zmq_msg_size(&m),
                                                       zmq_msg_data(&m));
            if (r && r->in_reply_to == 424242 &&
                r->body_case == HERD__ENVELOPE__BODY_PONG) {
                printf("alive: pong (need_hello=%d engine_id=%s)\n",
                       r->pong->need_hello,
                       r->pong->engine_id ? r->pong->engine_id : "");
                ok = 0;
            } else {
                printf("alive check: unexpected reply (body %d)\n",
                       r ? (int)r->body_case : -1);
            }
            if (r)
                herd__envelope__free_unpacked(r, NULL);
        }
        zmq_msg_close(&m);
    } else {
        printf("alive check: no pong within 5 s\n");
    }
    zmq_close(s);
    return ok;
}

int main(int argc, char **argv)
{
    const char *ep = NULL;
    int rounds = 200, session = 1;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = (int)strtol(argv[++i], &end, 10);
            if (*end || rounds < 1)
                goto usage;
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            s_rng = strtoull(argv[++i], &end, 10) | 1;
            if (*end)
                goto usage;
        } else if (strcmp(argv[i], "--no-session") == 0) {
            session = 0;
        } else if (!ep && argv[i][0] != '-') {
            ep = argv[i];
        } else {
            goto usage;
        }
    }
    if (!ep)
        goto usage;
    if (s_rng == 88172645463325252ULL)
        s_rng ^= (uint64_t)time(NULL) * 2654435761u;

    void *zctx = zmq_ctx_new();
    printf("phase junk (%d rounds)\n", rounds);
    phase_junk(zctx, ep, rounds);
    printf("phase versions\n");
    phase_versions(zctx, ep);
    printf("phase huge\n");
    phase_huge(zctx, ep);
    if (session) {
        printf("phase session (%d rounds)\n", rounds);
        phase_session(zctx, ep, rounds);
    }
    printf("phase raw tcp (%d connections)\n", rounds / 4 + 1);
    phase_raw_tcp(ep, rounds / 4 + 1);
    printf("sent %lu frames, %lu replies\n", s_sent, s_replies);
    int rc = check_alive(zctx, ep);
    zmq_ctx_term(zctx);
    return rc;

usage:
    fprintf(stderr, "usage: %s tcp://HOST:PORT [--rounds N] [--seed S] "
            "[--no-session]\n", argv[0]);
    return 2;
}
