/* Replays saved fuzz inputs without libFuzzer: linked with every fuzz_*.c
 * target when built with the ordinary compiler (see the Makefile).
 *
 *   build/fuzz/fuzz_cmn_envelope tests/fuzz/corpus/fuzz_cmn_envelope [FILE...]
 *
 * Each argument is a file or a folder (read recursively, in name order,
 * skipping dot files). Prints how many inputs ran; exits 1 if none were
 * found or one could not be read. A crash names the input that caused it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLAY_MAX_INPUT (64u * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static const char *volatile s_current;

static void
on_crash(int sig)
{
    const char *p = s_current;
    static const char pre[] = "\nreplay: crashed on input ";
    ssize_t w = write(STDERR_FILENO, pre, sizeof(pre) - 1);
    if (p)
        w = write(STDERR_FILENO, p, strlen(p));
    w = write(STDERR_FILENO, "\n", 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static int
run_file(const char *path, unsigned long *count)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: cannot use %s (unreadable or over %u bytes)\n",
                path, REPLAY_MAX_INPUT);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    /* An exact-size heap copy, so that overreads are visible to ASan and
     * valgrind. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        fprintf(stderr, "replay: short read on %s\n", path);
        free(buf);
        return -1;
    }
    s_current = path;
    LLVMFuzzerTestOneInput(buf, size);
    s_current = NULL;
    free(buf);
    (*count)++;
    return 0;
}

static int
run_path(const char *path, unsigned long *count)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path, count);

    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && rc == 0) {
            char child[4096];
            int len = snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
            if (len < 0 || (size_t)len >= sizeof(child)) {
                fprintf(stderr, "replay: path too long under %s\n", path);
                rc = -1;
            } else {
                rc = run_path(child, count);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGABRT, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);

    unsigned long count = 0;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++)
        rc = run_path(argv[i], &count);
    printf("%s: replayed %lu input%s\n", argv[0], count, count == 1 ? "" : "s");
    if (rc < 0)
        return 1;
    if (count == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    return 0;
}
