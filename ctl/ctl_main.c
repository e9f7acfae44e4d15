/* herdctl: the command-line client of the Herd REST API. */
#include "ctl_priv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmn_err.h"
#include "cmn_log.h"

int
main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    cmn_log_set_level(CMN_LOG_WARN);
    ctl_opts_t o;
    cmn_err_reset();
    if (ctl_parse_globals(&argc, argv, getenv("HERD_URL"), &o) < 0)
        return ctl_usage_error("%s", cmn_err_msg());
    /* Environment defaults for what the command line did not give. */
    static const char *const envs[] = { "HERD_CA_FILE", "HERD_USER",
                                        "HERD_PASSWORD_FILE" };
    char *dsts[] = { o.ca_file, o.user, o.password_file };
    size_t sizes[] = { sizeof(o.ca_file), sizeof(o.user),
                       sizeof(o.password_file) };
    for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
        const char *v = getenv(envs[i]);
        if (v && *v && !dsts[i][0]) {
            if (strlen(v) >= sizes[i])
                return ctl_usage_error("$%s is too long", envs[i]);
            snprintf(dsts[i], sizes[i], "%s", v);
        }
    }
    if (argc < 2) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    int rc = ctl_run(&o, argc - 1, argv + 1);
    fflush(stdout);
    return rc;
}
