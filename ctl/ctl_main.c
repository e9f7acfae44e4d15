/* herdctl: the command-line client of the Herd REST API. */
#include "ctl_priv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

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
    if (argc < 2) {
        ctl_usage(stderr);
        return CTL_EXIT_USAGE;
    }
    int rc = ctl_run(&o, argc - 1, argv + 1);
    fflush(stdout);
    return rc;
}
