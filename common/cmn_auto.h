/* Scope-bound cleanup. Declare with the macro and the value is released when
 * the variable goes out of scope; hand ownership out with CMN_STEAL().
 *
 *   CMN_AUTOFREE char *s = strdup(x);
 *   CMN_AUTOCLOSE int fd = open(...);
 *   CMN_AUTO(cmn_conf) cmn_conf_t *c = cmn_conf_load_file(p);
 *   return CMN_STEAL(s);
 *
 * Never mix these with manual frees of the same variable. */
#ifndef CMN_AUTO_H
#define CMN_AUTO_H

#include <stdlib.h>
#include <unistd.h>

static inline void cmn_auto_free_(void *p) { free(*(void **)p); }
static inline void cmn_auto_close_(int *fd) { if (*fd >= 0) close(*fd); }

#define CMN_AUTOFREE __attribute__((cleanup(cmn_auto_free_)))
#define CMN_AUTOCLOSE __attribute__((cleanup(cmn_auto_close_)))

/* CMN_AUTO(type) needs `void type##_destroy(type##_t **)` in scope, which is
 * the lifecycle convention of every Herd class. */
#define CMN_AUTO(type) __attribute__((cleanup(type##_destroy)))

/* Take the value out of *p, leaving NULL (or -1 for fds) behind. */
#define CMN_STEAL(p) ({ __typeof__(p) cmn_steal_tmp_ = (p); (p) = NULL; cmn_steal_tmp_; })
#define CMN_STEAL_FD(fd) ({ int cmn_steal_fd_ = (fd); (fd) = -1; cmn_steal_fd_; })

#endif /* CMN_AUTO_H */
