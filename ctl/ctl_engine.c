/* herdctl engine key show|rotate|switch: the engine's CURVE key. */
#include "ctl_priv.h"

int
ctl_engine_cmd(const ctl_opts_t *o, int argc, char **argv)
{
    (void)o;
    (void)argc;
    (void)argv;
    return ctl_usage_error("engine key rotation is not done yet");
}
