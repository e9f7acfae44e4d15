/* qcow2 volumes in images_dir, named <disk id>.qcow2, made with qemu-img
 * (spawned argv-style). Part of agt_virt's API (agt_virt.h). */
#include "agt_virt.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmn_auto.h"
#include "cmn_err.h"
#include "cmn_log.h"
#include "cmn_util.h"

CMN_LOG_INIT("agent.disk");

extern char **environ;

int
agt_virt_qcow2_size(const uint8_t *hdr, size_t len, uint64_t *size)
{
    if (len < 32 || hdr[0] != 'Q' || hdr[1] != 'F' || hdr[2] != 'I' || hdr[3] != 0xfb)
        return -1;
    uint64_t s = 0;
    for (int i = 24; i < 32; i++)
        s = (s << 8) | hdr[i];
    *size = s;
    return 0;
}

/* ---- disks ---------------------------------------------------------------- */

static char *
s_disk_path(agt_virt_t *v, const char *disk_id)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s.qcow2", agt_virt_images_dir(v), disk_id) < 0) {
        CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return p;
}

/* 1 and *size if `path` is a qcow2 file, 0 if it does not exist, -1 error. */
static int
s_existing_size(const char *path, uint64_t *size)
{
    CMN_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot open %s", path);
    }
    uint8_t hdr[32];
    ssize_t r = read(fd, hdr, sizeof(hdr));
    if (r < 0)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot read %s", path);
    if (agt_virt_qcow2_size(hdr, (size_t)r, size) < 0)
        return CMN_ERR(CMN_ERR_EXISTS, "%s exists and is not a qcow2 image", path);
    return 1;
}

/* Run argv, collecting stderr into `err`. 0 if it exited 0. */
static int
s_run(char *const argv[], char *err, size_t errlen)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return CMN_ERR_ERRNO(CMN_ERR_IO, "pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDERR_FILENO);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        errno = rc;
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot run %s", argv[0]);
    }
    size_t off = 0;
    for (;;) {
        char buf[512];
        ssize_t r = read(pfd[0], buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (off + take >= errlen)
            take = errlen - off - 1;
        memcpy(err + off, buf, take);
        off += take;
    }
    err[off] = '\0';
    while (off > 0 && (err[off - 1] == '\n' || err[off - 1] == '\r'))
        err[--off] = '\0';
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return CMN_ERR_ERRNO(CMN_ERR_IO, "waitpid %s", argv[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    return CMN_ERR(CMN_ERR_IO, "%s failed (status %d): %s", argv[0], status,
                   err[0] ? err : "no output");
}

int
agt_virt_disk_create(agt_virt_t *v, const char *disk_id, uint64_t size_bytes,
                     char **path_out, uint64_t *size_out)
{
    if (!cmn_uuid_valid(disk_id))
        return CMN_ERR(CMN_ERR_INVALID, "disk_id: '%s' is not a UUID", disk_id);
    if (size_bytes == 0 || size_bytes > (1ULL << 50))
        return CMN_ERR(CMN_ERR_INVALID, "size_bytes: %llu is not in 1..2^50",
                       (unsigned long long)size_bytes);
    uint64_t want = (size_bytes + 511) / 512 * 512;
    CMN_AUTOFREE char *path = s_disk_path(v, disk_id);
    if (!path)
        return -1;
    uint64_t have = 0;
    int ex = s_existing_size(path, &have);
    if (ex < 0)
        return -1;
    if (ex == 0) {
        if (cmn_mkdir_p(agt_virt_images_dir(v), 0755) < 0)
            return -1;
        CMN_AUTOFREE char *tmp = NULL;
        if (asprintf(&tmp, "%s/.%s.%ld.tmp", agt_virt_images_dir(v), disk_id,
                     (long)syscall(SYS_gettid)) < 0)
            return CMN_ERR(CMN_ERR_NOMEM, "out of memory");
        unlink(tmp);
        char size_arg[32];
        snprintf(size_arg, sizeof(size_arg), "%llu", (unsigned long long)want);
        char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", tmp, size_arg, NULL };
        char err[1024];
        if (s_run(argv, err, sizeof(err)) < 0) {
            unlink(tmp);
            return -1;
        }
        /* link() never replaces: a concurrent create of the same id wins
         * once and the other finds the file. */
        int lrc = link(tmp, path);
        int lerr = errno;
        unlink(tmp);
        if (lrc < 0 && lerr != EEXIST) {
            errno = lerr;
            return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot create %s", path);
        }
        if (lrc == 0) {
            CMN_INFO("created %s (%llu bytes)", path, (unsigned long long)want);
            *size_out = want;
            *path_out = CMN_STEAL(path);
            return 0;
        }
        if ((ex = s_existing_size(path, &have)) <= 0)
            return ex < 0 ? -1 : CMN_ERR(CMN_ERR_IO, "%s vanished", path);
    }
    if (have != want)
        return CMN_ERR(CMN_ERR_EXISTS, "%s exists with size %llu, not %llu", path,
                       (unsigned long long)have, (unsigned long long)want);
    CMN_INFO("%s exists with the same size", path);
    *size_out = have;
    *path_out = CMN_STEAL(path);
    return 0;
}

int
agt_virt_disk_delete(agt_virt_t *v, const char *disk_id)
{
    if (!cmn_uuid_valid(disk_id))
        return CMN_ERR(CMN_ERR_INVALID, "disk_id: '%s' is not a UUID", disk_id);
    CMN_AUTOFREE char *path = s_disk_path(v, disk_id);
    if (!path)
        return -1;
    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return 0;
        return CMN_ERR_ERRNO(CMN_ERR_IO, "cannot delete %s", path);
    }
    CMN_INFO("deleted %s", path);
    return 0;
}
