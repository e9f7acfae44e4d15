/* zmq_rtt: raw ZeroMQ DEALER/ROUTER round trip between two processes, the
 * baseline for the engine-to-agent ping.
 *
 *   zmq_rtt [--count N] [--size BYTES] [--endpoint tcp://127.0.0.1:PORT]
 *
 * The child binds a ROUTER and echoes every message; the parent connects a
 * DEALER and sends N messages of SIZE bytes one at a time. Prints min,
 * median, p99 and max in microseconds. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int echo_server(const char *ep, int count)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    if (zmq_bind(s, ep) != 0) {
        fprintf(stderr, "bind %s: %s\n", ep, zmq_strerror(errno));
        return 1;
    }
    for (int i = 0; i < count; i++) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&id, s, 0) < 0 || zmq_msg_recv(&body, s, 0) < 0)
            return 1;
        zmq_msg_send(&id, s, ZMQ_SNDMORE);
        zmq_msg_send(&body, s, 0);
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    int count = 1000;
    long size = 200;
    const char *ep = "tcp://127.0.0.1:45999";
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = (int)strtol(argv[++i], &end, 10);
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = strtol(argv[++i], &end, 10);
        else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
            ep = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--count N] [--size B] [--endpoint EP]\n",
                    argv[0]);
            return 2;
        }
        if (end && (*end || count < 1 || size < 0)) {
            fprintf(stderr, "bad number '%s'\n", argv[i]);
            return 2;
        }
    }
    int warm = 100;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        _exit(echo_server(ep, count + warm));

    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    zmq_connect(s, ep);
    char *buf = calloc(1, (size_t)size + 1);
    uint64_t *rtt = calloc((size_t)count, sizeof(*rtt));
    if (!buf || !rtt)
        return 1;
    for (int i = 0; i < count + warm; i++) {
        uint64_t t0 = now_us();
        if (zmq_send(s, buf, (size_t)size, 0) < 0 ||
            zmq_recv(s, buf, (size_t)size + 1, 0) < 0) {
            fprintf(stderr, "send/recv: %s\n", zmq_strerror(errno));
            kill(pid, SIGTERM);
            return 1;
        }
        if (i >= warm)
            rtt[i - warm] = now_us() - t0;
    }
    waitpid(pid, NULL, 0);
    qsort(rtt, (size_t)count, sizeof(*rtt), cmp_u64);
    printf("zmq DEALER/ROUTER tcp, %ld-byte messages, %d round trips: "
           "min %llu us, median %llu us, p99 %llu us, max %llu us\n",
           size, count, (unsigned long long)rtt[0],
           (unsigned long long)rtt[count / 2],
           (unsigned long long)rtt[(count * 99) / 100],
           (unsigned long long)rtt[count - 1]);
    free(buf);
    free(rtt);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
